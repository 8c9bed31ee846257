/**
 * Runs many seeds and summarizes them. By default it stops at the first failure (a failure is a
 * reproducible seed, so one is enough to act on); `keepGoing` runs everything and lists every
 * failing seed (to triage, or to refresh the known-failing list); `until` stops a soak when its
 * time is up. Shared by `deno task sim` (campaigns and soaks) and the CI test.
 */
import { emptyNemesisStats, type NemesisStats } from "./nemesis.ts";
import { runSimulation, type SimResult, type SimStats } from "./simulator.ts";
import { describePlan, type RunProfile, type SimOptions, TICK_TIME_MS } from "./sim_options.ts";

/** One run of a campaign: a seed and the ensemble shape it runs with. */
export interface CampaignRun {
  seed: number;
  voters: number;
  observers: number;
}

type Counted = Omit<SimStats, "faults" | "convergeMs" | "sessionCloseLagMs" | "requestKinds">;

export interface CampaignSummary {
  runs: number;
  /** The first failure (or every failure, with keepGoing), in run order. */
  failures: SimResult[];
  totals: Counted;
  /** Faults injected, by kind, over every run. */
  faults: NemesisStats;
  /** Runs per drawn profile, and per ensemble shape ("3v+1o"). */
  profiles: Partial<Record<RunProfile, number>>;
  shapes: Record<string, number>;
  /** Answered client requests by kind. */
  requestKinds: Record<string, number>;
  /** Runs with dynamic reconfiguration on. */
  reconfigRuns: number;
  /** Convergence times (virtual ms) of the passing runs, sorted on demand by `percentile`. */
  convergeMs: number[];
  /** How long after the longest session timeout the last session closed (virtual ms), per run. */
  sessionCloseLagMs: number[];
}

export function emptySummary(): CampaignSummary {
  return {
    runs: 0,
    failures: [],
    totals: {
      events: 0,
      virtualMs: 0,
      faultMs: 0,
      sessionsDrained: 0,
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
      unsyncedKept: 0,
      corruptions: 0,
      reconfigs: 0,
    },
    faults: emptyNemesisStats(),
    profiles: {},
    shapes: {},
    requestKinds: {},
    reconfigRuns: 0,
    convergeMs: [],
    sessionCloseLagMs: [],
  };
}

/** Adds one run to a summary. */
export function addResult(summary: CampaignSummary, result: SimResult): void {
  summary.runs++;
  const stats = result.stats;
  const totals = summary.totals;
  for (const key of Object.keys(totals) as Array<keyof Counted>) totals[key] += stats[key];
  for (const key of Object.keys(summary.faults) as Array<keyof NemesisStats>) summary.faults[key] += stats.faults[key];
  summary.profiles[result.plan.profile] = (summary.profiles[result.plan.profile] ?? 0) + 1;
  const shape = `${result.options.voters}v+${result.options.observers}o`;
  summary.shapes[shape] = (summary.shapes[shape] ?? 0) + 1;
  if (result.plan.server.reconfigEnabled === true) summary.reconfigRuns++;
  for (const [kind, count] of Object.entries(stats.requestKinds)) summary.requestKinds[kind] = (summary.requestKinds[kind] ?? 0) + count;
  if (result.failure === null) {
    summary.convergeMs.push(stats.convergeMs);
    if (stats.sessionsDrained > 0) summary.sessionCloseLagMs.push(stats.sessionCloseLagMs);
  } else {
    summary.failures.push(result);
  }
}

