/**
 * The framing shared by log segments and snapshots:
 *   file   = magic (8 ASCII bytes) | u32 format version | record*
 *   record = u32 body length | u32 CRC32C of the body | body
 * All integers big-endian. A record is valid when its length is non-zero, it fits in the file and
 * the CRC matches; the body's meaning belongs to the caller.
 */
import { crc32c } from "./crc32c.ts";
import { StorageError } from "./storage_error.ts";

export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 12;
export const RECORD_HEADER_BYTES = 8;
/** Bound on the CRC work spent looking for valid records after a bad one (see findValidRecordAfter). */
const SCAN_CRC_BYTES_MAX = 256 * 1024 * 1024;

export function encodeFileHeader(magic: string): Uint8Array {
  const header = new Uint8Array(FILE_HEADER_BYTES);
  header.set(new TextEncoder().encode(magic), 0);
  new DataView(header.buffer).setUint32(8, FORMAT_VERSION);
  return header;
}

export type FileHeaderCheck = "ok" | "short";

/**
 * Checks a file's header. "short" means the file ends inside the header (a torn creation); a wrong
 * magic or a newer version throws, naming the file.
 */
export function checkFileHeader(bytes: Uint8Array, magic: string, file: string): FileHeaderCheck {
  if (bytes.length < FILE_HEADER_BYTES) return "short";
  const found = new TextDecoder().decode(bytes.subarray(0, 8));
  if (found !== magic) {
    throw new StorageError(
      `${file} is not a Corral file: it starts with ${JSON.stringify(found)} instead of "${magic}"`,
      { file, offset: 0 },
    );
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8);
  if (version > FORMAT_VERSION) throw newerVersionError(file, version);
  if (version < 1) {
    throw new StorageError(`${file} has an invalid format version ${version}`, { file, offset: 8 });
  }
  return "ok";
}

export function newerVersionError(file: string, version: number): StorageError {
  return new StorageError(
    `${file} was written by a newer Corral (storage format version ${version}; this Corral reads ` +
      `version ${FORMAT_VERSION}). Start the newer Corral on this data directory, or point this one ` +
      `at another directory.`,
    { file, offset: 8 },
  );
}

/** One record: its 8-byte header and body, ready to append. */
export function frameRecord(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(RECORD_HEADER_BYTES + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, body.length);
  view.setUint32(4, crc32c(body));
  frame.set(body, RECORD_HEADER_BYTES);
  return frame;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export type RecordRead =
  | { kind: "record"; body: Uint8Array; next: number }
  | { kind: "end" }
  | { kind: "bad"; reason: string };

/** Reads the record at `offset`: a valid one, the clean end of the file, or a bad one and why. */
export function readRecord(bytes: Uint8Array, offset: number): RecordRead {
  if (offset === bytes.length) return { kind: "end" };
  if (bytes.length - offset < RECORD_HEADER_BYTES) {
    return { kind: "bad", reason: `only ${bytes.length - offset} bytes of a record header` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0);
  const available = bytes.length - offset - RECORD_HEADER_BYTES;
  if (length === 0) return { kind: "bad", reason: "zero record length" };
  if (length > available) {
    return { kind: "bad", reason: `record length ${length} exceeds the ${available} bytes left` };
  }
  const start = offset + RECORD_HEADER_BYTES;
  const body = bytes.subarray(start, start + length);
  if (crc32c(body) !== view.getUint32(4)) return { kind: "bad", reason: "CRC mismatch" };
  return { kind: "record", body, next: start + length };
}

/**
 * What a bad record (readRecord said "bad") is, judged by its framing, as Apache ZooKeeper does:
 * - "torn": the file ends inside the record. A write cut short (a crash, a failed append) leaves
 *   this: fewer bytes than a record header, a length that runs past the end of the file, or only
 *   zero bytes from here on (space a file system allocated but never wrote).
 * - "corrupt": the record lies wholly inside the file yet is wrong: its checksum fails, or its length
 *   is zero with data after it. A crash does not do that to a record that was complete; damage does.
 *   A length field damaged into a larger value would look torn; it is caught because the bytes after
 *   the header then still match the header's checksum (they are the whole, intact body).
 * The caller still has to check that nothing valid follows a "torn" one (else it is mid-log damage).
 */
export function classifyBadRecord(bytes: Uint8Array, offset: number): { kind: "torn" | "corrupt"; reason: string } {
  const left = bytes.length - offset;
  if (left < RECORD_HEADER_BYTES) {
    return { kind: "torn", reason: `an incomplete record: only ${left} bytes of its ${RECORD_HEADER_BYTES}-byte header` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  const length = view.getUint32(0);
  const available = left - RECORD_HEADER_BYTES;
  if (length === 0) {
    if (allZero(bytes, offset)) {
      return { kind: "torn", reason: `${left} zero bytes where a record should start (space never written)` };
    }
    return { kind: "corrupt", reason: "a zero record length followed by data" };
  }
  if (length > available) {
    if (crc32c(bytes.subarray(offset + RECORD_HEADER_BYTES)) === view.getUint32(4)) {
      return {
        kind: "corrupt",
        reason: `a damaged length field (it says ${length} bytes, but the ${available} bytes after the ` +
          `header are a complete record body matching its checksum)`,
      };
    }
    return {
      kind: "torn",
      reason: `an incomplete record: its length is ${length} bytes but only ${available} follow its header`,
    };
  }
  return {
    kind: "corrupt",
    reason: `CRC mismatch (a complete record of ${length} bytes whose checksum does not match its contents)`,
  };
}

function allZero(bytes: Uint8Array, from: number): boolean {
  for (let index = from; index < bytes.length; index++) if (bytes[index] !== 0) return false;
  return true;
}

/**
 * Visits every valid record (one `accept` vets, e.g. it decodes) starting at or after `from`,
 * stepping from a valid record to the next and scanning byte by byte past bad bytes; `visit`
 * returns false to stop. "budget": the scan stopped at its bound on CRC work (there may be more).
 */
export function forEachValidRecordFrom(
  bytes: Uint8Array,
  from: number,
  accept: (body: Uint8Array) => boolean,
  visit: (body: Uint8Array, offset: number) => boolean,
): "done" | "budget" {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let crcBytes = 0;
  let offset = from;
  while (offset + RECORD_HEADER_BYTES < bytes.length) {
    const length = view.getUint32(offset);
    if (length === 0 || length > bytes.length - offset - RECORD_HEADER_BYTES) {
      offset++;
      continue;
    }
    crcBytes += length;
    if (crcBytes > SCAN_CRC_BYTES_MAX) return "budget";
    const read = readRecord(bytes, offset);
    if (read.kind === "record" && accept(read.body)) {
      if (!visit(read.body, offset)) return "done";
      offset = read.next;
    } else {
      offset++;
    }
  }
  return "done";
}

/**
 * Whether any valid record starts after a bad one at `badOffset`: that tells corruption in the
 * middle (valid records follow) from a torn tail (nothing valid follows). `accept` vets a candidate
 * body (e.g. it decodes). If the scan exceeds its work bound it answers true, the conservative
 * answer (refuse to start rather than drop records silently).
 */
export function findValidRecordAfter(
  bytes: Uint8Array,
  badOffset: number,
  accept: (body: Uint8Array) => boolean,
): boolean {
  let found = false;
  const outcome = forEachValidRecordFrom(bytes, badOffset + 1, accept, () => {
    found = true;
    return false;
  });
  return found || outcome === "budget";
}
