/**
 * Zab TRUNC: dropping every logged txn after a zxid, durably and all-or-nothing although it touches
 * several segments. The log is synced first; then an intent file `truncate.<zxid, 16 hex>` is
 * written atomically into dataLogDir: that is the commit point. Then the segments wholly after the
 * zxid are removed (last first) and the directory synced, the segment holding the last kept record
 * is cut after it and synced (even if an earlier attempt already cut it), and the intent file is
 * removed.
 *
 * A crash before the intent file is durable leaves the old log untouched. After it, recovery (or
 * the store's next operation, after an error) finds the intent file and runs the same steps again
 * before anything reads the log: every step is idempotent, so no reader ever sees a half-cut log
 * (say, a cut segment followed by later ones from the dropped history).
 */
import { zxidHex } from "../core/zxid.ts";
import { decodeTxnEntry } from "./cbor_codec.ts";
import type { FileSystem } from "./file_system.ts";
import type { StorageLogger } from "./log_recovery.ts";
import { checkFileHeader, FILE_HEADER_BYTES, readRecord } from "./record_framing.ts";
import { LOG_MAGIC } from "./segment_writer.ts";
import { StorageError } from "./storage_error.ts";
import { listZxidFiles, zxidFileName } from "./zxid_files.ts";
import type { ZxidFile } from "./zxid_files.ts";

export const TRUNCATE_PREFIX = "truncate";

export interface LogTruncationOptions {
  fs: FileSystem;
  /** dataLogDir. */
  dir: string;
  /** On a damaged record before the cut, cut there too (losing the txns after it) instead of failing. */
  truncateCorruptLog: boolean;
  logger: StorageLogger;
}

/** The commit point of a truncation: after it, the log is as good as cut after `zxid`. */
export async function writeTruncateIntent(fs: FileSystem, dir: string, zxid: number): Promise<void> {
  const text = `truncate the log after ${zxidHex(zxid)}\n`;
  await fs.writeFileAtomic(fs.join(dir, zxidFileName(TRUNCATE_PREFIX, zxid)), [
    new TextEncoder().encode(text),
  ]);
}

/**
 * Completes a committed truncation if an intent file is there. Returns null if there was none,
 * else the last zxid left in the log (null if the log is now empty).
 */
export async function finishPendingTruncate(
  options: LogTruncationOptions,
): Promise<{ lastLoggedZxid: number | null } | null> {
  const { fs, dir } = options;
  const intents = await listZxidFiles(fs, dir, TRUNCATE_PREFIX);
  if (intents.length === 0) return null;
  // Only one can exist (the store completes one before it starts anything else); were there more,
  // the lowest covers them all.
  const lastLoggedZxid = await cutLogAfter(options, intents[0]!.zxid);
  for (const intent of intents) await fs.remove(intent.path);
  await fs.syncDir(dir);
  return { lastLoggedZxid };
}

/**
 * The last zxid in the log (null if it holds no record). Like a truncation it drops trailing
 * segments without records and syncs the segment holding that zxid.
 */
export function lastLoggedZxid(options: LogTruncationOptions): Promise<number | null> {
  return cutLogAfter(options, Number.MAX_SAFE_INTEGER);
}

interface SegmentCut {
  /** Where to cut: the first record above the zxid; null if every record is kept. */
  offset: number | null;
  /** The last record kept. */
  lastKept: number | null;
}

/** Drops every record after `zxid`; returns the last zxid kept in the log. */
async function cutLogAfter(options: LogTruncationOptions, zxid: number): Promise<number | null> {
  const { fs, dir } = options;
  const segments = await listZxidFiles(fs, dir, "log");
  const doomed: ZxidFile[] = [];
  let kept: { segment: ZxidFile; cutAt: number | null } | null = null;
  let lastKept: number | null = null;
  // From the end back to the segment that keeps a record: the ones before it are untouched.
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index]!;
    if (segment.zxid > zxid) {
      doomed.push(segment);
      continue;
    }
    const scan = scanForCut(options, segment, await fs.readFile(segment.path), zxid);
    if (scan.lastKept === null) {
      doomed.push(segment);
      continue;
    }
    lastKept = scan.lastKept;
    kept = { segment, cutAt: scan.offset };
    break;
  }
  // Removed last first and before the cut, so every intermediate log is a prefix of the old one;
  // the intent file alone makes the whole atomic, this keeps even a half-done truncation gap-free.
  for (const segment of doomed) await fs.remove(segment.path);
  if (doomed.length > 0) await fs.syncDir(dir);
  if (kept !== null) {
    // Synced even when already cut: an earlier attempt may have cut it and failed to sync.
    const file = await fs.openAppend(kept.segment.path);
    try {
      if (kept.cutAt !== null) await file.truncate(kept.cutAt);
      await file.sync();
    } finally {
      await file.close();
    }
  }
  return lastKept;
}

/** Finds the first record after `zxid` in one segment. */
function scanForCut(
  options: LogTruncationOptions,
  segment: ZxidFile,
  bytes: Uint8Array,
  zxid: number,
): SegmentCut {
  if (checkFileHeader(bytes, LOG_MAGIC, segment.path) === "short") return { offset: null, lastKept: null };
  let lastKept: number | null = null;
  let offset = FILE_HEADER_BYTES;
  for (;;) {
    const read = readRecord(bytes, offset);
    if (read.kind === "end") return { offset: null, lastKept };
    if (read.kind === "bad") {
      return damagedBeforeCut(options, segment, { offset, reason: read.reason, lastKept });
    }
    const recordZxid = recordZxidOf(read.body);
    if (recordZxid === null) {
      return damagedBeforeCut(options, segment, { offset, reason: "an undecodable record", lastKept });
    }
    if (recordZxid > zxid) return { offset, lastKept };
    lastKept = recordZxid;
    offset = read.next;
  }
}

function recordZxidOf(body: Uint8Array): number | null {
  try {
    return decodeTxnEntry(body).header.zxid;
  } catch {
    return null;
  }
}

/**
 * The log was synced before the intent file was written, so a bad record here is damage, not a
 * torn write: refuse, unless the operator chose --truncate-corrupt-log (truncateCorruptLog).
 */
function damagedBeforeCut(
  options: LogTruncationOptions,
  segment: ZxidFile,
  damage: { offset: number; reason: string; lastKept: number | null },
): SegmentCut {
  const at = `${segment.path} at offset ${damage.offset}`;
  if (!options.truncateCorruptLog) {
    throw new StorageError(
      `the transaction log is damaged (${damage.reason} in ${at}) where a Zab truncation has to cut ` +
        `it; Corral will not guess which txns it holds. Restore the data from another replica or a ` +
        `backup, or start once with --truncate-corrupt-log (the truncateCorruptLog option when ` +
        `embedding Corral) to cut the log at this offset on purpose (every txn from there on is lost).`,
      { file: segment.path, offset: damage.offset },
    );
  }
  options.logger(
    "warn",
    `--truncate-corrupt-log: ${damage.reason} in ${at}; cut the log there as asked: the damaged record ` +
      `and every txn after it are lost (they were synced, so clients may have been told they succeeded)`,
  );
  // Without a record kept, the caller removes the segment and looks at the one before.
  return { offset: damage.offset, lastKept: damage.lastKept };
}
