/**
 * Purge after a snapshot (autopurge.snapRetainCount): keep the newest `retainCount` snapshots and
 * every log segment that may hold a txn after the oldest kept snapshot, so recovery can still fall
 * back to any kept snapshot. While fewer snapshots exist, no segment is deleted.
 */
import type { FileSystem } from "./file_system.ts";
import { firstSegmentAfter } from "./log_recovery.ts";
import { listZxidFiles } from "./zxid_files.ts";

export interface PurgeOptions {
  fs: FileSystem;
  dataDir: string;
  dataLogDir: string;
  retainCount: number;
}

/** Deletes what is no longer needed; returns the names deleted. */
export async function purgeOldFiles(options: PurgeOptions): Promise<string[]> {
  const { fs } = options;
  const snapshots = await listZxidFiles(fs, options.dataDir, "snapshot");
  if (snapshots.length < options.retainCount) return [];
  const oldestKept = snapshots[snapshots.length - options.retainCount]!;
  const doomed = snapshots.slice(0, snapshots.length - options.retainCount);
  const segments = await listZxidFiles(fs, options.dataLogDir, "log");
  doomed.push(...segments.slice(0, firstSegmentAfter(segments, oldestKept.zxid)));
  for (const file of doomed) await fs.remove(file.path);
  return doomed.map((file) => file.name);
}
