/**
 * The store the driver uses: recovery at start, then appends and group-commit syncs to the log,
 * fuzzy snapshots with purging, and what Zab adds: truncating the log (TRUNC), installing a
 * leader's snapshot (SNAP) and the acceptedEpoch / currentEpoch files. Log operations (append,
 * sync, truncateAfter, installSnapshot, writeEpochs) run one at a time in call order (a sync covers
 * every append called before it); a snapshot streams its nodes concurrently with them.
 *
 * Truncation and installs change several files; each has a commit point (an intent file written
 * atomically) and idempotent steps after it, which recovery, or the next operation after an error,
 * completes before anything reads the files: a crash leaves the old state or the new one, never a
 * mix (see log_truncation.ts, snapshot_install.ts, epoch_files.ts).
 */
import { releaseDecodeBuffer } from "./cbor_codec.ts";
import type { SnapshotHeader, SnapshotNode, SnapshotSource } from "../core/persistence.ts";
import type { TxnEntry } from "../core/txn.ts";
import { zxidHex } from "../core/zxid.ts";
import { checkEpochUpdate, readEpochFiles, writeEpochFiles } from "./epoch_files.ts";
import type { EpochUpdate } from "./epoch_files.ts";
import { TEMPORARY_SUFFIX } from "./file_system.ts";
import type { FileSystem } from "./file_system.ts";
import { ensureFormatMarker } from "./format_marker.ts";
import { recoverLog } from "./log_recovery.ts";
import type { StorageLogger } from "./log_recovery.ts";
import { finishPendingTruncate, lastLoggedZxid, writeTruncateIntent } from "./log_truncation.ts";
import { purgeOldFiles } from "./purge.ts";
import { recoverSnapshot } from "./snapshot_recovery.ts";
import { snapshotChunks, snapshotName } from "./snapshot_file.ts";
import { finishInstall, finishPendingInstall, installName } from "./snapshot_install.ts";
import { StorageError } from "./storage_error.ts";
import { SEGMENT_BYTES_MAX_DEFAULT, TxnLogWriter } from "./txn_log.ts";
import { listZxidFiles } from "./zxid_files.ts";

export { StorageError } from "./storage_error.ts";
export type { EpochUpdate } from "./epoch_files.ts";

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
   * On a damaged log (a complete record whose checksum fails, even the last one; a bad record before
   * the end; a missing segment), cut the log there and start (losing every txn from there on, which
   * the warning lists) instead of refusing to start. For an operator who decided so: the CLI's
   * --truncate-corrupt-log. A torn write at the very end (an incomplete last record) is always cut.
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

