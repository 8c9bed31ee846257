/**
 * The transaction log: segment files `log.<first zxid, 16 hex digits>` in dataLogDir, each a file
 * header ("CORRALLG", version) and framed records whose bodies are CBOR TxnEntries. A new segment
 * starts when the current one passes segmentBytesMax, and at every snapshot (roll), so whole old
 * segments can be purged. The previous segment is synced before the next one is created: only the
 * last segment can ever have a torn tail.
 */
import type { TxnEntry } from "../core/txn.ts";
import { zxidEpoch, zxidHex } from "../core/zxid.ts";
import { encodeTxnEntry } from "./cbor_codec.ts";
import type { FileSystem } from "./file_system.ts";
import { CborWriter } from "./cbor_writer.ts";
import { crc32cRange } from "./crc32c.ts";
import { RECORD_HEADER_BYTES } from "./record_framing.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { StorageError } from "./storage_error.ts";
import { zxidFileName } from "./zxid_files.ts";

export const SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** A batch buffer grown past this is dropped after use rather than kept for the next batch. */
const BATCH_BUFFER_BYTES_KEPT_MAX = 4 * 1024 * 1024;
/** Free batch buffers kept (one is being synced while the next batch is framed). */
const FREE_BATCH_BUFFERS_MAX = 2;

export function segmentName(firstZxid: number): string {
  return zxidFileName("log", firstZxid);
}

/**
 * Whether `next` may follow `previous` in the log: the next counter of the same epoch, or any zxid
 * of a later epoch (a new leader's epoch starts a new counter). Anything else is a gap.
 */
export function followsDirectly(previous: number, next: number): boolean {
  return next === previous + 1 || (next > previous && zxidEpoch(next) > zxidEpoch(previous));
}

export interface TxnLogWriterOptions {
  fs: FileSystem;
  dir: string;
  segmentBytesMax: number;
  /** The last zxid already in the log or covered by a snapshot; null for an empty store. */
  lastZxid: number | null;
}

export class TxnLogWriter {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #segmentBytesMax: number;
  #current: SegmentWriter | null = null;
  /**
   * Buffers a group commit's records are framed in, reused: one is "pending" from the append that
   * filled it until the sync that makes it durable (the segment may have to write its bytes again
   * after a failure), then free for the next batch. So a steady group commit allocates nothing.
   */
  #freeWriters: CborWriter[] = [];
  #pendingWriters: CborWriter[] = [];
  #lastZxid: number | null;
  /** The last zxid known durable (synced, or covered by a snapshot). */
  #durableLastZxid: number | null;

  constructor(options: TxnLogWriterOptions) {
    this.#fs = options.fs;
    this.#dir = options.dir;
    this.#segmentBytesMax = options.segmentBytesMax;
    this.#lastZxid = options.lastZxid;
    this.#durableLastZxid = options.lastZxid;
  }

  get lastZxid(): number | null {
    return this.#lastZxid;
  }

  /** Appends (without syncing) to the current segment; on failure nothing of `entries` counts. */
  async append(entries: readonly TxnEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let previous = this.#lastZxid;
    for (const entry of entries) {
      const zxid = entry.header.zxid;
      if (previous !== null && !followsDirectly(previous, zxid)) {
        throw new StorageError(
          `append: zxid ${zxidHex(zxid)} does not follow ${zxidHex(previous)} (the log must have ` +
            `no gaps and grow in order); this is a bug in the caller`,
        );
      }
      previous = zxid;
    }
    const writer = this.#freeWriters.pop() ?? new CborWriter();
    try {
      const batch = frameBatch(writer, entries);
      await this.#segmentFor(entries[0]!.header.zxid);
      await this.#current!.append(batch, entries.length);
    } catch (error) {
      this.#release([writer]); // a failed append leaves nothing of the batch pending
      throw error;
    }
    this.#pendingWriters.push(writer);
    this.#lastZxid = previous;
  }

  /** Makes every appended txn durable. */
  async sync(): Promise<void> {
    await this.#current?.sync();
    this.#durableLastZxid = this.#lastZxid;
    this.#releasePending();
  }

