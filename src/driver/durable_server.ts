/**
 * A server whose writes survive restarts: locks dataDir (and dataLogDir) so no other server writes
 * there, opens the transaction log and snapshots, rebuilds the core from them, and serves with group
 * commit. `corral serve zoo.cfg` uses this whenever zoo.cfg names a dataDir.
 */
import { Server } from "../core/server.ts";
import type { FileSystem } from "../storage/file_system.ts";
import { NodeFileSystem } from "../storage/node_file_system.ts";
import { TxnStore } from "../storage/txn_store.ts";
import { type DirLock, type DirLockOptions, lockDataDirs } from "./dir_lock.ts";
import type { Logger } from "./logger.ts";
import { serveCore, type ServeOptions, type ServerHandle, systemClock } from "./server_driver.ts";
import { storageSizes } from "./storage_sizes.ts";

export interface DurableServeOptions extends Omit<ServeOptions, "durableLog"> {
  dataDir: string;
  /** Where log segments go (zoo.cfg dataLogDir); default dataDir. */
  dataLogDir?: string;
  fs: FileSystem;
  /** autopurge.snapRetainCount (at least 3). */
  snapRetainCount?: number;
  /** Cut the log at a corrupt record instead of refusing to start (see README: recovery). */
  truncateCorruptLog?: boolean;
  /**
   * How the directory lock names this server to the next one that tries the same directories;
   * default { program: "serveDurable" }. Only real directories (NodeFileSystem) are locked.
   */
  dirLock?: DirLockOptions;
}

export interface DurableServerHandle extends ServerHandle<Server> {
  /** What recovery found: the snapshot used and the last zxid replayed. */
  readonly recovered: { snapshotZxid: number; lastZxid: number };
}

export async function serveDurable(options: DurableServeOptions): Promise<DurableServerHandle> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const lock = await lockRealDirs(options.fs, options.dataDir, options.dataLogDir, options.dirLock ?? { program: "serveDurable" });
  try {
    const store = await TxnStore.open({
      fs: options.fs,
      dataDir: options.dataDir,
      ...(options.dataLogDir === undefined ? {} : { dataLogDir: options.dataLogDir }),
      ...(options.snapRetainCount === undefined ? {} : { snapRetainCount: options.snapRetainCount }),
      truncateCorruptLog: options.truncateCorruptLog ?? false,
      ...(logger === undefined ? {} : { logger: (level, message) => logger.log(level, message) }),
    });
    const server = new Server(options.config, clock.now());
    let recovered: { snapshotZxid: number; lastZxid: number };
    try {
      recovered = await store.recover({
        snapshot: (header) => server.restoreSnapshot(header),
        node: (node) => server.restoreNode(node),
        txn: (entry) => server.replay(entry),
      });
      server.finishRecovery();
      logRecovery(server, logger);
    } catch (error) {
      await store.close();
      throw error;
    }
    const sizes = options.fs instanceof NodeFileSystem ? { storageSizes: () => storageSizes(options.dataDir, options.dataLogDir) } : {};
    let handle: ServerHandle<Server>;
    try {
      handle = await serveCore(server, { ...sizes, ...options, durableLog: store });
    } catch (error) {
      await store.close();
      throw error;
    }
    return {
      ...handle,
      recovered,
      close: async () => {
        await handle.close();
        await store.close();
        await lock?.release();
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/** The lock on real directories; null on a simulated file system (nothing on disk to share). */
export async function lockRealDirs(fs: FileSystem, dataDir: string, dataLogDir: string | undefined, options: DirLockOptions): Promise<DirLock | null> {
  if (!(fs instanceof NodeFileSystem)) return null;
  return await lockDataDirs(dataDir, dataLogDir, options);
}

/**
 * Logs what recovery said now, before the server listens, so the operator reads "recovered ..."
 * before "serving on". Recovery emits only log lines (replay produces no replies, writes or
 * snapshots); the core would otherwise hand them out at its first tick, after the listener is up.
 */
function logRecovery(server: Server, logger: Logger | undefined): void {
  for (const output of server.takeOutputs()) {
    if (output.kind !== "log") throw new Error(`recovery produced a ${output.kind} output; this is a bug in the server core`);
    logger?.log(output.level, output.message);
  }
}
