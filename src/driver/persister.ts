/**
 * Makes the core's writes durable with group commit: every write that arrives while an fsync runs
 * goes into the next round, and the core hears `persisted(writeSeq)` only once its round is on disk.
 * A round carries out its writes in writeSeq order: consecutive appends become one append, and Zab's
 * truncations, epoch updates and snapshot installs run between them where they were issued (each is
 * durable when it completes; the round's appends are synced once, at its end).
 * Snapshots run one at a time in the background (fuzzy: the server keeps serving), each started
 * only once every write issued before it has been handed to the log: the store orders the snapshot
 * after those writes (its log roll queues behind them), so a snapshot never claims a zxid whose
 * append is still waiting here (an observer applies a txn as soon as it issues its append: a
 * snapshot started earlier made the store's log jump past appends still to come, which it then
 * refused as "does not follow", stopping the member).
 */
import type { PersistRequest, SnapshotHeader, SnapshotNode, SnapshotSource } from "../core/persistence.ts";
import type { TxnEntry } from "../core/txn.ts";

/** The slice of the storage layer the persister needs (src/storage/txn_store.ts is one). */
export interface DurableLog {
  append(entries: readonly TxnEntry[]): Promise<void>;
  sync(): Promise<void>;
  /** Forget what was appended but not synced (the core gave up on those txns). */
  discardUnsynced(): Promise<void>;
  writeSnapshot(source: SnapshotSource): Promise<{ path: string; bytes: number; nodes: number }>;
  /** Zab TRUNC: durably drop every logged txn after `zxid` (ensemble members only). */
  truncateAfter?(zxid: number): Promise<void>;
  /** Zab's epoch files; an absent field is left as it is (ensemble members only). */
  writeEpochs?(epochs: { acceptedEpoch?: number; currentEpoch?: number }): Promise<void>;
  /** Zab SNAP: durably replace all state with this snapshot (ensemble members only). */
  installSnapshot?(header: SnapshotHeader, nodes: Iterable<SnapshotNode>): Promise<void>;
}

export interface PersisterCallbacks {
  persisted(writeSeq: number): void;
  failed(writeSeq: number, reason: string): void;
  /** Time to let writes through again after a failure (storage may have recovered). */
  retry(): void;
  log(level: "info" | "warn" | "error", message: string): void;
}

/**
 * Time for the persister: the retry backoff and the snapshot's duration in its log line. Real by
 * default; the simulator passes its virtual clock and event queue, so a run stays deterministic.
 */
export interface PersisterTimers {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: PersisterTimers = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};

/** Backoff between a storage failure and the next attempt at writing. */
const RETRY_DELAY_MS_MIN = 1000;
const RETRY_DELAY_MS_MAX = 10_000;

export class Persister {
  readonly #log: DurableLog;
  readonly #callbacks: PersisterCallbacks;
  /** Writes not yet taken by a round, in writeSeq order. */
  #queue: Array<{ writeSeq: number; request: PersistRequest }> = [];
  #writing: Promise<void> | null = null;
  #snapshotting: Promise<void> | null = null;
  /** The last writeSeq given to write(), and the last one handed to the log (or discarded). */
  #lastQueuedSeq = 0;
  #handedSeq = 0;
  /** A snapshot waiting for the writes issued before it to reach the log. */
  #waitingSnapshot: { source: SnapshotSource; afterSeq: number } | null = null;
  #retryDelayMs = RETRY_DELAY_MS_MIN;
  #retryTimer: unknown;
  #closed = false;
  readonly #timers: PersisterTimers;

  constructor(log: DurableLog, callbacks: PersisterCallbacks, timers: PersisterTimers = REAL_TIMERS) {
    this.#log = log;
    this.#callbacks = callbacks;
    this.#timers = timers;
  }

