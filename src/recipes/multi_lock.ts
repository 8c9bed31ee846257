/**
 * Several locks taken as one, like Curator's InterProcessMultiLock: acquire() takes them in the
 * given order and either holds all of them or — when one fails or the wait is aborted — releases
 * those already taken (in reverse order) and holds none; release() releases them in reverse order.
 * Nothing new is stored in ZooKeeper: each part is an ordinary lock with its own layout, so a Curator
 * InterProcessMultiLock over the same paths excludes this one and vice versa.
 *
 * @example
 * // Move money between two accounts, each guarded by its own lock.
 * const both = new MultiLock(client, ["/locks/accounts/alice", "/locks/accounts/bob"]);
 * await both.run(async (locks) => {
 *   await transfer({ fencingToken: locks.fencingToken, signal: locks.lost });
 * }, { signal: AbortSignal.timeout(10_000) });
 *
 * To avoid deadlock, every process must take overlapping locks in the same order: sort the paths.
 * Parts may also be other locks with acquire(): `new MultiLock(client, [rw.writeLock, "/locks/b"])`.
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { holding, type LockHandle } from "./lock_internals.ts";
import { LostError } from "./lost.ts";
import { type AcquireOptions, Mutex, type MutexOptions } from "./mutex.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { throwIfAborted } from "./waiting.ts";

/** What MultiLock needs from each part: Mutex, ReadWriteLockSide and Semaphore all have it. */
export interface Lockable {
  acquire(options?: AcquireOptions): Promise<LockHandle>;
  /**
   * When present, MultiLock.tryAcquire() uses it; a part without it (a Semaphore) counts as
   * unavailable there, so tryAcquire() resolves null.
   */
  tryAcquire?(): Promise<LockHandle | null>;
}

/** Bound on the parts of one multi-lock (each is at least one znode and one watch). */
const MAX_PARTS = 1_000;

export class MultiLock {
  readonly #parts: readonly Lockable[];

  /**
   * The locks to take, in this order: a path stands for a Mutex on it (Curator's InterProcessMutex
   * layout, made with `options`); any other lock (a ReadWriteLock side, a Semaphore) is used as is.
   */
  constructor(client: RecipeClient, locks: readonly (string | Lockable)[], options: MutexOptions = {}) {
    this.#parts = checkParts(
      locks.map((lock) => typeof lock === "string" ? new Mutex(client, lock, options) : lock),
    );
  }

  /** How many locks this takes. */
  get size(): number {
    return this.#parts.length;
  }

  /**
   * Takes every lock in order, waiting for each. Rejects with the signal's reason when aborted,
   * with a LostError when a lock taken earlier is lost meanwhile, or with the first part's error;
   * in every case the locks taken so far are released (in reverse order) first.
   */
  acquire(options: AcquireOptions = {}): Promise<MultiLockHandle> {
    return this.#acquire(options.signal, true) as Promise<MultiLockHandle>;
  }

  /** Takes every lock only if each is free now; otherwise releases what it took and resolves null. */
  tryAcquire(): Promise<MultiLockHandle | null> {
    return this.#acquire(undefined, false);
  }

  /** Runs `work` holding every lock, then releases them (also when `work` throws). */
  run<T>(work: (locks: MultiLockHandle) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    return holding(this.acquire(options), work);
  }

  async #acquire(signal: AbortSignal | undefined, wait: boolean): Promise<MultiLockHandle | null> {
    throwIfAborted([signal]);
    const taken: LockHandle[] = [];
    try {
      for (const part of this.#parts) {
        const lost = taken.find((lock) => lock.lost.aborted);
        if (lost !== undefined) throw lost.lost.reason;
        const lock = wait ? await acquireWhileHeld(part, taken, signal) : await part.tryAcquire?.() ?? null;
        if (lock === null) {
          await releaseInReverse(taken);
          return null;
        }
        taken.push(lock);
      }
    } catch (error) {
      await releaseInReverse(taken).catch(() => undefined);
      throw error;
    }
    return new MultiLockHandle(taken);
  }
}

/**
 * Waits for `part` while the locks already `taken` stay held: the wait is aborted with the
 * LostError of the first one lost (holding the rest alone would be no use).
 */
function acquireWhileHeld(
  part: Lockable,
  taken: readonly LockHandle[],
  signal: AbortSignal | undefined,
): Promise<LockHandle> {
  if (taken.length === 0) return part.acquire({ signal });
  const combined = new AbortController();
  const forward = (event: Event) => combined.abort((event.target as AbortSignal).reason);
  const sources = [signal, ...taken.map((lock) => lock.lost)].filter(
    (source): source is AbortSignal => source !== undefined,
  );
  for (const source of sources) source.addEventListener("abort", forward, { once: true });
  const already = sources.find((source) => source.aborted);
  if (already !== undefined) combined.abort(already.reason);
  return part.acquire({ signal: combined.signal }).finally(() => {
    for (const source of sources) source.removeEventListener("abort", forward);
  });
}

/** Releases `locks` last to first; every release is attempted; the first failure is rethrown. */
async function releaseInReverse(locks: readonly LockHandle[]): Promise<void> {
  let failure: { error: unknown } | null = null;
  for (const lock of [...locks].reverse()) {
    try {
      await lock.release();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== null) throw failure.error;
}

function checkParts(parts: readonly Lockable[]): readonly Lockable[] {
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
    throw new RangeError(`MultiLock: give between 1 and ${MAX_PARTS} locks, got ${parts.length}`);
  }
  for (const part of parts) {
    if (typeof part?.acquire !== "function") {
      throw new TypeError("MultiLock: every part must have an acquire() method (a Mutex, say)");
    }
  }
  return [...parts];
}

/**
 * Every lock of a MultiLock, held. `lost` aborts (with that lock's LostError) as soon as any one is
 * lost: the work they guard together must stop then.
 */
export class MultiLockHandle {
  /** The held locks, in acquisition order. */
  readonly locks: readonly LockHandle[];
  readonly #lost = new AbortController();
  #releasing: Promise<void> | null = null;

  constructor(locks: readonly LockHandle[]) {
    this.locks = [...locks];
    for (const lock of this.locks) {
      if (lock.lost.aborted) this.#lose(lock.lost.reason);
      else lock.lost.addEventListener("abort", () => this.#lose(lock.lost.reason), { once: true });
    }
  }

  /**
   * The largest fencing token of the parts: every new acquisition of this multi-lock has a larger
   * one than any earlier holder's (each part's token is the czxid of a node created after them).
   * A resource guarded by a single part should check that part's own `fencingToken`.
   */
  get fencingToken(): number {
    return Math.max(...this.locks.map((lock) => lock.fencingToken));
  }

  /** Aborts when any of the locks is released or lost. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /** True while every lock is held. */
  get held(): boolean {
    return this.locks.every((lock) => lock.held);
  }

  /** Releases every lock in reverse order of acquisition. Safe to call twice, and after a loss. */
  release(): Promise<void> {
    this.#releasing ??= releaseInReverse(this.locks);
    return this.#releasing;
  }

  /** release(), for `await using locks = await multi.acquire()`. */
  [asyncDispose](): Promise<void> {
    return this.release();
  }

  #lose(reason: unknown): void {
    if (this.#lost.signal.aborted) return;
    this.#lost.abort(reason instanceof LostError ? reason : new LostError("multi-lock", "released"));
  }
}
