/**
 * The ZooKeeper paper's throughput experiment on Corral's real replicas (see memory_ensemble.ts):
 * every ensemble size against every read ratio, printed as the paper's two tables, a full sweep and
 * an SVG chart like the paper's figure. Speed is measured, never asserted.
 *
 * @example
 * const { tables, svg, remarks } = await runPaperBench({ quick: true });
 */
import type { Table } from "../markdown_table.ts";
import { formatFigure } from "../markdown_table.ts";
import { ENSEMBLE_SIZES, publishedPoints, READ_PERCENTS } from "./paper_figures.ts";
import { clientsFor, type RunResult, runOnce } from "./paper_run.ts";
import { extremesTable, sweepTable, table1 } from "./paper_tables.ts";
import { perCoreThroughput, SweepResults } from "./throughput.ts";
import { type ChartMark, renderThroughputChart } from "./throughput_chart.ts";

export interface PaperBenchSettings {
  /** Fewer sizes, ratios and operations (under ~40 s); else the full sweep (under ~5 min). */
  quick: boolean;
  /** Overrides, mainly for tests. */
  sizes?: readonly number[];
  readPercents?: readonly number[];
  clientsPerServer?: number;
  window?: number;
  warmupOps?: number;
  warmupMsMax?: number;
  measureOps?: number;
  measureMsMax?: number;
  /** Called after each run (progress output). */
  onRun?: (result: RunResult, readPercent: number) => void;
}

export interface PaperBenchResult {
  tables: Table[];
  svg: string;
  remarks: string[];
  results: SweepResults;
}

const QUICK = {
  sizes: [3, 7, 13],
  readPercents: [0, 50, 90, 99, 100],
  warmupOps: 2000,
  warmupMsMax: 250,
  measureOps: 200_000,
  measureMsMax: 700,
};
const FULL = {
  sizes: [...ENSEMBLE_SIZES],
  readPercents: [...READ_PERCENTS],
  warmupOps: 5000,
  warmupMsMax: 400,
  measureOps: 1_000_000,
  measureMsMax: 1500,
};
const ZNODES = 10;
const DATA_BYTES = 1024;
const WINDOW = 100;
const SEED = 2010;

export function runPaperBench(settings: PaperBenchSettings): Promise<PaperBenchResult> {
  const base = settings.quick ? QUICK : FULL;
  const sizes = settings.sizes ?? base.sizes;
  const readPercents = settings.readPercents ?? base.readPercents;
  const window = settings.window ?? WINDOW;
  const results = new SweepResults();
  const failures: string[] = [];
  const shares: number[] = [];
  for (const voters of sizes) {
    for (const readPercent of readPercents) {
      const result = runOnce({
        voters,
        readRatio: readPercent / 100,
        clients: settings.clientsPerServer === undefined ? clientsFor(voters) : settings.clientsPerServer * voters,
        window,
        znodes: ZNODES,
        dataBytes: DATA_BYTES,
        warmupOps: settings.warmupOps ?? base.warmupOps,
        warmupMsMax: settings.warmupMsMax ?? base.warmupMsMax,
        measureOps: settings.measureOps ?? base.measureOps,
        measureMsMax: settings.measureMsMax ?? base.measureMsMax,
        seed: SEED + voters * 1000 + readPercent,
      });
      results.add(readPercent, result);
      shares.push(result.cpuShare);
      failures.push(...result.failures.map((failure) => `${voters} servers, ${readPercent}% reads: ${failure}`));
      settings.onRun?.(result, readPercent);
    }
  }
  const tables = [
    table1(results, ENSEMBLE_SIZES),
    extremesTable(results, ENSEMBLE_SIZES),
    sweepTable(results, { sizes, readPercents }, "perCore"),
    sweepTable(results, { sizes, readPercents }, "singleProcess"),
  ];
  const remarks = describeSetup({ sizes, window, shares });
  if (failures.length > 0) remarks.push(`${failures.length} failures, first: ${failures.slice(0, 3).join("; ")}`);
  return Promise.resolve({ tables, svg: chart(results, sizes, readPercents), remarks, results });
}

function describeSetup(options: { sizes: readonly number[]; window: number; shares: number[] }): string[] {
  const clients = options.sizes.map((voters) => `${voters}→${clientsFor(voters)}`).join(", ");
  const shareMin = Math.min(...options.shares);
  return [
    `Corral's real replicas (src/core/replica.ts) in one process; zero-latency in-memory network; writes durable at once ` +
    `(no log encoding, snapshots off); committed-txn window 500 (ZooKeeper's commitLogCount).`,
    `Clients spread round-robin over all servers, leader included (servers→clients: ${clients}), ${options.window} ` +
    `requests outstanding each; ${ZNODES} znodes of ${DATA_BYTES} bytes; getData / setData (version −1).`,
    `Per-server CPU = process CPU time (process.cpuUsage) while that server's work runs: decoding client and peer ` +
    `frames with the real jute and peer codecs, the replica's work, encoding replies and peer frames. ` +
    `The process's CPU share while measuring was ${formatFigure(shareMin)} at lowest (1 = it never waited for ` +
    `the machine; the one-process figures suffer when it is low, the per-core ones should not).`,
    `All servers share one heap: a GC pause (all servers' garbage) is charged to whichever server was running, ` +
    `which adds noise to the busiest server's figure, mostly with many servers and writes.`,
  ];
}

function chart(results: SweepResults, sizes: readonly number[], readPercents: readonly number[]): string {
  const sorted = [...readPercents].sort((a, b) => a - b);
  const series = sizes.map((voters) => ({
    label: `${voters} servers`,
    points: sorted.map((readPercent) => {
      const result = results.get(voters, readPercent);
      return { x: readPercent, y: result === undefined ? Number.NaN : perCoreThroughput(result) };
    }),
  }));
  const marks: ChartMark[] = [];
  for (const point of publishedPoints()) {
    const seriesIndex = sizes.indexOf(point.voters);
    if (seriesIndex < 0) continue;
    marks.push({ seriesIndex, x: point.readPercent, y: point.opsPerSecond, shape: point.source === "Table 1" ? "circle" : "square" });
  }
  return renderThroughputChart({
    title: "Corral: throughput, one core per server (ZooKeeper paper setup)",
    xLabel: "Percentage of read requests",
    yLabel: "Operations per second (log scale)",
    yScale: "log",
    series,
    marks,
    markLegend: [
      { shape: "circle", label: "paper, Table 1" },
      { shape: "square", label: "paper, 99% reads" },
    ],
  });
}
