/**
 * A replica's simulated disk: the real storage layer (src/storage: TxnStore, log segments, framing,
 * CRCs, snapshots, epoch files, recovery) runs on a MemoryFileSystem whose every write, fsync and
 * rename completes after a seeded latency on the simulator's event queue. What a disk can do to it:
 * - a crash is a power loss: bytes not synced are lost, except that some may have reached the
 *   platter anyway — all of them, or a prefix cut at any byte (a torn write);
 * - a bad sector: one bit of durable data flips (corruptSector); recovery must detect it;
 * - fsync fails with EIO; the disk fills up part-way through a write (ENOSPC);
 * - opt-in, a lying fsync: it reports success but nothing becomes durable (the checkers must name
 *   the loss that follows a crash).
 *
 * It also keeps a model of what must survive: every write the persister reported durable. After a
 * restart the member must hold at least that (see `durableLowerBound`), unless the disk was
 * corrupted or lied.
 *
 * Each process life sees the disk through its own view (`open`): once the process has crashed or
 * stopped, its leftover continuations fail instead of touching the next life's files.
 */
import type { PersistRequest } from "../core/persistence.ts";
import { zxidHex } from "../core/zxid.ts";
import { FileSystemError } from "../storage/file_system.ts";
import type { FileSystem, StorageFile } from "../storage/file_system.ts";
import { type FaultContext, type FaultOp, MemoryFileSystem, type PartialWriteFault } from "../storage/memory_file_system.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import { between, chance } from "./sim_random.ts";

export interface DiskFaults {
  /** Latency of an fsync (a file's, a directory's, an atomic file write's): uniform in [min, max), times the slow factor. */
  writeMsMin: number;
  writeMsMax: number;
  /** At a crash: chance that some bytes not yet synced had reached the disk anyway. */
  unreportedKeepRate: number;
  /** At a crash, given that unsynced bytes were kept: chance that they are cut at a random byte (torn). */
  tearRate: number;
  /** Snapshot nodes captured between yields; yields are `writeMsMin` apart (the walk is fuzzy). */
  snapshotNodesPerStep: number;
  /** Chance that an fsync fails with EIO (the member stops; its supervisor restarts it). */
  fsyncErrorRate?: number;
  /** Chance that an append finds the disk full part-way (ENOSPC after a random prefix of its bytes). */
  diskFullRate?: number;
  /** Chance that a crash also flips one bit of the member's durable data (the cluster keeps it to a minority). */
  corruptRate?: number;
  /** Opt-in: fsync reports success and makes nothing durable. */
  lyingFsync?: boolean;
  /**
   * Check after each restart that the member holds every write the persister reported durable
   * (default true). Off, only the end-to-end checkers can notice a lost write.
   */
  recoveryCheck?: boolean;
}

export const QUIET_DISK: DiskFaults = {
  writeMsMin: 0.1,
  writeMsMax: 2,
  unreportedKeepRate: 0,
  tearRate: 0,
  snapshotNodesPerStep: 1_000_000,
};

/** One numbered write of the core, as handed to the persister. */
export interface IssuedWrite {
  writeSeq: number;
  request: PersistRequest;
}

/** What must be on the disk: the log's last zxid (or a snapshot's) and the epochs. */
export interface DurableState {
  lastZxid: number;
  acceptedEpoch: number;
  currentEpoch: number;
}

/** What a crash keeps of each file's unsynced tail. */
export type KeepUnsynced = "none" | "all" | "torn" | number;

export interface DiskStats {
  /** Batches of writes handed to the persister, and the writes in them. */
  batches: number;
  writes: number;
  snapshotsWritten: number;
  snapshotsAbandoned: number;
  /** Crashes that left a file cut part-way through its unsynced bytes (at any byte). */
  tornAppends: number;
  /** Crashes after which unsynced bytes survived (whole or torn). */
  unreportedKept: number;
  fsyncErrors: number;
  diskFullErrors: number;
  /** Bits flipped in durable data. */
  corruptions: number;
  /** Starts refused because recovery found the damage. */
  corruptionsDetected: number;
  /** Disks wiped after a detected corruption (the member rejoined empty). */
  wipes: number;
}

const READ_OPS: ReadonlySet<FaultOp | "read"> = new Set(["read"]);
const SYNC_OPS: ReadonlySet<FaultOp | "read"> = new Set(["sync", "syncDir", "writeFileAtomic"]);

