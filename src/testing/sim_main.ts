/**
 * `deno task sim` (or `npm run sim`, `bun src/testing/sim_main.ts`): runs a campaign of seeds and
 * prints a summary; exits non-zero at the first failure, printing what broke and how to replay it.
 *
 *   --seeds N       how many seeds (default 100), starting at --from (default 1)
 *   --servers K     voters (default 3); --observers M (default 0)
 *   --seed S        run only seed S (or SEED=S in the environment)
 *   --ticks T       fault-phase length in replica ticks of 100 ms (default: drawn per seed, 30 to 500)
 *   --clients C     simulated clients (default 4)
 *   --no-swarm      every fault on at moderate rates instead of a plan drawn per seed
 *   --verbose       with one seed: print every peer message, persist and connection loss
 *   --ci            the CI campaign (src/testing/ci_campaign.ts): fresh seeds, printed base
 *   --ci-base B     with --ci: the campaign of base B (replays a whole CI campaign)
 *   --minutes N     a soak: fresh seeds across 3, 5 and 7 voters with and without observers until
 *                   N minutes have passed; stops by itself, prints the figures and every failing
 *                   seed with its replay command (--soak-base B replays a soak's seed sequence)
 *   --keep-going    run every seed and list all failures (to triage or refresh KNOWN_FAILING)
 *   --cbor          carry peer messages as real peer frames (src/wire/peer_codec.ts) instead of clones
 *   --reconfig on|off  dynamic reconfiguration on or off for every seed (default: drawn per seed,
 *                   on for about a third; see src/testing/sim_reconfig.ts)
 */
import { type CliRuntime, cliRuntime } from "../cli/runtime.ts";
import { type CampaignRun, type CampaignSummary, formatFailure, formatSummary, runCampaign } from "./campaign.ts";
import { ciRuns, freshSeedBase, KNOWN_FAILING, knownBugOf } from "./ci_campaign.ts";
import { PEER_FRAME_CODEC } from "./peer_frame_codec.ts";
import { createPrng } from "./prng.ts";
import type { SimResult } from "./simulator.ts";
import { DEFAULT_OPTIONS, type SimOptions } from "./sim_options.ts";

/** Ensemble shapes a soak cycles through. */
export const SOAK_SHAPES: ReadonlyArray<{ voters: number; observers: number }> = [
  { voters: 3, observers: 0 },
  { voters: 3, observers: 1 },
  { voters: 5, observers: 0 },
  { voters: 5, observers: 2 },
  { voters: 7, observers: 0 },
  { voters: 7, observers: 2 },
];

type Mode = { kind: "seeds"; runs: CampaignRun[] } | { kind: "ci"; base: number } | { kind: "soak"; minutes: number; base: number };

interface Parsed {
  mode: Mode;
  options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">>;
  verbose: boolean;
  keepGoing: boolean;
}

function parse(args: readonly string[], env: (name: string) => string | undefined): Parsed {
  const options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">> = {};
  let voters = DEFAULT_OPTIONS.voters;
  let observers = DEFAULT_OPTIONS.observers;
  let keepGoing = false;
  let ci = false;
  let base: number | null = null;
  let minutes: number | null = null;
  let count = 100;
  let from = 1;
  let only: number | null = env("SEED") === undefined || env("SEED") === "" ? null : Number(env("SEED"));
  let verbose = false;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = () => {
      const text = args[++i];
      const number = Number(text);
      if (text === undefined || !Number.isInteger(number) || number < 0) {
        throw new Error(`${flag} needs a non-negative integer, got ${text ?? "nothing"}`);
      }
      return number;
    };
    switch (flag) {
      case "--seeds":
        count = value();
        break;
      case "--from":
        from = value();
        break;
      case "--seed":
        only = value();
        break;
      case "--servers":
        voters = value();
        break;
      case "--observers":
        observers = value();
        break;
      case "--ci":
        ci = true;
        break;
      case "--ci-base":
      case "--soak-base":
        base = value();
        break;
      case "--minutes":
        minutes = value();
        break;
      case "--keep-going":
        keepGoing = true;
        break;
      case "--cbor":
        options.codec = PEER_FRAME_CODEC;
        break;
      case "--ticks":
        options.ticks = value();
        break;
      case "--clients":
        options.clients = value();
        break;
      case "--no-swarm":
        options.swarm = false;
        break;
      case "--verbose":
        verbose = true;
        break;
      case "--reconfig": {
        const text = args[++i];
        if (text !== "on" && text !== "off") throw new Error(`--reconfig needs on or off, got ${text ?? "nothing"}`);
        options.reconfig = text === "on";
        break;
      }
      default:
        throw new Error(`unknown option ${flag} (see the top of src/testing/sim_main.ts)`);
    }
  }
  if (only !== null && !Number.isInteger(only)) throw new Error(`SEED must be an integer`);
  if (!(voters >= 1 && voters <= 13)) throw new Error(`--servers must be 1 to 13, got ${voters}`);
  if (ci && minutes !== null) throw new Error("--ci and --minutes are different campaigns: pick one");
  const freshBase = () => base ?? freshSeedBase(env);
  let mode: Mode;
  if (ci) mode = { kind: "ci", base: freshBase() };
  else if (minutes !== null) mode = { kind: "soak", minutes, base: freshBase() };
  else {
    const seeds = only !== null ? [only] : Array.from({ length: count }, (_, i) => from + i);
    mode = { kind: "seeds", runs: seeds.map((seed) => ({ seed, voters, observers })) };
  }
  return { mode, options, verbose, keepGoing: keepGoing || mode.kind === "soak" };
}

