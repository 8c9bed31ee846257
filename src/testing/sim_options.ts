/**
 * The simulator's options, and the fault plan of one run. With `swarm` (the default) each seed
 * draws its own plan: which faults are on and how hard (VOPR's swarm testing), so a campaign covers
 * quiet runs, single-fault runs and storms. Without it every fault is on at a moderate rate.
 */
import type { PeerCodec } from "./sim_network.ts";
import type { DiskFaults } from "./sim_disk.ts";
import type { NetworkFaults } from "./sim_network.ts";
import type { ClientOptions } from "./sim_client.ts";
import type { WorkloadOptions } from "./sim_workload.ts";
import type { Prng } from "./prng.ts";
import { between, chance, intBetween } from "./sim_random.ts";

export interface SimOptions {
  seed: number;
  /** Voting members (3 to 13). */
  voters: number;
  /** Non-voting members. */
  observers: number;
  /** Length of the fault phase, in replica ticks. */
  ticks: number;
  /** Simulated clients (each one session at a time). */
  clients: number;
  /** Draw the fault plan from the seed (default true). */
  swarm: boolean;
  /** The liveness phase fails if the ensemble has not converged after this long (virtual ms). */
  livenessMsMax: number;
  /** How peer messages are copied (default: structuredClone). */
  codec?: PeerCodec;
  /** Replaces parts of the drawn plan (tests use this to force a fault on or off). */
  plan?: Partial<FaultPlan>;
  /** Events a run may take before it is declared stuck. */
  eventsMax: number;
  /** Receives a line per peer message, persist and connection loss (for debugging one seed). */
  verbose?: (line: string) => void;
}

export const TICK_TIME_MS = 100;

export const DEFAULT_OPTIONS: Omit<SimOptions, "seed"> = {
  voters: 3,
  observers: 0,
  ticks: 60,
  clients: 4,
  swarm: true,
  livenessMsMax: 120_000,
  eventsMax: 2_000_000,
};

export interface FaultPlan {
  network: NetworkFaults;
  disk: DiskFaults;
  /** Mean virtual time between fault actions: uniform in [min, max). */
  actionMsMin: number;
  actionMsMax: number;
  crashes: boolean;
  /** Voters down at once, at most. */
  downVotersMax: number;
  downMsMin: number;
  downMsMax: number;
  partitions: boolean;
  asymmetricPartitions: boolean;
  isolateLeader: boolean;
  partitionMsMin: number;
  partitionMsMax: number;
  connectionBreaks: boolean;
  delaySpikes: boolean;
  slowDisks: boolean;
  /** Clock rates are drawn in [1 - drift, 1 + drift]. */
  clockDrift: number;
  clockJumps: boolean;
  clientDrops: boolean;
  /** Server snapCount (small values exercise fuzzy snapshots and recovery from them). */
  snapshotTxnCount: number;
  /** Committed txns kept for DIFF (small values force SNAP). */
  committedLogMax: number;
  client: ClientOptions;
  workload: WorkloadOptions;
}

/** Every fault on, at moderate rates. */
export function defaultPlan(voters: number): FaultPlan {
  return {
    network: {
      delayMsMin: 0.5,
      delayMsMax: 8,
      lossRate: 0.0005,
      duplicateRate: 0.0005,
      reorderRate: 0.0005,
      detectMsMin: 1,
      detectMsMax: 300,
      capacity: 2_000,
    },
    disk: { writeMsMin: 0.2, writeMsMax: 4, unreportedKeepRate: 0.5, tearRate: 0.5, snapshotNodesPerStep: 8 },
    actionMsMin: 200,
    actionMsMax: 1_500,
    crashes: true,
    downVotersMax: Math.floor((voters - 1) / 2),
    downMsMin: 100,
    downMsMax: 3_000,
    partitions: true,
    asymmetricPartitions: true,
    isolateLeader: true,
    partitionMsMin: 200,
    partitionMsMax: 3_000,
    connectionBreaks: true,
    delaySpikes: true,
    slowDisks: true,
    clockDrift: 0.02,
    clockJumps: true,
    clientDrops: true,
    snapshotTxnCount: 40,
    committedLogMax: 30,
    client: { sessionTimeoutMs: 4_000, pipelineMax: 3, thinkMsMin: 5, thinkMsMax: 60, reconnectMsMin: 5, reconnectMsMax: 300 },
    workload: { keys: 4, children: 3, watchRate: 0.5, closeSessionRate: 0.003 },
  };
}

