/**
 * A distributed read/write lock, znode-compatible with Curator's InterProcessReadWriteLock: readers
 * create `<path>/_c_<uuid>-__READ__<seq>`, writers `<path>/_c_<uuid>-__WRIT__<seq>`, all in one
 * sequence. A writer holds the lock when its node is first in line; a reader holds it when no
 * writer's node is ahead of it. Waiters watch one node: a writer the node just ahead, a reader the
 * nearest writer ahead (the ZooKeeper recipe; Curator watches the first writer, with the same result).
 *
 * @example
 * const rw = new ReadWriteLock(client, "/locks/catalog");
 * const read = await rw.readLock.acquire();
 * try { render(await loadCatalog()); } finally { await read.release(); }
 *
 * const write = await rw.writeLock.acquire({ signal: AbortSignal.timeout(5_000) });
 * try { await saveCatalog({ fencingToken: write.fencingToken }); } finally { await write.release(); }
 *
 * Not re-entrant, and so no downgrade from write to read by re-entry as in Curator: acquire the read
 * lock while holding the write lock and it waits for the write lock to be released.
 */
import type { NodeData } from "../client/mod.ts";
import { acquireLock, holding, type LockDriver, type LockHandle } from "./lock_internals.ts";
import type { AcquireOptions } from "./mutex.ts";
import { checkRecipePath, joinPath, sortChildren, sortKey } from "./paths.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { checkRevocable, type RevocationListener } from "./revocation.ts";
import { childrenOrEmpty } from "./waiting.ts";

/** Curator's names; they must have the same length (Curator's sort relies on it). */
export const READ_LOCK_NAME = "__READ__";
export const WRITE_LOCK_NAME = "__WRIT__";

export interface ReadWriteLockOptions extends HoldOptions {
  /** Stored in each lock node. Default empty. */
  data?: NodeData;
  /** Makes both sides revocable; see MutexOptions.onRevoke (then `data` cannot be given). */
  onRevoke?: RevocationListener;
}

/** Curator's SortingLockInternalsDriver key: the sequence after either name. */
function readWriteSortKey(name: string): string {
  return sortKey(sortKey(name, READ_LOCK_NAME), WRITE_LOCK_NAME);
}

const writeDriver: LockDriver = {
  lockName: WRITE_LOCK_NAME,
  sortKey: readWriteSortKey,
  decide(sorted, ours) {
    const index = sorted.indexOf(ours);
    return index === 0 ? { holds: true } : { holds: false, watch: sorted[index - 1]! };
  },
};

const readDriver: LockDriver = {
  lockName: READ_LOCK_NAME,
  sortKey: readWriteSortKey,
  decide(sorted, ours) {
    let writerAhead: string | null = null;
    for (const name of sorted) {
      if (name === ours) break;
      if (name.includes(WRITE_LOCK_NAME)) writerAhead = name;
    }
    return writerAhead === null ? { holds: true } : { holds: false, watch: writerAhead };
  },
};

/** One side of a ReadWriteLock. */
export class ReadWriteLockSide {
  readonly #client: RecipeClient;
  readonly #path: string;
  readonly #driver: LockDriver;
  readonly #options: ReadWriteLockOptions;
  readonly #kind: "read" | "write";

  constructor(
    client: RecipeClient,
    path: string,
    kind: "read" | "write",
    options: ReadWriteLockOptions,
  ) {
    this.#client = client;
    this.#path = path;
    this.#kind = kind;
    this.#driver = kind === "read" ? readDriver : writeDriver;
    this.#options = options;
  }

  /** Waits for this side of the lock; see Mutex.acquire for how it fails. */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    return (await this.#acquire(options.signal, true))!;
  }

  /** Takes this side only if it is available now; otherwise null. */
  tryAcquire(): Promise<LockHandle | null> {
    return this.#acquire(undefined, false);
  }

  /** Runs `work` holding this side, then releases it. */
  run<T>(work: (lock: LockHandle) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    return holding(this.acquire(options), work);
  }

  /** This side's nodes in line order. */
  async participants(): Promise<string[]> {
    const children = await childrenOrEmpty(this.#client, this.#path);
    return sortChildren(children.filter((name) => name.includes(this.#driver.lockName)), readWriteSortKey)
      .map((name) => joinPath(this.#path, name));
  }

  #acquire(signal: AbortSignal | undefined, wait: boolean): Promise<LockHandle | null> {
    return acquireLock(this.#client, this.#path, this.#driver, {
      data: this.#options.data,
      uuid: () => uuidFrom(this.#options.random),
      loseOnDisconnect: this.#options.loseOnDisconnect,
      onRevoke: this.#options.onRevoke,
      what: `${this.#kind} lock ${this.#path}`,
    }, { signal, wait });
  }
}

export class ReadWriteLock {
  readonly path: string;
  /** Shared: many readers at once, none while a writer holds or waits ahead. */
  readonly readLock: ReadWriteLockSide;
  /** Exclusive. */
  readonly writeLock: ReadWriteLockSide;

  constructor(client: RecipeClient, path: string, options: ReadWriteLockOptions = {}) {
    this.path = checkRecipePath(path, "ReadWriteLock");
    checkRevocable(options, "ReadWriteLock");
    this.readLock = new ReadWriteLockSide(client, this.path, "read", options);
    this.writeLock = new ReadWriteLockSide(client, this.path, "write", options);
  }
}
