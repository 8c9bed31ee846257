/**
 * The fault injector of the fault phase: at random intervals it picks one of the faults the plan
 * allows and applies it (crash and later restart, partitions, connection breaks, delay spikes, slow
 * disks, clock jumps, client connection drops). Everything it does goes into the trace.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import type { SimClient } from "./sim_client.ts";
import type { DriftingClock } from "./sim_clock.ts";
import type { SimDisk } from "./sim_disk.ts";
import type { SimNetwork } from "./sim_network.ts";
import type { FaultPlan } from "./sim_options.ts";
import { between, intBetween, pick, sample } from "./sim_random.ts";

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

export interface NemesisStats {
  crashes: number;
  restarts: number;
  partitions: number;
  connectionBreaks: number;
  spikes: number;
  slowDisks: number;
  clockJumps: number;
  clientDrops: number;
}

export class Nemesis {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #plan: FaultPlan;
  readonly #target: FaultTarget;
  readonly #actions: Action[] = [];
  #stopped = false;
  readonly stats: NemesisStats = {
    crashes: 0,
    restarts: 0,
    partitions: 0,
    connectionBreaks: 0,
    spikes: 0,
    slowDisks: 0,
    clockJumps: 0,
    clientDrops: 0,
  };

  constructor(options: { scheduler: Scheduler; prng: Prng; plan: FaultPlan; target: FaultTarget }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#plan = options.plan;
    this.#target = options.target;
    const plan = this.#plan;
    if (plan.crashes) this.#actions.push(() => this.#crash());
    if (plan.partitions) this.#actions.push(() => this.#partition());
    if (plan.asymmetricPartitions) this.#actions.push(() => this.#asymmetric());
    if (plan.isolateLeader) this.#actions.push(() => this.#isolateLeader());
    if (plan.connectionBreaks) this.#actions.push(() => this.#breakConnection());
    if (plan.delaySpikes) this.#actions.push(() => this.#spike());
    if (plan.slowDisks) this.#actions.push(() => this.#slowDisk());
    if (plan.clockJumps) this.#actions.push(() => this.#clockJump());
    if (plan.clientDrops) this.#actions.push(() => this.#clientDrop());
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

  #crash(): void {
    const target = this.#target;
    const downVoters = target.voters.filter((sid) => target.isDown(sid)).length;
    const candidates = target.members.filter((sid) =>
      !target.isDown(sid) && (!target.voters.includes(sid) || downVoters < this.#plan.downVotersMax)
    );
    if (candidates.length === 0) return;
    const sid = pick(this.#prng, candidates);
    target.crash(sid);
    this.stats.crashes++;
    this.#later(between(this.#prng, this.#plan.downMsMin, this.#plan.downMsMax), () => {
      if (!target.isDown(sid)) return;
      target.restart(sid);
      this.stats.restarts++;
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
    this.stats.partitions++;
    this.#heal(this.#duration());
  }

  #isolateLeader(): void {
    const leader = this.#target.leader();
    if (leader === null) return;
    this.#target.network.isolate(leader);
    this.#target.trace(`isolate leader ${leader}`);
    this.stats.partitions++;
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

  #clockJump(): void {
    const sid = pick(this.#prng, this.#target.members);
    const forwardMs = between(this.#prng, 50, 3_000);
    this.#target.clock(sid).jump(forwardMs);
    this.#target.trace(`clock ${sid} jumps +${forwardMs.toFixed(0)} ms`);
    this.stats.clockJumps++;
  }

  #clientDrop(): void {
    const clients = this.#target.clients();
    if (clients.length === 0) return;
    const client = pick(this.#prng, clients);
    client.dropConnection();
    this.stats.clientDrops++;
  }
}
