/**
 * Makes the core's writes durable with group commit: every write that arrives while an fsync runs
 * goes into the next round, and the core hears `persisted(writeSeq)` only once its round is on disk.
 * A round carries out its writes in writeSeq order: consecutive appends become one append, and Zab's
 * truncations, epoch updates and snapshot installs run between them where they were issued (each is
 * durable when it completes; the round's appends are synced once, at its end).
 * Snapshots run one at a time in the background (fuzzy: the server keeps serving).
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
  #retryDelayMs = RETRY_DELAY_MS_MIN;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(log: DurableLog, callbacks: PersisterCallbacks) {
    this.#log = log;
    this.#callbacks = callbacks;
  }

  write(writeSeq: number, request: PersistRequest): void {
    if (this.#closed) return; // the core is being shut down; nothing it writes now is acknowledged
    this.#queue.push({ writeSeq, request });
    this.#writing ??= this.#writeRounds();
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

  async #carryOut(round: ReadonlyArray<{ request: PersistRequest }>): Promise<void> {
    let entries: TxnEntry[] = [];
    let unsynced = false;
    for (const { request } of round) {
      if (request.kind === "append") {
        for (const entry of request.entries) entries.push(entry);
        continue;
      }
      if (entries.length > 0) {
        await this.#log.append(entries);
        entries = [];
      }
      // Each of these syncs the appends before it, and is durable when it resolves.
      await this.#replicationWrite(request);
      unsynced = false;
      if (request.kind === "installSnapshot") this.#callbacks.log("info", `installed the leader's snapshot at zxid 0x${request.header.zxid.toString(16)} (${request.nodes.length} znodes)`);
    }
    if (entries.length > 0) {
      await this.#log.append(entries);
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
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#callbacks.retry(), this.#retryDelayMs);
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, RETRY_DELAY_MS_MAX);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
