/**
 * Recipes: what people build on ZooKeeper, over Corral's client (and any ZooKeeper 3.6+ server).
 * Where Curator has the same recipe, the znode layout is Curator's, so a Java service using Curator
 * and a TypeScript service using these share a lock, a semaphore or an election.
 *
 * Every recipe that creates sequential znodes protects the create against a lost connection with
 * Curator's `_c_<uuid>-` names; everything held (a lock, a lease, a leadership term, a membership)
 * has a `lost` AbortSignal and a fencing token (its znode's czxid); every wait takes an AbortSignal.
 * Everything that is released, closed or left has `[Symbol.asyncDispose]`, so `await using` works.
 *
 * @example
 * import { createClient } from "../../mod.ts";
 * import { Mutex } from "./mod.ts";
 * const client = await createClient("127.0.0.1:2181");
 * const lock = await new Mutex(client, "/locks/nightly-report").acquire();
 * try {
 *   await buildReport({ fencingToken: lock.fencingToken, signal: lock.lost });
 * } finally {
 *   await lock.release();
 * }
 *
 * @module
 */
export {
  defaultRandomUuid,
  type HoldOptions,
  type RandomOptions,
  type RecipeClient,
} from "./recipe_client.ts";
export { LostError, type LostReason } from "./lost.ts";
export {
  type CreatedNode,
  createProtected,
  findProtected,
  PROTECTED_PREFIX,
  protectedPrefix,
} from "./protected_create.ts";
export { ensurePath, sequenceOf } from "./paths.ts";
export { type AcquireOptions, LockHandle, Mutex, MUTEX_LOCK_NAME, type MutexOptions } from "./mutex.ts";
export {
  READ_LOCK_NAME,
  ReadWriteLock,
  type ReadWriteLockOptions,
  ReadWriteLockSide,
  WRITE_LOCK_NAME,
} from "./read_write_lock.ts";
export { type Lease, Semaphore, type SemaphoreOptions } from "./semaphore.ts";
export { type Lockable, MultiLock, MultiLockHandle } from "./multi_lock.ts";
export { isRevokeMessage, type RevocationListener, REVOKE_MESSAGE, revokeLock } from "./revocation.ts";
export type { LeadershipTerm, Participant } from "./leadership.ts";
export { LATCH_LOCK_NAME, LeaderLatch, type LeaderLatchOptions } from "./leader_latch.ts";
export { LeaderSelector, type LeaderSelectorOptions } from "./leader_selector.ts";
export { Barrier } from "./barrier.ts";
export { DoubleBarrier, type DoubleBarrierOptions, READY_NODE } from "./double_barrier.ts";
export {
  DistributedQueue,
  type PutResult,
  QUEUE_ITEM_NAME,
  type QueueMessage,
  type QueueOptions,
} from "./queue.ts";
export { encodePriority, priorityOf, PriorityQueue, type PriorityQueueMessage } from "./priority_queue.ts";
export { decodeQueueItems, encodeQueueItems } from "./queue_items.ts";
export { DistributedIdQueue, type IdQueueMessage, queueIdOf } from "./id_queue.ts";
export {
  delayOf,
  type DelayQueueMessage,
  type DelayQueueOptions,
  DistributedDelayQueue,
  encodeDelay,
} from "./delay_queue.ts";
export { type CounterValue, SharedCounter, type SharedCounterOptions } from "./shared_counter.ts";
export {
  type CachedNode,
  TreeCache,
  type TreeCacheEvent,
  type TreeCacheListener,
  type TreeCacheOptions,
} from "./tree_cache.ts";
export { GroupMember, type GroupMemberOptions, type Members } from "./group_member.ts";
export {
  decodeInstance,
  ServiceCache,
  ServiceDiscovery,
  type ServiceDiscoveryOptions,
  type ServiceInstance,
  type ServiceInstanceInput,
  ServiceRegistration,
} from "./service_discovery.ts";
export { type ConfigSnapshot, ConfigWatcher, publishConfig } from "./configuration.ts";
export { Rendezvous } from "./rendezvous.ts";
