/**
 * `deno task sim` (or `npm run sim`, `bun src/testing/sim_main.ts`): runs a campaign of seeds and
 * prints a summary; exits non-zero at the first failure, printing what broke and how to replay it.
 *
 *   --seeds N       how many seeds (default 100), starting at --from (default 1)
 *   --servers K     voters (default 3); --observers M (default 0)
 *   --seed S        run only seed S (or SEED=S in the environment)
 *   --ticks T       fault-phase length in replica ticks of 100 ms (default 60)
 *   --clients C     simulated clients (default 4)
 *   --no-swarm      every fault on at moderate rates instead of a plan drawn per seed
 *   --verbose       with one seed: print every peer message, persist and connection loss
 *   --ci            the CI campaign (src/testing/ci_campaign.ts) instead of --seeds/--servers
 *   --keep-going    run every seed and list all failures (to triage or refresh KNOWN_FAILING)
 *   --cbor          carry peer messages as real peer frames (src/wire/peer_codec.ts) instead of clones
 */
import { type CliRuntime, cliRuntime } from "../cli/runtime.ts";
import { type CampaignRun, formatFailure, formatSummary, runCampaign } from "./campaign.ts";
import { ciRuns, KNOWN_FAILING } from "./ci_campaign.ts";
import { PEER_FRAME_CODEC } from "./peer_frame_codec.ts";
import { DEFAULT_OPTIONS, type SimOptions } from "./sim_options.ts";

interface Parsed {
  runs: CampaignRun[];
  options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">>;
  verbose: boolean;
  keepGoing: boolean;
  ci: boolean;
}

function parse(args: readonly string[], env: (name: string) => string | undefined): Parsed {
  const options: Partial<Omit<SimOptions, "seed" | "voters" | "observers">> = {};
  let voters = DEFAULT_OPTIONS.voters;
  let observers = DEFAULT_OPTIONS.observers;
  let keepGoing = false;
  let ci = false;
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
      default:
        throw new Error(`unknown option ${flag} (see the top of src/testing/sim_main.ts)`);
    }
  }
  if (only !== null && !Number.isInteger(only)) throw new Error(`SEED must be an integer`);
  if (!(voters >= 1 && voters <= 13)) throw new Error(`--servers must be 1 to 13, got ${voters}`);
  const seeds = only !== null ? [only] : Array.from({ length: count }, (_, i) => from + i);
  const runs = ci ? ciRuns() : seeds.map((seed) => ({ seed, voters, observers }));
  return { runs, options, verbose, keepGoing, ci };
}

function main(): void {
  const runtime: CliRuntime = cliRuntime();
  let parsed: Parsed;
  try {
    parsed = parse(runtime.args(), (name) => runtime.env(name));
  } catch (error) {
    console.error(`sim: ${(error as Error).message}`);
    return runtime.exit(2);
  }
  const { runs, options, verbose, keepGoing, ci } = parsed;
  if (verbose && runs.length === 1) options.verbose = (line) => console.log(line);
  const shape = ci ? "the CI campaign" : `${runs[0]?.voters} voters, ${runs[0]?.observers} observers`;
  console.log(`sim: ${runs.length} run(s), ${shape}, ${options.ticks ?? DEFAULT_OPTIONS.ticks} ticks, ${options.clients ?? DEFAULT_OPTIONS.clients} clients, on ${runtime.name}`);
  const started = performance.now();
  let done = 0;
  const summary = runCampaign(runs, { ...options, keepGoing }, (result) => {
    done++;
    if (result.failure !== null && keepGoing) {
      console.log(`  FAILED voters ${result.options.voters} observers ${result.options.observers} seed ${result.seed}: ${result.failure.invariant}: ${result.failure.message.split("\n")[0]}`);
    }
    if (runs.length > 1 && done % 100 === 0) console.log(`  … ${done} runs (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  });
  console.log(`sim: ${formatSummary(summary, (performance.now() - started) / 1000)}`);
  if (ci) console.log(`sim: ${KNOWN_FAILING.length} known-failing seed(s) left out (src/testing/ci_campaign.ts)`);
  if (summary.failures.length === 0) {
    console.log("sim: all runs passed");
    runtime.exit(0);
  }
  if (keepGoing) {
    console.log(`sim: ${summary.failures.length} failing run(s):`);
    for (const result of summary.failures) {
      console.log(`  { voters: ${result.options.voters}, observers: ${result.options.observers}, seed: ${result.seed}, invariant: ${JSON.stringify(result.failure!.invariant)} },`);
    }
  } else {
    console.log(formatFailure(summary.failures[0]!));
  }
  runtime.exit(1);
}

main();
