/**
 * Zab SNAP: replacing the whole state with a snapshot from the leader, all-or-nothing.
 *
 * The snapshot is first written (writeFileAtomic: temporary file, fsync, rename, directory fsync) as
 * `install.<zxid, 16 hex>` in dataDir, a name recovery never reads as a snapshot: that rename is the
 * commit point. Then every log segment is removed and dataLogDir synced, every snapshot removed and
 * dataDir synced, and finally `install.<zxid>` is renamed to `snapshot.<zxid>` and dataDir synced.
 *
 * A crash before the commit point leaves the old state untouched (the temporary file is deleted at
 * the next open). After it, recovery (or the store's next operation, after an error) finds
 * `install.<zxid>` and runs the remaining steps again, all idempotent, before it reads anything. The
 * snapshot only gets its real name once nothing of the old state is left, so the old log (which may
 * hold zxids above the snapshot's, from a diverged history) is never replayed on top of it, and no
 * older or newer snapshot of the old state can be picked instead of it.
 */
import type { FileSystem } from "./file_system.ts";
import { checkSnapshot, snapshotName } from "./snapshot_file.ts";
import { StorageError } from "./storage_error.ts";
import { listZxidFiles, zxidFileName } from "./zxid_files.ts";
import type { ZxidFile } from "./zxid_files.ts";

export const INSTALL_PREFIX = "install";

export function installName(zxid: number): string {
  return zxidFileName(INSTALL_PREFIX, zxid);
}

export interface SnapshotInstallOptions {
  fs: FileSystem;
  dataDir: string;
  dataLogDir: string;
}

/** Removes `files`, newest first, and syncs `dir` (always: earlier removals must be durable too). */
async function removeAll(fs: FileSystem, dir: string, files: readonly ZxidFile[]): Promise<void> {
  for (const file of [...files].reverse()) await fs.remove(file.path);
  await fs.syncDir(dir);
}

/** The steps after the commit point (see the module comment). */
export async function finishInstall(options: SnapshotInstallOptions, zxid: number): Promise<void> {
  const { fs, dataDir, dataLogDir } = options;
  await removeAll(fs, dataLogDir, await listZxidFiles(fs, dataLogDir, "log"));
  await removeAll(fs, dataDir, await listZxidFiles(fs, dataDir, "snapshot"));
  await fs.rename(fs.join(dataDir, installName(zxid)), fs.join(dataDir, snapshotName(zxid)));
  await fs.syncDir(dataDir);
}

/**
 * Completes a committed install if `install.<zxid>` is there; returns its zxid, or null if there
 * was none. The file must be a valid snapshot: it was complete and synced before it got its name.
 */
export async function finishPendingInstall(options: SnapshotInstallOptions): Promise<number | null> {
  const { fs, dataDir } = options;
  const installs = await listZxidFiles(fs, dataDir, INSTALL_PREFIX);
  if (installs.length === 0) return null;
  if (installs.length > 1) {
    // The store completes an install before anything else runs, so two means outside interference.
    throw new StorageError(
      `${dataDir} holds ${installs.length} snapshots being installed (${
        installs.map((file) => file.name).join(", ")
      }) ` +
        `and Corral cannot tell which is the newer. Keep the data of another replica instead.`,
      { file: installs[0]!.path },
    );
  }
  const install = installs[0]!;
  const check = checkSnapshot(await fs.readFile(install.path), install.path, install.zxid);
  if (!check.valid) {
    throw new StorageError(
      `${install.path}, a snapshot from the leader being installed, is damaged (${check.reason}) and the ` +
        `state it replaced may be partly removed. Discard this replica's data directory so that it takes ` +
        `the leader's state again.`,
      { file: install.path },
    );
  }
  await finishInstall(options, install.zxid);
  return install.zxid;
}
