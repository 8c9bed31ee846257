/**
 * The fault injector of the fault phase: at random intervals it picks one of the faults the plan
 * allows and applies it (crash and later restart — some aimed at the moment a member has issued a
 * write and not yet synced it —, partitions, one-way cuts, leader isolation, connection breaks,
 * delay spikes, slow disks, clock steps forward and back, client connection drops). Everything it
 * does goes into the trace and is counted by kind.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import type { SimClient } from "./sim_client.ts";
import type { DriftingClock } from "./sim_clock.ts";
import type { SimDisk } from "./sim_disk.ts";
import type { SimNetwork } from "./sim_network.ts";
import type { FaultPlan } from "./sim_options.ts";
import { between, chance, intBetween, pick, sample } from "./sim_random.ts";

/** What the nemesis may act on. */
export interface FaultTarget {
  readonly members: readonly Sid[];
  readonly voters: readonly Sid[];
  readonly network: SimNetwork;
  isDown(sid: Sid): boolean;
  crash(sid: Sid): void;
  restart(sid: Sid): void;
  /** The member leading an established epoch, if any. */
  leader(): Sid | null;
  disk(sid: Sid): SimDisk;
  clock(sid: Sid): DriftingClock;
  clients(): readonly SimClient[];
  trace(message: string): void;
}

type Action = () => void;

/** Faults injected, by kind. */
export interface NemesisStats {
  crashes: number;
  /** Crashes of a member that had issued a write and not yet synced it (aimed there). */
  aimedCrashes: number;
  /** Crashes that left a majority of the voters down. */
  majorityDown: number;
  /** Writes issued but not yet synced when their member crashed (lost, or kept unreported). */
  unsyncedAtCrash: number;
  restarts: number;
  partitions: number;
  oneWayCuts: number;
  leaderIsolations: number;
  connectionBreaks: number;
  spikes: number;
  slowDisks: number;
  clockJumpsForward: number;
  clockJumpsBack: number;
  clientDrops: number;
  /** fsyncs made to fail with EIO. */
  fsyncErrors: number;
  /** Times a disk was made to fill up part-way through a write. */
  diskFulls: number;
}

export function emptyNemesisStats(): NemesisStats {
  return {
    crashes: 0,
    aimedCrashes: 0,
    majorityDown: 0,
    unsyncedAtCrash: 0,
    restarts: 0,
    partitions: 0,
    oneWayCuts: 0,
    leaderIsolations: 0,
    connectionBreaks: 0,
    spikes: 0,
    slowDisks: 0,
    clockJumpsForward: 0,
    clockJumpsBack: 0,
    clientDrops: 0,
    fsyncErrors: 0,
    diskFulls: 0,
  };
}

/** How long an aimed crash waits for its member to issue a write before it gives up. */
const AIM_WAIT_MS = 400;

/**
 * Calls `listener` whenever `disk` is handed a batch of writes (after it took them, before they
 * are synced). The nemesis aims crashes with it; it wraps the disk's `writeBatch`, the one door
 * every replica write goes through in SimCluster.
 */
function watchWrites(disk: SimDisk, listener: () => void): void {
  const writeBatch = disk.writeBatch.bind(disk);
  disk.writeBatch = (writes, persisted) => {
    writeBatch(writes, persisted);
    if (writes.length > 0) listener();
  };
}

export class Nemesis {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #plan: FaultPlan;
  readonly #target: FaultTarget;
  readonly #actions: Action[] = [];
  #stopped = false;
  /** An aimed crash waiting for its member (null: any member) to issue a write. */
  #aim: { sid: Sid | null; untilMs: number } | null = null;
  readonly stats: NemesisStats = emptyNemesisStats();

