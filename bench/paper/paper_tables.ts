/**
 * The paper's two tables and a full sweep, from our results: published figures beside ours and the
 * ratio ours/paper. Missing runs (a quick sweep) and sizes the paper left out show "—".
 */
import { formatCount, formatFigure, type Table } from "../markdown_table.ts";
import { PAPER_EXTREMES, PAPER_TABLE_1, type PublishedPair } from "./paper_figures.ts";
import { perCoreThroughput, singleProcessThroughput, type SweepResults } from "./throughput.ts";

const DASH = "—";

interface PairTableOptions {
  title: string;
  note: string;
  published: ReadonlyMap<number, PublishedPair>;
  /** Read percents of the first and second workload, and their column labels. */
  first: { readPercent: number; label: string };
  second: { readPercent: number; label: string };
}

function pairTable(results: SweepResults, sizes: readonly number[], options: PairTableOptions): Table {
  const { first, second } = options;
  const rows = sizes.map((voters) => {
    const paper = options.published.get(voters);
    const cells = [String(voters)];
    for (const [workload, published] of [[first, paper?.first], [second, paper?.second]] as const) {
      const result = results.get(voters, workload.readPercent);
      const ours = result === undefined ? Number.NaN : perCoreThroughput(result);
      cells.push(
        Number.isNaN(ours) ? DASH : formatCount(ours),
        published === undefined ? DASH : formatCount(published),
        published === undefined || Number.isNaN(ours) ? DASH : `${formatFigure(ours / published)}×`,
      );
    }
    for (const workload of [first, second]) {
      const result = results.get(voters, workload.readPercent);
      cells.push(result === undefined ? DASH : formatCount(singleProcessThroughput(result)));
    }
    return cells;
  });
  return {
    title: options.title,
    note: options.note,
    columns: [
      "servers",
      `${first.label}: ours (1 core/server)`,
      "paper",
      "ours/paper",
      `${second.label}: ours (1 core/server)`,
      "paper",
      "ours/paper",
      `${first.label}: ours, one process`,
      `${second.label}: ours, one process`,
    ],
    rows,
  };
}

const MEASURES_NOTE =
  "ops/s. \"1 core/server\" = operations ÷ the busiest server's CPU seconds (each server's decoding, " +
  "core work and encoding metered; clients not counted). \"one process\" = operations ÷ wall seconds " +
  "with all servers and clients sharing one thread.";

export function table1(results: SweepResults, sizes: readonly number[]): Table {
  return pairTable(results, sizes, {
    title: "ZooKeeper paper, Table 1: throughput at 100% and 0% reads",
    note: `${MEASURES_NOTE} Paper: each server on its own machine (dual-core 2.1 GHz Xeon), hundreds of clients.`,
    published: PAPER_TABLE_1,
    first: { readPercent: 100, label: "100% reads" },
    second: { readPercent: 0, label: "0% reads" },
  });
}

export function extremesTable(results: SweepResults, sizes: readonly number[]): Table {
  return pairTable(results, sizes, {
    title: "ZooKeeper paper, performance at extremes: 1% writes and 100% writes",
    note: MEASURES_NOTE,
    published: PAPER_EXTREMES,
    first: { readPercent: 99, label: "99% reads" },
    second: { readPercent: 0, label: "100% writes" },
  });
}

/** Rows = read percent, columns = ensemble size, one measure per table. */
export function sweepTable(
  results: SweepResults,
  axes: { sizes: readonly number[]; readPercents: readonly number[] },
  measure: "perCore" | "singleProcess",
): Table {
  const throughput = measure === "perCore" ? perCoreThroughput : singleProcessThroughput;
  return {
    title: measure === "perCore"
      ? "Sweep: one-core-per-server throughput (ops/s) by read ratio and ensemble size"
      : "Sweep: single-process throughput (ops/s, everything on one thread) by read ratio and ensemble size",
    note: measure === "perCore"
      ? "Operations ÷ the busiest server's CPU seconds (the paper's figure plots this kind of number)."
      : "Operations ÷ wall seconds; all servers and clients share one thread, so this falls with size.",
    columns: ["reads", ...axes.sizes.map((voters) => `${voters} servers`)],
    rows: axes.readPercents.map((readPercent) => [
      `${readPercent}%`,
      ...axes.sizes.map((voters) => {
        const result = results.get(voters, readPercent);
        return result === undefined ? DASH : formatCount(throughput(result));
      }),
    ]),
  };
}
