/**
 * Waiting primitives shared by the recipes: a one-shot watch as a promise, racing a promise against
 * abort signals, waiting for the client to reconnect, and retrying reads after a lost connection.
 */
import { Code, KeeperError, type WatchEvent, type WatchListener } from "../client/mod.ts";
import { clientEnded } from "./lost.ts";
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
 * Resolves once the client is connected again, or has ended for good (the next call then fails with
 * the reason). Rejects with the signal's reason, or with CONNECTIONLOSS after `timeoutMs` (default:
 * twice the session timeout, at least 2 s).
 */
export function waitConnected(
  client: RecipeClient,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  const ready = () =>
    client.state === "connected" || client.state === "connectedReadOnly" || clientEnded(client);
  if (ready()) return Promise.resolve();
  const timeoutMs = options.timeoutMs ?? Math.max(2 * client.sessionTimeoutMs, 2_000);
  let unsubscribe: () => void = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined = undefined;
  const reconnected = new Promise<void>((resolve, reject) => {
    unsubscribe = client.on("state", () => {
      if (ready()) resolve();
    });
    timer = setTimeout(() => {
      reject(
        new KeeperError(Code.CONNECTIONLOSS, {
          operation: "waiting to reconnect",
          detail: `the client did not reconnect within ${timeoutMs} ms`,
        }),
      );
    }, timeoutMs);
  });
  return raceSignals(reconnected, [options.signal]).finally(() => {
    unsubscribe();
    clearTimeout(timer);
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
 * Deletes `path` (any version), retrying after connection loss; a node already gone, or a session
 * already ended (its ephemerals went with it), counts as deleted.
 */
export async function deleteQuietly(client: RecipeClient, path: string): Promise<void> {
  try {
    await retrying(client, () => client.delete(path));
  } catch (error) {
    if (KeeperError.is(error, "NONODE") || KeeperError.is(error, "SESSIONEXPIRED") || clientEnded(client)) {
      return;
    }
    throw error;
  }
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
