/**
 * How much unsent output (replies and notifications not yet taken by the OS) the server keeps for
 * its clients, per connection and in all, and the rules that keep it there. A client that stops
 * reading must cost a bounded amount of memory, whatever it sends: the driver stops reading its
 * requests while its output is over its cap or, when the server-wide budget is spent, over its fair
 * share of it (ZooKeeper also stops reading such a socket); output that still arrives for it (replies
 * to requests already accepted, watch events) closes it past a hard bound.
 *
 * The bounds hold to within one reply per connection: a request's reply size is only known once it
 * is answered, so a connection under its bound may get one more (at most jute.maxbuffer for a
 * getData) before it is paused.
 */

export interface OutputLimits {
  /**
   * Unsent output of one connection at which the server stops reading its requests (until the
   * client reads). Default 4 MiB.
   */
  outputBytesMaxPerConnection?: number;
  /**
   * Unsent output of one connection at which it is closed, its output dropped: only replies to
   * requests it sent before it was paused, or watch events, can take it there. Default 32 MiB.
   * (The ServeOptions field `outputBufferBytesMax`.)
   */
  outputBufferBytesMax?: number;
  /**
   * Unsent output of all connections together. Once it is reached, a connection with more than its
   * fair share (this budget / the connections with unsent output) is not read until it drains, while
   * a connection under its share (a client that reads its replies) carries on. Past twice this budget
   * a connection over its share that gets more output is closed. Default 128 MiB.
   */
  outputBytesMaxTotal?: number;
}

export const DEFAULT_OUTPUT_BYTES_MAX_PER_CONNECTION = 4 * 1024 * 1024;
export const DEFAULT_OUTPUT_BYTES_MAX_TOTAL = 128 * 1024 * 1024;

/**
 * Request bytes held back (already read, not yet fed to the core) for one paused connection past
 * which it is closed. Reading stops as soon as a connection is paused, so only the rest of the
 * chunk being read is held: two frames of jute.maxbuffer and a read buffer are plenty.
 */
export function heldInputBytesMax(maxFrameBytes: number): number {
  return 2 * maxFrameBytes + 1024 * 1024;
}

/** The limits with defaults filled in, checked. */
export interface ResolvedOutputLimits {
  perConnection: number;
  hardPerConnection: number;
  total: number;
}

export function resolveOutputLimits(limits: OutputLimits, defaultHard: number): ResolvedOutputLimits {
  const resolved = {
    perConnection: limits.outputBytesMaxPerConnection ?? DEFAULT_OUTPUT_BYTES_MAX_PER_CONNECTION,
    hardPerConnection: limits.outputBufferBytesMax ?? defaultHard,
    total: limits.outputBytesMaxTotal ?? DEFAULT_OUTPUT_BYTES_MAX_TOTAL,
  };
  if (!(resolved.perConnection > 0)) throw new RangeError(`outputBytesMaxPerConnection must be > 0, got ${resolved.perConnection}`);
  if (!(resolved.hardPerConnection > 0)) throw new RangeError(`outputBufferBytesMax must be > 0, got ${resolved.hardPerConnection}`);
  if (!(resolved.total > 0)) throw new RangeError(`outputBytesMaxTotal must be > 0, got ${resolved.total}`);
  // Pausing must come before closing, or a client that merely reads slowly would be cut off.
  resolved.perConnection = Math.min(resolved.perConnection, resolved.hardPerConnection);
  return resolved;
}

/** What the driver should do with a connection's next request, given its unsent output. */
export function mayReadMore(mine: number, total: number, backlogged: number, limits: ResolvedOutputLimits): boolean {
  if (mine === 0) return true;
  if (mine >= limits.perConnection) return false;
  if (total < limits.total) return true;
  return mine < fairShare(backlogged, limits);
}

/** Whether a connection that now has `mine` unsent bytes (server: `total`) must be closed. */
export function overHardBound(mine: number, total: number, backlogged: number, limits: ResolvedOutputLimits): boolean {
  if (mine > limits.hardPerConnection) return true;
  return total > 2 * limits.total && mine > fairShare(backlogged, limits);
}

/** The budget split evenly between the connections that have unsent output. */
export function fairShare(backlogged: number, limits: ResolvedOutputLimits): number {
  return limits.total / Math.max(1, backlogged);
}
