/**
 * Runs many seeds and summarizes them. By default it stops at the first failure (a failure is a
 * reproducible seed, so one is enough to act on); `keepGoing` runs everything and lists every
 * failing seed (to triage, or to refresh the known-failing list). Shared by `deno task sim` and the
 * CI test.
 */
import { runSimulation, type SimResult, type SimStats } from "./simulator.ts";
import { describePlan, type SimOptions } from "./sim_options.ts";

/** One run of a campaign: a seed and the ensemble shape it runs with. */
export interface CampaignRun {
  seed: number;
  voters: number;
  observers: number;
}

export interface CampaignSummary {
  runs: number;
  /** The first failure (or every failure, with keepGoing), in run order. */
  failures: SimResult[];
  totals: Omit<SimStats, "faults" | "virtualMs" | "convergeMs"> & { crashes: number; partitions: number };
  convergeMsMax: number;
}

export function runCampaign(
  runs: Iterable<CampaignRun>,
  options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">> & { keepGoing?: boolean },
  onResult?: (result: SimResult) => void,
): CampaignSummary {
  const { keepGoing = false, ...simOptions } = options;
  const summary: CampaignSummary = {
    runs: 0,
    failures: [],
    totals: {
      events: 0,
      messagesSent: 0,
      messagesDropped: 0,
      connectionBreaks: 0,
      txns: 0,
      epochs: 0,
      ops: 0,
      acknowledgedWrites: 0,
      unknownOutcomes: 0,
      watchEvents: 0,
      snapshotsWritten: 0,
      tornAppends: 0,
      crashes: 0,
      partitions: 0,
    },
    convergeMsMax: 0,
  };
  for (const run of runs) {
    const result = runSimulation({ ...simOptions, ...run });
    summary.runs++;
    const totals = summary.totals;
    const stats = result.stats;
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) {
      if (key === "crashes" || key === "partitions") continue;
      totals[key] += stats[key];
    }
    totals.crashes += stats.faults.crashes;
    totals.partitions += stats.faults.partitions;
    summary.convergeMsMax = Math.max(summary.convergeMsMax, stats.convergeMs);
    onResult?.(result);
    if (result.failure !== null) {
      summary.failures.push(result);
      if (!keepGoing) break;
    }
  }
  return summary;
}

/** The campaign's totals in one paragraph. */
export function formatSummary(summary: CampaignSummary, seconds: number): string {
  const t = summary.totals;
  return `${summary.runs} run(s) in ${seconds.toFixed(1)} s: ${t.events} events, ${t.messagesSent} peer messages ` +
    `(${t.messagesDropped} dropped, ${t.connectionBreaks} connection breaks), ${t.crashes} crashes, ${t.partitions} partitions, ` +
    `${t.txns} txns committed, ${t.epochs} epochs, ${t.ops} client ops (${t.acknowledgedWrites} acknowledged writes, ` +
    `${t.unknownOutcomes} with unknown outcome), ${t.watchEvents} watch events, ${t.snapshotsWritten} snapshots, ` +
    `${t.tornAppends} torn appends; slowest convergence ${summary.convergeMsMax.toFixed(0)} ms`;
}

/** A failure, readable: the invariant, what happened, the plan, the replay command, the trace. */
export function formatFailure(result: SimResult, options: { traceLines?: number; logLines?: number } = {}): string {
  const failure = result.failure!;
  const trace = result.diagnostics?.trace ?? [];
  const logs = result.diagnostics?.logs ?? [];
  const traceLines = options.traceLines ?? 30;
  const logLines = options.logLines ?? 40;
  return [
    `FAILED seed ${result.seed} (${result.options.voters} voters, ${result.options.observers} observers, ${result.options.ticks} ticks) at ${failure.atMs?.toFixed(1) ?? "?"} ms`,
    `invariant: ${failure.invariant}`,
    failure.message,
    describePlan(result.plan),
    `replay: ${result.replay}`,
    `   (or: ${result.replay.replace("deno task sim", "npx tsx src/testing/sim_main.ts")}; add --verbose for every message)`,
    ...(result.diagnostics ? ["members at the end:", ...result.diagnostics.members.map((line) => `  ${line}`)] : []),
    ...(trace.length > 0 ? [`fault trace (last ${Math.min(traceLines, trace.length)}):`, ...trace.slice(-traceLines).map((line) => `  ${line}`)] : []),
    ...(logs.length > 0 ? [`replica log (last ${Math.min(logLines, logs.length)}):`, ...logs.slice(-logLines).map((line) => `  ${line}`)] : []),
  ].join("\n");
}
