/**
 * Reads the log back at start: every txn after the snapshot's zxid, in order, checking that zxids
 * grow without gaps within and across segments. A bad record with nothing valid after it in the
 * last segment is a torn write: the file is cut there with one warning. Anything else (a bad record
 * followed by valid ones, damage in an older segment, a missing segment) stops the start, unless
 * the operator asked for truncateCorruptLog, which cuts the log there on purpose.
 */
import type { TxnEntry } from "../core/txn.ts";
import { zxidHex } from "../core/zxid.ts";
import { decodeTxnEntry, isTxnEntryBody } from "./cbor_codec.ts";
import type { FileSystem } from "./file_system.ts";
import { checkFileHeader, FILE_HEADER_BYTES, findValidRecordAfter, readRecord } from "./record_framing.ts";
import { LOG_MAGIC } from "./segment_writer.ts";
import { StorageError } from "./storage_error.ts";
import { followsDirectly } from "./txn_log.ts";
import { listZxidFiles } from "./zxid_files.ts";
import type { ZxidFile } from "./zxid_files.ts";

export type StorageLogger = (level: "info" | "warn", message: string) => void;

export interface LogRecoveryOptions {
  fs: FileSystem;
  dir: string;
  /** The zxid of the snapshot recovery started from; null without a snapshot. */
  snapshotZxid: number | null;
  truncateCorruptLog: boolean;
  logger: StorageLogger;
  visit: (entry: TxnEntry) => void;
}

/** Index of the first segment that may hold a zxid above `zxid` (segment i ends before i+1's name). */
export function firstSegmentAfter(segments: readonly ZxidFile[], zxid: number | null): number {
  if (zxid === null) return 0;
  let index = 0;
  while (index + 1 < segments.length && segments[index + 1]!.zxid <= zxid + 1) index++;
  return index;
}

interface Corruption {
  segmentIndex: number;
  offset: number;
  reason: string;
}

/** Replays the log; returns the last zxid found in it (null if none). */
export async function recoverLog(options: LogRecoveryOptions): Promise<number | null> {
  const { fs, snapshotZxid } = options;
  const segments = await listZxidFiles(fs, options.dir, "log");
  let lastSeen: number | null = null;
  for (let index = firstSegmentAfter(segments, snapshotZxid); index < segments.length; index++) {
    const segment = segments[index]!;
    const isLast = index === segments.length - 1;
    const nextName = isLast ? Infinity : segments[index + 1]!.zxid;
    const bytes = await fs.readFile(segment.path);
    if (checkFileHeader(bytes, LOG_MAGIC, segment.path) === "short") {
      if (isLast) {
        options.logger(
          "warn",
          `${segment.path}: removed a log segment torn during creation (${bytes.length} bytes)`,
        );
        await fs.remove(segment.path);
        break;
      }
      await handleCorruption(options, segments, {
        segmentIndex: index,
        offset: 0,
        reason: "a torn file header",
      });
      break;
    }
    const scan = scanSegment({
      bytes,
      segment,
      isLast,
      nextName,
      lastSeen,
      snapshotZxid,
      visit: options.visit,
    });
    lastSeen = scan.lastSeen;
    if (scan.damage?.kind === "corrupt") {
      await handleCorruption(options, segments, { segmentIndex: index, ...scan.damage });
      break;
    }
    if (scan.damage?.kind === "torn") {
      await truncateTornTail(options, segment.path, scan.end, bytes.length, scan.damage.reason);
    }
    if (isLast) await removeOrSyncLast(options, segment.path, scan.end);
  }
  return lastSeen;
}

interface SegmentScan {
  lastSeen: number | null;
  /** Where the valid records end. */
  end: number;
  damage: { kind: "torn" | "corrupt"; offset: number; reason: string } | null;
}

