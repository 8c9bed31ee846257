/**
 * The simulator's options, and the fault plan of one run. With `swarm` (the default) each seed
 * draws its own plan, as FoundationDB and TigerBeetle do: a profile (mixed, crash storm, network,
 * clocks, slow, disk, quiet), then which faults are on and how hard, the run's length (3 s to 50 s
 * of faults), the server settings and the workload's mix — so a campaign covers quiet runs,
 * single-fault runs and storms. Without it every fault is on at a moderate rate.
 */
import type { PeerCodec } from "./sim_network.ts";
import type { DiskFaults } from "./sim_disk.ts";
import type { NetworkFaults } from "./sim_network.ts";
import type { ClientOptions } from "./sim_client.ts";
import type { WorkloadOptions } from "./sim_workload.ts";
import { createPrng, type Prng } from "./prng.ts";
import { between, chance, intBetween } from "./sim_random.ts";

import { type WorkloadFeatures, NO_FEATURES } from "./sim_workload.ts";

export interface SimOptions {
  seed: number;
  /** Voting members (3 to 13). */
  voters: number;
  /** Non-voting members. */
  observers: number;
  /**
   * Length of the fault phase, in replica ticks. Unset: the plan's (drawn per seed with swarm, from
   * short runs to long ones; 60 without).
   */
  ticks?: number;
  /** Simulated clients (each one session at a time). */
  clients: number;
  /** Draw the fault plan from the seed (default true). */
  swarm: boolean;
  /**
   * The liveness phase fails if the ensemble has not converged this long (virtual ms) after faults
   * stopped. Healthy runs converge in ≤ 12 s (see LIVENESS_MS_MAX); 120 s hid stuck sessions.
   */
  livenessMsMax: number;
  /** Check that every session closes once its client falls silent (default true). */
  sessionLiveness: boolean;
  /** How peer messages are copied (default: structuredClone). */
  codec?: PeerCodec;
  /**
   * localSessionsEnabled on every member: null off, an object on; unset, drawn per seed (swarm, with
   * no `plan` given: drawLocalSessions), else off.
   */
  localSessions?: { upgrading: boolean } | null;
  /**
   * Dynamic reconfiguration (sim_reconfig.ts): every member gets the ensemble's membership and
   * reconfigEnabled, client 1 is a super user that sends reconfig requests now and then. Unset:
   * drawn per seed (swarm, with no `plan` given: drawReconfig, about a third), else off.
   */
  reconfig?: boolean;
  /** Replaces parts of the drawn plan (tests use this to force a fault on or off). */
  plan?: Partial<FaultPlan>;
  /** Replaces parts of the drawn workload mix (tests use this to force a request kind on). */
  workloadFeatures?: Partial<WorkloadFeatures>;
  /** Events a run may take before it is declared stuck. */
  eventsMax: number;
  /** Receives a line per peer message, persist and connection loss (for debugging one seed). */
  verbose?: (line: string) => void;
}

export const TICK_TIME_MS = 100;

/**
 * The convergence bound after faults stop (a serving leader, every member synced with it, a fresh
 * write acknowledged). Measured on about 4,500 healthy swarm runs (3/5/7 voters, with observers,
 * real storage; S2's report for issue 11): p50 0.4 s, p99 2-3.5 s, the slowest 7.1 s - e.g. a
 * restarted member whose wall clock was stepped back waits for it to pass its old time (steps are at
 * most 8 s). 20 s leaves a wide margin and fails six times sooner than the old 120 s.
 */
export const LIVENESS_MS_MAX = 20_000;

export const DEFAULT_OPTIONS: Omit<SimOptions, "seed"> = {
  voters: 3,
  observers: 0,
  clients: 4,
  swarm: true,
  livenessMsMax: LIVENESS_MS_MAX,
  sessionLiveness: true,
  eventsMax: 4_000_000,
};

/** Fault-phase length without swarm (and the old default). */
export const FIXED_TICKS = 60;

/** The kind of run a seed drew (swarm): which faults dominate. */
export type RunProfile = "mixed" | "crash-storm" | "network" | "clocks" | "slow" | "disk" | "quiet";

/** Server settings a seed draws (SimCluster spreads them into each replica's ServerConfig). */
export interface SimServerConfig {
  /** `zookeeper.extendedTypesEnabled`: TTL nodes allowed. */
  extendedTypesEnabled: boolean;
  /** The container/TTL reaper's period (ZooKeeper's default is 60 s, too slow for a short run). */
  containerCheckIntervalMs: number;
  /** "super:<base64 sha1>" or null. */
  superDigest: string | null;
  /** localSessionsEnabled (with localSessionsUpgradingEnabled); absent: off. */
  localSessions?: { upgrading: boolean };
  /** zoo.cfg reconfigEnabled; SimCluster then gives every member the ensemble's membership. */
  reconfigEnabled?: boolean;
}

