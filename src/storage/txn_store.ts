/**
 * The store the driver uses: recovery at start, then appends and group-commit syncs to the log,
 * and fuzzy snapshots with purging. Log operations run one at a time in call order (a sync covers
 * every append called before it); a snapshot streams its nodes concurrently with them.
 */
import type { SnapshotHeader, SnapshotNode, SnapshotSource } from "../core/persistence.ts";
import type { TxnEntry } from "../core/txn.ts";
import { TEMPORARY_SUFFIX } from "./file_system.ts";
import type { FileSystem } from "./file_system.ts";
import { ensureFormatMarker } from "./format_marker.ts";
import { recoverLog } from "./log_recovery.ts";
import type { StorageLogger } from "./log_recovery.ts";
import { purgeOldFiles } from "./purge.ts";
import { recoverSnapshot } from "./snapshot_recovery.ts";
import { snapshotChunks, snapshotName } from "./snapshot_file.ts";
import { StorageError } from "./storage_error.ts";
import { SEGMENT_BYTES_MAX_DEFAULT, TxnLogWriter } from "./txn_log.ts";

export { StorageError } from "./storage_error.ts";

export interface TxnStoreOptions {
  fs: FileSystem;
  dataDir: string;
  /** Where log segments go (zoo.cfg dataLogDir); default dataDir. */
  dataLogDir?: string;
  /** A new segment starts once the current one has this many bytes; default 64 MiB. */
  segmentBytesMax?: number;
  /** Snapshots kept by purge (autopurge.snapRetainCount); default 3, at least 3 as in ZooKeeper. */
  snapRetainCount?: number;
  /**
   * On a corrupt record before the end of the log (or a missing segment), cut the log there and
   * start (losing every txn after it) instead of refusing to start. For an operator who decided so.
   */
  truncateCorruptLog?: boolean;
  logger?: StorageLogger;
  /** Resolves after a macrotask; snapshots await it between slices. Default setImmediate/setTimeout. */
  yieldToEventLoop?: () => Promise<void>;
}

export interface RecoveryVisitor {
  snapshot(header: SnapshotHeader): void;
  node(node: SnapshotNode): void;
  txn(entry: TxnEntry): void;
}

export interface WriteSnapshotOptions {
  /** Nodes per snapshot record; default 1000. */
  nodesPerRecord?: number;
  /** Nodes between yields to the event loop; default 5000. */
  yieldEvery?: number;
}

function defaultYield(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => immediate !== undefined ? immediate(resolve) : setTimeout(resolve, 0));
}

function defaultLogger(level: "info" | "warn", message: string): void {
  console.error(`corral storage ${level}: ${message}`);
}

export class TxnStore {
  readonly #fs: FileSystem;
  readonly #dataDir: string;
  readonly #dataLogDir: string;
  readonly #segmentBytesMax: number;
  readonly #retainCount: number;
  readonly #truncateCorruptLog: boolean;
  readonly #logger: StorageLogger;
  readonly #yield: () => Promise<void>;
  #state: "opened" | "recovering" | "ready" | "closed" = "opened";
  #log: TxnLogWriter | null = null;
  /** The tail of the queue of log operations. */
  #logTail: Promise<unknown> = Promise.resolve();
  #snapshotTail: Promise<unknown> = Promise.resolve();