/** Visits the valid records of one segment; stops at the first damaged one. */
function scanSegment(scan: {
  bytes: Uint8Array;
  segment: ZxidFile;
  isLast: boolean;
  nextName: number;
  lastSeen: number | null;
  snapshotZxid: number | null;
  visit: (entry: TxnEntry) => void;
}): SegmentScan {
  const { bytes, snapshotZxid } = scan;
  let lastSeen = scan.lastSeen;
  let offset = FILE_HEADER_BYTES;
  function damaged(kind: "torn" | "corrupt", reason: string): SegmentScan {
    return { lastSeen, end: offset, damage: { kind, offset, reason } };
  }
  for (;;) {
    const read = readRecord(bytes, offset);
    if (read.kind === "end") return { lastSeen, end: offset, damage: null };
    if (read.kind === "bad") {
      // Torn only if nothing valid follows, in the last segment: anything else lost a valid record.
      const torn = scan.isLast && !findValidRecordAfter(bytes, offset, isTxnEntryBody);
      return damaged(torn ? "torn" : "corrupt", read.reason);
    }
    let entry: TxnEntry;
    try {
      entry = decodeTxnEntry(read.body);
    } catch (error) {
      // The CRC matched, so these bytes were written like this: not a torn write.
      return damaged("corrupt", `an undecodable record (${String(error)})`);
    }
    const zxid = entry.header.zxid;
    const problem = zxidProblem({
      zxid,
      lastSeen,
      snapshotZxid,
      segment: scan.segment,
      nextName: scan.nextName,
      isFirst: offset === FILE_HEADER_BYTES,
    });
    if (problem !== null) return damaged("corrupt", problem);
    lastSeen = zxid;
    if (snapshotZxid === null || zxid > snapshotZxid) scan.visit(entry);
    offset = read.next;
  }
}

function zxidProblem(check: {
  zxid: number;
  lastSeen: number | null;
  snapshotZxid: number | null;
  segment: ZxidFile;
  nextName: number;
  isFirst: boolean;
}): string | null {
  const { zxid, lastSeen, snapshotZxid, segment } = check;
  if (zxid < segment.zxid || zxid >= check.nextName) {
    return `zxid ${zxidHex(zxid)} outside the range its file name allows`;
  }
  if (lastSeen !== null && zxid <= lastSeen) {
    return `zxid ${zxidHex(zxid)} does not grow (after ${zxidHex(lastSeen)})`;
  }
  if (snapshotZxid !== null && zxid <= snapshotZxid) return null;
  const previous = lastSeen !== null && (snapshotZxid === null || lastSeen > snapshotZxid)
    ? lastSeen
    : snapshotZxid;
  if (previous === null || followsDirectly(previous, zxid)) return null;
  const where = check.isFirst ? " (a log segment is missing before this one)" : "";
  return `a gap: zxid ${zxidHex(zxid)} follows ${zxidHex(previous)}${where}`;
}

async function truncateFile(fs: FileSystem, path: string, size: number): Promise<void> {
  const file = await fs.openAppend(path);
  try {
    await file.truncate(size);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function truncateTornTail(
  options: LogRecoveryOptions,
  path: string,
  offset: number,
  size: number,
  reason: string,
): Promise<void> {
  options.logger(
    "warn",
    `${path}: torn record at the end of the log (${reason}); truncated at offset ${offset}, ` +
      `dropping ${size - offset} bytes (txns never acknowledged)`,
  );
  await truncateFile(options.fs, path, offset);
}

/**
 * The last segment may hold bytes that reached the page cache but not the disk (a killed process):
 * sync them before anything newer is written after them. A segment without records goes.
 */
async function removeOrSyncLast(options: LogRecoveryOptions, path: string, end: number): Promise<void> {
  if (end === FILE_HEADER_BYTES) {
    options.logger("info", `${path}: removed an empty log segment`);
    await options.fs.remove(path);
    return;
  }
  const file = await options.fs.openAppend(path);
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}

async function handleCorruption(
  options: LogRecoveryOptions,
  segments: readonly ZxidFile[],
  corruption: Corruption,
): Promise<void> {
  const segment = segments[corruption.segmentIndex]!;
  const later = segments.slice(corruption.segmentIndex + 1);
  const at = `${segment.path} at offset ${corruption.offset}`;
  if (!options.truncateCorruptLog) {
    throw new StorageError(
      `the transaction log is damaged before its end: ${corruption.reason} in ${at}. Txns after this ` +
        `point cannot be trusted, so Corral will not start. Restore the data from another replica or a ` +
        `backup, or restart with truncateCorruptLog to cut the log at this offset on purpose (every txn ` +
        `after it is lost${later.length > 0 ? `, and ${later.length} later segment(s) are deleted` : ""}).`,
      { file: segment.path, offset: corruption.offset },
    );
  }
  const bytes = (await options.fs.readFile(segment.path)).length;
  if (corruption.offset < FILE_HEADER_BYTES) await options.fs.remove(segment.path);
  else await truncateFile(options.fs, segment.path, corruption.offset);
  for (const file of [...later].reverse()) await options.fs.remove(file.path);
  // Else a power loss could bring the later segments back behind the cut.
  if (later.length > 0) await options.fs.syncDir(options.dir);
  options.logger(
    "warn",
    `truncateCorruptLog: ${corruption.reason} in ${at}; truncated there, dropping ${
      bytes - corruption.offset
    } ` +
      `bytes` + (later.length > 0 ? ` and deleting ${later.map((file) => file.name).join(", ")}` : ""),
  );
}
