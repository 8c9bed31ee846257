/**
 * Makes the core's writes durable with group commit: every txn that arrives while an fsync runs goes
 * into the next append+fsync, and the core hears `persisted(writeSeq)` only once its batch is on disk.
 * Snapshots run one at a time in the background (fuzzy: the server keeps serving).
 */
import type { PersistRequest, SnapshotSource } from "../core/persistence.ts";
import type { TxnEntry } from "../core/txn.ts";

/** The slice of the storage layer the persister needs (src/storage/txn_store.ts is one). */
export interface DurableLog {
  append(entries: readonly TxnEntry[]): Promise<void>;
  sync(): Promise<void>;
  /** Forget what was appended but not synced (the core gave up on those txns). */
  discardUnsynced(): Promise<void>;
  writeSnapshot(source: SnapshotSource): Promise<{ path: string; bytes: number; nodes: number }>;
}

export interface PersisterCallbacks {
  persisted(writeSeq: number): void;
  failed(writeSeq: number, reason: string): void;
  /** Time to let writes through again after a failure (storage may have recovered). */
  retry(): void;
  log(level: "info" | "warn" | "error", message: string): void;
}

/** Backoff between a storage failure and the next attempt at writing. */
const RETRY_DELAY_MS_MIN = 1000;
const RETRY_DELAY_MS_MAX = 10_000;

export class Persister {
  readonly #log: DurableLog;
  readonly #callbacks: PersisterCallbacks;
  #batch: TxnEntry[] = [];
  #batchFirstSeq = 0;
  #batchLastSeq = 0;
  #writing: Promise<void> | null = null;
  #snapshotting: Promise<void> | null = null;
  #retryDelayMs = RETRY_DELAY_MS_MIN;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(log: DurableLog, callbacks: PersisterCallbacks) {
    this.#log = log;
    this.#callbacks = callbacks;
  }

  write(writeSeq: number, request: PersistRequest): void {
    if (request.kind !== "append") {
      throw new Error(`persist request ${request.kind} needs replication support in the driver (not yet)`);
    }
    if (this.#batch.length === 0) this.#batchFirstSeq = writeSeq;
    for (const entry of request.entries) this.#batch.push(entry);
    this.#batchLastSeq = writeSeq;
    this.#writing ??= this.#writeBatches();
  }

  snapshot(source: SnapshotSource): void {
    if (this.#snapshotting !== null || this.#closed) return; // one at a time; the next one is due later
    const started = Date.now();
    this.#snapshotting = this.#log.writeSnapshot(source).then(
      (result) => {
        this.#callbacks.log("info", `snapshot ${result.path}: ${result.nodes} znodes, ${result.bytes} bytes in ${Date.now() - started} ms`);
      },
      (error) => this.#callbacks.log("error", `snapshot failed (the log still holds everything): ${describe(error)}`),
    ).finally(() => {
      this.#snapshotting = null;
    });
  }

  /** Waits for the writes and the snapshot under way; later writes are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#writing;
    await this.#snapshotting;
  }

  async #writeBatches(): Promise<void> {
    // Each round takes everything queued so far: that is the group commit.
    for (let round = 0; this.#batch.length > 0 && !this.#closed; round++) {
      const entries = this.#batch;
      const firstSeq = this.#batchFirstSeq;
      const lastSeq = this.#batchLastSeq;
      this.#batch = [];
      try {
        await this.#log.append(entries);
        await this.#log.sync();
      } catch (error) {
        this.#batch = []; // the core discards everything from firstSeq on, and so must the log
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

  #scheduleRetry(): void {
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#callbacks.retry(), this.#retryDelayMs);
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, RETRY_DELAY_MS_MAX);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