export async function runCampaign(
  runs: Iterable<CampaignRun>,
  options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">> & {
    keepGoing?: boolean;
    /** Stop before starting a run once this returns true (a soak's clock). */
    until?: () => boolean;
    /** Without keepGoing: which failures stop the campaign (default: any; e.g. not a known bug). */
    stopsOn?: (result: SimResult) => boolean;
  },
  onResult?: (result: SimResult) => void,
): Promise<CampaignSummary> {
  const { keepGoing = false, until, stopsOn = () => true, ...simOptions } = options;
  const summary = emptySummary();
  for (const run of runs) {
    if (until?.()) break;
    const result = await runSimulation({ ...simOptions, ...run });
    addResult(summary, result);
    onResult?.(result);
    if (result.failure !== null && !keepGoing && stopsOn(result)) break;
  }
  return summary;
}

/** The value below which `fraction` of `values` lie (nearest rank); 0 for none. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/** The campaign's totals in one paragraph. */
export function formatSummary(summary: CampaignSummary, seconds: number): string {
  const t = summary.totals;
  const f = summary.faults;
  const converge = summary.convergeMs;
  const lag = summary.sessionCloseLagMs;
  return `${summary.runs} run(s) in ${seconds.toFixed(1)} s, ${(t.virtualMs / 3_600_000).toFixed(2)} virtual hours ` +
    `(${(t.faultMs / 3_600_000).toFixed(2)} h under faults): ${t.events} events, ${t.messagesSent} peer messages ` +
    `(${t.messagesDropped} dropped, ${t.connectionBreaks} connection breaks); ` +
    `faults: ${f.crashes} crashes (${f.aimedCrashes} aimed between a write and its fsync, ${f.majorityDown} leaving a majority down), ` +
    `${f.unsyncedAtCrash} unsynced writes at a crash (some kept ${t.unsyncedKept} times, ${t.tornAppends} torn), ` +
    `${f.partitions} partitions, ${f.oneWayCuts} one-way cuts, ${f.leaderIsolations} leader isolations, ` +
    `${f.connectionBreaks} connection breaks, ${f.spikes} delay spikes, ${f.slowDisks} slow disks, ` +
    `${f.clockJumpsForward} clock steps forward and ${f.clockJumpsBack} back, ${f.clientDrops} client drops, ` +
    `${f.fsyncErrors} fsync EIO, ${f.diskFulls} disks full part-way, ${t.corruptions} bit flips; ` +
    `${t.txns} txns committed, ${t.epochs} epochs, ${t.ops} client ops (${t.acknowledgedWrites} acknowledged writes checked, ` +
    `${t.unknownOutcomes} with unknown outcome), ${t.watchEvents} watch events, ${t.snapshotsWritten} snapshots; ` +
    (summary.reconfigRuns > 0 ? `${t.reconfigs} reconfigurations committed in ${summary.reconfigRuns} run(s) with reconfig on; ` : "") +
    `convergence after faults p50 ${percentile(converge, 0.5).toFixed(0)} / p99 ${percentile(converge, 0.99).toFixed(0)} / ` +
    `max ${percentile(converge, 1).toFixed(0)} ms; ${t.sessionsDrained} sessions closed after their clients fell silent, ` +
    `the last within p99 ${percentile(lag, 0.99).toFixed(0)} / max ${percentile(lag, 1).toFixed(0)} ms of the longest timeout; ` +
    `profiles ${JSON.stringify(summary.profiles)}; shapes ${JSON.stringify(summary.shapes)}; ` +
    `requests answered by kind ${JSON.stringify(summary.requestKinds)}`;
}

/** A failure, readable: the invariant, what happened, the plan, the replay command, the trace. */
export function formatFailure(result: SimResult, options: { traceLines?: number; logLines?: number } = {}): string {
  const failure = result.failure!;
  const trace = result.diagnostics?.trace ?? [];
  const logs = result.diagnostics?.logs ?? [];
  const traceLines = options.traceLines ?? 30;
  const logLines = options.logLines ?? 40;
  return [
    `FAILED seed ${result.seed} (${result.options.voters} voters, ${result.options.observers} observers, ${result.stats.faultMs / TICK_TIME_MS} ticks) at ${failure.atMs?.toFixed(1) ?? "?"} ms`,
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