/**
 * Whether a swarm seed's members make local sessions (local_sessions.ts), and whether they upgrade.
 * Drawn from its own stream of the seed, so that adding it changed no other draw of any seed (the
 * regression seeds still replay the plans that found their bugs).
 */
export function drawLocalSessions(seed: number): { upgrading: boolean } | undefined {
  const prng = createPrng((seed ^ 0x10ca1) >>> 0);
  if (prng.next() >= 0.3) return undefined;
  return { upgrading: prng.next() < 0.5 };
}

/** The password of the `super` user when a seed configures one (digest of "super:" + this). */
export const SUPER_PASSWORD = "sim-super";
/** `super:base64(sha1("super:sim-super"))`. */
export const SUPER_DIGEST = "super:av0KG5Tchl1ktRg9kkzG/FybiVo=";

export interface FaultPlan {
  profile: RunProfile;
  /** Fault-phase length in replica ticks (SimOptions.ticks overrides it). */
  faultTicks: number;
  network: NetworkFaults;
  disk: DiskFaults;
  /** Mean virtual time between fault actions: uniform in [min, max). */
  actionMsMin: number;
  actionMsMax: number;
  crashes: boolean;
  /**
   * Crashes aimed at the window between a write being issued and its fsync: the nemesis waits for
   * a member with a write in flight (preferring the leader) and crashes it then.
   */
  aimedCrashes: boolean;
  /** At a crash, every write not yet synced is lost (no unreported prefix reaches the disk). */
  crashLosesUnsynced: boolean;
  /** Voters down at once, at most (≥ a majority: the ensemble stops until enough come back). */
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
  /** Clock jumps may step back too (a wall clock corrected backwards). */
  backwardJumps: boolean;
  /** Largest clock step, either way. */
  clockJumpMsMax: number;
  clientDrops: boolean;
  /**
   * Disk errors the nemesis schedules: an fsync failing with EIO (the member stops and is
   * restarted), the disk filling up part-way through a write for a while (ENOSPC). Bit flips come
   * with crashes at the disk's `corruptRate`.
   */
  diskErrors: boolean;
  /** Server snapCount (small values exercise fuzzy snapshots and recovery from them). */
  snapshotTxnCount: number;
  /** Committed txns kept for DIFF (small values force SNAP). */
  committedLogMax: number;
  server: SimServerConfig;
  client: ClientOptions;
  workload: WorkloadOptions;
}

/** Every fault on, at moderate rates; the workload's optional request kinds off. */
export function defaultPlan(voters: number): FaultPlan {
  return {
    profile: "mixed",
    faultTicks: FIXED_TICKS,
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
    aimedCrashes: false,
    crashLosesUnsynced: false,
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
    backwardJumps: false,
    clockJumpMsMax: 3_000,
    clientDrops: true,
    diskErrors: false,
    snapshotTxnCount: 40,
    committedLogMax: 30,
    server: { extendedTypesEnabled: false, containerCheckIntervalMs: 60_000, superDigest: null },
    client: { sessionTimeoutMs: 4_000, pipelineMax: 3, thinkMsMin: 5, thinkMsMax: 60, reconnectMsMin: 5, reconnectMsMax: 300 },
    workload: { keys: 4, children: 3, watchRate: 0.5, closeSessionRate: 0.003, features: NO_FEATURES },
  };
}

/** How often each profile is drawn (weights). */
const PROFILE_WEIGHTS: ReadonlyArray<readonly [RunProfile, number]> = [
  ["mixed", 30],
  ["crash-storm", 25],
  ["network", 13],
  ["clocks", 9],
  ["slow", 8],
  ["disk", 10],
  ["quiet", 5],
];

function drawProfile(prng: Prng): RunProfile {
  const total = PROFILE_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = prng.next() * total;
  for (const [profile, weight] of PROFILE_WEIGHTS) {
    roll -= weight;
    if (roll < 0) return profile;
  }
  return "mixed";
}

/** Fault-phase length: mostly short runs, some medium, a few long (20–50 s of faults). */
function drawTicks(prng: Prng): number {
  const roll = prng.next();
  if (roll < 0.6) return intBetween(prng, 30, 80);
  if (roll < 0.9) return intBetween(prng, 80, 200);
  return intBetween(prng, 200, 500);
}

