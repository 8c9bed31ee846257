/**
 * The waiting-line algorithm behind Mutex, ReadWriteLock, the semaphore's gate and LeaderSelector
 * (Curator's LockInternals): create an ephemeral sequential znode under the lock path, list the
 * children in sequence order, and either hold the lock or watch exactly one node ahead — the one
 * whose deletion could change the answer — so a release wakes one waiter, not all (no herd effect).
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { KeeperError, type NodeData } from "../client/mod.ts";
import { asLostError, type LostError, SessionGuard } from "./lost.ts";
import { loseWhenDeleted } from "./own_node.ts";
import { joinPath, sequenceOf, sortChildren, sortKey } from "./paths.ts";
import { type CreatedNode, createProtected, findProtected, protectedPrefix } from "./protected_create.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { callRevocationListener, type RevocationListener, watchRevocation } from "./revocation.ts";
import { deleteQuietly, dropWatch, raceSignals, retrying, throwIfAborted, Trigger } from "./waiting.ts";

/** Decides who holds the lock; one per lock flavour (exclusive, read, write, leases). */
/** Runs `work` holding what `acquire` gives, then releases it (also when `work` throws). */
export async function holding<H extends { release(): Promise<void> }, T>(
  acquire: Promise<H>,
  work: (held: H) => Promise<T> | T,
): Promise<T> {
  const held = await acquire;
  try {
    return await work(held);
  } finally {
    await held.release();
  }
}

export interface LockDriver {
  /** The name of this flavour's nodes, after the protected prefix: "lock-", "__READ__", ... */
  readonly lockName: string;
  /** Curator's sort key for any child of the lock path. */
  sortKey(name: string): string;
  /** Given all children in sort order: does `ours` hold the lock, and if not, which node to watch. */
  decide(sorted: readonly string[], ours: string): { holds: true } | { holds: false; watch: string };
}

/** The exclusive flavour with `maxLeases` holders (1 for a mutex): hold when among the first N. */
export function standardDriver(lockName: string, maxLeases = 1): LockDriver {
  return {
    lockName,
    sortKey: (name) => sortKey(name, lockName),
    decide(sorted, ours) {
      const index = sorted.indexOf(ours);
      return index < maxLeases ? { holds: true } : { holds: false, watch: sorted[index - maxLeases]! };
    },
  };
}

export interface LockSettings {
  /** Data stored in the lock node (Curator stores the holder's address; LeaderSelector its id). */
  data?: NodeData | null;
  uuid: () => string;
  loseOnDisconnect?: boolean;
  /** Makes the lock revocable: called when a revoker writes "__REVOKE__" into our node. */
  onRevoke?: RevocationListener | undefined;
  /** "lock /locks/db", for messages. */
  what: string;
}

/** Bound on watch rounds for one acquire: each round is one change of the node ahead of us. */
const MAX_ROUNDS = 1_000_000;
/** How often our own node may vanish under us (deleted by someone else) before we give up. */
const MAX_RECREATES = 3;

/**
 * Joins the line under `basePath` and resolves once `driver` says we hold the lock; with
 * `wait: false` resolves null instead of waiting. Rejects with the signal's reason when aborted, or
 * a LostError when the session ends meanwhile; our node is deleted in both cases.
 */
export async function acquireLock(
  client: RecipeClient,
  basePath: string,
  driver: LockDriver,
  settings: LockSettings,
  options: { signal?: AbortSignal; wait?: boolean } = {},
): Promise<LockHandle | null> {
  const signal = options.signal;
  throwIfAborted([signal]);
  const guard = new SessionGuard(client, settings.what, { loseOnDisconnect: settings.loseOnDisconnect });
  throwIfAborted([guard.signal]);
  let node: CreatedNode | null = null;
  // The uuid of a create that may have happened although it did not resolve (lost connection).
  let pendingUuid: string | null = null;
  try {
    for (let recreates = 0; node === null; recreates++) {
      if (recreates > MAX_RECREATES) {
        throw new Error(
          `${settings.what}: our lock node was deleted ${MAX_RECREATES} times while waiting; giving up`,
        );
      }
      pendingUuid = settings.uuid();
      node = await createProtected(client, basePath, driver.lockName, {
        uuid: pendingUuid,
        data: settings.data,
      });
      pendingUuid = null;
      throwIfAborted([signal, guard.signal]);
      const outcome = await waitInLine(client, basePath, driver, node.name, {
        signals: [signal, guard.signal],
        wait: options.wait ?? true,
      });
      if (outcome === "vanished") node = null;
      else if (outcome === "gaveUp") {
        await deleteQuietly(client, node.path);
        guard.dispose();
        return null;
      }
    }
    const handle = new LockHandle(client, node, guard);
    await handle.watchOwnNode();
    if (settings.onRevoke !== undefined) await handle.watchRevocation(settings.onRevoke);
    // Lost before the caller even got it (deleted, or the session lost, during the last calls):
    // fail the acquire, so that our node is deleted below rather than left to the handle.
    if (guard.lost) throw guard.signal.reason;
    return handle;
  } catch (error) {
    guard.dispose();
    if (node !== null) await deleteQuietly(client, node.path).catch(() => undefined);
    else if (pendingUuid !== null) await deleteUnresolved(client, basePath, pendingUuid);
    throw asLostError(client, settings.what, error);
  }
}