  /**
   * Drops every txn appended since the last successful sync (after a failed write or sync) and cuts
   * them out of the file if it can (never fails: if the cut does, the next append makes it first).
   */
  async discardUnsynced(): Promise<void> {
    // The segment forgets the pending batches before their buffers are released for reuse.
    const cutting = this.#current?.discardUnsynced();
    this.#lastZxid = this.#durableLastZxid;
    this.#releasePending();
    await cutting;
  }

  /** Syncs and closes the current segment; the next append starts a new one. */
  async roll(): Promise<void> {
    const current = this.#current;
    if (current === null) return;
    await current.sync();
    this.#durableLastZxid = this.#lastZxid;
    this.#releasePending();
    this.#current = null;
    await current.close().catch(() => {});
  }

  /** A snapshot at `zxid` is durable: the log may continue after it even if it ends earlier. */
  noteSnapshot(zxid: number): void {
    if (this.#lastZxid === null || zxid > this.#lastZxid) this.#lastZxid = zxid;
    if (this.#durableLastZxid === null || zxid > this.#durableLastZxid) this.#durableLastZxid = zxid;
  }

  /**
   * The files changed under the writer (a Zab truncation or an installed snapshot): the log now ends
   * at `lastZxid` (null: nothing logged or snapshotted), and the next append starts a new segment.
   * The current segment is closed as it is: whatever it holds was synced or is being dropped.
   */
  async reset(lastZxid: number | null): Promise<void> {
    await this.close().catch(() => {});
    this.#lastZxid = lastZxid;
    this.#durableLastZxid = lastZxid;
  }

  async close(): Promise<void> {
    const current = this.#current;
    this.#current = null;
    await current?.close();
    this.#releasePending(); // the segment that held them is gone
  }

  /** The segment no longer holds the pending batches' bytes: their buffers may be reused. */
  #releasePending(): void {
    if (this.#pendingWriters.length === 0) return;
    const released = this.#pendingWriters;
    this.#pendingWriters = [];
    this.#release(released);
  }

  #release(writers: readonly CborWriter[]): void {
    for (const writer of writers) {
      if (this.#freeWriters.length >= FREE_BATCH_BUFFERS_MAX) return;
      if (writer.bytes.length <= BATCH_BUFFER_BYTES_KEPT_MAX) this.#freeWriters.push(writer);
    }
  }

  async #segmentFor(firstZxid: number): Promise<void> {
    const current = this.#current;
    if (current !== null && current.recordCount > 0 && current.size >= this.#segmentBytesMax) {
      await this.roll();
    } else if (current !== null && current.recordCount === 0 && firstZxid < current.firstZxid) {
      // A segment left without records by a failed append is named after a zxid that did not come.
      this.#current = null;
      await current.close().catch(() => {});
      await this.#fs.remove(current.path);
    }
    if (this.#current === null) {
      const path = this.#fs.join(this.#dir, segmentName(firstZxid));
      this.#current = await SegmentWriter.create(this.#fs, path, firstZxid);
    }
  }
}

/**
 * Every entry as a framed record (length, CRC32C, CBOR body), one after another in `writer`: encoded
 * in place by the CborWriter (through cbor-x for anything it does not encode). Returns a view of the
 * writer's buffer, valid until the writer is reset.
 */
function frameBatch(writer: CborWriter, entries: readonly TxnEntry[]): Uint8Array {
  writer.reset();
  for (const entry of entries) {
    const headerAt = writer.skip(RECORD_HEADER_BYTES);
    const bodyStart = writer.position;
    if (!writer.write(entry)) {
      writer.rewind(bodyStart);
      writer.writeRaw(encodeTxnEntry(entry));
    }
    const bodyEnd = writer.position;
    writer.setUint32(headerAt, bodyEnd - bodyStart);
    writer.setUint32(headerAt + 4, crc32cRange(writer.bytes, bodyStart, bodyEnd));
  }
  return writer.bytes.subarray(0, writer.position);
}
