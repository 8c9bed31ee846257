/**
 * Waiting primitives shared by the recipes: a one-shot watch as a promise, racing a promise against
 * abort signals, waiting for the client to reconnect, and retrying reads after a lost connection.
 */
import { Code, KeeperError, type WatchEvent, type WatchListener } from "../client/mod.ts";
import { clientEnded, timersOf } from "./lost.ts";
import type { RecipeClient } from "./recipe_client.ts";

/** How many times an operation is retried after CONNECTIONLOSS before the error is passed on. */
export const CONNECTION_LOSS_RETRIES = 10;

/**
 * A one-shot watch listener whose `fired` promise resolves on the next node event. Connection state
 * events are ignored: watches survive reconnects (the client re-arms them with setWatches), and a
 * session's end is reported by the recipe's SessionGuard.
 */
export class Trigger {
  readonly fired: Promise<WatchEvent>;
  readonly listener: WatchListener;
  #hasFired = false;

  constructor() {
    let resolve: (event: WatchEvent) => void = () => {};
    this.fired = new Promise((done) => {
      resolve = done;
    });
    this.listener = (event) => {
      if (event.type === "None") return;
      this.#hasFired = true;
      resolve(event);
    };
  }

  /**
   * True once the watch fired. Set synchronously by the client, before it resolves the reply that
   * reveals the change: checking it after a read tells whether that read may have seen the change.
   */
  get hasFired(): boolean {
    return this.#hasFired;
  }
}

/**
 * Resolves or rejects as `promise` does, unless one of `signals` aborts first: then rejects with that
 * signal's reason. Listeners are removed once settled, so long-lived signals do not accumulate them.
 */
