/**
 * `deno task mutate`: runs the mutation catalogue (tests/mutation/catalogue.ts) and writes
 * tests/mutation/RESULTS.md. Unit tests run under Deno; the simulator campaign too (any runtime
 * could run it, one is enough to judge a mutant).
 *
 *   deno run -A scripts/mutate.ts                      every mutant, RESULTS.md rewritten
 *   deno run -A scripts/mutate.ts --only a,b           just these (prints; --out to write a file)
 *   deno run -A scripts/mutate.ts --sample 2 --rotate K   K picks the sample (a date, a number);
 *                                                      without --rotate a fresh key is drawn and printed
 *   --list          the catalogue: counts by area, slip and issue class; no runs
 *   --check         only check that every entry applies exactly once (stale entries fail); no runs
 *   --from head     mutate `git archive HEAD` instead of the work tree (git is only read)
 *   --sim-base B    the simulator campaign's seed base (default 20261205, fixed so runs compare)
 *   --sim-max-runs N   at most N simulator runs per mutant (default: the whole CI campaign)
 *   --sim-budget-s S   wall-clock budget of one mutant's campaign (default 420)
 *   --hang-s S         one simulated run silent this long counts as hung, i.e. caught (default 90)
 *   --unit-budget-s S  wall-clock budget of one mutant's unit tests (default 300)
 *   --stop-at-first    skip the simulator when the unit tests caught the mutant
 *   --no-unit / --no-sim / --no-baseline
 *   --require-caught   exit 1 if a non-equivalent mutant is not caught (the CI sample)
 *   --out FILE         where the table goes (default tests/mutation/RESULTS.md for a full run)
 *   --jsonl FILE       append each mutant's result as a JSON line; --resume FILE skips the ids in it
 *   --allow-stale      run the others and list stale entries in the table (the run still fails)
 *   --keep-scratch     keep the scratch copy (its path is printed)
 *   --report FILE      no runs: write the table from a --jsonl/--resume file (give the --from and
 *                      --sim-base the runs used; --note TEXT adds a line to the summary)
 *
 * Exit status 1: a stale entry, a mutant that does not compile, an "equivalent" mutant that was
 * caught (its argument is wrong), or with --require-caught a mutant not caught.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { areaOf, CATALOGUE, ISSUE_CLASSES, type Mutant } from "../tests/mutation/catalogue.ts";
import {
  DEFAULT_OPTIONS,
  formatResults,
  type MutantResult,
  runMutants,
  type RunnerOptions,
  sampleMutants,
  staleMutants,
} from "../tests/mutation/runner.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Parsed {
  only: string[] | null;
  sample: number | null;
  rotate: string | null;
  list: boolean;
  check: boolean;
  requireCaught: boolean;
  allowStale: boolean;
  out: string | null;
  jsonl: string | null;
  resume: string | null;
  report: string | null;
  note: string | null;
  options: Omit<RunnerOptions, "repo" | "log">;
}

function parse(args: readonly string[]): Parsed {
  const parsed: Parsed = {
    only: null,
    sample: null,
    rotate: null,
    list: false,
    check: false,
    requireCaught: false,
    allowStale: false,
    out: null,
    jsonl: null,
    resume: null,
    report: null,
    note: null,
    options: { ...DEFAULT_OPTIONS },
  };
  for (let index = 0; index < args.length; index++) {
    const flag = args[index]!;
    const text = () => {
      const value = args[++index];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      return value;
    };
    const number = () => {
      const value = Number(text());
      if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} needs a non-negative integer`);
      return value;
    };
    switch (flag) {
      case "--only":
        parsed.only = text().split(",").map((id) => id.trim()).filter((id) => id !== "");
        break;
      case "--sample":
        parsed.sample = number();
        break;
      case "--rotate":
        parsed.rotate = text();
        break;
      case "--list":
        parsed.list = true;
        break;
      case "--check":
        parsed.check = true;
        break;
      case "--from": {
        const from = text();
        if (from !== "worktree" && from !== "head") throw new Error("--from is worktree or head");
        parsed.options.from = from;
        break;
      }
      case "--sim-base":
        parsed.options.simBase = number();
        break;
      case "--sim-max-runs":
        parsed.options.simMaxRuns = number();
        break;
      case "--sim-budget-s":
        parsed.options.simBudgetMs = number() * 1000;
        break;
      case "--hang-s":
        parsed.options.simRunHangMs = number() * 1000;
        break;
      case "--unit-budget-s":
        parsed.options.unitBudgetMs = number() * 1000;
        break;
      case "--stop-at-first":
        parsed.options.stopAtFirst = true;
        break;
      case "--no-unit":
        parsed.options.skipUnit = true;
        break;
      case "--no-sim":
        parsed.options.skipSim = true;
        break;
      case "--no-baseline":
        parsed.options.baseline = false;
        break;
      case "--keep-scratch":
        parsed.options.keepScratch = true;
        break;
      case "--require-caught":
        parsed.requireCaught = true;
        break;
      case "--allow-stale":
        parsed.allowStale = true;
        break;
      case "--out":
        parsed.out = text();
        break;
      case "--jsonl":
        parsed.jsonl = text();
        break;
      case "--resume":
        parsed.resume = text();
        break;
      case "--report":
        parsed.report = text();
        break;
      case "--note":
        parsed.note = text();
        break;
      default:
        throw new Error(`unknown option ${flag} (see the top of scripts/mutate.ts)`);
    }
  }
  return parsed;
}

function select(parsed: Parsed): Mutant[] {
  if (parsed.only !== null) {
    const unknown = parsed.only.filter((id) => !CATALOGUE.some((mutant) => mutant.id === id));
    if (unknown.length > 0) throw new Error(`no mutant named ${unknown.join(", ")} (see --list)`);
    return CATALOGUE.filter((mutant) => parsed.only!.includes(mutant.id));
  }
  if (parsed.sample !== null) {
    const key = parsed.rotate ?? String(crypto.getRandomValues(new Uint32Array(1))[0]);
    const chosen = sampleMutants(parsed.sample, key);
    console.log(
      `mutate: sample of ${chosen.length} with key ${key} (replay: --sample ${parsed.sample} --rotate ${key}): ${
        chosen.map((m) => m.id).join(", ")
      }`,
    );
    return chosen;
  }
  return [...CATALOGUE];
}

function listCatalogue(): void {
  const count = (key: (mutant: Mutant) => string) => {
    const counts = new Map<string, number>();
    for (const mutant of CATALOGUE) counts.set(key(mutant), (counts.get(key(mutant)) ?? 0) + 1);
    return [...counts].map(([name, n]) => `${name} ${n}`).join(", ");
  };
  console.log(
    `${CATALOGUE.length} mutants (${
      CATALOGUE.filter((m) => m.equivalent !== undefined).length
    } argued equivalent)`,
  );
  console.log(`by area: ${count(areaOf)}`);
  console.log(`by slip: ${count((mutant) => mutant.slip)}`);
  for (const [key, text] of Object.entries(ISSUE_CLASSES)) {
    console.log(
      `  ${text}: ${
        CATALOGUE.filter((mutant) => mutant.issueClass === key).map((mutant) => mutant.id).join(", ") ||
        "NONE"
      }`,
    );
  }
  for (const mutant of CATALOGUE) {
    console.log(`  ${mutant.id.padEnd(44)} ${areaOf(mutant).padEnd(8)} ${mutant.title}`);
  }
}

function readerFor(from: RunnerOptions["from"]): (path: string) => string | null {
  if (from === "worktree") return (path) => existsSync(path) ? readFileSync(path, "utf8") : null;
  return (path) => {
    const relative = path.slice(REPO.length + 1);
    try {
      return execFileSync("git", ["-C", REPO, "show", `HEAD:${relative}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      return null;
    }
  };
}

function commitOf(from: RunnerOptions["from"]): string {
  try {
    const head = execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" })
      .trim();
    if (from === "head") return head;
    const dirty =
      execFileSync("git", ["-C", REPO, "status", "--porcelain", "--", "src"], { encoding: "utf8" }).trim() !==
        "";
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return "unknown";
  }
}

async function main(): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(Deno.args);
  } catch (error) {
    console.error(`mutate: ${(error as Error).message}`);
    return 2;
  }
  if (parsed.list) {
    listCatalogue();
    return 0;
  }
  if (parsed.report !== null) return writeReport(parsed);
  let mutants: Mutant[];
  try {
    mutants = select(parsed);
  } catch (error) {
    console.error(`mutate: ${(error as Error).message}`);
    return 2;
  }
  const stale = staleMutants(REPO, mutants, readerFor(parsed.options.from));
  if (stale.length > 0) {
    console.error(`mutate: ${stale.length} STALE catalogue entr${stale.length === 1 ? "y" : "ies"}:`);
    for (const problem of stale) console.error(`  ${problem}`);
    if (parsed.check || !parsed.allowStale) return 1;
  }
  if (parsed.check) {
    console.log(`mutate: all ${mutants.length} entries apply exactly once`);
    return 0;
  }
  if (parsed.resume !== null && existsSync(parsed.resume)) {
    const done = new Set(
      readFileSync(parsed.resume, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) =>
        (JSON.parse(line) as MutantResult).id
      ),
    );
    mutants = mutants.filter((mutant) => !done.has(mutant.id));
    console.log(`mutate: resuming: ${done.size} done in ${parsed.resume}, ${mutants.length} to go`);
  }
  const jsonl = parsed.jsonl ?? parsed.resume;
  // Before the copy is made: HEAD may move while the run goes on.
  const commit = commitOf(parsed.options.from);
  let results: MutantResult[];
  const baselineFailures: Array<{ key: string; invariant: string; replay: string }> = [];
  try {
    results = await runMutants(mutants, {
      ...parsed.options,
      baselineFailures,
      repo: REPO,
      log: (line) => console.log(line),
      ...(jsonl === null
        ? {}
        : { onResult: (result: MutantResult) => appendFileSync(jsonl, JSON.stringify(result) + "\n") }),
    });
  } catch (error) {
    console.error(`mutate: ${(error as Error).message}`);
    return 1;
  }
  if (jsonl !== null && parsed.resume !== null) {
    // The table covers every mutant in the file, earlier sessions included, in catalogue order.
    results = readJsonl(jsonl);
  }
  const full = parsed.only === null && parsed.sample === null;
  const out = parsed.out ?? (full ? join(REPO, "tests", "mutation", "RESULTS.md") : null);
  const text = formatResults(results, {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    from: parsed.options.from === "head" ? "HEAD" : "the work tree",
    commit,
    simBase: parsed.options.simBase,
    simRuns: parsed.options.simMaxRuns === null
      ? "every run of it"
      : `at most ${parsed.options.simMaxRuns} runs per mutant`,
    // Summed per mutant, so a table assembled from resumed sessions still adds up (baseline not included).
    totalMs: results.reduce((sum, result) => sum + result.ms, 0),
    command: commandLine(),
    ...noteOf(parsed, baselineFailures),
  });
  if (out !== null) {
    writeFileSync(out, text);
    console.log(`mutate: wrote ${out}`);
  } else {
    console.log(text.split("## What each mutant is")[0]);
  }
  const bad = results.filter((result) =>
    result.verdict === "stale" || result.verdict === "does not compile" ||
    result.verdict === "equivalent but caught" ||
    (parsed.requireCaught && result.verdict === "not caught")
  );
  for (const result of bad) {
    console.error(`mutate: ${result.id}: ${result.verdict} ${result.caughtBy} ${result.compileError ?? ""}`);
  }
  return bad.length > 0 || stale.length > 0 ? 1 : 0;
}

/** The summary's extra line: --note, and the seeds the unmutated code failed (left out for every mutant). */
function noteOf(
  parsed: Parsed,
  baselineFailures: ReadonlyArray<{ key: string; invariant: string; replay: string }>,
): { note?: string } {
  const parts: string[] = [];
  if (parsed.note !== null) parts.push(parsed.note);
  if (baselineFailures.length > 0) {
    parts.push(
      `The unmutated code failed ${baselineFailures.length} run(s) of the campaign, left out for every mutant: ` +
        baselineFailures.map((failure) =>
          `${failure.key} (seed:voters:observers) "${failure.invariant}", \`${failure.replay}\``
        ).join("; "),
    );
  }
  return parts.length === 0 ? {} : { note: parts.join(" ") };
}

