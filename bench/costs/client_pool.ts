/**
 * Many client sessions for the costs benchmarks: connected a batch at a time (bounded concurrency,
 * so the server sees a steady stream of handshakes rather than one burst of thousands), each one
 * watched for leaving the "connected" state, which a healthy idle session never does.
 */
import { type Client, createClient } from "../../src/client/mod.ts";
import type { SessionState } from "../../src/client/types.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { type DelaySummary, summarizeDelays } from "./delay_summary.ts";

export interface ClientPoolOptions {
  count: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Requested session timeout; the client pings after a third of the negotiated one without traffic. */
  sessionTimeoutMs: number;
  /** Default: the runtime's TCP transport. */
  transport?: Transport;
  /**
   * How long one session may take to connect (retrying) before the pool gives up. Default 60 s: a
   * handshake queued behind thousands of others may take a while.
   */
  connectTimeoutMs?: number;
}

export interface ClientPool {
  readonly clients: readonly Client[];
  /** Wall time from the first connect to the last session established. */
  readonly connectMs: number;
  /** Per session: connect call to SyncConnected. */
  readonly connectDelays: DelaySummary;
  /** The session timeout the server granted the first client. */
  readonly negotiatedTimeoutMs: number;
  /** Sessions that left "connected" since they connected, by the state they went to (closing excluded). */
  departures(): Map<SessionState, number>;
  /** Closes the last `count` clients (default all), ending their sessions. */
  close(count?: number): Promise<void>;
}

/** Upper bound on a pool, far above what one load generator can hold open. */
const POOL_COUNT_MAX = 100_000;

/** Connects `options.count` sessions to `connectString`; on failure closes those already open and throws. */
export async function connectPool(connectString: string, options: ClientPoolOptions): Promise<ClientPool> {
  if (!(options.count >= 1 && options.count <= POOL_COUNT_MAX)) {
    throw new RangeError(`connectPool: count must be in 1..${POOL_COUNT_MAX}, got ${options.count}`);
  }
  if (!(options.concurrency >= 1)) throw new RangeError(`connectPool: concurrency must be >= 1, got ${options.concurrency}`);
  const clients: Client[] = [];
  const closing = new Set<Client>();
  const departures = new Map<SessionState, number>();
  const delays = new Float64Array(options.count);
  const watchState = (client: Client) => {
    client.on("state", (state) => {
      if (state === "connected" || closing.has(client)) return;
      departures.set(state, (departures.get(state) ?? 0) + 1);
    });
  };
  const closeLast = async (count: number) => {
    const leaving = clients.splice(Math.max(0, clients.length - count), count);
    for (const client of leaving) closing.add(client);
    await closeInBatches(leaving, options.concurrency);
  };
  const start = performance.now();
  const slots: (Client | null)[] = new Array<Client | null>(options.count).fill(null);
  let next = 0;
  let failure: unknown = null;
  // A sliding window: each worker connects one session after another, so one slow handshake holds
  // back only its own worker, not a whole batch.
  const worker = async () => {
    while (failure === null && next < options.count) {
      const index = next++;
      try {
        const client = await connectOne(connectString, options, (ms) => (delays[index] = ms));
        slots[index] = client;
        watchState(client);
      } catch (error) {
        failure ??= error;
      }
      // Let timers run now and then: on the in-memory transport a chain of handshakes could
      // otherwise run from microtasks alone and starve every client's ping timer.
      if (index % options.concurrency === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  for (const client of slots) if (client !== null) clients.push(client);
  if (failure !== null) {
    const connected = clients.length;
    await closeLast(clients.length);
    throw new Error(
      `connectPool: a session to ${connectString} failed after ${connected} connected (${failure}); ` +
        "raise the server's connection limit (maxClientCnxns) or ulimit -n",
    );
  }
  const connectMs = performance.now() - start;
  return {
    clients,
    connectMs,
    connectDelays: summarizeDelays(delays),
    negotiatedTimeoutMs: clients[0]!.sessionTimeoutMs,
    departures: () => new Map(departures),
    close: (count = clients.length) => closeLast(count),
  };
}

async function connectOne(
  connectString: string,
  options: ClientPoolOptions,
  record: (ms: number) => void,
): Promise<Client> {
  const sent = performance.now();
  const client = await createClient(connectString, {
    sessionTimeoutMs: options.sessionTimeoutMs,
    initialConnectTimeoutMs: options.connectTimeoutMs ?? 60_000,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
  });
  record(performance.now() - sent);
  return client;
}

async function closeInBatches(clients: readonly Client[], concurrency: number): Promise<void> {
  for (let first = 0; first < clients.length; first += concurrency) {
    await Promise.allSettled(clients.slice(first, first + concurrency).map((client) => client.close()));
  }
}
