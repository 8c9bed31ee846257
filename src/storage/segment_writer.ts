/**
 * One log segment being written. It remembers every byte appended since the last successful sync
 * (`pending`), so after a failed write or sync (ENOSPC, EIO) it can cut the file back to the last
 * durable size and write those bytes again: nothing acknowledged is lost, no partial write stays in
 * the middle of the log, and a retried fsync never vouches for pages the kernel may have dropped.
 *
 * After any failure the file's length is not trusted: a failed write may have left part of its
 * bytes without saying so (Deno's write reports "no space" but not how much it wrote), so the cut
 * is an unconditional truncate to the durable size, and it is synced before anything is appended
 * again. Until that cut succeeds every append and sync fails: nothing is ever written behind a
 * partial record.
 */
import type { FileSystem, StorageFile } from "./file_system.ts";
import { concatBytes, encodeFileHeader } from "./record_framing.ts";

export const LOG_MAGIC = "CORRALLG";

/**
 * "clean": the file holds the durable bytes and then exactly the pending ones.
 * "mustCut": a write or sync failed (or unsynced bytes were discarded): the file may hold anything
 *   past the durable size, and must be truncated to it and synced before anything else.
 * "mustRewrite": the file holds exactly the durable bytes (cut and synced); pending bytes go again.
 */
type SegmentState = "clean" | "mustCut" | "mustRewrite";

export class SegmentWriter {
  readonly path: string;
  /** The zxid in the file name: no record in the segment is smaller. */
  readonly firstZxid: number;
  #file: StorageFile;
  #durableSize = 0;
  #pending: Uint8Array[];
  #state: SegmentState;
  #records = 0;
  #durableRecords = 0;

  private constructor(path: string, firstZxid: number, file: StorageFile) {
    this.path = path;
    this.firstZxid = firstZxid;
    this.#file = file;
    // The header is pending like any record. A file of this name left non-empty by a failed earlier
    // attempt is cut first (callers only reuse names of segments without records); openAppend's
    // size comes from the file system, so an empty file needs no cut.
    this.#pending = [encodeFileHeader(LOG_MAGIC)];
    this.#state = file.size === 0 ? "mustRewrite" : "mustCut";
  }

  static async create(fs: FileSystem, path: string, firstZxid: number): Promise<SegmentWriter> {
    return new SegmentWriter(path, firstZxid, await fs.openAppend(path));
  }

  /** Bytes in the file, synced or not (after a failure, until the cut, possibly not all of them). */
  get size(): number {
    return this.#file.size;
  }

  /** Records appended (synced or not) by successful appends. */
  get recordCount(): number {
    return this.#records;
  }

  /** Appends framed records; on failure the segment is as if this call never happened. */
  async append(batch: Uint8Array, recordCount: number): Promise<void> {
    await this.#restore();
    await this.#guard(() => this.#file.append(batch));
    this.#pending.push(batch);
    this.#records += recordCount;
  }

  /** Makes every successful append durable; on failure they stay pending and are rewritten. */
  async sync(): Promise<void> {
    if (this.#state === "clean" && this.#pending.length === 0) return;
    await this.#restore();
    // A cut syncs itself: without pending bytes there is nothing more to make durable.
    if (this.#pending.length === 0) return;
    await this.#guard(() => this.#file.sync());
    this.#durableSize = this.#file.size;
    this.#durableRecords = this.#records;
    this.#pending = [];
  }

  /**
   * Forgets every append since the last successful sync: the caller gave up on those txns (it told
   * their clients they failed), so they must never become durable. Cuts the file back now if it
   * can; if that fails the next append or sync cuts it first (and fails until it can).
   */
  async discardUnsynced(): Promise<void> {
    this.#pending = this.#durableSize === 0 ? [encodeFileHeader(LOG_MAGIC)] : [];
    this.#records = this.#durableRecords;
    this.#state = "mustCut";
    await this.#cut().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#file.close();
  }

  /** Runs a write or sync; on failure marks the file for a cut and tries it at once. */
  async #guard(operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      this.#state = "mustCut";
      // At once, so a partial record does not wait in the file for the next write (a crash
      // meanwhile would leave it, and whole records of a failed batch, to recovery). If this
      // fails too, the next append or sync tries again before writing anything.
      await this.#cut().catch(() => {});
      throw error;
    }
  }

  /** Brings the file back to "durable bytes, then the pending ones" after a failure. */
  async #restore(): Promise<void> {
    if (this.#state === "mustCut") await this.#cut();
    if (this.#state === "mustRewrite") {
      if (this.#pending.length > 0) {
        await this.#guard(() => this.#file.append(concatBytes(this.#pending)));
      }
      this.#state = "clean";
    }
  }

  /** Truncates to the durable size (whatever the file claims its size is) and syncs the cut. */
  async #cut(): Promise<void> {
    await this.#file.truncate(this.#durableSize);
    await this.#file.sync();
    this.#state = "mustRewrite";
  }
}
