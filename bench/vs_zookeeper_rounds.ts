/**
 * One phase of the ZooKeeper comparison: start each target (ZooKeeper first, then Corral on each
 * runtime), connect its clients and warm it up, then alternate rounds over the targets, every
 * workload measured into that target's cells. A target that fails to start is left out with a
 * remark; the caller stops what is running, even on errors.
 */
import { LatencyHistogram } from "./latency_histogram.ts";
import { formatCount, formatFigure } from "./markdown_table.ts";
import { processCpuMicros } from "./process_cpu.ts";
import { cpuMicros } from "./runtime_info.ts";
import {
  connectLoadClients,
  LOAD_WORKLOADS,
  type LoadClients,
  type LoadWorkload,
  PAYLOAD,
  runLoad,
} from "./vs_zookeeper_load.ts";
import { runRawLoadProcess } from "./raw_load.ts";
import { type Cell, emptyCell, type Topology } from "./vs_zookeeper_table.ts";
import type { BenchTarget } from "./vs_zookeeper_targets.ts";

export interface Starter {
  /** "Apache ZooKeeper ensemble", "Corral on deno". */
  name: string;
  topology: Topology;
  start: () => Promise<BenchTarget>;
  /** Overrides PhaseSettings.startWarmupMs for this target (a JVM's JIT needs longer). */
  startWarmupMs?: number;
}

export interface Running {
  target: BenchTarget;
  topology: Topology;
  /** Who made the load: Corral's client in this process, or the raw generator (raw_load.ts) in its own. */
  generator: LoadGenerator;
  load: LoadClients;
  /** One per workload of LOAD_WORKLOADS. */
  cells: Cell[];
}

export type LoadGenerator = "client" | "raw";

export interface PhaseSettings {
  /** Default "client". With "raw", `clients` and `outstandingPerClient` are the raw generator's connections. */
  generator?: LoadGenerator;
  durationMs: number;
  warmupMs: number;
  startWarmupMs: number;
  rounds: number;
  clients: number;
  outstandingPerClient: number;
}

/** Starts a target and its clients; null (with a remark) when either fails. */
export async function startRunning(
  starter: Starter,
  settings: PhaseSettings,
  remarks: string[],
): Promise<Running | null> {
  console.error(`zookeeper bench: starting ${starter.name}…`);
  let target: BenchTarget;
  try {
    target = await starter.start();
  } catch (error) {
    remarks.push(`${starter.name} was left out: it did not start (${firstLine(error)}).`);
    console.error(
      `zookeeper bench: ${starter.name} did not start: ${
        String(error instanceof Error ? error.message : error)
      }`,
    );
    return null;
  }
  try {
    const load = await connectLoadClients(target.servers, settings.clients, target.clientTls);
    try {
      const warmupMs = starter.startWarmupMs ?? settings.startWarmupMs;
      if (warmupMs > 0) await runLoad(load, LOAD_WORKLOADS[1]!, warmupMs, settings.outstandingPerClient);
    } catch (error) {
      await load.close();
      throw error;
    }
    return { target, topology: starter.topology, generator: settings.generator ?? "client", load, cells: LOAD_WORKLOADS.map(emptyCell) };
  } catch (error) {
    remarks.push(`${starter.name} was left out: its clients failed (${firstLine(error)}).`);
    await target.stop();
    return null;
  }
}

/**
 * Alternates `settings.rounds` rounds over `running`, every workload each time, in ABBA order (the
 * first target first in odd rounds, last in even ones), so no target always runs on a fresher or a
 * more worn machine.
 */
export async function runRounds(running: readonly Running[], settings: PhaseSettings): Promise<void> {
  for (let round = 1; round <= settings.rounds; round++) {
    for (const entry of round % 2 === 1 ? running : [...running].reverse()) {
      for (let w = 0; w < LOAD_WORKLOADS.length; w++) {
        const workload = LOAD_WORKLOADS[w]!;
        const cell = entry.cells[w]!;
        const window = await measureInto(cell, entry, workload, settings);
        const setup = (entry.topology === "ensemble" ? "3 servers" : entry.topology === "tls" ? "standalone, TLS" : "standalone") +
          (entry.generator === "raw" ? ", raw load" : "");
        console.error(
          `zookeeper bench: round ${round}/${settings.rounds}, ${setup}, ${entry.target.label}, ${workload.name}: ` +
            `${formatCount(window.opsPerSecond)} ops/s, server CPU µs/op ${cpuSplit(entry.target, window)}`,
        );
      }
    }
  }
}

