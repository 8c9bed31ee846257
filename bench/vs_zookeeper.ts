/**
 * The "zookeeper" group: the same workloads, for the same time, from the same load generator (this
 * process, Corral's client), against Apache ZooKeeper 3.8 standalone and `corral serve` standalone
 * under each runtime, each a separate process with fsync on. Runs alternate (ZooKeeper, Corral on
 * Node, on Deno, on Bun, then again), and every figure is summed over the rounds.
 *
 * Server CPU per operation comes from the OS's accounting of the server process (utime + stime in
 * /proc/<pid>/stat, read before and after each measured window): the load generator shares the
 * machine's cores, so throughput is partly its limit, while CPU per operation is the server's own.
 *
 * Needs java and Debian's zookeeper package; without them the group is skipped with the apt-get
 * line to run (the bench installs nothing). A Corral runtime that cannot be found is left out.
 */
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { processCpuAvailable, processCpuMicros } from "./process_cpu.ts";
import { cpuMicros } from "./runtime_info.ts";
import { connectLoadClients, LOAD_WORKLOADS, type LoadClients, type LoadWorkload, runLoad } from "./vs_zookeeper_load.ts";
import {
  type BenchTarget,
  startCorralTarget,
  startZooKeeperTarget,
  zooKeeperMissing,
} from "./vs_zookeeper_targets.ts";
import type { RuntimeName } from "../tests/support/runtime.ts";

export interface VsZooKeeperSettings {
  /** Measured time per workload, target and round. */
  durationMs: number;
  /** Unmeasured load before each measured window (same workload). */
  warmupMs: number;
  /** Unmeasured 50/50 load on each target right after it starts (JIT warm-up). */
  startWarmupMs: number;
  rounds: number;
  clients: number;
  outstandingPerClient: number;
  /** Corral runtimes to run, in order; default node, deno, bun. */
  runtimes?: readonly RuntimeName[];
  /** For the Node target: write a CPU profile (--cpu-prof) here when it exits. */
  cpuProfileDir?: string;
}

export interface VsZooKeeperOutcome {
  /** Set when the whole group was skipped: why, and what to install. */
  skipped: string | null;
  /** Targets left out or failed, and similar remarks, for RESULTS.md. */
  remarks: string[];
}

interface Cell {
  operations: number;
  elapsedMs: number;
  serverCpuMicros: number;
  clientCpuMicros: number;
  latencies: LatencyHistogram;
  errors: number;
  firstError: unknown;
  opsPerSecondByRound: number[];
}

interface Running {
  target: BenchTarget;
  load: LoadClients;
  /** One per workload of LOAD_WORKLOADS. */
  cells: Cell[];
}

const DEFAULT_RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];

