/**
 * A distributed mutex without herd effect, znode-compatible with Curator's InterProcessMutex: each
 * contender creates `<path>/_c_<uuid>-lock-<seq>` (ephemeral, sequential); the lowest sequence holds
 * the lock; every other contender watches only the node just ahead of it. A Java service using
 * Curator and a TypeScript service using this class exclude each other on the same path.
 *
 * @example
 * const mutex = new Mutex(client, "/locks/report");
 * const lock = await mutex.acquire({ signal: AbortSignal.timeout(10_000) });
 * try {
 *   await writeReport({ fencingToken: lock.fencingToken, signal: lock.lost });
 * } finally {
 *   await lock.release();
 * }
 *
 * Unlike Curator's, this mutex is not re-entrant: there are no threads to own it, so every acquire()
 * joins the line anew, even from the same Mutex object.
 */
import type { NodeData } from "../client/mod.ts";
import { acquireLock, holding, type LockDriver, LockHandle, standardDriver } from "./lock_internals.ts";
import { checkRecipePath, joinPath, sortChildren } from "./paths.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { checkRevocable, type RevocationListener } from "./revocation.ts";
import { childrenOrEmpty } from "./waiting.ts";

export { LockHandle };

export interface MutexOptions extends HoldOptions {
  /** Stored in each lock node (Curator stores the holder's IP address). Default empty. */
  data?: NodeData;
  /**
   * Makes the lock revocable (Curator's makeRevocable): called with the held lock once someone
   * asks for it with revokeLock() (or Curator's Revoker), also when asked while we were waiting.
   * Revocation is cooperative: release when it suits you. The lock node's data is then kept empty,
   * as Curator keeps it, so `data` cannot be given too.
   */
  onRevoke?: RevocationListener;
}

export interface AcquireOptions {
  /** Gives up waiting: acquire() rejects with the signal's reason and leaves the line. */
  signal?: AbortSignal;
}

/** Curator's InterProcessMutex node name. */
export const MUTEX_LOCK_NAME = "lock-";

export class Mutex {
  /** The lock path (the parent of the lock nodes). */
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #options: MutexOptions;
  readonly #driver: LockDriver;

  constructor(client: RecipeClient, path: string, options: MutexOptions = {}) {
    this.path = checkRecipePath(path, "Mutex");
    checkRevocable(options, "Mutex");
    this.#client = client;
    this.#options = options;
    this.#driver = standardDriver(MUTEX_LOCK_NAME, 1);
  }

  /**
   * Waits for the lock. Rejects with the signal's reason when aborted, with a LostError when the
   * session is lost while waiting, or with the KeeperError of a failed operation.
   */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    return (await this.#acquire(options.signal, true))!;
  }

  /** Takes the lock only if it is free now; otherwise resolves null (and leaves no node behind). */
  tryAcquire(): Promise<LockHandle | null> {
    return this.#acquire(undefined, false);
  }

  /** Runs `work` holding the lock, then releases it (also when `work` throws). */
  run<T>(work: (lock: LockHandle) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    return holding(this.acquire(options), work);
  }

  /** The lock nodes' paths in line order (the holder first). */
  async participants(): Promise<string[]> {
    const children = await childrenOrEmpty(this.#client, this.path);
    return sortChildren(children.filter((name) => name.includes(MUTEX_LOCK_NAME)), this.#driver.sortKey)
      .map((name) => joinPath(this.path, name));
  }

  #acquire(signal: AbortSignal | undefined, wait: boolean): Promise<LockHandle | null> {
    return acquireLock(this.#client, this.path, this.#driver, {
      data: this.#options.data,
      uuid: () => uuidFrom(this.#options.random),
      loseOnDisconnect: this.#options.loseOnDisconnect,
      onRevoke: this.#options.onRevoke,
      what: `lock ${this.path}`,
    }, { signal, wait });
  }
}