/**
 * A plan drawn from the seed (swarm testing, as FoundationDB and TigerBeetle do): first a profile
 * (which faults dominate), then each fault on or off and each rate somewhere in its range, the run's
 * length, the server settings and the workload's mix. Every draw is made whatever the profile, so
 * a profile only reshapes the numbers, and a seed's plan is a pure function of the seed.
 */
export function swarmPlan(prng: Prng, voters: number): FaultPlan {
  const base = defaultPlan(voters);
  const on = (probability = 0.6) => chance(prng, probability);
  const profile = drawProfile(prng);
  const faultTicks = drawTicks(prng);
  const minority = Math.max(1, Math.floor((voters - 1) / 2));
  const breakRate = on(0.5) ? between(prng, 0, 0.003) : 0;
  const delayMsMax = between(prng, 1, 30);
  const plan: FaultPlan = {
    ...base,
    profile,
    faultTicks,
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
      corruptRate: on(0.15) ? between(prng, 0.05, 0.3) : 0,
    },
    actionMsMin: between(prng, 50, 500),
    actionMsMax: between(prng, 500, 3_000),
    crashes: on(0.7),
    aimedCrashes: on(0.4),
    crashLosesUnsynced: on(0.3),
    downVotersMax: on(0.3) ? voters : intBetween(prng, 1, minority),
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
    backwardJumps: on(0.5),
    clockJumpMsMax: between(prng, 100, 3_000),
    clientDrops: on(0.5),
    diskErrors: on(0.2),
    snapshotTxnCount: on(0.6) ? intBetween(prng, 5, 80) : 100_000,
    committedLogMax: on(0.5) ? intBetween(prng, 1, 40) : 10_000,
    server: {
      extendedTypesEnabled: on(0.8),
      containerCheckIntervalMs: between(prng, 100, 2_000),
      superDigest: on(0.2) ? SUPER_DIGEST : null,
    },
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
      features: drawFeatures(prng),
    },
  };
  return shapeProfile(prng, plan, voters);
}

/** Which optional request kinds a seed's clients use (each on or off: a swarm of workloads too). */
function drawFeatures(prng: Prng): WorkloadFeatures {
  const on = (probability: number) => chance(prng, probability);
  return {
    auth: on(0.6),
    users: intBetween(prng, 1, 3),
    acls: on(0.5),
    containers: on(0.4),
    ttl: on(0.4),
    ttlBadModes: on(0.25),
    multiRead: on(0.4),
    counts: on(0.4),
    syncReadRate: on(0.5) ? between(prng, 0.05, 0.6) : 0,
    superUser: on(0.3),
  };
}