export class SimDisk {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #onActivity: () => void;
  #faults: DiskFaults;
  #slowFactor = 1;
  #fs: MemoryFileSystem;
  /** Bumped by every crash, stop and wipe: a view of an earlier life fails. */
  #life = 0;
  #failFsyncs = 0;
  #bytesLeft: number | null = null;
  #lying = false;
  #corrupted = false;
  /** The durable state implied by the writes reported durable. */
  #durable: DurableState = { lastZxid: 0, acceptedEpoch: 0, currentEpoch: 0 };
  /** Writes issued and not yet reported durable, oldest first. */
  #pending: IssuedWrite[] = [];
  readonly stats: DiskStats = {
    batches: 0,
    writes: 0,
    snapshotsWritten: 0,
    snapshotsAbandoned: 0,
    tornAppends: 0,
    unreportedKept: 0,
    fsyncErrors: 0,
    diskFullErrors: 0,
    corruptions: 0,
    corruptionsDetected: 0,
    wipes: 0,
  };

  constructor(options: { scheduler: Scheduler; prng: Prng; faults: DiskFaults; onActivity?: () => void }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#faults = options.faults;
    this.#onActivity = options.onActivity ?? (() => {});
    this.#fs = this.#newFileSystem();
  }

  setFaults(faults: DiskFaults): void {
    this.#faults = faults;
    this.#fs.setLyingSync(this.#lying || faults.lyingFsync === true);
  }

  get faults(): DiskFaults {
    return this.#faults;
  }

  /** Latency multiplier (a slow or overloaded disk); 1 is normal. */
  setSlowFactor(factor: number): void {
    this.#slowFactor = Math.max(1, factor);
  }

  /** The file system itself (tests read and damage it directly). */
  get fileSystem(): MemoryFileSystem {
    return this.#fs;
  }

  /** Writes issued and not yet reported durable. */
  get pendingWrites(): number {
    return this.#pending.length;
  }

  /** Whether an unsynced log append or epoch write is among them. */
  get pendingLogOrEpochWrite(): boolean {
    return this.#pending.some((write) => write.request.kind === "append" || write.request.kind === "epochs");
  }

  /** A bit was flipped since the disk was last wiped or recovered cleanly. */
  get corrupted(): boolean {
    return this.#corrupted;
  }

  // ------------------------------------------------------------------------------------------------
  // What the cluster tells the disk

  /**
   * The one door every replica write goes through: notes `writes` as issued (not durable yet) and
   * hands them to `carryOut` (the persister), in order.
   */
  writeBatch(writes: readonly IssuedWrite[], carryOut: (writes: readonly IssuedWrite[]) => void): void {
    if (writes.length === 0) return;
    this.stats.batches++;
    this.stats.writes += writes.length;
    for (const write of writes) this.#pending.push(write);
    carryOut(writes);
  }

