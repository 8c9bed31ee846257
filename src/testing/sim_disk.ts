/**
 * A replica's simulated disk. Writes (the core's numbered PersistRequests) complete in order after a
 * seeded latency; only then is `persisted(writeSeq)` reported. A crash loses what had not completed,
 * except that a prefix of those writes may have reached the platter unreported, and the last append
 * of that prefix may be torn (a suffix of its entries missing), as a real log's last record can be.
 *
 * The contract is the real store's (src/storage/txn_store.ts): appends continue the log without
 * gaps, a truncation never cuts below a snapshot, an install replaces everything, and a fuzzy
 * snapshot is abandoned if a truncation or install replaced the state it was capturing. A request
 * that breaks the contract is reported through `violation` (the real store would reject it).
 */
import type { PersistRequest, SnapshotHeader, SnapshotNode, SnapshotSource } from "../core/persistence.ts";
import type { TxnEntry } from "../core/txn.ts";
import { type Zxid, zxidEpoch, zxidHex } from "../core/zxid.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import { between, chance } from "./sim_random.ts";

export interface DiskFaults {
  /** Latency of one batch of writes (an fsync): uniform in [min, max), times `slowFactor`. */
  writeMsMin: number;
  writeMsMax: number;
  /** At a crash: chance that some writes not yet reported had reached the disk anyway. */
  unreportedKeepRate: number;
  /** At a crash: chance that the last surviving unreported append is torn. */
  tearRate: number;
  /** Snapshot nodes captured per step; steps are `writeMsMin` apart (the walk is fuzzy). */
  snapshotNodesPerStep: number;
}

export const QUIET_DISK: DiskFaults = {
  writeMsMin: 0.1,
  writeMsMax: 2,
  unreportedKeepRate: 0,
  tearRate: 0,
  snapshotNodesPerStep: 1_000_000,
};

export interface StoredSnapshot {
  header: SnapshotHeader;
  nodes: SnapshotNode[];
}

/** What survives a crash. */
export interface DurableState {
  log: TxnEntry[];
  /** Oldest first; recovery uses the newest. */
  snapshots: StoredSnapshot[];
  acceptedEpoch: number;
  currentEpoch: number;
}

/** What a restarting replica reads back, in the order it must be fed. */
export interface Recovered {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: StoredSnapshot | null;
  /** Logged txns after the snapshot, in order. */
  entries: TxnEntry[];
}

export interface DiskStats {
  batches: number;
  writes: number;
  snapshotsWritten: number;
  snapshotsAbandoned: number;
  tornAppends: number;
  unreportedKept: number;
}

const SNAPSHOTS_KEPT = 3;

interface PendingWrite {
  writeSeq: number;
  request: PersistRequest;
}

export class SimDisk {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  #faults: DiskFaults;
  #slowFactor = 1;
  readonly #durable: DurableState = { log: [], snapshots: [], acceptedEpoch: 0, currentEpoch: 0 };
  /** Writes issued but not complete, oldest first. */
  #pending: PendingWrite[] = [];
  #lastCompleteMs = 0;
  /** Bumped by crashes: completions and snapshot steps of an earlier life are ignored. */
  #life = 0;
  /** Bumped by truncations and installs: abandons snapshots of the state they replaced. */
  #generation = 0;
  #snapshotting = false;
  #lastIssuedSeq = 0;
  readonly #violation: (message: string) => void;
  readonly stats: DiskStats = {
    batches: 0,
    writes: 0,
    snapshotsWritten: 0,
    snapshotsAbandoned: 0,
    tornAppends: 0,
    unreportedKept: 0,
  };

  constructor(options: { scheduler: Scheduler; prng: Prng; faults: DiskFaults; violation: (message: string) => void }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#faults = options.faults;
    this.#violation = options.violation;
  }

  setFaults(faults: DiskFaults): void {
    this.#faults = faults;
  }

