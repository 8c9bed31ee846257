/**
 * The slice of Bun's TCP API that bun.ts uses, declared here so that this code type-checks under
 * Node and Deno (where no global Bun types exist) and documents exactly what we depend on.
 */

/** A Bun TCP socket; `data` is ours to attach per-socket state. */
export interface BunTcpSocket {
  /** Returns how many bytes the OS accepted (possibly fewer than given, or −1); the rest is not kept. */
  write(bytes: Uint8Array): number;
  /** Half-closes after what was written; the close handler follows. */
  end(): void;
  /** Closes at once, dropping anything unsent (newer Bun versions). */
  terminate?(): void;
  setNoDelay?(noDelay?: boolean): boolean;
  /** Stops (and restarts) reading from the OS: no data callbacks meanwhile. */
  pause?(): void;
  resume?(): void;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  data: unknown;
}

export interface BunSocketHandlers {
  open?(socket: BunTcpSocket): void;
  data?(socket: BunTcpSocket, chunk: Uint8Array): void;
  drain?(socket: BunTcpSocket): void;
  end?(socket: BunTcpSocket): void;
  close?(socket: BunTcpSocket, error?: Error): void;
  error?(socket: BunTcpSocket, error: Error): void;
  connectError?(socket: BunTcpSocket, error: Error): void;
}

export interface BunTcpListener {
  readonly port: number;
  readonly hostname: string;
  /** Stops accepting; `true` would also close open sockets (we leave that to the owner). */
  stop(closeActiveConnections?: boolean): void;
}

export interface BunNetApi {
  listen(options: { hostname: string; port: number; socket: BunSocketHandlers }): BunTcpListener;
  connect(options: { hostname: string; port: number; socket: BunSocketHandlers }): Promise<BunTcpSocket>;
}

/** The global Bun namespace; throws when not running under Bun. */
export function bunNetApi(): BunNetApi {
  const bun = (globalThis as { Bun?: BunNetApi }).Bun;
  if (bun === undefined) throw new Error("the bun transport needs the Bun runtime; use defaultTransport()");
  return bun;
}