/** Bends the drawn plan towards its profile (the draws above are made either way). */
function shapeProfile(prng: Prng, plan: FaultPlan, voters: number): FaultPlan {
  const fast = { actionMsMin: between(prng, 150, 300), actionMsMax: between(prng, 300, 600) };
  const jumpMsMax = between(prng, 500, 8_000);
  const breakRate = between(prng, 0.002, 0.02);
  switch (plan.profile) {
    case "crash-storm":
      // A crash every 150–600 ms, any number of voters down, crashes aimed between a write and its
      // fsync, usually every unsynced write lost: what caught every durability and epoch bug.
      return {
        ...plan,
        ...fast,
        crashes: true,
        aimedCrashes: chance(prng, 0.8),
        crashLosesUnsynced: chance(prng, 0.7),
        downVotersMax: chance(prng, 0.7) ? voters : Math.floor(voters / 2) + 1,
        downMsMin: between(prng, 5, 100),
        downMsMax: between(prng, 100, 2_000),
        partitions: chance(prng, 0.3),
        isolateLeader: chance(prng, 0.3),
        asymmetricPartitions: false,
        delaySpikes: false,
        slowDisks: chance(prng, 0.3),
        clockJumps: false,
      };
    case "network": {
      return {
        ...plan,
        ...fast,
        crashes: chance(prng, 0.3),
        aimedCrashes: false,
        partitions: true,
        asymmetricPartitions: true,
        isolateLeader: true,
        connectionBreaks: true,
        delaySpikes: chance(prng, 0.6),
        network: {
          ...plan.network,
          lossRate: breakRate * prng.next(),
          duplicateRate: breakRate * prng.next(),
          reorderRate: breakRate * prng.next(),
          capacity: chance(prng, 0.4) ? intBetween(prng, 20, 200) : plan.network.capacity,
        },
      };
    }
    case "clocks":
      return {
        ...plan,
        clockJumps: true,
        backwardJumps: chance(prng, 0.8),
        clockJumpMsMax: jumpMsMax,
        clockDrift: between(prng, 0.01, 0.1),
        crashes: chance(prng, 0.5),
      };
    case "slow":
      return {
        ...plan,
        slowDisks: true,
        delaySpikes: true,
        clientDrops: true,
        network: { ...plan.network, delayMsMax: between(prng, 10, 60), delayMsMin: between(prng, 0.5, 5) },
        disk: { ...plan.disk, writeMsMax: between(prng, 5, 40) },
      };
    case "disk":
      // Storage under stress: crashes that tear and flip bits, fsync EIO, a full disk, slow disks.
      return {
        ...plan,
        crashes: true,
        diskErrors: true,
        slowDisks: chance(prng, 0.6),
        crashLosesUnsynced: chance(prng, 0.3),
        snapshotTxnCount: intBetween(prng, 5, 60),
        disk: { ...plan.disk, unreportedKeepRate: between(prng, 0.3, 1), tearRate: between(prng, 0.3, 1), corruptRate: between(prng, 0.05, 0.4) },
      };
    case "quiet":
      return {
        ...plan,
        diskErrors: false,
        disk: { ...plan.disk, corruptRate: 0 },
        crashes: false,
        aimedCrashes: false,
        partitions: false,
        asymmetricPartitions: false,
        isolateLeader: false,
        connectionBreaks: false,
        delaySpikes: false,
        slowDisks: false,
        clockJumps: false,
        clientDrops: false,
        network: { ...plan.network, lossRate: 0, duplicateRate: 0, reorderRate: 0 },
      };
    default:
      return plan;
  }
}

/** The plan's switches in one line (printed with a failure). */
export function describePlan(plan: FaultPlan): string {
  const features = Object.entries(plan.workload.features)
    .filter(([name, value]) => name !== "users" && value !== false && value !== 0)
    .map(([name]) => name);
  const on = [
    plan.crashes && `crashes(≤${plan.downVotersMax} voters${plan.aimedCrashes ? ", aimed" : ""}${plan.crashLosesUnsynced ? ", lose unsynced" : ""})`,
    plan.partitions && "partitions",
    plan.asymmetricPartitions && "one-way",
    plan.isolateLeader && "isolate-leader",
    plan.connectionBreaks && "connection-breaks",
    plan.delaySpikes && "delay-spikes",
    plan.slowDisks && "slow-disks",
    plan.clockDrift > 0 && `drift ±${(plan.clockDrift * 100).toFixed(1)}%`,
    plan.clockJumps && `clock-jumps(±${plan.clockJumpMsMax.toFixed(0)} ms${plan.backwardJumps ? ", back too" : ", forward"})`,
    plan.clientDrops && "client-drops",
    plan.diskErrors && "disk-errors(EIO, ENOSPC)",
    (plan.disk.corruptRate ?? 0) > 0 && `bit-flips(${((plan.disk.corruptRate ?? 0) * 100).toFixed(0)}%/crash)`,
  ].filter(Boolean);
  const net = plan.network;
  const breaks = net.lossRate + net.duplicateRate + net.reorderRate;
  return `profile ${plan.profile}, ${plan.faultTicks} ticks; faults: ${on.join(", ") || "none"}; net ${net.delayMsMin.toFixed(1)}-${net.delayMsMax.toFixed(1)} ms, breaks ${(breaks * 100).toFixed(2)}%/msg; ` +
    `disk ${plan.disk.writeMsMin.toFixed(1)}-${plan.disk.writeMsMax.toFixed(1)} ms; snapCount ${plan.snapshotTxnCount}, committedLog ${plan.committedLogMax}; ` +
    `session ${Math.round(plan.client.sessionTimeoutMs)} ms, pipeline ${plan.client.pipelineMax}; ` +
    `server ${plan.server.extendedTypesEnabled ? "ttl on" : "ttl off"}, reaper ${plan.server.containerCheckIntervalMs.toFixed(0)} ms${plan.server.superDigest ? ", super" : ""}` +
    `${plan.server.localSessions === undefined ? "" : `, local sessions${plan.server.localSessions.upgrading ? " (upgrading)" : ""}`}` +
    `${plan.server.reconfigEnabled === true ? ", reconfig" : ""}; ` +
    `workload ${features.join(", ") || "basic"}`;
}