function readJsonl(path: string): MutantResult[] {
  const all = readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) =>
    JSON.parse(line) as MutantResult
  );
  const latest = new Map(all.map((result) => [result.id, result]));
  return CATALOGUE.map((mutant) => latest.get(mutant.id)).filter((result): result is MutantResult =>
    result !== undefined
  )
    .concat([...latest.values()].filter((result) => !CATALOGUE.some((mutant) => mutant.id === result.id)));
}

/** The command line as typed, with a --note's text left out (it is printed in the summary). */
function commandLine(): string {
  const args = [...Deno.args];
  const note = args.indexOf("--note");
  if (note !== -1) args.splice(note, 2, "--note …");
  return `deno task mutate ${args.join(" ")}`.trim();
}

function writeReport(parsed: Parsed): number {
  const results = readJsonl(parsed.report!);
  const out = parsed.out ?? join(REPO, "tests", "mutation", "RESULTS.md");
  writeFileSync(
    out,
    formatResults(results, {
      date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
      from: parsed.options.from === "head" ? "HEAD" : "the work tree",
      commit: commitOf(parsed.options.from),
      simBase: parsed.options.simBase,
      simRuns: parsed.options.simMaxRuns === null
        ? "every run of it"
        : `at most ${parsed.options.simMaxRuns} runs per mutant`,
      totalMs: results.reduce((sum, result) => sum + result.ms, 0),
      command: commandLine(),
      ...noteOf(parsed, []),
    }),
  );
  console.log(`mutate: wrote ${out} from ${results.length} result(s) in ${parsed.report}`);
  return 0;
}

Deno.exit(await main());
