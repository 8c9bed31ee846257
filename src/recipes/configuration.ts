/**
 * Configuration with the ready-znode pattern from the ZooKeeper paper: the values live in
 * `<path>/entries/<key>`; a writer deletes `<path>/ready`, changes the entries, then creates `ready`
 * again. A reader watches `ready` and reads the entries only while it exists. Because ZooKeeper
 * delivers a watch notification before any reply that reveals the change behind it, a reader whose
 * `ready` watch has not fired by the time its reads return has seen one whole configuration — never
 * half of an update. The version of a configuration is the czxid of its `ready` node.
 *
 * @example
 * // the writer (one at a time: hold a Mutex or be the leader)
 * await publishConfig(client, "/config/app", { "db.url": "postgres://db/app", "pool.size": "20" });
 *
 * // every reader
 * const config = new ConfigWatcher(client, "/config/app");
 * const first = await config.start({ signal: AbortSignal.timeout(10_000) });
 * config.onChange((snapshot) => reconfigure(snapshot.values));
 * // ...
 * await config.close();
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { CreateMode, KeeperError, type NodeData } from "../client/mod.ts";
import { ClientEnd } from "./lost.ts";
import { checkRecipePath, ensurePath, joinPath } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { childrenOrEmpty, dropWatch, raceSignals, retrying, throwIfAborted, Trigger } from "./waiting.ts";

/** One consistent configuration. */
export interface ConfigSnapshot {
  values: Map<string, Uint8Array>;
  /** The czxid of the `ready` node it was published under: grows with every publish. */
  version: number;
}

const READY = "ready";
const ENTRIES = "entries";
/** Bound on reads of one watcher's lifetime (each follows one publish or one torn read). */
const MAX_ROUNDS = 10_000_000;

/**
 * Publishes `values` as the whole configuration at `path` (keys absent from `values` are deleted) and
 * resolves with the new version. One writer at a time: concurrent publishes can interleave.
 * If it fails half-way, `ready` stays deleted (readers keep the last whole configuration) until
 * a publish succeeds.
 */
export async function publishConfig(
  client: RecipeClient,
  path: string,
  values: Readonly<Record<string, NodeData>>,
): Promise<number> {
  checkRecipePath(path, "publishConfig");
  for (const key of Object.keys(values)) {
    if (key === "" || key.includes("/")) {
      throw new TypeError(`publishConfig: key ${JSON.stringify(key)} is not a node name`);
    }
  }
  const readyPath = joinPath(path, READY);
  const entriesPath = joinPath(path, ENTRIES);
  try {
    await retrying(client, () => client.delete(readyPath));
  } catch (error) {
    if (!KeeperError.is(error, "NONODE")) throw error;
  }
  await retrying(client, () => ensurePath(client, entriesPath, { mode: CreateMode.PERSISTENT }));
  const existing = new Set(await childrenOrEmpty(client, entriesPath));
  // Pipelined: FIFO order puts all of these after the delete of `ready` and before its re-creation.
  const writes: Promise<unknown>[] = [];
  for (const [key, value] of Object.entries(values)) {
    const entry = joinPath(entriesPath, key);
    writes.push(
      retrying(
        client,
        () => existing.has(key) ? client.setData(entry, value) : createOrSet(client, entry, value),
      ),
    );
  }
  for (const key of existing) {
    if (!(key in values)) {
      writes.push(retrying(client, () => client.delete(joinPath(entriesPath, key))).catch(ignoreNoNode));
    }
  }
  await Promise.all(writes);
  const created = await retrying(client, () => client.create2(readyPath, null)).catch(
    async (error: unknown) => {
      // A create whose reply was lost: the node we find is ours (writers do not overlap).
      if (!KeeperError.is(error, "NODEEXISTS")) throw error;
      return { stat: (await retrying(client, () => client.exists(readyPath)))! };
    },
  );
  return created.stat.czxid;
}