  /** The persister reported every write up to `writeSeq` durable. */
  completed(writeSeq: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.writeSeq <= writeSeq) {
      this.#durable = applyWrite(this.#durable, this.#pending.shift()!.request);
    }
  }

  /**
   * The least a restart must find: the state after the writes reported durable, lowered by any
   * prefix of the writes still in flight that may have reached the disk (a truncation, an install).
   * Null when the disk was corrupted or lies about fsync: then nothing can be promised.
   */
  durableLowerBound(): DurableState | null {
    if (this.#corrupted || this.#lying || this.#faults.lyingFsync === true || this.#faults.recoveryCheck === false) return null;
    return this.#bound();
  }

  #bound(): DurableState {
    let state = this.#durable;
    const bound = { ...state };
    for (const write of this.#pending) {
      state = applyWrite(state, write.request);
      bound.lastZxid = Math.min(bound.lastZxid, state.lastZxid);
      bound.acceptedEpoch = Math.min(bound.acceptedEpoch, state.acceptedEpoch);
      bound.currentEpoch = Math.min(bound.currentEpoch, state.currentEpoch);
    }
    return bound;
  }

  /** A restart recovered this: from now on it is what the disk holds. */
  recovered(state: DurableState): void {
    this.#durable = { ...state };
    this.#pending = [];
    this.#corrupted = false;
  }

  // ------------------------------------------------------------------------------------------------
  // Process lives

  /** The file system as a new process sees it; fails once that process crashed or stopped. */
  open(): FileSystem {
    const life = ++this.#life;
    return lifeView(() => this.#fs, () => life === this.#life);
  }

  /** Resolves after a moment of virtual time: how a snapshot lets the replica run between slices. */
  yieldToEventLoop(): Promise<void> {
    return new Promise((resolve) => {
      this.#scheduler.after(Math.max(0.01, this.#faults.writeMsMin), () => {
        this.#onActivity();
        resolve();
      });
    });
  }

  /**
   * Power loss. Each file keeps its synced bytes and, per `keep` (default drawn from the faults:
   * none, all, or a prefix cut at a random byte), some of its unsynced ones. Returns what was lost
   * or kept, for the trace.
   */
  crash(keep?: KeepUnsynced): string {
    this.#life++;
    // Writes in flight are gone, but any prefix of them may have landed first.
    this.#durable = this.#bound();
    this.#pending = [];
    const policy = keep ?? this.#drawKeep();
    let kept = 0;
    let torn = 0;
    let unsyncedFiles = 0;
    this.#fs.crash((_path, unsynced) => {
      unsyncedFiles++;
      const count = policy === "none" ? 0 : policy === "all" ? unsynced : policy === "torn" ? this.#prng.int(unsynced + 1) : policy;
      if (count > 0) kept++;
      if (count > 0 && count < unsynced) torn++;
      return count;
    });
    if (kept > 0) this.stats.unreportedKept++;
    if (torn > 0) this.stats.tornAppends++;
    return unsyncedFiles === 0 ? "nothing unsynced" : `unsynced bytes of ${unsyncedFiles} file(s): ${kept} kept (${torn} torn)`;
  }

  /** The process stopped (a storage failure) without a power loss: written bytes stay, unsynced. */
  kill(): void {
    this.#life++;
    this.#fs.killProcess();
  }

  /** Replaces the disk by an empty one (an operator replacing a damaged disk). */
  wipe(): void {
    this.#life++;
    this.#fs = this.#newFileSystem();
    this.#durable = { lastZxid: 0, acceptedEpoch: 0, currentEpoch: 0 };
    this.#pending = [];
    this.#corrupted = false;
    this.stats.wipes++;
  }

  // ------------------------------------------------------------------------------------------------
  // Faults on demand (the nemesis picks the moment)

  /**
   * A bad sector: flips one random bit of the durable (synced) bytes, anywhere (log, snapshots,
   * epoch files, format marker), or the one `at` names. Returns where, or null if nothing durable is
   * stored yet.
   */
  corruptSector(at?: { path: string; offset: number; bit?: number }): { path: string; offset: number; bit: number } | null {
    if (at !== undefined) {
      const bit = at.bit ?? this.#prng.int(8);
      this.#fs.flipBit(at.path, at.offset, bit);
      this.#corrupted = true;
      this.stats.corruptions++;
      return { path: at.path, offset: at.offset, bit };
    }
    const files = this.#fs.files().filter((file) => file.synced > 0);
    const total = files.reduce((sum, file) => sum + file.synced, 0);
    if (total === 0) return null;
    let offset = this.#prng.int(total);
    for (const file of files) {
      if (offset < file.synced) {
        const bit = this.#prng.int(8);
        this.#fs.flipBit(file.path, offset, bit);
        this.#corrupted = true;
        this.stats.corruptions++;
        return { path: file.path, offset, bit };
      }
      offset -= file.synced;
    }
    return null;
  }

  /** The next `count` fsyncs fail with EIO. */
  failNextFsync(count = 1): void {
    this.#failFsyncs = count;
  }

  /** Only `bytes` more bytes fit (writes past them fail with ENOSPC part-way); null: space again. */
  diskFull(bytes: number | null): void {
    this.#bytesLeft = bytes === null ? null : Math.max(0, Math.floor(bytes));
  }

  /** Turns the lying fsync on or off for this disk (besides the plan's `lyingFsync`). */
  setLyingFsync(lying: boolean): void {
    this.#lying = lying;
    this.#fs.setLyingSync(lying || this.#faults.lyingFsync === true);
  }

  // ------------------------------------------------------------------------------------------------

  #drawKeep(): KeepUnsynced {
    if (!chance(this.#prng, this.#faults.unreportedKeepRate)) return "none";
    return chance(this.#prng, this.#faults.tearRate) ? "torn" : "all";
  }

  #newFileSystem(): MemoryFileSystem {
    const fs = new MemoryFileSystem({
      seed: this.#prng.int(2 ** 31),
      latencyMs: 1,
      sleep: (_ms, op) => this.#sleep(op),
    });
    fs.failWhen((context) => this.#fault(context));
    fs.setLyingSync(this.#lying || this.#faults.lyingFsync === true);
    return fs;
  }

  /** Reads complete at once; writes take a moment, fsyncs the drawn latency. */
  #sleep(op: FaultOp | "read"): Promise<void> {
    if (READ_OPS.has(op)) return Promise.resolve();
    const faults = this.#faults;
    const latencyMs = SYNC_OPS.has(op)
      ? between(this.#prng, faults.writeMsMin, faults.writeMsMax)
      : between(this.#prng, 0.002, 0.02);
    return new Promise((resolve) => {
      this.#scheduler.after(latencyMs * this.#slowFactor, () => {
        this.#onActivity();
        resolve();
      });
    });
  }

  #fault(context: FaultContext): "EIO" | "ENOSPC" | PartialWriteFault | undefined {
    const faults = this.#faults;
    if (context.op === "sync" || context.op === "syncDir" || context.op === "writeFileAtomic") {
      if (this.#failFsyncs > 0 || ((faults.fsyncErrorRate ?? 0) > 0 && chance(this.#prng, faults.fsyncErrorRate!))) {
        if (this.#failFsyncs > 0) this.#failFsyncs--;
        this.stats.fsyncErrors++;
        return "EIO";
      }
    }
    if ((context.op === "append" || context.op === "writeFileAtomic") && context.bytes !== undefined) {
      if (this.#bytesLeft !== null) {
        if (context.bytes > this.#bytesLeft) {
          const written = this.#bytesLeft;
          this.#bytesLeft = 0;
          this.stats.diskFullErrors++;
          return context.op === "append" ? { code: "ENOSPC", bytesWritten: written } : "ENOSPC";
        }
        this.#bytesLeft -= context.bytes;
      }
      if (context.op === "append" && (faults.diskFullRate ?? 0) > 0 && chance(this.#prng, faults.diskFullRate!)) {
        this.stats.diskFullErrors++;
        return { code: "ENOSPC", bytesWritten: this.#prng.int(context.bytes + 1) };
      }
    }
    return undefined;
  }
}

/** The state after one more write is carried out. */
function applyWrite(state: DurableState, request: PersistRequest): DurableState {
  switch (request.kind) {
    case "append":
      return request.entries.length === 0 ? state : { ...state, lastZxid: request.entries[request.entries.length - 1]!.header.zxid };
    case "truncate":
      return { ...state, lastZxid: Math.min(state.lastZxid, request.zxid) };
    case "installSnapshot":
      return { ...state, lastZxid: request.header.zxid };
    case "epochs":
      return {
        ...state,
        ...(request.acceptedEpoch === undefined ? {} : { acceptedEpoch: request.acceptedEpoch }),
        ...(request.currentEpoch === undefined ? {} : { currentEpoch: request.currentEpoch }),
      };
  }
}

/** Describes what a restart must have kept, for a violation message. */
export function describeDurable(state: DurableState): string {
  return `log to ${zxidHex(state.lastZxid)}, epochs ${state.acceptedEpoch}/${state.currentEpoch}`;
}

/** `fs()` as one process life sees it: every operation fails once `alive()` is false. */
function lifeView(fs: () => FileSystem, alive: () => boolean): FileSystem {
  const dead = (path: string) => new FileSystemError("EIO", path, "this process has stopped (simulated crash)");
  const guard = async <T>(path: string, run: () => Promise<T>): Promise<T> => {
    if (!alive()) throw dead(path);
    return await run();
  };
  return {
    list: (dir) => guard(dir, () => fs().list(dir)),
    readFile: (path) => guard(path, () => fs().readFile(path)),
    openAppend: (path) =>
      guard(path, async () => {
        const file = await fs().openAppend(path);
        return guardFile(file, path, alive, dead);
      }),
    writeFileAtomic: (path, chunks) => guard(path, () => fs().writeFileAtomic(path, chunks)),
    rename: (from, to) => guard(from, () => fs().rename(from, to)),
    remove: (path) => guard(path, () => fs().remove(path)),
    mkdirp: (dir) => guard(dir, () => fs().mkdirp(dir)),
    syncDir: (dir) => guard(dir, () => fs().syncDir(dir)),
    join: (...parts) => fs().join(...parts),
  };
}

function guardFile(file: StorageFile, path: string, alive: () => boolean, dead: (path: string) => Error): StorageFile {
  const guard = async (run: () => Promise<void>): Promise<void> => {
    if (!alive()) throw dead(path);
    await run();
  };
  return {
    get size() {
      return file.size;
    },
    append: (bytes) => guard(() => file.append(bytes)),
    sync: () => guard(() => file.sync()),
    close: () => file.close(),
    truncate: (size) => guard(() => file.truncate(size)),
  };
}
