/**
 * The "zookeeper" group: the same workloads, for the same time, from the same load generator (this
 * process, Corral's client), against Apache ZooKeeper 3.8 and Corral under each runtime, first as
 * standalone servers, then as 3-server ensembles; every server a separate process with fsync on.
 * Then both setups again with the raw load generator (raw_load.ts: its own process, pre-encoded
 * requests), so that the servers and not the generator are the limit. Within each phase runs
 * alternate in ABBA order (ZooKeeper, Corral on Node, on Deno, on Bun, then back), and every
 * figure is summed over the rounds.
 *
 * Server CPU per operation comes from the OS's accounting of the server processes (utime + stime in
 * /proc/<pid>/stat, read before and after each measured window, summed over an ensemble's three):
 * the load generator shares the machine's cores, so throughput is partly its limit, while CPU per
 * operation is the servers' own.
 *
 * Needs java and Debian's zookeeper package: when missing, the bench installs them itself if it is
 * root with apt-get (zookeeper_install.ts), else skips the group with the apt-get line to run. A
 * Corral runtime that cannot be found is left out with a remark.
 */
import type { Table } from "./markdown_table.ts";
import { processCpuAvailable } from "./process_cpu.ts";
import { startCorralEnsembleTarget, startZooKeeperEnsembleTarget } from "./vs_zookeeper_ensembles.ts";
import { LOAD_WORKLOADS } from "./vs_zookeeper_load.ts";
import {
  type PhaseSettings,
  type Running,
  runRounds,
  type Starter,
  startRunning,
} from "./vs_zookeeper_rounds.ts";
import { rawWorkloadTable, type RowInput, tlsCostTable, workloadTable } from "./vs_zookeeper_table.ts";
import { makeTlsCerts, type TlsCerts } from "../tests/support/tls_certs.ts";
import { findOnPath } from "../tests/support/compat_availability.ts";
import { startCorralTarget, startZooKeeperTarget } from "./vs_zookeeper_targets.ts";
import { ensureZooKeeperInstalled } from "./zookeeper_install.ts";
import type { RuntimeName } from "../tests/support/runtime.ts";

export interface VsZooKeeperSettings {
  /** Measured time per workload, target and round. */
  durationMs: number;
  /** Unmeasured load before each measured window (same workload). */
  warmupMs: number;
  /** Unmeasured 50/50 load on each Corral target right after it starts (JIT warm-up). */
  startWarmupMs: number;
  /**
   * The same for the ZooKeeper targets; default 3 × startWarmupMs: the JVM's JIT takes longer to
   * warm (a 3-server ensemble's first round read at twice its second's CPU per operation with 2 s).
   */
  zooKeeperStartWarmupMs?: number;
  rounds: number;
  /** Clients against a standalone server. */
  clients: number;
  outstandingPerClient: number;
  /** Corral runtimes to run standalone, in order; default node, deno, bun. */
  runtimes?: readonly RuntimeName[];
  /** Corral runtimes to run as 3-server ensembles, in order; default node, deno, bun. */
  ensembleRuntimes?: readonly RuntimeName[];
  /** Clients against an ensemble, round-robin over its members; default 6 (two per member). */
  ensembleClients?: number;
  /** Run the standalone phase; default true. */
  standalone?: boolean;
  /** Run the 3-server ensemble phase; default true. */
  ensembles?: boolean;
  /** Run the standalone phase again with clients over TLS (needs openssl); default true. */
  tls?: boolean;
  /**
   * Run the standalone and the 3-server phases again with the raw load generator (raw_load.ts, its
   * own process, pre-encoded requests, issue 14's 24 × 64 setup), the same generator for both
   * servers and measured apart from them. Default true.
   */
  raw?: boolean;
  /** The raw generator's connections (spread over the servers) and requests in flight on each; default 24 × 64. */
  rawConnections?: number;
  rawOutstanding?: number;
  /** Rounds of the raw phases; default max(3, rounds). */
  rawRounds?: number;
  /** For the Node targets (standalone and each ensemble member): write a CPU profile (--cpu-prof) here when each exits. */
  cpuProfileDir?: string;
}

export interface VsZooKeeperOutcome {
  /** Set when the whole group was skipped: why, and what to install. */
  skipped: string | null;
  /** Targets left out or failed, an install that ran, and similar remarks, for RESULTS.md. */
  remarks: string[];
}

