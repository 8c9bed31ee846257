/**
 * Reads the log back at start: every txn after the snapshot's zxid, in order, checking that zxids
 * grow without gaps within and across segments. An incomplete record at the very end of the last
 * segment, with nothing valid after it, is a torn write (a crash or a failed append cut it short;
 * it was never synced, so never acknowledged): the file is cut there with one warning. Anything
 * else stops the start: a complete record whose checksum fails (even the last one: ZooKeeper stops
 * too), a bad record followed by valid ones, damage in an older segment, a missing segment. Unless
 * the operator asked for --truncate-corrupt-log, which cuts the log there on purpose and says which
 * txns that dropped.
 */
import type { TxnEntry } from "../core/txn.ts";
import { zxidHex } from "../core/zxid.ts";
import { decodeTxnEntry, isTxnEntryBody } from "./cbor_codec.ts";
import type { FileSystem } from "./file_system.ts";
import {
  checkFileHeader,
  classifyBadRecord,
  FILE_HEADER_BYTES,
  findValidRecordAfter,
  forEachValidRecordFrom,
  readRecord,
  RECORD_HEADER_BYTES,
} from "./record_framing.ts";
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
      // Torn only if the framing says the record is incomplete, at the end of the last segment with
      // nothing valid after it: anything else is damage to a record that was written whole.
      const damage = classifyBadRecord(bytes, offset);
      const torn = damage.kind === "torn" && scan.isLast && !findValidRecordAfter(bytes, offset, isTxnEntryBody);
      return damaged(torn ? "torn" : "corrupt", damage.reason);
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
    `${path}: torn write at the end of the log (${reason}), as a crash or a failed write leaves it; ` +
      `its txn was never synced, so never acknowledged. Truncated at offset ${offset}, dropping ` +
      `${size - offset} bytes`,
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

/** The option's name on the command line, and (for embedders) in the options object. */
const TRUNCATE_FLAG = "--truncate-corrupt-log (the truncateCorruptLog option when embedding Corral)";

async function handleCorruption(
  options: LogRecoveryOptions,
  segments: readonly ZxidFile[],
  corruption: Corruption,
): Promise<void> {
  const segment = segments[corruption.segmentIndex]!;
  const later = segments.slice(corruption.segmentIndex + 1);
  const at = `${segment.path} at offset ${corruption.offset}`;
  const bytes = await options.fs.readFile(segment.path);
  const dropped = await surveyDropped(options.fs, bytes, corruption.offset, later);
  if (!options.truncateCorruptLog) {
    throw new StorageError(
      `the transaction log is damaged: ${corruption.reason} in ${at}` +
        `${isLastRecord(dropped, later) ? " (the last record of the log, complete in the file: damage, not a torn write)" : ""}. ` +
        `The txns from there on were synced, so clients may have been told they succeeded: Corral ` +
        `refuses to start rather than lose them. Restore the data directory from another replica or a backup, or ` +
        `start once with ${TRUNCATE_FLAG} to cut the log at this offset on purpose, losing ` +
        `${describeDropped(dropped, later)}.`,
      { file: segment.path, offset: corruption.offset },
    );
  }
  if (corruption.offset < FILE_HEADER_BYTES) await options.fs.remove(segment.path);
  else await truncateFile(options.fs, segment.path, corruption.offset);
  for (const file of [...later].reverse()) await options.fs.remove(file.path);
  // Else a power loss could bring the later segments back behind the cut.
  if (later.length > 0) await options.fs.syncDir(options.dir);
  options.logger(
    "warn",
    `--truncate-corrupt-log: ${corruption.reason} in ${at}; cut the log there as asked, dropping ` +
      `${bytes.length - corruption.offset} bytes` +
      (later.length > 0 ? ` and deleting ${later.map((file) => file.name).join(", ")}` : "") +
      `: ${describeDropped(dropped, later)}. They were synced, so clients may have been told they ` +
      `succeeded; they are lost`,
  );
}

/** What cutting the log at a damaged offset loses. */
interface DroppedTxns {
  /** Whether the record at the offset is itself unreadable, and the zxid it seems to hold. */
  damagedRecord: { zxid: number | null } | null;
  /** Intact txns from the offset on, in this segment and the later ones. */
  intact: number;
  firstZxid: number | null;
  lastZxid: number | null;
  /** The scan stopped at its work bound: there may be more. */
  incomplete: boolean;
}

async function surveyDropped(
  fs: FileSystem,
  bytes: Uint8Array,
  offset: number,
  later: readonly ZxidFile[],
): Promise<DroppedTxns> {
  const dropped: DroppedTxns = { damagedRecord: null, intact: 0, firstZxid: null, lastZxid: null, incomplete: false };
  const from = Math.max(offset, FILE_HEADER_BYTES);
  const read = readRecord(bytes, from);
  let start = from;
  if (read.kind !== "record" || zxidOf(read.body) === null) {
    dropped.damagedRecord = { zxid: zxidOf(bodyClaimedAt(bytes, from)) };
    start = read.kind === "record" ? read.next : from + 1;
  }
  const isEntry = (body: Uint8Array) => zxidOf(body) !== null;
  const count = (body: Uint8Array): boolean => {
    const zxid = zxidOf(body)!;
    dropped.intact++;
    dropped.firstZxid ??= zxid;
    dropped.lastZxid = zxid;
    return true;
  };
  if (forEachValidRecordFrom(bytes, start, isEntry, count) === "budget") dropped.incomplete = true;
  for (const file of later) {
    const laterBytes = await fs.readFile(file.path);
    if (forEachValidRecordFrom(laterBytes, FILE_HEADER_BYTES, isEntry, count) === "budget") {
      dropped.incomplete = true;
    }
  }
  return dropped;
}

function describeDropped(dropped: DroppedTxns, later: readonly ZxidFile[]): string {
  const parts: string[] = [];
  if (dropped.damagedRecord !== null) {
    const zxid = dropped.damagedRecord.zxid;
    parts.push(`the damaged record${zxid === null ? "" : ` (apparently zxid ${zxidHex(zxid)})`}`);
  }
  const where = later.length > 0 ? ` (${later.length} later segment(s) included)` : "";
  const more = dropped.incomplete ? " or more (the scan stopped at its work bound)" : "";
  const after = dropped.damagedRecord === null ? "from there on" : "after it";
  if (dropped.intact > 0) {
    parts.push(
      `${dropped.intact}${more} intact txn(s) ${after}, zxids ${zxidHex(dropped.firstZxid!)} to ` +
        `${zxidHex(dropped.lastZxid!)}${where}`,
    );
  } else {
    parts.push(`no intact txn ${after}${more}`);
  }
  return parts.join(" and ");
}

/** Whether the damage is the log's last record (a bad record with nothing intact after it). */
function isLastRecord(dropped: DroppedTxns, later: readonly ZxidFile[]): boolean {
  return later.length === 0 && dropped.damagedRecord !== null && dropped.intact === 0 && !dropped.incomplete;
}

/** The body a record header at `offset` claims, if it fits in the file (for a best-effort zxid). */
function bodyClaimedAt(bytes: Uint8Array, offset: number): Uint8Array {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return new Uint8Array(0);
  const length = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES).getUint32(0);
  if (length === 0 || length > bytes.length - offset - RECORD_HEADER_BYTES) return new Uint8Array(0);
  return bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length);
}

function zxidOf(body: Uint8Array): number | null {
  if (body.length === 0) return null;
  try {
    return decodeTxnEntry(body).header.zxid;
  } catch {
    return null;
  }
}