  private constructor(options: TxnStoreOptions) {
    this.#fs = options.fs;
    this.#dataDir = options.dataDir;
    this.#dataLogDir = options.dataLogDir ?? options.dataDir;
    this.#segmentBytesMax = options.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT;
    this.#retainCount = Math.max(3, options.snapRetainCount ?? 3);
    this.#truncateCorruptLog = options.truncateCorruptLog ?? false;
    this.#logger = options.logger ?? defaultLogger;
    this.#yield = options.yieldToEventLoop ?? defaultYield;
    if (!(this.#segmentBytesMax > 0)) throw new RangeError(`segmentBytesMax must be positive`);
  }

  /** Creates the directories and checks their format version (throws StorageError if newer). */
  static async open(options: TxnStoreOptions): Promise<TxnStore> {
    const store = new TxnStore(options);
    const fs = store.#fs;
    for (const dir of new Set([store.#dataDir, store.#dataLogDir])) {
      await fs.mkdirp(dir);
      await ensureFormatMarker(fs, dir);
      for (const name of await fs.list(dir)) {
        // Leftovers of a snapshot interrupted by a crash.
        if (name.endsWith(TEMPORARY_SUFFIX)) await fs.remove(fs.join(dir, name));
      }
    }
    return store;
  }

  /**
   * Feeds `visitor` the newest valid snapshot (header, then each node), then every logged txn after
   * it, in order. snapshotZxid is 0 when there is no snapshot; lastZxid is the last zxid recovered.
   * Call once, before append.
   */
  async recover(visitor: RecoveryVisitor): Promise<{ snapshotZxid: number; lastZxid: number }> {
    if (this.#state !== "opened") throw new Error(`recover() must be called once, right after open()`);
    this.#state = "recovering";
    const snapshotZxid = await recoverSnapshot({
      fs: this.#fs,
      dir: this.#dataDir,
      logger: this.#logger,
      visitor,
    });
    const logZxid = await recoverLog({
      fs: this.#fs,
      dir: this.#dataLogDir,
      snapshotZxid,
      truncateCorruptLog: this.#truncateCorruptLog,
      logger: this.#logger,
      visit: (entry) => visitor.txn(entry),
    });
    const lastZxid = Math.max(snapshotZxid ?? 0, logZxid ?? 0);
    this.#log = new TxnLogWriter({
      fs: this.#fs,
      dir: this.#dataLogDir,
      segmentBytesMax: this.#segmentBytesMax,
      lastZxid: snapshotZxid === null && logZxid === null ? null : lastZxid,
    });
    this.#state = "ready";
    return { snapshotZxid: snapshotZxid ?? 0, lastZxid };
  }

  /** Appends to the log without syncing; zxids must continue the log without gaps. */
  append(entries: readonly TxnEntry[]): Promise<void> {
    return this.#enqueue((log) => log.append(entries));
  }

  /**
   * After a failed append or sync: forget every txn not yet durable, so that txns whose clients were
   * told they failed can never resurface; the log continues after the last durable zxid.
   */
  discardUnsynced(): Promise<void> {
    return this.#enqueue((log) => log.discardUnsynced());
  }

  /** Makes everything appended so far durable (fdatasync): once per batch, group commit. */
  sync(): Promise<void> {
    return this.#enqueue((log) => log.sync());
  }

  /**
   * Writes a fuzzy snapshot of `source` (its header zxid names the file) while appends go on, then
   * purges old snapshots and the log segments no kept snapshot needs.
   */
  writeSnapshot(
    source: SnapshotSource,
    options: WriteSnapshotOptions = {},
  ): Promise<{ path: string; bytes: number; nodes: number }> {
    const run = this.#snapshotTail.then(() => this.#writeSnapshot(source, options));
    this.#snapshotTail = run.catch(() => {});
    return run;
  }

  /** Waits for queued operations and closes the current segment (without syncing it). */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const log = this.#log;
    this.#state = "closed";
    await Promise.all([this.#logTail, this.#snapshotTail]);
    await log?.close();
  }

  async #writeSnapshot(
    source: SnapshotSource,
    options: WriteSnapshotOptions,
  ): Promise<{ path: string; bytes: number; nodes: number }> {
    // The segment before the snapshot is closed so that, once enough snapshots exist, it can go.
    await this.#enqueue((log) => log.roll());
    const zxid = source.header.zxid;
    const path = this.#fs.join(this.#dataDir, snapshotName(zxid));
    let nodes = 0;
    const chunks = snapshotChunks(source, {
      nodesPerRecord: Math.max(1, options.nodesPerRecord ?? 1000),
      yieldEvery: Math.max(1, options.yieldEvery ?? 5000),
      yieldToEventLoop: this.#yield,
      onNodes: (count) => nodes += count,
    });
    const bytes = await this.#fs.writeFileAtomic(path, chunks);
    await this.#enqueue((log) => log.noteSnapshot(zxid));
    const purged = await purgeOldFiles({
      fs: this.#fs,
      dataDir: this.#dataDir,
      dataLogDir: this.#dataLogDir,
      retainCount: this.#retainCount,
    });
    if (purged.length > 0) this.#logger("info", `purged ${purged.join(", ")}`);
    return { path, bytes, nodes };
  }

  #enqueue<T>(operation: (log: TxnLogWriter) => Promise<T> | T): Promise<T> {
    const log = this.#log;
    if (this.#state !== "ready" || log === null) {
      return Promise.reject(
        new StorageError(
          this.#state === "closed" ? "the store is closed" : "recover() must complete before writes",
        ),
      );
    }
    const run = this.#logTail.then(() => operation(log));
    this.#logTail = run.catch(() => {});
    return run;
  }
}