const DEFAULT_RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];
const DEFAULT_ENSEMBLE_CLIENTS = 6;
/** Issue 14's setup: 24 connections × 64 outstanding. */
const DEFAULT_RAW_CONNECTIONS = 24;
const DEFAULT_RAW_OUTSTANDING = 64;
/** Below this measured window, the remarks warn that the JVM is not warm yet. */
const SHORT_WINDOW_MS = 4000;

/** Runs the group; `add` receives each table (one per workload) once both phases are done. */
export async function runVsZooKeeper(
  settings: VsZooKeeperSettings,
  add: (table: Table) => void,
): Promise<VsZooKeeperOutcome> {
  const install = await ensureZooKeeperInstalled();
  if (install.skipped !== null) {
    console.error(`zookeeper bench: ${install.skipped}`);
    return { skipped: install.skipped, remarks: [] };
  }
  const remarks: string[] = install.summary === null ? [] : [install.summary];
  if (!processCpuAvailable()) remarks.push("No /proc on this OS: server CPU columns read n/a.");
  if (settings.durationMs < SHORT_WINDOW_MS) {
    const seconds = settings.durationMs / 1000;
    remarks.push(
      `Short windows (${seconds} s): ZooKeeper's JIT is still warming up, so its CPU per operation reads ` +
        "high and the ratios flatter Corral; judge by a full run.",
    );
  }
  const ensembleClients = settings.ensembleClients ?? DEFAULT_ENSEMBLE_CLIENTS;
  const phases: { starters: Starter[]; settings: PhaseSettings }[] = [];
  if (settings.standalone ?? true) {
    phases.push({ starters: standaloneStarters(settings), settings: { ...settings } });
  }
  if (settings.ensembles ?? true) {
    phases.push({
      starters: ensembleStarters(settings),
      settings: { ...settings, clients: ensembleClients },
    });
  }
  let certs: TlsCerts | null = null;
  if (settings.tls ?? true) {
    if (findOnPath("openssl") === null) {
      remarks.push("The TLS setup was left out: openssl is not on PATH to make its certificates (apt-get install openssl).");
    } else {
      certs = makeTlsCerts();
      phases.splice(1, 0, { starters: tlsStarters(settings, certs), settings: { ...settings } });
    }
  }
  const raw = {
    connections: settings.rawConnections ?? DEFAULT_RAW_CONNECTIONS,
    outstanding: settings.rawOutstanding ?? DEFAULT_RAW_OUTSTANDING,
    rounds: settings.rawRounds ?? Math.max(3, settings.rounds),
  };
  if (settings.raw ?? true) {
    const rawSettings = { ...settings, generator: "raw" as const, clients: raw.connections, outstandingPerClient: raw.outstanding, rounds: raw.rounds };
    if (settings.standalone ?? true) phases.push({ starters: standaloneStarters(settings), settings: rawSettings });
    if (settings.ensembles ?? true) phases.push({ starters: ensembleStarters(settings), settings: rawSettings });
  }
  const measured: Running[] = [];
  try {
    for (const phase of phases) measured.push(...await runPhase(phase.starters, phase.settings, remarks));
  } finally {
    certs?.remove();
  }
  LOAD_WORKLOADS.forEach((workload, w) => {
    add(workloadTable(
      {
        workloadName: workload.name,
        first: w === 0,
        standaloneClients: settings.clients,
        ensembleClients,
        outstandingPerClient: settings.outstandingPerClient,
        durationMs: settings.durationMs,
        warmupMs: settings.warmupMs,
        startWarmupMs: settings.startWarmupMs,
        zooKeeperStartWarmupMs: zooKeeperStartWarmupMs(settings),
        rounds: settings.rounds,
      },
      rowsOf(measured.filter((entry) => entry.generator === "client"), w),
    ));
  });
  const rawMeasured = measured.filter((entry) => entry.generator === "raw");
  if (rawMeasured.length > 0) {
    LOAD_WORKLOADS.forEach((workload, w) => {
      add(rawWorkloadTable({ workloadName: workload.name, first: w === 0, ...raw, durationMs: settings.durationMs, warmupMs: settings.warmupMs }, rowsOf(rawMeasured, w)));
    });
  }
  const costs = tlsCosts(measured);
  if (costs.length > 0) add(tlsCostTable(LOAD_WORKLOADS.map((workload) => workload.name), costs));
  return { skipped: null, remarks };
}

