/**
 * The byte counts `conf` and `dirs` report, computed when asked as ZooKeeper does. ZooKeeper sums
 * the files of its two version-2 directories, and its labels are crossed: `dataDirSize` (and dirs'
 * `datadir_size`) is the size of the transaction log directory, `dataLogSize` (`logdir_size`) that
 * of the snapshot directory (ZooKeeperServer.getDataDirSize reads FileTxnSnapLog's dataDir, which is
 * the log directory). We keep its numbers, so tools comparing the two see the same. With the usual
 * single dataDir both are the same total. Corral keeps no version-2 subdirectory: the store's files
 * are the directory's files except myid and the lock (which ZooKeeper keeps outside version-2).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE } from "./dir_lock.ts";

export interface StorageSizes {
  /** Bytes of the log directory (ZooKeeper's crossed label, see above). */
  dataDirSize: number;
  /** Bytes of the snapshot directory (dataDir). */
  dataLogSize: number;
}

/** Sizes for a store in `dataDir`, with its log in `dataLogDir` (default dataDir). Never throws: unreadable counts 0. */
export function storageSizes(dataDir: string, dataLogDir: string | undefined): StorageSizes {
  return { dataDirSize: storeBytes(dataLogDir ?? dataDir), dataLogSize: storeBytes(dataDir) };
}

/** Entries in a directory we look at; a store holds a handful of files, so this only bounds a strange one. */
const ENTRIES_MAX = 100_000;

function storeBytes(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names.slice(0, ENTRIES_MAX)) {
    if (name === "myid" || name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`)) continue;
    try {
      const stat = statSync(join(dir, name));
      if (stat.isFile()) total += stat.size;
    } catch {
      // Removed between readdir and stat (a purge): it no longer counts.
    }
  }
  return total;
}
