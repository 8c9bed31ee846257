/**
 * A local copy of a subtree, kept current with one persistent recursive watch (addWatch, ZooKeeper
 * 3.6+), like Curator's CuratorCache: the watch is armed first, then the subtree is read; every
 * NodeCreated / NodeDataChanged re-reads that node, every NodeDeleted drops it. After a reconnect
 * (events may have been missed while disconnected) the subtree is read again and the differences
 * reported.
 *
 * @example
 * const cache = new TreeCache(client, "/services");
 * cache.on((event) => console.log(event.type, "path" in event ? event.path : ""));
 * await cache.start();
 * cache.get("/services/web")?.data;
 * cache.children("/services"); // ["api", "web"]
 * await cache.close();
 *
 * Consistency: reads and events race, so each read result is applied only if no event for that
 * path arrived after the read was sent (a newer read is then on its way). The cache converges to the
 * tree; like any ZooKeeper cache it may skip intermediate versions of a node.
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { Code, KeeperError, type Stat, type WatchEvent, type WatchListener } from "../client/mod.ts";
import { checkRecipePath, joinPath, parentPath } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { retrying, waitConnected } from "./waiting.ts";

export interface CachedNode {
  path: string;
  data: Uint8Array;
  stat: Stat;
}

export type TreeCacheEvent =
  | { type: "added" | "updated" | "removed"; path: string; node: CachedNode }
  /** The first full read is done (after start()). */
  | { type: "initialized" }
  /** The subtree was read again after a reconnect; changes were reported as events before this. */
  | { type: "resynced" }
  /** The cache stopped updating (session ended, maxNodes exceeded, or an unexpected error). */
  | { type: "error"; error: unknown };

export type TreeCacheListener = (event: TreeCacheEvent) => void;

export interface TreeCacheOptions {
  /** Cache the root (depth 0) down to this depth; default unlimited. 1 = the root and its children. */
  maxDepth?: number;
  /** Bound on cached nodes; beyond it the cache stops with an "error" event. Default 100000. */
  maxNodes?: number;
}

/** Bound on consecutive failed full reads (each after a reconnect) before the cache gives up. */
const MAX_RESYNC_ATTEMPTS = 20;

export class TreeCache {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #maxDepth: number;
  readonly #maxNodes: number;
  readonly #nodes = new Map<string, CachedNode>();
  /** Child names per parent path (parents may be missing transiently while reads are in flight). */
  readonly #children = new Map<string, Set<string>>();
  readonly #listeners = new Set<TreeCacheListener>();
  /** Event clock: each event ticks it; `#touched` says when each path last had an event. */
  #clock = 0;
  readonly #touched = new Map<string, number>();
  /** Reads whose results are still to be checked against `#touched`; at 0 it can be forgotten. */
  #readsInFlight = 0;
  #state: "latent" | "started" | "closed" = "latent";
  #disconnected = false;
  #resyncWanted = false;
  #resync: Promise<void> | null = null;
  #failure: unknown = null;
  /** Set after the first full read: later full reads are resyncs. */
  #initialized = false;
  readonly #watch: WatchListener = (event) => this.#onEvent(event);