/**
 * Deletes the node of a protected create that failed without telling whether it happened (Curator's
 * findAndDeleteProtectedNodeInBackground), so that it cannot block the line while the session lives.
 */
async function deleteUnresolved(client: RecipeClient, basePath: string, uuid: string): Promise<void> {
  try {
    const found = await findProtected(client, basePath, protectedPrefix(uuid));
    if (found !== null) await deleteQuietly(client, found.path);
  } catch {
    // The session ended (its ephemerals went with it) or the servers stay out of reach: nothing
    // more can be done from here.
  }
}

async function waitInLine(
  client: RecipeClient,
  basePath: string,
  driver: LockDriver,
  ours: string,
  options: { signals: (AbortSignal | undefined)[]; wait: boolean },
): Promise<"holds" | "vanished" | "gaveUp"> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    throwIfAborted(options.signals);
    const children = await retrying(client, () => client.getChildren(basePath));
    if (!children.includes(ours)) return "vanished";
    const decision = driver.decide(sortChildren(children, driver.sortKey), ours);
    if (decision.holds) return "holds";
    if (!options.wait) return "gaveUp";
    // getData rather than exists: exists on a node that is already gone would leave a watch behind.
    const ahead = joinPath(basePath, decision.watch);
    const trigger = new Trigger();
    try {
      await retrying(client, () => client.getData(ahead, { watch: trigger.listener }));
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) continue;
      throw error;
    }
    try {
      await raceSignals(trigger.fired, options.signals);
    } catch (error) {
      dropWatch(client, ahead, trigger.listener);
      throw error;
    }
  }
  throw new Error(`gave up after ${MAX_ROUNDS} changes of the lock line under ${basePath}`);
}

/**
 * A held lock (or lease, or leadership term): its znode, its fencing token and its `lost` signal.
 *
 * `fencingToken` is the znode's czxid: it grows with every acquisition of any lock on the ensemble,
 * so a resource that remembers the largest token it has seen can refuse a holder that has lost the
 * lock without knowing it yet (a paused process, a partition).
 *
 * When the loss is declared on a disconnect (loseOnDisconnect, or the session timeout passing), the
 * session may still be alive and come back with its node: the handle then deletes the node by itself
 * once reconnected, so it does not block the line. release() after a loss is harmless.
 */
export class LockHandle {
  /** The lock znode's path. */
  readonly path: string;
  /** Its name (`_c_<uuid>-lock-0000000007`). */
  readonly name: string;
  /** The sequence number ZooKeeper gave the znode (7 above); grows within one lock path. */
  readonly sequence: number;
  /** The znode's creation zxid: grows across holders and paths; guard external resources with it. */
  readonly fencingToken: number;
  readonly #client: RecipeClient;
  readonly #guard: SessionGuard;
  #releasing: Promise<void> | null = null;
  #revocationRequested = false;

  constructor(client: RecipeClient, node: CreatedNode, guard: SessionGuard) {
    this.#client = client;
    this.#guard = guard;
    this.path = node.path;
    this.name = node.name;
    this.sequence = sequenceOf(node.name);
    this.fencingToken = node.stat.czxid;
    guard.signal.addEventListener("abort", () => {
      const why = (guard.signal.reason as LostError).why;
      if (why === "disconnected" || why === "sessionTimeout") this.release().catch(() => undefined);
    }, { once: true });
  }

  /** Aborts with a LostError when the lock is no longer held (released, session lost, node deleted). */
  get lost(): AbortSignal {
    return this.#guard.signal;
  }

  /** True until the lock is released or lost. */
  get held(): boolean {
    return !this.#guard.lost;
  }

  /** True once a revoker asked for this lock (see revokeLock); only revocable locks notice. */
  get revocationRequested(): boolean {
    return this.#revocationRequested;
  }

  /** Deletes the lock node; `lost` fires with "released". Safe to call twice, and after a loss. */
  release(): Promise<void> {
    this.#releasing ??= (async () => {
      this.#guard.lose("released");
      await deleteQuietly(this.#client, this.path);
    })();
    return this.#releasing;
  }

  /** release(), for `await using lock = await mutex.acquire()`. */
  [asyncDispose](): Promise<void> {
    return this.release();
  }

  /** Arms a watch on our own node so that its deletion by someone else fires `lost` ("nodeDeleted"). */
  watchOwnNode(): Promise<void> {
    return loseWhenDeleted(this.#client, this.path, this.#guard);
  }

  /** Watches our node's data for a revocation request (Curator's makeRevocable) while held. */
  watchRevocation(listener: RevocationListener): Promise<void> {
    return watchRevocation(this.#client, this.path, {
      active: () => this.held,
      onRequest: () => {
        this.#revocationRequested = true;
        callRevocationListener(listener, this);
      },
    });
  }
}