/** A soak's runs: fresh seeds from `base`, cycling through the shapes, as many as time allows. */
function* soakRuns(base: number): Generator<CampaignRun> {
  const prng = createPrng(base);
  for (let i = 0;; i++) {
    const shape = SOAK_SHAPES[i % SOAK_SHAPES.length]!;
    yield { seed: prng.int(2_000_000_000), ...shape };
  }
}

function report(summary: CampaignSummary, keepGoing: boolean): { fresh: SimResult[]; known: Array<{ result: SimResult; bug: string }> } {
  const fresh: SimResult[] = [];
  const known: Array<{ result: SimResult; bug: string }> = [];
  for (const result of summary.failures) {
    const bug = knownBugOf(result);
    if (bug === null) fresh.push(result);
    else known.push({ result, bug });
  }
  if (known.length > 0) {
    console.log(`sim: ${known.length} run(s) failed with a known bug (src/testing/ci_campaign.ts KNOWN_BUGS):`);
    for (const { result, bug } of known) console.log(`  ${bug}\n    ${result.failure!.invariant}; replay: ${result.replay}`);
  }
  if (fresh.length > 0 && keepGoing) {
    console.log(`sim: ${fresh.length} failing run(s):`);
    for (const result of fresh) {
      console.log(`  { voters: ${result.options.voters}, observers: ${result.options.observers}, seed: ${result.seed}, invariant: ${JSON.stringify(result.failure!.invariant)} },`);
      console.log(`      replay: ${result.replay}`);
    }
    console.log(`sim: the first of them in full:\n${formatFailure(fresh[0]!)}`);
  } else if (fresh.length > 0) {
    console.log(formatFailure(fresh[0]!));
  }
  return { fresh, known };
}

async function main(): Promise<void> {
  const runtime: CliRuntime = cliRuntime();
  let parsed: Parsed;
  try {
    parsed = parse(runtime.args(), (name) => runtime.env(name));
  } catch (error) {
    console.error(`sim: ${(error as Error).message}`);
    return runtime.exit(2);
  }
  const { mode, options, verbose, keepGoing } = parsed;
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  let runs: Iterable<CampaignRun>;
  let until: (() => boolean) | undefined;
  if (mode.kind === "ci") {
    runs = ciRuns(mode.base);
    console.log(`sim: the CI campaign, seed base ${mode.base} (replay it: deno task sim --ci --ci-base ${mode.base}), ${[...runs].length} runs, on ${runtime.name}`);
  } else if (mode.kind === "soak") {
    runs = soakRuns(mode.base);
    until = () => elapsedS() >= mode.minutes * 60;
    console.log(`sim: soak for ${mode.minutes} minute(s), seed base ${mode.base} (deno task sim --minutes ${mode.minutes} --soak-base ${mode.base}), shapes ${SOAK_SHAPES.map((s) => `${s.voters}v+${s.observers}o`).join(", ")}, on ${runtime.name}`);
  } else {
    runs = mode.runs;
    if (verbose && mode.runs.length === 1) options.verbose = (line) => console.log(line);
    const first = mode.runs[0];
    console.log(`sim: ${mode.runs.length} run(s), ${first?.voters} voters, ${first?.observers} observers, ${options.ticks === undefined ? "ticks drawn per seed" : `${options.ticks} ticks`}, ${options.clients ?? DEFAULT_OPTIONS.clients} clients, on ${runtime.name}`);
  }
  let done = 0;
  let lastProgress = 0;
  const stopsOn = (result: SimResult) => knownBugOf(result) === null;
  const summary = await runCampaign(runs, { ...options, keepGoing, stopsOn, ...(until === undefined ? {} : { until }) }, (result) => {
    done++;
    if (result.failure !== null && (keepGoing || !stopsOn(result))) {
      console.log(`  FAILED voters ${result.options.voters} observers ${result.options.observers} seed ${result.seed}: ${result.failure.invariant}: ${result.failure.message.split("\n")[0]}`);
      console.log(`    replay: ${result.replay}`);
    }
    const progressEvery = mode.kind === "soak" ? 60 : 30;
    if (elapsedS() - lastProgress >= progressEvery) {
      lastProgress = elapsedS();
      console.log(`  … ${done} runs (${elapsedS().toFixed(0)} s)`);
    }
  });
  console.log(`sim: ${formatSummary(summary, elapsedS())}`);
  if (mode.kind === "ci") console.log(`sim: ${KNOWN_FAILING.length} known-failing seed(s) left out (src/testing/ci_campaign.ts)`);
  const { fresh } = report(summary, keepGoing);
  if (fresh.length === 0) {
    console.log("sim: all runs passed" + (summary.failures.length > 0 ? " (but for known bugs, above)" : ""));
    return runtime.exit(0);
  }
  runtime.exit(1);
}

await main();