/** What recover() found. */
export interface RecoveryResult {
  /** The zxid of the snapshot recovery started from; 0 without one. */
  snapshotZxid: number;
  /** The last zxid recovered (snapshot or log); 0 for an empty store. */
  lastZxid: number;
  /** Zab's acceptedEpoch and currentEpoch files; 0 when absent. */
  acceptedEpoch: number;
  currentEpoch: number;
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

/** What a truncation or install had done when an error stopped it. */
type Interruption = { kind: "truncate" } | { kind: "install"; zxid: number; committed: boolean };

/** The larger of two zxids that may be absent. */
function latest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function checkZxid(zxid: number, what: string): void {
  if (!Number.isSafeInteger(zxid) || zxid < 0) throw new RangeError(`${what}: ${zxid} is not a zxid`);
}

/** The snapshot's bytes, failing as soon as `abandoned()` (so its file never gets its name). */
async function* unlessAbandoned(
  chunks: AsyncIterable<Uint8Array>,
  abandoned: () => boolean,
  error: () => Error,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    if (abandoned()) throw error();
    yield chunk;
  }
  if (abandoned()) throw error();
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
  /**
   * Bumped by every truncation and install: a snapshot whose log roll ran before one of them holds
   * state they replaced, so it is abandoned (see #writeSnapshot).
   */
  #generation = 0;
  /** The snapshot file being written, if any (settles without throwing). */
  #snapshotFileWrite: Promise<void> = Promise.resolve();
  /**
   * A truncation or install an error cut short, perhaps past its commit point: the next log
   * operation completes it first (see #recoverFromInterruption).
   */
  #interrupted: Interruption | null = null;

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
   * Completes a truncation or install a crash interrupted, then feeds `visitor` the newest valid
   * snapshot (header, then each node), then every logged txn after it, in order, and reads the
   * epochs. Call once, before any write.
   */
  async recover(visitor: RecoveryVisitor): Promise<RecoveryResult> {
    if (this.#state !== "opened") throw new Error(`recover() must be called once, right after open()`);
    this.#state = "recovering";
    await this.#finishPendingOperations();
    const epochs = await readEpochFiles(this.#fs, this.#dataDir);
    // A killed process may have left names (a rename, a removal) that only the page cache knows:
    // they must be durable before anything written from now on depends on them.
    await this.#syncDirectories();
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
    releaseDecodeBuffer();
    return { snapshotZxid: snapshotZxid ?? 0, lastZxid, ...epochs };
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
   * Zab TRUNC: durably drops every logged txn with a zxid above `zxid` (appends called before are
   * synced first, so those at or below it are kept). Afterwards the log ends at the last txn kept (or
   * the newest snapshot, if later), and appends continue from there; nothing is dropped if the log
   * ends at or before `zxid`. Rejects with StorageError, changing nothing, if a snapshot holds state
   * after `zxid`: snapshots are taken of committed state only, which a leader never truncates, so
   * the replica needs a SNAP (installSnapshot) instead.
   */
  truncateAfter(zxid: number): Promise<void> {
    try {
      checkZxid(zxid, "truncateAfter");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue((log) => this.#truncateAfter(log, zxid));
  }

  /**
   * Zab SNAP: durably replaces the whole state (every snapshot and every logged txn) with this
   * snapshot, so recovery returns exactly it and nothing after it; appends continue after
   * header.zxid (the next counter of its epoch, or a later epoch). `nodes` is read once, now.
   */
  installSnapshot(header: SnapshotHeader, nodes: Iterable<SnapshotNode>): Promise<void> {
    try {
      checkZxid(header.zxid, "installSnapshot");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue((log) => this.#installSnapshot(log, header, nodes));
  }

  /**
   * Durably sets Zab's acceptedEpoch and/or currentEpoch (an absent field is left as it is; with
   * both, a crash leaves both old or both new). Appends called before are synced first, so an epoch
   * file never claims a history the log does not hold yet. RangeError for a value that is not an
   * epoch.
   */
  writeEpochs(epochs: EpochUpdate): Promise<void> {
    try {
      checkEpochUpdate(epochs);
    } catch (error) {
      return Promise.reject(error);
    }
    const update: EpochUpdate = { ...epochs };
    return this.#enqueue(async (log) => {
      await log.sync();
      await writeEpochFiles(this.#fs, this.#dataDir, update);
    });
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
    // The roll runs in log order: a truncation or install called earlier has run by then, and one
    // called later bumps the generation, which abandons this snapshot of the state it replaces.
    const generation = await this.#enqueue(async (log) => {
      await log.roll();
      return this.#generation;
    });
    const zxid = source.header.zxid;
    const abandoned = () => this.#generation !== generation;
    const abandonedError = () =>
      new StorageError(
        `the snapshot at ${zxidHex(zxid)} was abandoned: a Zab truncation or snapshot install replaced ` +
          `the state it captured while it was being written (a later snapshot will cover the new state)`,
      );
    const path = this.#fs.join(this.#dataDir, snapshotName(zxid));
    let nodes = 0;
    const chunks = snapshotChunks(source, {
      nodesPerRecord: Math.max(1, options.nodesPerRecord ?? 1000),
      yieldEvery: Math.max(1, options.yieldEvery ?? 5000),
      yieldToEventLoop: this.#yield,
      onNodes: (count) => nodes += count,
    });
    // The check and the publication of the write happen in one turn: a truncation or install either
    // ran before (abandoned here) or waits for this write to settle before touching any file.
    if (abandoned()) throw abandonedError();
    const writing = this.#fs.writeFileAtomic(path, unlessAbandoned(chunks, abandoned, abandonedError));
    this.#snapshotFileWrite = writing.then(() => {}, () => {});
    const bytes = await writing;
    // In the log queue, so that purging never runs beside a truncation or an install.
    const purged = await this.#enqueue(async (log) => {
      if (abandoned()) throw abandonedError();
      log.noteSnapshot(zxid);
      return await purgeOldFiles({
        fs: this.#fs,
        dataDir: this.#dataDir,
        dataLogDir: this.#dataLogDir,
        retainCount: this.#retainCount,
      });
    });
    if (purged.length > 0) this.#logger("info", `purged ${purged.join(", ")}`);
    return { path, bytes, nodes };
  }

  async #truncateAfter(log: TxnLogWriter, zxid: number): Promise<void> {
    await this.#abandonSnapshots();
    const snapshots = await listZxidFiles(this.#fs, this.#dataDir, "snapshot");
    const ahead = snapshots.filter((file) => file.zxid > zxid);
    if (ahead.length > 0) {
      throw new StorageError(
        `cannot truncate the log after ${zxidHex(zxid)}: ${ahead[0]!.path} holds state after that zxid. ` +
          `Snapshots are taken of committed txns only, which a Zab leader never truncates; the replica ` +
          `needs the leader's snapshot (installSnapshot) instead.`,
        { file: ahead[0]!.path },
      );
    }
    // Synced first: what is kept must be durable before the commit point, and the writer holds
    // nothing unsynced that a reset could lose.
    await log.roll();
    if (log.lastZxid === null || log.lastZxid <= zxid) return;
    this.#interrupted = { kind: "truncate" };
    await writeTruncateIntent(this.#fs, this.#dataLogDir, zxid);
    const truncated = await finishPendingTruncate(this.#truncationOptions());
    await log.reset(latest(truncated?.lastLoggedZxid ?? null, snapshots.at(-1)?.zxid ?? null));
    this.#interrupted = null;
  }

  async #installSnapshot(
    log: TxnLogWriter,
    header: SnapshotHeader,
    nodes: Iterable<SnapshotNode>,
  ): Promise<void> {
    await this.#abandonSnapshots();
    const chunks = snapshotChunks({ header, nodes: nodes[Symbol.iterator]() }, {
      nodesPerRecord: 1000,
      yieldEvery: 5000,
      yieldToEventLoop: this.#yield,
      onNodes: () => {},
    });
    const interruption: Interruption = { kind: "install", zxid: header.zxid, committed: false };
    this.#interrupted = interruption;
    // Until this succeeds the writer is untouched: if it fails before its rename, the old log goes on.
    await this.#fs.writeFileAtomic(this.#fs.join(this.#dataDir, installName(header.zxid)), chunks);
    interruption.committed = true;
    // The old log's open segment is closed before its file goes (its unsynced txns go with it).
    await log.reset(header.zxid);
    await finishInstall(this.#installOptions(), header.zxid);
    this.#interrupted = null;
  }

  /** Stops snapshots of the state about to be replaced, and waits for a file being written. */
  async #abandonSnapshots(): Promise<void> {
    this.#generation++;
    await this.#snapshotFileWrite;
  }

  /**
   * After an error cut a truncation or install short: completes it if it passed its commit point,
   * makes every name change durable (the error may have hit the last directory sync, after which
   * no intent file is left to say so), and moves the log writer to where the files now end.
   */
  async #recoverFromInterruption(log: TxnLogWriter, interruption: Interruption): Promise<void> {
    const { installed } = await this.#finishPendingOperations();
    await this.#syncDirectories();
    if (interruption.kind === "truncate") {
      // The log was synced before the intent file, so the writer holds nothing the files lack.
      const lastLogged = await lastLoggedZxid(this.#truncationOptions());
      const snapshot = (await listZxidFiles(this.#fs, this.#dataDir, "snapshot")).at(-1)?.zxid ?? null;
      await log.reset(latest(lastLogged, snapshot));
    } else if (interruption.committed || installed !== null) {
      await log.reset(interruption.zxid);
    }
    this.#interrupted = null;
  }

  /** Completes a truncation or install past its commit point (a crash or an error stopped it). */
  async #finishPendingOperations(): Promise<{ installed: number | null }> {
    await finishPendingTruncate(this.#truncationOptions());
    return { installed: await finishPendingInstall(this.#installOptions()) };
  }

  async #syncDirectories(): Promise<void> {
    await this.#fs.syncDir(this.#dataDir);
    if (this.#dataLogDir !== this.#dataDir) await this.#fs.syncDir(this.#dataLogDir);
  }

  #truncationOptions() {
    return {
      fs: this.#fs,
      dir: this.#dataLogDir,
      truncateCorruptLog: this.#truncateCorruptLog,
      logger: this.#logger,
    };
  }

  #installOptions() {
    return { fs: this.#fs, dataDir: this.#dataDir, dataLogDir: this.#dataLogDir };
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
    const run = this.#logTail.then(async () => {
      if (this.#interrupted !== null) await this.#recoverFromInterruption(log, this.#interrupted);
      return await operation(log);
    });
    this.#logTail = run.catch(() => {});
    return run;
  }
}