/** One measured window, for the progress line. */
interface Window {
  opsPerSecond: number;
  operations: number;
  /** Server CPU of each of the target's processes over the window, µs. */
  cpuMicrosByPid: number[];
}

async function measureInto(
  cell: Cell,
  entry: Running,
  workload: LoadWorkload,
  settings: PhaseSettings,
): Promise<Window> {
  if (entry.generator === "raw") return await measureRawInto(cell, entry, workload, settings);
  if (settings.warmupMs > 0) {
    await runLoad(entry.load, workload, settings.warmupMs, settings.outstandingPerClient);
  }
  const serverBefore = entry.target.pids.map(processCpuMicros);
  const clientBefore = cpuMicros();
  const result = await runLoad(entry.load, workload, settings.durationMs, settings.outstandingPerClient);
  const clientCpu = cpuMicros() - clientBefore;
  const cpuMicrosByPid = entry.target.pids.map((pid, i) => processCpuMicros(pid) - serverBefore[i]!);
  // NaN if a process is gone: the figure is then not trusted.
  const serverCpuUsed = cpuMicrosByPid.reduce((sum, micros) => sum + micros, 0);
  cell.operations += result.operations;
  cell.elapsedMs += result.elapsedMs;
  cell.serverCpuMicros += serverCpuUsed;
  cell.clientCpuMicros += clientCpu;
  cell.latencies.merge(result.latencies);
  cell.errors += result.errors;
  cell.firstError ??= result.firstError;
  const opsPerSecond = (result.operations * 1000) / result.elapsedMs;
  cell.opsPerSecondByRound.push(opsPerSecond);
  return { opsPerSecond, operations: result.operations, cpuMicrosByPid };
}

/** measureInto with the raw generator: its own process, its own warm-up, the servers' CPU read when it says its window opens and closes. */
async function measureRawInto(cell: Cell, entry: Running, workload: LoadWorkload, settings: PhaseSettings): Promise<Window> {
  let serverBefore: number[] | null = null;
  let cpuMicrosByPid: number[] | null = null;
  const result = await runRawLoadProcess({
    servers: entry.target.servers,
    paths: entry.load.paths,
    connections: settings.clients,
    outstanding: settings.outstandingPerClient,
    readPercent: workload.readPercent,
    dataBytes: PAYLOAD.length,
    warmupMs: settings.warmupMs,
    durationMs: settings.durationMs,
  }, {
    opened: () => serverBefore = entry.target.pids.map(processCpuMicros),
    closed: () => cpuMicrosByPid = entry.target.pids.map((pid, i) => processCpuMicros(pid) - (serverBefore?.[i] ?? Number.NaN)),
  });
  // NaN when the window's lines never came or a process is gone: the figure is then not trusted.
  const byPid: number[] = cpuMicrosByPid ?? entry.target.pids.map(() => Number.NaN);
  cell.operations += result.operations;
  cell.elapsedMs += result.elapsedMs;
  cell.serverCpuMicros += byPid.reduce((sum, micros) => sum + micros, 0);
  cell.clientCpuMicros += result.cpuMicros;
  cell.latencies.merge(LatencyHistogram.fromCounts(result.latencyCounts));
  cell.errors += result.errors;
  cell.firstError ??= result.firstError ?? undefined;
  const opsPerSecond = (result.operations * 1000) / result.elapsedMs;
  cell.opsPerSecondByRound.push(opsPerSecond);
  return { opsPerSecond, operations: result.operations, cpuMicrosByPid: byPid };
}

/** "12.3" standalone; "130 (leader 70.1, follower 30.2, follower 29.7)" for an ensemble. */
function cpuSplit(target: BenchTarget, window: Window): string {
  const perOp = (micros: number) => formatFigure(micros / window.operations);
  const total = perOp(window.cpuMicrosByPid.reduce((sum, micros) => sum + micros, 0));
  if (target.roles === undefined) return total;
  const parts = window.cpuMicrosByPid.map((micros, i) => `${target.roles![i] ?? "?"} ${perOp(micros)}`);
  return `${total} (${parts.join(", ")})`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.replaceAll("|", "/").slice(0, 300);
}