export function raceSignals<T>(
  promise: Promise<T>,
  signals: readonly (AbortSignal | undefined)[],
): Promise<T> {
  const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  const aborted = live.find((signal) => signal.aborted);
  if (aborted !== undefined) {
    promise.catch(() => {}); // nobody waits for it any more: its rejection must not go unhandled
    return Promise.reject(aborted.reason);
  }
  if (live.length === 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      for (const signal of live) signal.removeEventListener("abort", onAbort);
    };
    const onAbort = (event: Event) => {
      cleanup();
      reject((event.target as AbortSignal).reason);
    };
    for (const signal of live) signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/** Rejects with the reason of the first aborted signal, if any. */
export function throwIfAborted(signals: readonly (AbortSignal | undefined)[]): void {
  for (const signal of signals) {
    if (signal?.aborted) throw signal.reason;
  }
}

/**
 * Resolves once the client is connected again and caught up (or has ended for good: the next call
 * then fails with the reason). Rejects with the signal's reason, or with CONNECTIONLOSS after
 * `timeoutMs` (default: twice the session timeout, at least 2 s).
 *
 * "Caught up": once connected, a sync (when the client has one) makes every request this session
 * sent before the connection was lost settle at the servers first. Without it a read right after
 * reconnecting may miss a write whose reply was lost — e.g. a create the old server had already
 * passed to the leader — and a protected create would then create its node twice, leaving an
 * orphan that blocks a lock for as long as the session lives (found by the simulator,
 * tests/testing/recipe_mutex_test.ts).
 */
export async function waitConnected(
  client: RecipeClient,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  const timers = timersOf(client);
  const timeoutMs = options.timeoutMs ?? Math.max(2 * client.sessionTimeoutMs, 2_000);
  const deadline = timers.now() + timeoutMs;
  const sync = (client as { sync?: (path: string) => Promise<void> }).sync;
  for (let attempt = 0;; attempt++) {
    await waitForConnection(client, { signal: options.signal, timeoutMs: Math.max(0, deadline - timers.now()) });
    if (sync === undefined || clientEnded(client) || attempt >= CONNECTION_LOSS_RETRIES) return;
    try {
      await raceSignals(sync.call(client, "/"), [options.signal]);
      return;
    } catch (error) {
      throwIfAborted([options.signal]);
      // Lost again: wait for the next connection. Any other failure shows in the caller's next call.
      if (!KeeperError.is(error, "CONNECTIONLOSS")) return;
    }
  }
}

/** Resolves once the client is connected, or has ended for good; see waitConnected. */
function waitForConnection(
  client: RecipeClient,
  options: { signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<void> {
  const ready = () =>
    client.state === "connected" || client.state === "connectedReadOnly" || clientEnded(client);
  if (ready()) return Promise.resolve();
  const timeoutMs = options.timeoutMs;
  const timers = timersOf(client);
  let unsubscribe: () => void = () => {};
  let timer: unknown = undefined;
  const reconnected = new Promise<void>((resolve, reject) => {
    unsubscribe = client.on("state", () => {
      if (ready()) resolve();
    });
    timer = timers.setTimeout(() => {
      reject(
        new KeeperError(Code.CONNECTIONLOSS, {
          operation: "waiting to reconnect",
          detail: `the client did not reconnect within ${Math.round(timeoutMs)} ms`,
        }),
      );
    }, timeoutMs);
  });
  return raceSignals(reconnected, [options.signal]).finally(() => {
    unsubscribe();
    timers.clearTimeout(timer);
  });
}

/**
 * Runs `operation`, and after a CONNECTIONLOSS waits for the reconnect and runs it again (at most
 * CONNECTION_LOSS_RETRIES times). Only for operations that are safe to repeat: reads, and writes
 * whose repetition the caller recognises (a delete answering NONODE, a create answering NODEEXISTS).
 */
export async function retrying<T>(
  client: RecipeClient,
  operation: () => Promise<T>,
  options: { signal?: AbortSignal } = {},
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const retry = KeeperError.is(error, "CONNECTIONLOSS") && attempt < CONNECTION_LOSS_RETRIES &&
        !clientEnded(client);
      if (!retry) throw error;
      throwIfAborted([options.signal]);
      await waitConnected(client, { signal: options.signal });
    }
  }
}

/**
 * Attempts of deleteQuietly; each waits up to twice the session timeout for a reconnect, so this
 * outlasts any outage the session itself survives.
 */
const DELETE_ATTEMPTS_MAX = 1_000;

/**
 * Deletes `path` (any version), retrying after connection loss for as long as the session lives; a
 * node already gone, or a session already ended (its ephemerals went with it), counts as deleted.
 *
 * It does not give up after a few retries as `retrying` does: recipes use it to remove their own
 * ephemeral node after an aborted wait or a lost hold, and a node left behind while the session
 * lives on (the servers had no leader for a while, say) would block a lock line for good.
 */
export async function deleteQuietly(client: RecipeClient, path: string): Promise<void> {
  for (let attempt = 0; attempt < DELETE_ATTEMPTS_MAX; attempt++) {
    if (clientEnded(client)) return;
    try {
      await client.delete(path);
      return;
    } catch (error) {
      if (KeeperError.is(error, "NONODE") || KeeperError.is(error, "SESSIONEXPIRED") || clientEnded(client)) {
        return;
      }
      if (!KeeperError.is(error, "CONNECTIONLOSS")) throw error;
    }
    // Not reconnected in time is no reason to stop: the client keeps trying, and so do we.
    await waitConnected(client).catch(() => undefined);
  }
  throw new KeeperError(Code.CONNECTIONLOSS, {
    operation: "delete",
    path,
    detail: `still not deleted after ${DELETE_ATTEMPTS_MAX} attempts across lost connections`,
  });
}

/** Removes a one-shot watch that is no longer wanted; failures only leave a harmless stale watch. */
export function dropWatch(client: RecipeClient, path: string, listener: WatchListener): void {
  client.removeWatches(path, listener).catch(() => undefined);
}

/** The children of `path` (retrying after connection loss), or none when `path` does not exist. */
export async function childrenOrEmpty(client: RecipeClient, path: string): Promise<string[]> {
  try {
    return await retrying(client, () => client.getChildren(path));
  } catch (error) {
    if (KeeperError.is(error, "NONODE")) return [];
    throw error;
  }
}
