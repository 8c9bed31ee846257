/**
 * A counting semaphore with leases, znode-compatible with Curator's InterProcessSemaphoreV2:
 * `<path>/locks` is a mutex that admits one acquirer at a time, and each lease is an ephemeral
 * sequential `<path>/leases/_c_<uuid>-lease-<seq>`. Holding the gate, an acquirer creates its lease
 * node and waits until at most `maxLeases` lease nodes exist; then it lets the gate go. Since only
 * the gate holder can be waiting, the lease nodes never exceed `maxLeases` + 1 and holders never
 * exceed `maxLeases`. A lease ends with release() or with the session.
 *
 * @example
 * const pool = new Semaphore(client, "/semaphores/db-connections", { maxLeases: 10 });
 * const lease = await pool.acquire({ signal: AbortSignal.timeout(30_000) });
 * try {
 *   await query({ signal: lease.lost });
 * } finally {
 *   await lease.release();
 * }
 *
 * As in Curator, every user of a path must pass the same `maxLeases`; nothing checks it.
 */
import { CreateMode, type NodeData } from "../client/mod.ts";
import { LockHandle } from "./lock_internals.ts";
import { asLostError, SessionGuard } from "./lost.ts";
import { type AcquireOptions, Mutex } from "./mutex.ts";
import { checkRecipePath, joinPath } from "./paths.ts";
import { type CreatedNode, createProtected } from "./protected_create.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { childrenOrEmpty, deleteQuietly, raceSignals, retrying, throwIfAborted, Trigger } from "./waiting.ts";

export interface SemaphoreOptions extends HoldOptions {
  /** How many leases may be held at once; an integer ≥ 1. */
  maxLeases: number;
  /** Stored in each lease node. Default empty. */
  data?: NodeData;
}

/** A held lease: the same handle as a lock (`fencingToken`, `lost`, `release()`). */
export type Lease = LockHandle;

const LOCKS = "locks";
const LEASES = "leases";
const LEASE_NAME = "lease-";
/** Bound on watch rounds while waiting for a free lease (each is one change in the leases). */
const MAX_ROUNDS = 1_000_000;
const MAX_RECREATES = 3;

export class Semaphore {
  readonly path: string;
  readonly maxLeases: number;
  readonly #client: RecipeClient;
  readonly #options: SemaphoreOptions;
  readonly #gate: Mutex;
  readonly #leasesPath: string;

  constructor(client: RecipeClient, path: string, options: SemaphoreOptions) {
    this.path = checkRecipePath(path, "Semaphore");
    if (!Number.isInteger(options.maxLeases) || options.maxLeases < 1) {
      throw new RangeError(`Semaphore: maxLeases must be an integer ≥ 1, got ${options.maxLeases}`);
    }
    this.maxLeases = options.maxLeases;
    this.#client = client;
    this.#options = options;
    this.#gate = new Mutex(client, joinPath(this.path, LOCKS), {
      random: options.random,
      loseOnDisconnect: options.loseOnDisconnect,
    });
    this.#leasesPath = joinPath(this.path, LEASES);
  }

  /**
   * Waits for one lease. Rejects with the signal's reason when aborted, a LostError when the
   * session is lost while waiting, or a KeeperError.
   */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const [lease] = await this.acquireMany(1, options);
    return lease!;
  }

  /** Waits for `count` leases, one after the other; on failure, those already taken are returned. */
  async acquireMany(count: number, options: AcquireOptions = {}): Promise<Lease[]> {
    if (!Number.isInteger(count) || count < 1 || count > this.maxLeases) {
      throw new RangeError(
        `Semaphore: count must be an integer in [1, maxLeases=${this.maxLeases}], got ${count}`,
      );
    }
    const leases: Lease[] = [];
    try {
      for (let index = 0; index < count; index++) leases.push(await this.#acquireOne(options.signal));
      return leases;
    } catch (error) {
      await Promise.all(leases.map((lease) => lease.release().catch(() => undefined)));
      throw error;
    }
  }

  /** The lease nodes' names (held leases, plus the one of an acquirer that is waiting). */
  participants(): Promise<string[]> {
    return childrenOrEmpty(this.#client, this.#leasesPath);
  }

  async #acquireOne(signal: AbortSignal | undefined): Promise<Lease> {
    const gate = await this.#gate.acquire({ signal });
    const guard = new SessionGuard(this.#client, `lease of semaphore ${this.path}`, {
      loseOnDisconnect: this.#options.loseOnDisconnect,
    });
    let node: CreatedNode | null = null;
    try {
      for (let recreates = 0; node === null; recreates++) {
        if (recreates > MAX_RECREATES) {
          throw new Error(`semaphore ${this.path}: our lease node kept vanishing while waiting; giving up`);
        }
        node = await createProtected(this.#client, this.#leasesPath, LEASE_NAME, {
          uuid: uuidFrom(this.#options.random),
          data: this.#options.data,
          parentMode: CreateMode.PERSISTENT, // as Curator's creatingParentsIfNeeded
        });
        if (!(await this.#waitForRoom(node.name, [signal, guard.signal, gate.lost]))) node = null;
      }
      const lease = new LockHandle(this.#client, node, guard);
      await lease.watchOwnNode();
      return lease;
    } catch (error) {
      guard.dispose();
      if (node !== null) await deleteQuietly(this.#client, node.path).catch(() => undefined);
      throw asLostError(this.#client, `lease of semaphore ${this.path}`, error);
    } finally {
      await gate.release().catch(() => undefined);
    }
  }

  /** Waits until at most maxLeases lease nodes exist; false when our own node vanished. */
  async #waitForRoom(ours: string, signals: (AbortSignal | undefined)[]): Promise<boolean> {
    const client = this.#client;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      throwIfAborted(signals);
      const trigger = new Trigger();
      const children = await retrying(
        client,
        () => client.getChildren(this.#leasesPath, { watch: trigger.listener }),
      );
      if (!children.includes(ours)) return false;
      if (children.length <= this.maxLeases) return true;
      await raceSignals(trigger.fired, signals);
    }
    throw new Error(`semaphore ${this.path}: gave up after ${MAX_ROUNDS} changes of the leases`);
  }
}