/** Runs the group; `add` receives each table (one per workload) once every round is done. */
export async function runVsZooKeeper(
  settings: VsZooKeeperSettings,
  add: (table: Table) => void,
): Promise<VsZooKeeperOutcome> {
  const absent = zooKeeperMissing();
  if (absent !== null) {
    const skipped = `Skipped: Apache ZooKeeper 3.8 cannot run here (${absent.missing} not found). Install ` +
      `with \`${absent.command}\` (as root) and run again; the bench installs nothing itself.`;
    console.error(`zookeeper bench: ${skipped}`);
    return { skipped, remarks: [] };
  }
  const remarks: string[] = [];
  if (!processCpuAvailable()) remarks.push("No /proc on this OS: server CPU columns read n/a.");
  const running: Running[] = [];
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
  let zooKeeper: Running | null = null;
  try {
    const starters: { name: string; start: () => Promise<BenchTarget> }[] = [
      { name: "Apache ZooKeeper", start: startZooKeeperTarget },
      ...(settings.runtimes ?? DEFAULT_RUNTIMES).map((which) => ({
        name: `Corral on ${which}`,
        start: () => startCorralTarget(which, { cpuProfileDir: settings.cpuProfileDir }),
      })),
    ];
    for (const starter of starters) {
      const entry = await startTarget(starter, settings, remarks);
      if (entry === null) continue;
      running.push(entry);
      if (entry.target.kind === "zookeeper") zooKeeper = entry;
    }
    for (let round = 1; round <= settings.rounds; round++) {
      for (const entry of running) {
        for (let w = 0; w < LOAD_WORKLOADS.length; w++) {
          const workload = LOAD_WORKLOADS[w]!;
          const cell = entry.cells[w]!;
          await measureInto(cell, entry, workload, settings);
          const last = cell.opsPerSecondByRound[cell.opsPerSecondByRound.length - 1]!;
          console.error(
            `zookeeper bench: round ${round}/${settings.rounds}, ${entry.target.label}, ${workload.name}: ` +
              `${formatCount(last)} ops/s`,
          );
        }
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
  }
  LOAD_WORKLOADS.forEach((workload, w) => add(workloadTable(workload, w, running, zooKeeper, settings)));
  return { skipped: null, remarks };
}

async function startTarget(
  starter: { name: string; start: () => Promise<BenchTarget> },
  settings: VsZooKeeperSettings,
  remarks: string[],
): Promise<Running | null> {
  console.error(`zookeeper bench: starting ${starter.name}…`);
  let target: BenchTarget;
  try {
    target = await starter.start();
  } catch (error) {
    const why = describe(error).split("\n")[0]!;
    remarks.push(`${starter.name} was left out: it did not start (${why}).`);
    console.error(`zookeeper bench: ${starter.name} did not start: ${describe(error)}`);
    return null;
  }
  try {
    const load = await connectLoadClients(target.servers, settings.clients);
    if (settings.startWarmupMs > 0) {
      await runLoad(load, LOAD_WORKLOADS[1]!, settings.startWarmupMs, settings.outstandingPerClient);
    }
    return { target, load, cells: LOAD_WORKLOADS.map(emptyCell) };
  } catch (error) {
    remarks.push(`${target.label} was left out: its clients failed (${describe(error).split("\n")[0]}).`);
    await target.stop();
    return null;
  }
}

function emptyCell(): Cell {
  return {
    operations: 0,
    elapsedMs: 0,
    serverCpuMicros: 0,
    clientCpuMicros: 0,
    latencies: new LatencyHistogram(),
    errors: 0,
    firstError: undefined,
    opsPerSecondByRound: [],
  };
}

async function measureInto(
  cell: Cell,
  entry: Running,
  workload: LoadWorkload,
  settings: VsZooKeeperSettings,
): Promise<void> {
  if (settings.warmupMs > 0) await runLoad(entry.load, workload, settings.warmupMs, settings.outstandingPerClient);
  const serverBefore = serverCpu(entry.target);
  const clientBefore = cpuMicros();
  const result = await runLoad(entry.load, workload, settings.durationMs, settings.outstandingPerClient);
  const clientCpu = cpuMicros() - clientBefore;
  const serverCpuUsed = serverCpu(entry.target) - serverBefore;
  cell.operations += result.operations;
  cell.elapsedMs += result.elapsedMs;
  cell.serverCpuMicros += serverCpuUsed;
  cell.clientCpuMicros += clientCpu;
  cell.latencies.merge(result.latencies);
  cell.errors += result.errors;
  cell.firstError ??= result.firstError;
  cell.opsPerSecondByRound.push((result.operations * 1000) / result.elapsedMs);
}

/** Summed over the target's server processes. */
function serverCpu(target: BenchTarget): number {
  return target.pids.reduce((sum, pid) => sum + processCpuMicros(pid), 0);
}

interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  serverMicrosPerOp: number;
}

function figuresOf(cell: Cell): Figures {
  return {
    opsPerSecond: (cell.operations * 1000) / cell.elapsedMs,
    p50: cell.latencies.percentile(0.5),
    p99: cell.latencies.percentile(0.99),
    serverMicrosPerOp: cell.serverCpuMicros / cell.operations,
  };
}

function workloadTable(
  workload: LoadWorkload,
  w: number,
  running: Running[],
  zooKeeper: Running | null,
  settings: VsZooKeeperSettings,
): Table {
  const base = zooKeeper === null ? null : figuresOf(zooKeeper.cells[w]!);
  const ratio = (ours: number, theirs: number | undefined) =>
    theirs === undefined || !Number.isFinite(ours / theirs) ? "n/a" : `${formatFigure(ours / theirs)}×`;
  const rows = running.map((entry) => {
    const cell = entry.cells[w]!;
    const figures = figuresOf(cell);
    const isBase = entry === zooKeeper;
    const errors = cell.errors === 0 ? "0" : `${cell.errors} (first: ${describe(cell.firstError).slice(0, 100)})`;
    return [
      entry.target.label,
      formatCount(figures.opsPerSecond),
      cell.opsPerSecondByRound.map(formatCount).join(" / "),
      formatFigure(figures.p50),
      formatFigure(figures.p99),
      formatFigure(figures.serverMicrosPerOp),
      formatFigure(cell.clientCpuMicros / cell.operations),
      isBase ? "1" : ratio(figures.opsPerSecond, base?.opsPerSecond),
      isBase ? "1" : ratio(figures.p99, base?.p99),
      isBase ? "1" : ratio(figures.serverMicrosPerOp, base?.serverMicrosPerOp),
      errors,
    ];
  });
  const rounds = settings.rounds === 1 ? "one round" : `${settings.rounds} alternating rounds`;
  const note = w === 0
    ? `Standalone servers on 127.0.0.1, each its own process with its data in a fresh temporary directory and ` +
      `fsync on (ZooKeeper: forceSync=yes, JVM defaults as Debian's zkServer.sh; Corral: \`corral serve ` +
      `--data-dir\`). Load generator: this process, ${settings.clients} Corral clients × ` +
      `${settings.outstandingPerClient} requests in flight, each client on its own 1 KiB znode; ` +
      `${settings.durationMs / 1000} s per workload and server after ${settings.warmupMs / 1000} s of warm-up, ` +
      `${rounds} (ZooKeeper, then Corral on each runtime), figures summed over the rounds. Server CPU = ` +
      "utime + stime of the server process (/proc/<pid>/stat, 10 ms ticks) over the measured window ÷ " +
      "operations. The load generator shares the machine's cores with the server, so ops/s is partly its " +
      "limit; server CPU per operation is the fair comparison. Ratios are Corral ÷ ZooKeeper (ops/s: higher " +
      "is better; p99 and CPU: lower is better)."
    : "Same setup as the first table.";
  return {
    title: `Standalone vs Apache ZooKeeper: ${workload.name}`,
    note,
    columns: [
      "server",
      "ops/s",
      "ops/s by round",
      "p50 ms",
      "p99 ms",
      "server CPU µs/op",
      "load generator CPU µs/op",
      "ops/s ÷ ZK",
      "p99 ÷ ZK",
      "server CPU/op ÷ ZK",
      "errors",
    ],
    rows,
  };
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll("|", "/");
}
