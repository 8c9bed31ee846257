/**
 * Picks the newest valid snapshot and feeds it to the recovery visitor. Invalid snapshots (torn,
 * bad CRC, no end record) are skipped with a warning; a snapshot from a newer format version stops
 * the start. If snapshots exist but none is valid, recovery stops too: the log may have been purged
 * up to them, so replaying it from nothing could silently lose data.
 */
import type { SnapshotHeader, SnapshotNode } from "../core/persistence.ts";
import type { FileSystem } from "./file_system.ts";
import type { StorageLogger } from "./log_recovery.ts";
import { checkSnapshot, readSnapshotNodes } from "./snapshot_file.ts";
import { StorageError } from "./storage_error.ts";
import { listZxidFiles } from "./zxid_files.ts";

export interface SnapshotRecoveryOptions {
  fs: FileSystem;
  dir: string;
  logger: StorageLogger;
  visitor: { snapshot(header: SnapshotHeader): void; node(node: SnapshotNode): void };
}

/** Returns the zxid of the snapshot used, or null if there is none. */
export async function recoverSnapshot(options: SnapshotRecoveryOptions): Promise<number | null> {
  const snapshots = (await listZxidFiles(options.fs, options.dir, "snapshot")).reverse();
  for (const snapshot of snapshots) {
    const bytes = await options.fs.readFile(snapshot.path);
    const check = checkSnapshot(bytes, snapshot.path, snapshot.zxid);
    if (!check.valid) {
      options.logger("warn", `${snapshot.path}: invalid snapshot (${check.reason}); trying an older one`);
      continue;
    }
    options.visitor.snapshot(check.header);
    const count = readSnapshotNodes(bytes, (node) => options.visitor.node(node));
    if (count !== check.nodeCount) {
      throw new StorageError(`${snapshot.path}: read ${count} nodes, expected ${check.nodeCount}`, {
        file: snapshot.path,
      });
    }
    return snapshot.zxid;
  }
  if (snapshots.length > 0) {
    throw new StorageError(
      `none of the ${snapshots.length} snapshots in ${options.dir} is valid (see the warnings above), so ` +
        `the tree cannot be rebuilt. Restore the data directory from another replica or a backup.`,
      { file: snapshots[0]!.path },
    );
  }
  return null;
}