/** A plan drawn from the seed: each fault on or off, each rate somewhere in its range. */
export function swarmPlan(prng: Prng, voters: number): FaultPlan {
  const base = defaultPlan(voters);
  const on = (probability = 0.6) => chance(prng, probability);
  const breakRate = on(0.5) ? between(prng, 0, 0.003) : 0;
  const delayMsMax = between(prng, 1, 30);
  return {
    network: {
      delayMsMin: between(prng, 0.1, Math.min(2, delayMsMax)),
      delayMsMax,
      lossRate: breakRate * prng.next(),
      duplicateRate: breakRate * prng.next(),
      reorderRate: breakRate * prng.next(),
      detectMsMin: between(prng, 0.5, 5),
      detectMsMax: between(prng, 5, 1_000),
      capacity: on(0.2) ? intBetween(prng, 50, 500) : 5_000,
    },
    disk: {
      writeMsMin: between(prng, 0.05, 1),
      writeMsMax: between(prng, 1, 15),
      unreportedKeepRate: prng.next(),
      tearRate: prng.next(),
      snapshotNodesPerStep: intBetween(prng, 1, 50),
    },
    actionMsMin: between(prng, 50, 500),
    actionMsMax: between(prng, 500, 3_000),
    crashes: on(0.7),
    downVotersMax: on(0.15) ? voters : intBetween(prng, 1, Math.max(1, Math.floor((voters - 1) / 2))),
    downMsMin: between(prng, 10, 500),
    downMsMax: between(prng, 500, 6_000),
    partitions: on(),
    asymmetricPartitions: on(0.4),
    isolateLeader: on(0.5),
    partitionMsMin: between(prng, 50, 500),
    partitionMsMax: between(prng, 500, 5_000),
    connectionBreaks: on(0.5),
    delaySpikes: on(0.4),
    slowDisks: on(0.4),
    clockDrift: on(0.5) ? between(prng, 0, 0.05) : 0,
    clockJumps: on(0.3),
    clientDrops: on(0.5),
    snapshotTxnCount: on(0.6) ? intBetween(prng, 5, 80) : 100_000,
    committedLogMax: on(0.5) ? intBetween(prng, 1, 40) : 10_000,
    client: {
      sessionTimeoutMs: between(prng, 1_000, 8_000),
      pipelineMax: intBetween(prng, 1, 5),
      thinkMsMin: between(prng, 1, 20),
      thinkMsMax: between(prng, 20, 150),
      reconnectMsMin: between(prng, 1, 50),
      reconnectMsMax: between(prng, 50, 500),
    },
    workload: {
      keys: intBetween(prng, 1, 6),
      children: intBetween(prng, 1, 4),
      watchRate: prng.next(),
      closeSessionRate: on(0.5) ? between(prng, 0, 0.01) : 0,
    },
  };
}

/** The plan's switches in one line (printed with a failure). */
export function describePlan(plan: FaultPlan): string {
  const on = [
    plan.crashes && `crashes(≤${plan.downVotersMax} voters)`,
    plan.partitions && "partitions",
    plan.asymmetricPartitions && "asymmetric",
    plan.isolateLeader && "isolate-leader",
    plan.connectionBreaks && "connection-breaks",
    plan.delaySpikes && "delay-spikes",
    plan.slowDisks && "slow-disks",
    plan.clockDrift > 0 && `drift ±${(plan.clockDrift * 100).toFixed(1)}%`,
    plan.clockJumps && "clock-jumps",
    plan.clientDrops && "client-drops",
  ].filter(Boolean);
  const net = plan.network;
  const breaks = net.lossRate + net.duplicateRate + net.reorderRate;
  return `faults: ${on.join(", ") || "none"}; net ${net.delayMsMin.toFixed(1)}-${net.delayMsMax.toFixed(1)} ms, breaks ${(breaks * 100).toFixed(2)}%/msg; ` +
    `disk ${plan.disk.writeMsMin.toFixed(1)}-${plan.disk.writeMsMax.toFixed(1)} ms; snapCount ${plan.snapshotTxnCount}, committedLog ${plan.committedLogMax}; ` +
    `session ${Math.round(plan.client.sessionTimeoutMs)} ms, pipeline ${plan.client.pipelineMax}`;
}
