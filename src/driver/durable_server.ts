/**
 * A server whose writes survive restarts: opens the transaction log and snapshots in dataDir,
 * rebuilds the core from them, and serves with group commit. `corral serve zoo.cfg` uses this
 * whenever zoo.cfg names a dataDir.
 */
import { Server } from "../core/server.ts";
import type { FileSystem } from "../storage/file_system.ts";
import { TxnStore } from "../storage/txn_store.ts";
import { serveCore, type ServeOptions, type ServerHandle, systemClock } from "./server_driver.ts";

export interface DurableServeOptions extends Omit<ServeOptions, "durableLog"> {
  dataDir: string;
  /** Where log segments go (zoo.cfg dataLogDir); default dataDir. */
  dataLogDir?: string;
  fs: FileSystem;
  /** autopurge.snapRetainCount (at least 3). */
  snapRetainCount?: number;
  /** Cut the log at a corrupt record instead of refusing to start (see README: recovery). */
  truncateCorruptLog?: boolean;
}

export interface DurableServerHandle extends ServerHandle<Server> {
  /** What recovery found: the snapshot used and the last zxid replayed. */
  readonly recovered: { snapshotZxid: number; lastZxid: number };
}

export async function serveDurable(options: DurableServeOptions): Promise<DurableServerHandle> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
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
  } catch (error) {
    await store.close();
    throw error;
  }
  const handle = await serveCore(server, { ...options, durableLog: store });
  return {
    ...handle,
    recovered,
    close: async () => {
      await handle.close();
      await store.close();
    },
  };
}