async function createOrSet(client: RecipeClient, path: string, value: NodeData): Promise<unknown> {
  try {
    return await client.create(path, value);
  } catch (error) {
    if (!KeeperError.is(error, "NODEEXISTS")) throw error;
    return await client.setData(path, value);
  }
}

function ignoreNoNode(error: unknown): void {
  if (!KeeperError.is(error, "NONODE")) throw error;
}

/** Follows the configuration at a path; see the module doc. */
export class ConfigWatcher {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #closing = new AbortController();
  readonly #listeners = new Set<(snapshot: ConfigSnapshot) => void>();
  #current: ConfigSnapshot | null = null;
  #first: { resolve: (snapshot: ConfigSnapshot) => void; reject: (error: unknown) => void } | null = null;
  #loop: Promise<void> | null = null;
  #failure: unknown = null;

  constructor(client: RecipeClient, path: string) {
    this.path = checkRecipePath(path, "ConfigWatcher");
    this.#client = client;
  }

  /** The latest whole configuration, or null before the first. */
  get current(): ConfigSnapshot | null {
    return this.#current;
  }

  /** Why the watcher stopped on its own (the session ended, an unexpected error), or null. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Starts following and resolves with the first whole configuration (waiting for one to be
   * published). Rejects with the signal's reason, or why following failed. Call once.
   */
  start(options: { signal?: AbortSignal } = {}): Promise<ConfigSnapshot> {
    if (this.#loop !== null) throw new Error(`ConfigWatcher ${this.path}: start() may be called only once`);
    const first = new Promise<ConfigSnapshot>((resolve, reject) => {
      this.#first = { resolve, reject };
    });
    this.#loop = this.#run();
    return raceSignals(first, [options.signal]);
  }

  /** Calls `listener` with every new configuration. */
  onChange(listener: (snapshot: ConfigSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closing.abort(new Error(`ConfigWatcher ${this.path} was closed`));
    await this.#loop;
  }

  /** close(), for `await using watcher = ...`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    const end = new ClientEnd(this.#client);
    const signals = [this.#closing.signal, end.signal];
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        throwIfAborted(signals);
        await this.#readOnce(signals);
      }
      throw new Error(`ConfigWatcher ${this.path}: gave up after ${MAX_ROUNDS} rounds`);
    } catch (error) {
      if (!this.#closing.signal.aborted) this.#failure = error;
      this.#first?.reject(error);
    } finally {
      end.dispose();
    }
  }

  /** One round: wait for `ready`, read the entries, keep them if `ready` did not change meanwhile. */
  async #readOnce(signals: AbortSignal[]): Promise<void> {
    const client = this.#client;
    const readyPath = joinPath(this.path, READY);
    const trigger = new Trigger();
    const ready = await retrying(client, () => client.exists(readyPath, { watch: trigger.listener }));
    if (ready !== null) {
      const values = await this.#readEntries();
      // The watch fires before any reply that shows a change made after `ready` was deleted.
      if (!trigger.hasFired && values !== null) this.#publish({ values, version: ready.czxid });
    }
    try {
      await raceSignals(trigger.fired, signals);
    } catch (error) {
      dropWatch(client, readyPath, trigger.listener);
      throw error;
    }
  }

  /** The entries, or null when one vanished between listing and reading (a publish is under way). */
  async #readEntries(): Promise<Map<string, Uint8Array> | null> {
    const client = this.#client;
    const entriesPath = joinPath(this.path, ENTRIES);
    const keys = (await childrenOrEmpty(client, entriesPath)).sort();
    try {
      const reads = await Promise.all(
        keys.map((key) => retrying(client, () => client.getData(joinPath(entriesPath, key)))),
      );
      return new Map(keys.map((key, index) => [key, reads[index]!.data]));
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) return null;
      throw error;
    }
  }

  #publish(snapshot: ConfigSnapshot): void {
    if (this.#current !== null && this.#current.version === snapshot.version) return;
    this.#current = snapshot;
    this.#first?.resolve(snapshot);
    this.#first = null;
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