  constructor(options: { scheduler: Scheduler; prng: Prng; plan: FaultPlan; target: FaultTarget }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#plan = options.plan;
    this.#target = options.target;
    const plan = this.#plan;
    if (plan.crashes) this.#actions.push(() => this.#crash());
    if (plan.crashes && plan.aimedCrashes) {
      this.#actions.push(() => this.#aimCrash(), () => this.#aimCrash());
      for (const sid of this.#target.members) watchWrites(this.#target.disk(sid), () => this.#wrote(sid));
    }
    if (plan.partitions) this.#actions.push(() => this.#partition());
    if (plan.asymmetricPartitions) this.#actions.push(() => this.#asymmetric());
    if (plan.isolateLeader) this.#actions.push(() => this.#isolateLeader());
    if (plan.connectionBreaks) this.#actions.push(() => this.#breakConnection());
    if (plan.delaySpikes) this.#actions.push(() => this.#spike());
    if (plan.slowDisks) this.#actions.push(() => this.#slowDisk());
    if (plan.clockJumps) this.#actions.push(() => this.#clockJump());
    if (plan.clientDrops) this.#actions.push(() => this.#clientDrop());
    if (plan.diskErrors) this.#actions.push(() => this.#fsyncError(), () => this.#diskFull());
  }

  /** Acts at random intervals until `untilMs` (or `stop`). */
  start(untilMs: number): void {
    if (this.#actions.length === 0) return;
    const next = () => {
      if (this.#stopped || this.#scheduler.nowMs >= untilMs) return;
      pick(this.#prng, this.#actions)();
      this.#scheduler.after(between(this.#prng, this.#plan.actionMsMin, this.#plan.actionMsMax), next);
    };
    this.#scheduler.after(between(this.#prng, this.#plan.actionMsMin, this.#plan.actionMsMax), next);
  }

  /** No more faults; pending heals and restarts are left to the liveness phase. */
  stop(): void {
    this.#stopped = true;
  }

  #later(delayMs: number, action: () => void): void {
    this.#scheduler.after(delayMs, () => {
      if (!this.#stopped) action();
    });
  }

  /** Members that may crash now without exceeding the plan's bound on voters down. */
  #crashable(): Sid[] {
    const target = this.#target;
    const downVoters = target.voters.filter((sid) => target.isDown(sid)).length;
    return target.members.filter((sid) =>
      !target.isDown(sid) && (!target.voters.includes(sid) || downVoters < this.#plan.downVotersMax)
    );
  }

  #crash(): void {
    const candidates = this.#crashable();
    if (candidates.length === 0) return;
    this.#crashMember(pick(this.#prng, candidates), false);
  }

  #crashMember(sid: Sid, aimed: boolean): void {
    const target = this.#target;
    const unsynced = target.disk(sid).pendingWrites;
    const majority = () => target.voters.filter((voter) => target.isDown(voter)).length > target.voters.length / 2;
    const majorityBefore = majority();
    target.crash(sid);
    this.stats.crashes++;
    this.stats.unsyncedAtCrash += unsynced;
    if (aimed) this.stats.aimedCrashes++;
    if (aimed) target.trace(`(aimed: ${sid} had ${unsynced} write(s) issued and not synced)`);
    if (!majorityBefore && majority()) this.stats.majorityDown++;
    this.#later(between(this.#prng, this.#plan.downMsMin, this.#plan.downMsMax), () => {
      if (!target.isDown(sid)) return;
      target.restart(sid);
      this.stats.restarts++;
    });
  }

  /**
   * Arms a crash for the next write a member issues: the leader, a random member, or whichever
   * writes first. It fires a moment later, while that write is still unsynced (and, for a follower
   * with a bug, after an ack it should not have sent yet).
   */
  #aimCrash(): void {
    const candidates = this.#crashable();
    if (candidates.length === 0) return;
    const leader = this.#target.leader();
    const roll = this.#prng.int(3);
    const sid = roll === 0 ? null : roll === 1 && leader !== null && candidates.includes(leader) ? leader : pick(this.#prng, candidates);
    this.#aim = { sid, untilMs: this.#scheduler.nowMs + AIM_WAIT_MS };
  }

  #wrote(sid: Sid): void {
    const aim = this.#aim;
    if (aim === null || this.#stopped) return;
    if (this.#scheduler.nowMs > aim.untilMs) {
      this.#aim = null;
      return;
    }
    if (aim.sid !== null && aim.sid !== sid) return;
    this.#aim = null;
    // Before the batch can complete: its latency is at least writeMsMin.
    const delayMs = between(this.#prng, 0, this.#plan.disk.writeMsMin * 0.9);
    this.#scheduler.after(delayMs, () => {
      if (this.#stopped || this.#target.isDown(sid) || !this.#crashable().includes(sid)) return;
      this.#crashMember(sid, true);
    });
  }

  /**
   * A member (the leader) just logged a reconfig proposal. With crashes on, a third of the time it
   * crashes a moment later, before the proposal can commit: the window where a new leader must
   * count both memberships and a proposal some members saw may be lost. Called only when the seed
   * reconfigures, so other seeds draw nothing here.
   */
  reconfigProposed(sid: Sid): void {
    if (this.#stopped || !this.#plan.crashes || !chance(this.#prng, 1 / 3)) return;
    const delayMs = between(this.#prng, 0, 5);
    this.#scheduler.after(delayMs, () => {
      if (this.#stopped || this.#target.isDown(sid) || !this.#crashable().includes(sid)) return;
      this.#target.trace(`(aimed: ${sid} just proposed a reconfig)`);
      this.#crashMember(sid, true);
    });
  }

  #heal(afterMs: number): void {
    this.#later(afterMs, () => {
      this.#target.network.heal();
      this.#target.trace("heal");
    });
  }

  #duration(): number {
    return between(this.#prng, this.#plan.partitionMsMin, this.#plan.partitionMsMax);
  }

  #partition(): void {
    const members = this.#target.members;
    const side = sample(this.#prng, members, intBetween(this.#prng, 1, members.length - 1));
    const other = members.filter((sid) => !side.includes(sid));
    this.#target.network.partition([side, other]);
    this.#target.trace(`partition [${side.join(",")}] | [${other.join(",")}]`);
    this.stats.partitions++;
    this.#heal(this.#duration());
  }

  #asymmetric(): void {
    const members = this.#target.members;
    const cuts: string[] = [];
    for (let i = intBetween(this.#prng, 1, members.length); i > 0; i--) {
      const [from, to] = sample(this.#prng, members, 2) as [Sid, Sid];
      this.#target.network.cut(from, to);
      cuts.push(`${from}->${to}`);
    }
    this.#target.trace(`cut ${cuts.join(" ")}`);
    this.stats.oneWayCuts++;
    this.#heal(this.#duration());
  }

  /**
   * Cuts the leader off from a majority: alone, or (half the time) together with a minority of
   * followers and observers, which keep serving their clients under a leader that has lost its
   * quorum while the majority elects another (a stale leader must not answer syncs or commit).
   */
  #isolateLeader(): void {
    const target = this.#target;
    const leader = target.leader();
    if (leader === null) return;
    const others = target.members.filter((sid) => sid !== leader);
    const votersMax = Math.floor((target.voters.length - 1) / 2) - (target.voters.includes(leader) ? 1 : 0);
    const company: Sid[] = [];
    if (chance(this.#prng, 0.5)) {
      let voters = 0;
      for (const sid of sample(this.#prng, others, this.#prng.int(others.length))) {
        const voter = target.voters.includes(sid);
        if (voter && voters >= votersMax) continue;
        if (voter) voters++;
        company.push(sid);
      }
    }
    if (company.length === 0) {
      target.network.isolate(leader);
      target.trace(`isolate leader ${leader}`);
    } else {
      const side = [leader, ...company];
      target.network.partition([side, others.filter((sid) => !company.includes(sid))]);
      target.trace(`isolate leader ${leader} with a minority [${side.join(",")}]`);
    }
    this.stats.leaderIsolations++;
    this.#heal(this.#duration());
  }

  #breakConnection(): void {
    const [a, b] = sample(this.#prng, this.#target.members, 2) as [Sid, Sid];
    this.#target.network.breakConnection(a, b);
    this.#target.trace(`break connection ${a}-${b}`);
    this.stats.connectionBreaks++;
  }

  #spike(): void {
    const [from, to] = sample(this.#prng, this.#target.members, 2) as [Sid, Sid];
    const extraMs = between(this.#prng, 20, 800);
    const untilMs = this.#scheduler.nowMs + between(this.#prng, 100, 3_000);
    this.#target.network.spike(from, to, extraMs, untilMs);
    this.#target.trace(`delay ${from}->${to} +${extraMs.toFixed(0)} ms until ${untilMs.toFixed(0)}`);
    this.stats.spikes++;
  }

  #slowDisk(): void {
    const sid = pick(this.#prng, this.#target.members);
    const factor = between(this.#prng, 5, 60);
    this.#target.disk(sid).setSlowFactor(factor);
    this.#target.trace(`disk ${sid} slow x${factor.toFixed(0)}`);
    this.stats.slowDisks++;
    this.#scheduler.after(between(this.#prng, 200, 3_000), () => this.#target.disk(sid).setSlowFactor(1));
  }

  /** A member's wall clock steps forward, or (if the plan allows) back. */
  #clockJump(): void {
    const sid = pick(this.#prng, this.#target.members);
    const back = this.#plan.backwardJumps && chance(this.#prng, 0.5);
    const stepMs = between(this.#prng, 50, Math.max(50, this.#plan.clockJumpMsMax));
    this.#target.clock(sid).jump(back ? -stepMs : stepMs);
    this.#target.trace(`clock ${sid} steps ${back ? "back" : "forward"} ${stepMs.toFixed(0)} ms`);
    if (back) this.stats.clockJumpsBack++;
    else this.stats.clockJumpsForward++;
  }

  /** The next fsync of one member fails with EIO (the member stops; it is restarted later). */
  #fsyncError(): void {
    const sid = pick(this.#prng, this.#target.members);
    this.#target.disk(sid).failNextFsync(1);
    this.#target.trace(`disk ${sid}: next fsync fails (EIO)`);
    this.stats.fsyncErrors++;
    // A member that stopped on it is down: bring it back like a crashed one.
    this.#later(between(this.#prng, this.#plan.downMsMin, this.#plan.downMsMax) + 200, () => {
      if (this.#target.isDown(sid)) this.#target.restart(sid);
    });
  }

  /** One member's disk fills up a few bytes from now, for a while (ENOSPC part-way through a write). */
  #diskFull(): void {
    const sid = pick(this.#prng, this.#target.members);
    const disk = this.#target.disk(sid);
    const bytes = this.#prng.int(2_000);
    disk.diskFull(bytes);
    this.#target.trace(`disk ${sid}: full after ${bytes} more bytes`);
    this.stats.diskFulls++;
    this.#scheduler.after(between(this.#prng, 100, 3_000), () => {
      disk.diskFull(null);
      this.#target.trace(`disk ${sid}: space again`);
    });
  }

  #clientDrop(): void {
    const clients = this.#target.clients();
    if (clients.length === 0) return;
    const client = pick(this.#prng, clients);
    client.dropConnection();
    this.stats.clientDrops++;
  }
}