function rowsOf(measured: readonly Running[], workload: number): RowInput[] {
  return measured.map((entry) => ({
    label: entry.target.label,
    topology: entry.topology,
    isZooKeeper: entry.target.kind === "zookeeper",
    cell: entry.cells[workload]!,
  }));
}

/** Each server measured both standalone and over TLS, with its cells of both. */
function tlsCosts(measured: readonly Running[]) {
  return measured.filter((entry) => entry.topology === "tls").flatMap((tls) => {
    const plaintext = measured.find((entry) => entry.topology === "standalone" && entry.target.kind === tls.target.kind);
    return plaintext === undefined ? [] : [{
      label: tls.target.label,
      isZooKeeper: tls.target.kind === "zookeeper",
      plaintext: plaintext.cells,
      tls: tls.cells,
    }];
  });
}

/** The standalone starters again, each serving its clients over TLS with `certs`. */
function tlsStarters(settings: VsZooKeeperSettings, certs: TlsCerts): Starter[] {
  return [
    {
      name: "Apache ZooKeeper over TLS",
      topology: "tls",
      start: () => startZooKeeperTarget(certs),
      startWarmupMs: zooKeeperStartWarmupMs(settings),
    },
    ...(settings.runtimes ?? DEFAULT_RUNTIMES).map((which): Starter => ({
      name: `Corral on ${which} over TLS`,
      topology: "tls",
      start: () => startCorralTarget(which, { tls: certs }),
    })),
  ];
}

function standaloneStarters(settings: VsZooKeeperSettings): Starter[] {
  return [
    {
      name: "Apache ZooKeeper",
      topology: "standalone",
      start: () => startZooKeeperTarget(),
      startWarmupMs: zooKeeperStartWarmupMs(settings),
    },
    ...(settings.runtimes ?? DEFAULT_RUNTIMES).map((which): Starter => ({
      name: `Corral on ${which}`,
      topology: "standalone",
      start: () => startCorralTarget(which, { cpuProfileDir: settings.cpuProfileDir }),
    })),
  ];
}

function zooKeeperStartWarmupMs(settings: VsZooKeeperSettings): number {
  return settings.zooKeeperStartWarmupMs ?? 3 * settings.startWarmupMs;
}

function ensembleStarters(settings: VsZooKeeperSettings): Starter[] {
  return [
    {
      name: "Apache ZooKeeper 3-server ensemble",
      topology: "ensemble",
      start: startZooKeeperEnsembleTarget,
      startWarmupMs: zooKeeperStartWarmupMs(settings),
    },
    ...(settings.ensembleRuntimes ?? DEFAULT_RUNTIMES).map((which): Starter => ({
      name: `Corral 3-server ensemble on ${which}`,
      topology: "ensemble",
      start: () => startCorralEnsembleTarget(which, { cpuProfileDir: settings.cpuProfileDir }),
    })),
  ];
}

/**
 * Starts the phase's targets one after another, alternates its rounds, and stops every process it
 * started before returning, on errors and on Ctrl-C too. Resolves with the targets measured.
 */
async function runPhase(
  starters: readonly Starter[],
  settings: PhaseSettings,
  remarks: string[],
): Promise<Running[]> {
  const running: Running[] = [];
  const startedAt = Date.now();
  const stopAll = async () => {
    await Promise.allSettled(running.map((entry) => entry.load.close()));
    await Promise.allSettled(running.map((entry) => entry.target.stop()));
  };
  // Ctrl-C during the run must not leave a JVM behind: stop the servers, then exit.
  const onSignal = (signal: string) => {
    console.error(`zookeeper bench: ${signal} received; stopping the servers`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const starter of starters) {
      const entry = await startRunning(starter, settings, remarks);
      if (entry !== null) running.push(entry);
    }
    await runRounds(running, settings);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  }
  const topology = starters[0]?.topology ?? "standalone";
  console.error(`zookeeper bench: ${topology} phase took ${Math.round((Date.now() - startedAt) / 1000)} s`);
  return running;
}
