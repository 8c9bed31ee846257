/**
 * Watch fan-out: many one-shot data watches (getData with a watch) on one znode, then one setData
 * from a separate client, timed from the setData call until each watcher's NodeDataChanged arrives.
 *
 * A server keeps one watch per (connection, path), not per listener: 100 listeners on one connection
 * are one server-side watch and one notification, which the client hands to each listener. So the
 * server's fan-out is the number of connections; watchers per connection only add client work.
 */
import type { Client } from "../../src/client/mod.ts";
import type { WatchEvent } from "../../src/client/types.ts";

export interface FanOutRoundOptions {
  /** Makes the change; it registers no watch itself. */
  writer: Client;
  /** Each registers `watchersPerClient` watches, one getData call per watch. */
  watchers: readonly Client[];
  watchersPerClient: number;
  path: string;
  /** The server's CPU time in µs, read just before setData and once every watcher has its event. */
  cpuMicros: () => number;
  /** Asked after registration: the server's own count of data watches (null: unknown). */
  watchCount?: () => Promise<number | null>;
  /** Bound on the wait for every event (and on registration). */
  timeoutMs: number;
  /** Clients registering their watches at once. */
  registerConcurrency: number;
}

export interface FanOutRound {
  /** Watchers registered: watchers × watchersPerClient. */
  expected: number;
  /** Watchers that got their NodeDataChanged. */
  delivered: number;
  /** Events past the first for one watcher (must be 0: a one-shot watch fires once). */
  duplicates: number;
  /** Data watches the server reported holding before the change. */
  serverWatches: number | null;
  registerMs: number;
  /** setData call to its reply. */
  setDataReplyMs: number;
  /** setData call to the last watcher's event; NaN if some never arrived within timeoutMs. */
  allDeliveredMs: number;
  /** setData call to each delivered watcher's event, in arrival order (so ascending). */
  deliveryMs: Float64Array;
  /** Server CPU from just before setData until every event and the reply were in. */
  serverCpuMicros: number;
}

/** Watchers per round, at most: far above what the benchmarks register. */
const WATCHERS_MAX = 1_000_000;

/** One round: register every watch, change the znode, wait (bounded) for every event. */
export async function runFanOutRound(options: FanOutRoundOptions): Promise<FanOutRound> {
  const expected = options.watchers.length * options.watchersPerClient;
  if (!(expected >= 1 && expected <= WATCHERS_MAX)) {
    throw new RangeError(`runFanOutRound: watchers × watchersPerClient must be in 1..${WATCHERS_MAX}, got ${expected}`);
  }
  const counts = new Uint32Array(expected);
  const deliveryMs = new Float64Array(expected);
  let delivered = 0;
  let duplicates = 0;
  let changedAt = Number.NaN;
  let allIn: () => void = () => {};
  const everyEvent = new Promise<void>((resolve) => (allIn = resolve));
  const listenerOf = (index: number) => (event: WatchEvent) => {
    if (event.type !== "NodeDataChanged" || event.path !== options.path) return;
    if (counts[index]!++ > 0) {
      duplicates++;
      return;
    }
    deliveryMs[delivered++] = performance.now() - changedAt;
    if (delivered === expected) allIn();
  };
  const registerStart = performance.now();
  await registerWatches(options, listenerOf);
  const registerMs = performance.now() - registerStart;
  const serverWatches = options.watchCount === undefined ? null : await options.watchCount();

  const cpuBefore = options.cpuMicros();
  changedAt = performance.now();
  const reply = options.writer.setData(options.path, String(changedAt)).then(() => performance.now() - changedAt);
  const timedOut = await raceTimeout(Promise.all([everyEvent, reply]), options.timeoutMs);
  const allDeliveredMs = delivered === expected ? deliveryMs[expected - 1]! : Number.NaN;
  const serverCpuMicros = options.cpuMicros() - cpuBefore;
  const setDataReplyMs = timedOut ? Number.NaN : await reply;
  return {
    expected,
    delivered,
    duplicates,
    serverWatches,
    registerMs,
    setDataReplyMs,
    allDeliveredMs,
    deliveryMs: deliveryMs.slice(0, delivered),
    serverCpuMicros,
  };
}

async function registerWatches(
  options: FanOutRoundOptions,
  listenerOf: (index: number) => (event: WatchEvent) => void,
): Promise<void> {
  const { watchers, watchersPerClient, path } = options;
  const deadline = performance.now() + options.timeoutMs;
  for (let first = 0; first < watchers.length; first += options.registerConcurrency) {
    if (performance.now() > deadline) {
      throw new Error(`runFanOutRound: registering watches took over ${options.timeoutMs} ms (${first} clients done)`);
    }
    const calls: Promise<unknown>[] = [];
    for (let c = first; c < Math.min(watchers.length, first + options.registerConcurrency); c++) {
      for (let w = 0; w < watchersPerClient; w++) {
        calls.push(watchers[c]!.getData(path, { watch: listenerOf(c * watchersPerClient + w) }));
      }
    }
    await Promise.all(calls);
    // A macrotask turn between batches: on the in-memory transport replies arrive from microtasks,
    // and without this the clients' timers would wait for the whole registration.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Waits for `promise` at most `timeoutMs`; true when the time ran out first (the promise is left running). */
async function raceTimeout(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  try {
    return await Promise.race([promise.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
