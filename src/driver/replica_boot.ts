/**
 * How an ensemble member comes back from its disk: open the store (directories, format marker,
 * leftovers of a crash), recover the newest valid snapshot and the log after it into a new Replica,
 * then restore Zab's acceptedEpoch and currentEpoch. A plain function over interfaces (a FileSystem,
 * a clock reading, a logger), so that `corral serve`, startReplica and the simulator all boot a
 * member through this one code path: a bug here is a bug the simulator can see.
 *
 * The replica is returned recovered but not started: the caller starts it (replica.start()) once it
 * can carry out its outputs (peers, clients, the persister).
 */
import { Replica, type ReplicaConfig } from "../core/replica.ts";
import type { FileSystem } from "../storage/file_system.ts";
import { type RecoveryResult, TxnStore } from "../storage/txn_store.ts";
import type { Logger } from "./logger.ts";

/** Where a member keeps its log, snapshots and epochs. */
export interface ReplicaStoreOptions {
  fs: FileSystem;
  dataDir: string;
  dataLogDir?: string;
  snapRetainCount?: number;
  truncateCorruptLog?: boolean;
  /** Resolves after a macrotask (snapshots yield with it); default setImmediate. */
  yieldToEventLoop?: () => Promise<void>;
}

/** What recovery finds on an empty (or absent) store. */
export const NOTHING_RECOVERED: RecoveryResult = { snapshotZxid: 0, lastZxid: 0, acceptedEpoch: 0, currentEpoch: 0 };

/** Opens (creating if needed) a member's store; recover it with bootReplica. */
export async function openReplicaStore(options: ReplicaStoreOptions, logger: Logger): Promise<TxnStore> {
  return await TxnStore.open({
    fs: options.fs,
    dataDir: options.dataDir,
    ...(options.dataLogDir === undefined ? {} : { dataLogDir: options.dataLogDir }),
    ...(options.snapRetainCount === undefined ? {} : { snapRetainCount: options.snapRetainCount }),
    ...(options.yieldToEventLoop === undefined ? {} : { yieldToEventLoop: options.yieldToEventLoop }),
    truncateCorruptLog: options.truncateCorruptLog ?? false,
    logger: (level, message) => logger.log(level, message),
  });
}

export interface BootReplicaOptions {
  config: ReplicaConfig;
  /** The member's clock now (the replica's time base). */
  nowMs: number;
  /** An opened store, not recovered yet; null keeps everything in memory (nothing survives a stop). */
  store: TxnStore | null;
  logger: Logger;
  /** Called with the new replica before anything is fed to it (the simulator observes it here). */
  created?: (replica: Replica) => void;
}

export interface BootedReplica {
  replica: Replica;
  recovered: RecoveryResult;
}

/**
 * Builds a Replica and feeds it what the store holds: snapshot, nodes, logged txns, then the epochs.
 * If recovery fails (a damaged log, an I/O error) the store is closed and the error rethrown: the
 * member must not start.
 */
export async function bootReplica(options: BootReplicaOptions): Promise<BootedReplica> {
  const replica = new Replica(options.config, options.nowMs);
  options.created?.(replica);
  const store = options.store;
  if (store === null) {
    options.logger.log("warn", `server ${options.config.server.serverId}: no data directory; this member forgets everything when it stops`);
    return { replica, recovered: NOTHING_RECOVERED };
  }
  try {
    const recovered = await store.recover({
      snapshot: (header) => replica.restoreSnapshot(header),
      node: (node) => replica.restoreNode(node),
      txn: (entry) => replica.replay(entry),
    });
    // The promises this member made in earlier elections (acceptedEpoch) and the history it took
    // (currentEpoch): forgetting them would let it vote for, or follow, a leader of an older epoch.
    replica.restoreEpochs(recovered);
    return { replica, recovered };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}
