/**
 * One log segment being written. It remembers every byte appended since the last successful sync
 * (`pending`), so after a failed write or sync (ENOSPC, EIO) it can cut the file back to the last
 * durable size and write those bytes again: nothing acknowledged is lost, no partial write stays in
 * the middle of the log, and a retried fsync never vouches for pages the kernel may have dropped.
 */
import type { FileSystem, StorageFile } from "./file_system.ts";
import { concatBytes, encodeFileHeader } from "./record_framing.ts";

export const LOG_MAGIC = "CORRALLG";

export class SegmentWriter {
  readonly path: string;
  /** The zxid in the file name: no record in the segment is smaller. */
  readonly firstZxid: number;
  #file: StorageFile;
  #durableSize = 0;
  #pending: Uint8Array[];
  #needsRewrite: boolean;
  #records = 0;
  #durableRecords = 0;

  private constructor(path: string, firstZxid: number, file: StorageFile) {
    this.path = path;
    this.firstZxid = firstZxid;
    this.#file = file;
    // The header is pending like any record; the first write cuts whatever a failed earlier
    // attempt left in a file of this name (callers only reuse names of segments without records).
    this.#pending = [encodeFileHeader(LOG_MAGIC)];
    this.#needsRewrite = true;
  }

  static async create(fs: FileSystem, path: string, firstZxid: number): Promise<SegmentWriter> {
    return new SegmentWriter(path, firstZxid, await fs.openAppend(path));
  }

  /** Bytes in the file, synced or not. */
  get size(): number {
    return this.#file.size;
  }

  /** Records appended (synced or not) by successful appends. */
  get recordCount(): number {
    return this.#records;
  }

  /** Appends framed records; on failure the segment is as if this call never happened. */
  async append(batch: Uint8Array, recordCount: number): Promise<void> {
    if (this.#needsRewrite) await this.#rewrite();
    try {
      await this.#file.append(batch);
    } catch (error) {
      this.#needsRewrite = true;
      throw error;
    }
    this.#pending.push(batch);
    this.#records += recordCount;
  }

  /** Makes every successful append durable; on failure they stay pending and are rewritten. */
  async sync(): Promise<void> {
    const rewrote = this.#needsRewrite;
    if (rewrote) await this.#rewrite();
    // After a rewrite even a bare truncation is synced, so a cut partial write stays cut.
    if (this.#pending.length === 0 && !rewrote) return;
    try {
      await this.#file.sync();
    } catch (error) {
      this.#needsRewrite = true;
      throw error;
    }
    this.#durableSize = this.#file.size;
    this.#durableRecords = this.#records;
    this.#pending = [];
  }

  /**
   * Forgets every append since the last successful sync: the caller gave up on those txns (it told
   * their clients they failed), so they must never become durable. The next write cuts the file back.
   */
  discardUnsynced(): void {
    this.#pending = this.#durableSize === 0 ? [encodeFileHeader(LOG_MAGIC)] : [];
    this.#records = this.#durableRecords;
    this.#needsRewrite = true;
  }

  async close(): Promise<void> {
    await this.#file.close();
  }

  async #rewrite(): Promise<void> {
    if (this.#file.size !== this.#durableSize) await this.#file.truncate(this.#durableSize);
    if (this.#pending.length > 0) await this.#file.append(concatBytes(this.#pending));
    this.#needsRewrite = false;
  }
}
