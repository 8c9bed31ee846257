/**
 * Runs the simulator's CI campaign inside a mutant's scratch copy, one seed at a time, and reports
 * each run as a line `MUTPROBE {json}` on stdout so that the runner (tests/mutation/runner.ts) can
 * count seeds, stop at the first failure and tell a hung run from a slow campaign. Stops at the first
 * failure that is not a known open bug (ci_campaign.ts KNOWN_BUGS).
 *
 *   deno run -A tests/mutation/sim_probe.ts --base B [--max-runs N] [--keep-going] [--exclude S:V:O,...]
 *
 * --keep-going reports every failure (the runner's baseline: seeds the unmutated code fails are then
 * passed with --exclude, seed:voters:observers, so a mutant is judged on the seeds that pass).
 *
 * It imports the campaign by feature (the simulator's API moves while issue 11 is under way): the
 * CI runs of base B when `ciRuns` takes a base, else the fixed CI runs.
 */
import * as campaign from "../../src/testing/ci_campaign.ts";
import * as simulator from "../../src/testing/simulator.ts";

interface Run {
  seed: number;
  voters: number;
  observers: number;
}

interface Failure {
  invariant: string;
  message: string;
}

interface Result {
  seed: number;
  failure: Failure | null;
  replay?: string;
}

function emit(record: Record<string, unknown>): void {
  console.log(`MUTPROBE ${JSON.stringify(record)}`);
}

function argument(args: readonly string[], name: string): number | null {
  const index = args.indexOf(name);
  if (index === -1) return null;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} needs a non-negative integer`);
  return value;
}

async function main(args: readonly string[]): Promise<void> {
  const base = argument(args, "--base") ?? 1;
  const maxRuns = argument(args, "--max-runs");
  const api = campaign as unknown as Record<string, unknown>;
  const ciRuns = api.ciRuns as (...args: unknown[]) => Run[];
  const runs = ciRuns.length >= 1 ? ciRuns(base) : ciRuns();
  const knownBugOf = typeof api.knownBugOf === "function"
    ? api.knownBugOf as (result: Result) => string | null
    : () => null;
  const runSimulation = (simulator as unknown as Record<string, unknown>).runSimulation as (
    options: Run,
  ) => Result | Promise<Result>;
  const keepGoing = args.includes("--keep-going");
  const excludeAt = args.indexOf("--exclude");
  const excluded = new Set(
    excludeAt === -1 ? [] : (args[excludeAt + 1] ?? "").split(",").filter((text) => text !== ""),
  );
  const selected = runs.filter((run) => !excluded.has(`${run.seed}:${run.voters}:${run.observers}`));
  runs.splice(0, runs.length, ...selected);
  const limit = maxRuns === null ? runs.length : Math.min(maxRuns, runs.length);
  emit({ event: "campaign", runs: limit, base });
  for (let index = 0; index < limit; index++) {
    const run = runs[index]!;
    emit({ event: "start", index, ...run });
    const result = await runSimulation({ seed: run.seed, voters: run.voters, observers: run.observers });
    if (result.failure === null) continue;
    const known = knownBugOf(result);
    const message = result.failure.message.split("\n")[0]!.slice(0, 300);
    if (known !== null) {
      emit({ event: "known", index, ...run, invariant: result.failure.invariant, bug: known });
      continue;
    }
    emit({
      event: "failure",
      index,
      ...run,
      invariant: result.failure.invariant,
      message,
      replay: result.replay ?? "",
    });
    if (!keepGoing) return;
  }
  emit({ event: "passed", runs: limit });
}

await main((globalThis as { Deno?: { args: string[] } }).Deno?.args ?? []);