  /** Latency multiplier (a slow or overloaded disk); 1 is normal. */
  setSlowFactor(factor: number): void {
    this.#slowFactor = Math.max(1, factor);
  }

  /** The durable state (read-only view, for checkers and tests). */
  get durable(): Readonly<DurableState> {
    return this.#durable;
  }

  get pendingWrites(): number {
    return this.#pending.length;
  }

  /**
   * One batch of writes (everything the replica issued in one round of outputs): durable together
   * after one latency, in order after earlier batches; then `persisted(lastWriteSeq)` is called.
   */
  writeBatch(writes: readonly PendingWrite[], persisted: (writeSeq: number) => void): void {
    if (writes.length === 0) return;
    for (let i = 1; i < writes.length; i++) {
      if (writes[i]!.writeSeq <= writes[i - 1]!.writeSeq) this.#violation(`writeSeq ${writes[i]!.writeSeq} after ${writes[i - 1]!.writeSeq}: not in order`);
    }
    const copies = writes.map((write) => ({ writeSeq: write.writeSeq, request: structuredClone(write.request) }));
    for (const write of copies) this.#pending.push(write);
    this.#lastIssuedSeq = copies[copies.length - 1]!.writeSeq;
    this.stats.batches++;
    this.stats.writes += copies.length;
    const faults = this.#faults;
    const latencyMs = between(this.#prng, faults.writeMsMin, faults.writeMsMax) * this.#slowFactor;
    const atMs = Math.max(this.#scheduler.nowMs + latencyMs, this.#lastCompleteMs);
    this.#lastCompleteMs = atMs;
    const life = this.#life;
    const lastSeq = copies[copies.length - 1]!.writeSeq;
    this.#scheduler.at(atMs, () => {
      if (life !== this.#life) return;
      this.#completeUpTo(lastSeq);
      persisted(lastSeq);
    });
  }

  #completeUpTo(writeSeq: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.writeSeq <= writeSeq) {
      this.#make(this.#pending.shift()!.request);
    }
  }

  /** Carries out one write on the durable state, checking the store's contract. */
  #make(request: PersistRequest): void {
    const durable = this.#durable;
    switch (request.kind) {
      case "append":
        for (const entry of request.entries) {
          const previous = this.#lastZxid();
          const zxid = entry.header.zxid;
          if (previous !== null && !followsDirectly(previous, zxid)) {
            this.#violation(`append: zxid ${zxidHex(zxid)} does not follow ${zxidHex(previous)} in the log (a gap or a step back)`);
          }
          durable.log.push(entry);
        }
        return;
      case "truncate": {
        const ahead = durable.snapshots.find((snapshot) => snapshot.header.zxid > request.zxid);
        if (ahead) {
          this.#violation(`truncate after ${zxidHex(request.zxid)}: a snapshot holds state up to ${zxidHex(ahead.header.zxid)} (the store rejects this; a SNAP was needed)`);
          return;
        }
        this.#generation++;
        durable.log = durable.log.filter((entry) => entry.header.zxid <= request.zxid);
        return;
      }
      case "epochs":
        if (request.acceptedEpoch !== undefined) durable.acceptedEpoch = request.acceptedEpoch;
        if (request.currentEpoch !== undefined) durable.currentEpoch = request.currentEpoch;
        return;
      case "installSnapshot":
        this.#generation++;
        durable.snapshots = [{ header: request.header, nodes: request.nodes }];
        durable.log = [];
        return;
    }
  }

  /** The last zxid the log holds or a snapshot covers (where appends continue). */
  #lastZxid(): Zxid | null {
    const logged = this.#durable.log.at(-1)?.header.zxid ?? null;
    const snapshot = this.#durable.snapshots.at(-1)?.header.zxid ?? null;
    if (logged === null) return snapshot;
    return snapshot === null ? logged : Math.max(logged, snapshot);
  }

  /**
   * A fuzzy snapshot: the header now, the nodes walked a step at a time while the replica goes on
   * (so nodes may be seen before or after later txns), durable when the walk ends. One at a time.
   */
  snapshot(source: SnapshotSource): void {
    if (this.#snapshotting) return;
    this.#snapshotting = true;
    const header = structuredClone(source.header);
    const nodes: SnapshotNode[] = [];
    const life = this.#life;
    const generation = this.#generation;
    // Like the real store, the snapshot is ordered after every write issued before it.
    const issuedBefore = this.#lastIssuedSeq;
    const finish = () => {
      if (life !== this.#life) return;
      if (this.#pending.length > 0 && this.#pending[0]!.writeSeq <= issuedBefore) {
        this.#scheduler.after(Math.max(0.01, this.#faults.writeMsMin), finish);
        return;
      }
      this.#finishSnapshot({ header, nodes }, generation);
    };
    const step = () => {
      if (life !== this.#life) return;
      for (let taken = 0; taken < this.#faults.snapshotNodesPerStep; taken++) {
        const next = source.nodes.next();
        if (next.done) {
          finish();
          return;
        }
        nodes.push(structuredClone(next.value));
      }
      this.#scheduler.after(Math.max(0.01, this.#faults.writeMsMin), step);
    };
    step();
  }

  #finishSnapshot(snapshot: StoredSnapshot, generation: number): void {
    this.#snapshotting = false;
    if (generation !== this.#generation) {
      this.stats.snapshotsAbandoned++;
      return;
    }
    const durable = this.#durable;
    if (durable.snapshots.some((kept) => kept.header.zxid >= snapshot.header.zxid)) return;
    durable.snapshots.push(snapshot);
    this.stats.snapshotsWritten++;
    if (durable.snapshots.length > SNAPSHOTS_KEPT) {
      durable.snapshots.splice(0, durable.snapshots.length - SNAPSHOTS_KEPT);
      // Purge: keep every txn a kept snapshot may need (those after the oldest kept one).
      const oldest = durable.snapshots[0]!.header.zxid;
      durable.log = durable.log.filter((entry) => entry.header.zxid > oldest);
    }
  }

  /**
   * The process died: completions not yet reported are lost, except a prefix that may have reached
   * the disk (the last append of it possibly torn). Snapshots under way are abandoned.
   */
  crash(): void {
    this.#life++;
    this.#snapshotting = false;
    const pending = this.#pending;
    this.#pending = [];
    this.#lastCompleteMs = 0;
    if (pending.length === 0 || !chance(this.#prng, this.#faults.unreportedKeepRate)) return;
    const kept = 1 + this.#prng.int(pending.length);
    for (let i = 0; i < kept; i++) {
      let request = pending[i]!.request;
      const last = i === kept - 1;
      if (last && request.kind === "append" && request.entries.length > 0 && chance(this.#prng, this.#faults.tearRate)) {
        request = { kind: "append", entries: request.entries.slice(0, this.#prng.int(request.entries.length)) };
        this.stats.tornAppends++;
      }
      this.#make(request);
      this.stats.unreportedKept++;
    }
  }

  /** What a restart reads: epochs, the newest snapshot, and the log after it. */
  recover(): Recovered {
    const durable = this.#durable;
    const snapshot = durable.snapshots.at(-1) ?? null;
    const after = snapshot?.header.zxid ?? -1;
    return {
      acceptedEpoch: durable.acceptedEpoch,
      currentEpoch: durable.currentEpoch,
      snapshot: snapshot === null ? null : structuredClone(snapshot),
      entries: durable.log.filter((entry) => entry.header.zxid > after).map((entry) => structuredClone(entry)),
    };
  }
}

/** As the real log: the next counter of the same epoch, or any zxid of a later epoch. */
export function followsDirectly(previous: Zxid, next: Zxid): boolean {
  return next === previous + 1 || (next > previous && zxidEpoch(next) > zxidEpoch(previous));
}