  write(writeSeq: number, request: PersistRequest): void {
    if (this.#closed) return; // the core is being shut down; nothing it writes now is acknowledged
    this.#queue.push({ writeSeq, request });
    this.#lastQueuedSeq = writeSeq;
    this.#writing ??= this.#writeRounds();
  }

  snapshot(source: SnapshotSource): void {
    // One at a time; the next one is due later.
    if (this.#snapshotting !== null || this.#waitingSnapshot !== null || this.#closed) return;
    if (this.#handedSeq >= this.#lastQueuedSeq) this.#startSnapshot(source);
    else this.#waitingSnapshot = { source, afterSeq: this.#lastQueuedSeq };
  }

  /** Writes up to `writeSeq` are in the log's queue (or were discarded): a waiting snapshot may go. */
  #handed(writeSeq: number): void {
    this.#handedSeq = Math.max(this.#handedSeq, writeSeq);
    const waiting = this.#waitingSnapshot;
    if (waiting === null || this.#handedSeq < waiting.afterSeq) return;
    this.#waitingSnapshot = null;
    if (!this.#closed) this.#startSnapshot(waiting.source);
  }

  #startSnapshot(source: SnapshotSource): void {
    const started = this.#timers.now();
    this.#snapshotting = this.#log.writeSnapshot(source).then(
      (result) => {
        this.#callbacks.log("info", `snapshot ${result.path}: ${result.nodes} znodes, ${result.bytes} bytes in ${this.#timers.now() - started} ms`);
      },
      (error) => this.#callbacks.log("error", `snapshot failed (the log still holds everything): ${describe(error)}`),
    ).finally(() => {
      this.#snapshotting = null;
    });
  }

  /** Waits for the writes and the snapshot under way; later writes are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timers.clearTimeout(this.#retryTimer);
    await this.#writing;
    await this.#snapshotting;
  }

  async #writeRounds(): Promise<void> {
    // Each round takes everything queued so far: that is the group commit.
    while (this.#queue.length > 0 && !this.#closed) {
      const round = this.#queue;
      this.#queue = [];
      const firstSeq = round[0]!.writeSeq;
      const lastSeq = round[round.length - 1]!.writeSeq;
      try {
        await this.#carryOut(round);
      } catch (error) {
        this.#queue = []; // the core discards everything from firstSeq on, and so must the log
        this.#waitingSnapshot = null; // of a state that is being given up
        this.#handed(this.#lastQueuedSeq);
        await this.#log.discardUnsynced().catch(() => {});
        this.#callbacks.failed(firstSeq, describe(error));
        this.#scheduleRetry();
        break;
      }
      this.#retryDelayMs = RETRY_DELAY_MS_MIN;
      this.#callbacks.persisted(lastSeq);
    }
    this.#writing = null;
  }

  async #carryOut(round: ReadonlyArray<{ writeSeq: number; request: PersistRequest }>): Promise<void> {
    let entries: TxnEntry[] = [];
    let entriesSeq = 0;
    let unsynced = false;
    for (const { writeSeq, request } of round) {
      if (request.kind === "append") {
        for (const entry of request.entries) entries.push(entry);
        entriesSeq = writeSeq;
        continue;
      }
      if (entries.length > 0) {
        const appended = this.#log.append(entries);
        this.#handed(entriesSeq);
        await appended;
        entries = [];
      }
      // Each of these syncs the appends before it, and is durable when it resolves.
      const written = this.#replicationWrite(request);
      this.#handed(writeSeq);
      await written;
      unsynced = false;
      if (request.kind === "installSnapshot") this.#callbacks.log("info", `installed the leader's snapshot at zxid 0x${request.header.zxid.toString(16)} (${request.nodes.length} znodes)`);
    }
    if (entries.length > 0) {
      const appended = this.#log.append(entries);
      this.#handed(entriesSeq);
      await appended;
      unsynced = true;
    }
    if (unsynced) await this.#log.sync();
  }

  #replicationWrite(request: Exclude<PersistRequest, { kind: "append" }>): Promise<void> {
    const log = this.#log;
    const missing = (what: string) => Promise.reject(new Error(`the durable log cannot ${what}: it is not an ensemble member's store`));
    switch (request.kind) {
      case "truncate":
        return log.truncateAfter?.(request.zxid) ?? missing("truncate");
      case "epochs": {
        const epochs: { acceptedEpoch?: number; currentEpoch?: number } = {};
        if (request.acceptedEpoch !== undefined) epochs.acceptedEpoch = request.acceptedEpoch;
        if (request.currentEpoch !== undefined) epochs.currentEpoch = request.currentEpoch;
        return log.writeEpochs?.(epochs) ?? missing("write epochs");
      }
      case "installSnapshot":
        return log.installSnapshot?.(request.header, request.nodes) ?? missing("install a snapshot");
    }
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = this.#timers.setTimeout(() => this.#callbacks.retry(), this.#retryDelayMs);
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, RETRY_DELAY_MS_MAX);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