  constructor(client: RecipeClient, path: string, options: TreeCacheOptions = {}) {
    this.path = checkRecipePath(path, "TreeCache");
    this.#client = client;
    this.#maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    this.#maxNodes = options.maxNodes ?? 100_000;
    if (!(this.#maxDepth >= 0)) {
      throw new RangeError(`TreeCache: maxDepth must be ≥ 0, got ${options.maxDepth}`);
    }
  }

  /** Arms the watch and reads the subtree; resolves once the cache holds it. Call once. */
  async start(): Promise<void> {
    if (this.#state !== "latent") throw new Error(`TreeCache ${this.path}: start() may be called only once`);
    this.#state = "started";
    const client = this.#client;
    await retrying(client, () => client.addWatch(this.path, "persistentRecursive", this.#watch));
    this.#requestResync();
    await this.#resync;
    if (this.#failure !== null) throw this.#failure;
    this.#emit({ type: "initialized" });
  }

  /** Calls `listener` for every change (synchronously, in order); returns an unsubscribe function. */
  on(listener: TreeCacheListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The cached node at `path`, if any. */
  get(path: string): CachedNode | undefined {
    return this.#nodes.get(path);
  }

  /** The cached children's names of `path`, sorted. */
  children(path: string): string[] {
    return [...(this.#children.get(path) ?? [])].filter((name) => this.#nodes.has(joinPath(path, name)))
      .sort();
  }

  /** Every cached node. */
  nodes(): CachedNode[] {
    return [...this.#nodes.values()];
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** Stops updating and removes the watch. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasStarted = this.#state === "started";
    this.#state = "closed";
    if (wasStarted) {
      await this.#client.removeWatches(this.path, this.#watch, { type: "persistentRecursive" }).catch(() =>
        undefined
      );
    }
    await this.#resync?.catch(() => undefined);
  }

  /** close(), for `await using cache = ...`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #onEvent(event: WatchEvent): void {
    if (this.#state !== "started") return;
    if (event.type === "None") return this.#onState(event.state);
    if (event.type !== "NodeCreated" && event.type !== "NodeDataChanged" && event.type !== "NodeDeleted") {
      return;
    }
    if (this.#depthOf(event.path) > this.#maxDepth) return;
    const stamp = ++this.#clock;
    this.#touched.set(event.path, stamp);
    if (event.type === "NodeDeleted") this.#removeSubtree(event.path);
    else this.#refresh(event.path, stamp);
  }

  #onState(state: string): void {
    if (state === "Disconnected") {
      this.#disconnected = true;
    } else if ((state === "SyncConnected" || state === "ConnectedReadOnly") && this.#disconnected) {
      this.#disconnected = false;
      this.#requestResync();
    } else if (state === "Expired" || state === "Closed" || state === "AuthFailed") {
      this.#stop(
        new KeeperError(state === "Expired" ? Code.SESSIONEXPIRED : Code.CONNECTIONLOSS, {
          operation: `tree cache ${this.path}`,
          detail: `the client's session ended (${state}); the cache no longer updates`,
        }),
      );
    }
  }

  /** Re-reads one node after an event; a lost connection is covered by the resync that follows. */
  #refresh(path: string, stamp: number): void {
    this.#readsInFlight++;
    this.#client.getData(path).then(
      ({ data, stat }) => {
        if (!this.#stale(path, stamp)) this.#upsert(path, data, stat);
      },
      (error: unknown) => {
        if (KeeperError.is(error, "NONODE") && !this.#stale(path, stamp)) this.#removeSubtree(path);
      },
    ).finally(() => this.#readDone());
  }

  /** With no read left to check, no event stamp matters any more: forget them (bounds `#touched`). */
  #readDone(): void {
    if (--this.#readsInFlight === 0) this.#touched.clear();
  }

  #stale(path: string, stamp: number): boolean {
    return this.#state !== "started" || (this.#touched.get(path) ?? 0) > stamp;
  }

  #requestResync(): void {
    this.#resyncWanted = true;
    this.#resync ??= this.#resyncLoop().finally(() => {
      this.#resync = null;
    });
  }

  async #resyncLoop(): Promise<void> {
    for (let attempt = 0; this.#resyncWanted && this.#state === "started"; attempt++) {
      this.#resyncWanted = false;
      try {
        await waitConnected(this.#client);
        await this.#readAll();
        attempt = 0;
      } catch (error) {
        if (KeeperError.is(error, "CONNECTIONLOSS") && attempt < MAX_RESYNC_ATTEMPTS) {
          this.#resyncWanted = true;
          continue;
        }
        this.#stop(error);
      }
    }
  }

  /** Reads the whole subtree, then drops cached nodes it no longer has (unless an event since says otherwise). */
  async #readAll(): Promise<void> {
    this.#readsInFlight++;
    try {
      const startedAt = this.#clock;
      const seen = new Set<string>();
      await this.#readSubtree(this.path, 0, seen);
      if (this.#state !== "started") return;
      for (const path of [...this.#nodes.keys()]) {
        if (!seen.has(path) && (this.#touched.get(path) ?? 0) <= startedAt) this.#removeSubtree(path);
      }
    } finally {
      this.#readDone();
    }
    if (this.#state !== "started") return;
    if (this.#initialized) this.#emit({ type: "resynced" });
    this.#initialized = true;
  }

  async #readSubtree(path: string, depth: number, seen: Set<string>): Promise<void> {
    const client = this.#client;
    const stamp = this.#clock;
    const dataRead = client.getData(path);
    const childrenRead = depth < this.#maxDepth ? client.getChildren(path) : Promise.resolve([]);
    // Both reads are in flight; settle the children's too so neither rejection goes unhandled.
    const [dataResult, childrenResult] = await Promise.allSettled([dataRead, childrenRead]);
    if (dataResult.status === "rejected") {
      if (!KeeperError.is(dataResult.reason, "NONODE")) throw dataResult.reason;
      if (!this.#stale(path, stamp)) this.#removeSubtree(path);
      return;
    }
    seen.add(path);
    if (!this.#stale(path, stamp)) this.#upsert(path, dataResult.value.data, dataResult.value.stat);
    if (childrenResult.status === "rejected") {
      if (KeeperError.is(childrenResult.reason, "NONODE")) return;
      throw childrenResult.reason;
    }
    await Promise.all(
      childrenResult.value.map((name) => this.#readSubtree(joinPath(path, name), depth + 1, seen)),
    );
  }

  #upsert(path: string, data: Uint8Array, stat: Stat): void {
    const previous = this.#nodes.get(path);
    const node = { path, data, stat };
    if (previous !== undefined && sameVersion(previous.stat, stat)) return;
    if (previous === undefined && this.#nodes.size >= this.#maxNodes) {
      return this.#stop(
        new RangeError(`tree cache ${this.path}: more than maxNodes=${this.#maxNodes} nodes`),
      );
    }
    this.#nodes.set(path, node);
    if (path !== this.path) {
      const parent = parentPath(path);
      let names = this.#children.get(parent);
      if (names === undefined) {
        names = new Set();
        this.#children.set(parent, names);
      }
      names.add(path.substring(path.lastIndexOf("/") + 1));
    }
    this.#emit({ type: previous === undefined ? "added" : "updated", path, node });
  }

  /** Drops `path` and everything cached below it, deepest first. */
  #removeSubtree(path: string): void {
    for (const name of [...(this.#children.get(path) ?? [])]) this.#removeSubtree(joinPath(path, name));
    this.#children.delete(path);
    const node = this.#nodes.get(path);
    if (node === undefined) return;
    this.#nodes.delete(path);
    if (path !== this.path) {
      this.#children.get(parentPath(path))?.delete(path.substring(path.lastIndexOf("/") + 1));
    }
    this.#emit({ type: "removed", path, node });
  }

  #depthOf(path: string): number {
    if (path === this.path) return 0;
    const rest = this.path === "/" ? path : path.substring(this.path.length);
    let depth = 0;
    for (let index = rest.indexOf("/"); index >= 0; index = rest.indexOf("/", index + 1)) depth++;
    return depth;
  }

  #stop(error: unknown): void {
    if (this.#state !== "started") return;
    this.#failure = error;
    this.#state = "closed";
    this.#client.removeWatches(this.path, this.#watch, { type: "persistentRecursive" }).catch(() =>
      undefined
    );
    this.#emit({ type: "error", error });
  }

  #emit(event: TreeCacheEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // One listener's failure must not starve the others or the cache.
      }
    }
  }
}

function sameVersion(a: Stat, b: Stat): boolean {
  return a.czxid === b.czxid && a.mzxid === b.mzxid && a.version === b.version;
}
