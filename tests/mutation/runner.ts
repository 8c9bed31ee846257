/**
 * The mutation runner: for each catalogue entry, a scratch copy of the repository with the mutant
 * applied, a type check of the mutated file, the entry's unit tests (under Deno) and the simulator's
 * CI campaign (tests/mutation/sim_probe.ts, stopping at the first failing seed), each with a time
 * budget. scripts/mutate.ts is the command line; mutation_sample_test.ts runs a rotating sample.
 *
 * One scratch directory per run (under the system temp dir, never inside the repository): a copy of
 * the sources without .git and node_modules (symlinked), made once; each mutant rewrites one file and
 * the pristine text is put back afterwards, and the directory is removed at the end.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMutant } from "./apply.ts";
import { areaOf, CATALOGUE, ISSUE_CLASSES, type Mutant } from "./catalogue.ts";

export interface RunnerOptions {
  /** The repository to copy. */
  repo: string;
  /** "worktree": the files as they are now; "head": `git archive HEAD` (read-only use of git). */
  from: "worktree" | "head";
  /** The simulator campaign's seed base (ci_campaign.ts ciRuns); fixed per run so mutants compare. */
  simBase: number;
  /** At most this many simulator runs per mutant (default: the whole CI campaign). */
  simMaxRuns: number | null;
  /** Wall-clock budget of a mutant's simulator campaign, and of one simulated run (a hang). */
  simBudgetMs: number;
  simRunHangMs: number;
  /** Wall-clock budget of a mutant's unit tests. */
  unitBudgetMs: number;
  /** Skip the simulator when the unit tests already caught the mutant (CI sample, quick runs). */
  stopAtFirst: boolean;
  skipUnit: boolean;
  skipSim: boolean;
  /** Run (and check) an unmutated baseline first: the campaign and tests must pass on it. */
  baseline: boolean;
  keepScratch: boolean;
  log: (line: string) => void;
  /** Called after each mutant (the CLI appends it to a JSON-lines file for --resume). */
  onResult?: (result: MutantResult) => void;
  /** Seeds left out of every mutant's campaign (set from the baseline's failures). */
  simExclude?: readonly string[];
  /** The baseline's failing runs are appended here (for the table). */
  baselineFailures?: Array<{ key: string; invariant: string; replay: string }>;
}

export const DEFAULT_OPTIONS: Omit<RunnerOptions, "repo" | "log"> = {
  from: "worktree",
  simBase: 20261205,
  simMaxRuns: null,
  simBudgetMs: 420_000,
  simRunHangMs: 90_000,
  unitBudgetMs: 300_000,
  stopAtFirst: false,
  skipUnit: false,
  skipSim: false,
  baseline: true,
  keepScratch: false,
};

export interface UnitOutcome {
  status: "caught" | "passed" | "timeout" | "skipped";
  /** Failing tests ("suite ... test"), at most a few. */
  failing: string[];
  ms: number;
}

export interface SimOutcome {
  status: "caught" | "hung" | "passed" | "budget" | "crashed" | "skipped" | "n/a";
  /** Runs started (the failing one included). */
  runs: number;
  campaignRuns: number;
  invariant?: string;
  message?: string;
  seed?: number;
  shape?: string;
  replay?: string;
  /** Failures matching a known open bug that were passed over. */
  known: number;
  /** With keepGoing (the baseline): every failing run as seed:voters:observers, and why. */
  failures?: Array<{ key: string; invariant: string; replay: string }>;
  ms: number;
}

export interface MutantResult {
  id: string;
  compiled: "yes" | "no" | "unchecked";
  compileError?: string;
  unit: UnitOutcome;
  sim: SimOutcome;
  verdict: "caught" | "not caught" | "equivalent" | "equivalent but caught" | "stale" | "does not compile";
  caughtBy: string;
  ms: number;
}

/** The Deno binary: $CORRAL_DENO, $DENO, the one running us, or `deno` on PATH. */
export function denoBinary(): string {
  const env = (name: string) => process.env[name];
  const fromEnv = env("CORRAL_DENO") ?? env("DENO");
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno !== undefined) return deno.execPath();
  return "deno";
}

const COPY_EXCLUDED = new Set([".git", "node_modules", "notes", "dist", ".deno"]);

function copyTree(from: string, to: string, depth = 0): void {
  if (depth > 40) throw new Error(`copyTree: ${from} is nested more than 40 levels deep`);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (depth === 0 && COPY_EXCLUDED.has(name)) continue;
    const source = join(from, name);
    const stat = statSync(source);
    if (stat.isDirectory()) copyTree(source, join(to, name), depth + 1);
    else if (stat.isFile()) copyFileSync(source, join(to, name));
  }
}

/** A fresh scratch copy of the repository; the caller removes it. */
export function makeScratch(repo: string, from: RunnerOptions["from"]): string {
  const dir = mkdtempSync(join(tmpdir(), "corral-mutate-"));
  const copy = join(dir, "repo");
  if (from === "head") {
    mkdirSync(copy);
    const archive = execFileSync("git", ["-C", repo, "archive", "--format=tar", "HEAD"], {
      maxBuffer: 512 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", copy], { input: archive });
  } else {
    copyTree(repo, copy);
  }
  if (existsSync(join(repo, "node_modules"))) {
    symlinkSync(join(repo, "node_modules"), join(copy, "node_modules"));
  }
  // The probe is part of this catalogue, which may be newer than HEAD: always the current one.
  mkdirSync(join(copy, "tests", "mutation"), { recursive: true });
  copyFileSync(
    join(repo, "tests", "mutation", "sim_probe.ts"),
    join(copy, "tests", "mutation", "sim_probe.ts"),
  );
  return dir;
}

interface Spawned {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs a command with a deadline (the whole process group is killed at it); output is bounded. */
function runCommand(
  command: string,
  args: string[],
  cwd: string,
  budgetMs: number,
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    let partial = "";
    let timedOut = false;
    const keep = (text: string) => {
      output += text;
      if (output.length > 400_000) output = output.slice(-200_000);
    };
    child.stdout!.on("data", (chunk: Uint8Array) => {
      const text = new TextDecoder().decode(chunk);
      keep(text);
      if (onLine === undefined) return;
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const line of lines) onLine(line, child);
    });
    child.stderr!.on("data", (chunk: Uint8Array) => keep(new TextDecoder().decode(chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, budgetMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (onLine !== undefined && partial !== "") onLine(partial, child);
      resolve({ code, output, timedOut });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

/** Failing test names from `deno test` output (its FAILURES section). */
export function failingTests(output: string): string[] {
  const section = output.split(/\n\s*FAILURES\s*\n/)[1];
  if (section === undefined) return [];
  const names: string[] = [];
  for (const line of section.split("\n")) {
    const match = /^(.+?) => /.exec(line.trim());
    if (match !== null) names.push(match[1]!.replace(/\s+\.\.\.\s+/g, " › "));
  }
  return names;
}

async function typeCheck(deno: string, cwd: string, file: string): Promise<{ ok: boolean; error: string }> {
  const result = await runCommand(deno, ["check", "--quiet", file], cwd, 300_000);
  return {
    ok: result.code === 0 && !result.timedOut,
    error: result.output.trim().split("\n").slice(0, 6).join("\n"),
  };
}

async function runUnit(deno: string, cwd: string, tests: string[], budgetMs: number): Promise<UnitOutcome> {
  const started = performance.now();
  const present = tests.filter((test) => existsSync(join(cwd, test)));
  if (present.length === 0) return { status: "skipped", failing: [], ms: 0 };
  const result = await runCommand(deno, ["test", "-A", "--no-check", ...present], cwd, budgetMs);
  const ms = performance.now() - started;
  if (result.timedOut) {
    return { status: "timeout", failing: [`unit tests exceeded ${budgetMs / 1000} s`], ms };
  }
  if (result.code === 0) return { status: "passed", failing: [], ms };
  const failing = failingTests(result.output);
  return { status: "caught", failing: failing.length > 0 ? failing : [lastLines(result.output, 3)], ms };
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join(" | ").slice(0, 300);
}

async function runSim(
  deno: string,
  cwd: string,
  options: RunnerOptions,
  probe: { keepGoing?: boolean; exclude?: readonly string[] } = {},
): Promise<SimOutcome> {
  const started = performance.now();
  const outcome: SimOutcome = { status: "passed", runs: 0, campaignRuns: 0, known: 0, ms: 0 };
  let lastProgress = performance.now();
  let hung = false;
  let finished = false;
  const args = ["run", "-A", "--no-check", "tests/mutation/sim_probe.ts", "--base", String(options.simBase)];
  if (options.simMaxRuns !== null) args.push("--max-runs", String(options.simMaxRuns));
  if (probe.keepGoing) args.push("--keep-going");
  if (probe.exclude !== undefined && probe.exclude.length > 0) {
    args.push("--exclude", probe.exclude.join(","));
  }
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const result = await runCommand(
    deno,
    args,
    cwd,
    probe.keepGoing ? 4 * options.simBudgetMs : options.simBudgetMs,
    (line, child) => {
      if (watchdog === undefined) {
        watchdog = setInterval(() => {
          if (performance.now() - lastProgress > options.simRunHangMs) {
            hung = true;
            killGroup(child);
          }
        }, 1000);
      }
      if (!line.startsWith("MUTPROBE ")) return;
      lastProgress = performance.now();
      const record = JSON.parse(line.slice("MUTPROBE ".length)) as Record<string, unknown>;
      switch (record.event) {
        case "campaign":
          outcome.campaignRuns = record.runs as number;
          break;
        case "start":
          outcome.runs = (record.index as number) + 1;
          outcome.seed = record.seed as number;
          outcome.shape = `${record.voters}v+${record.observers}o`;
          break;
        case "known":
          outcome.known++;
          break;
        case "failure":
          (outcome.failures ??= []).push({
            key: `${record.seed}:${record.voters}:${record.observers}`,
            invariant: record.invariant as string,
            replay: record.replay as string,
          });
          if (probe.keepGoing) break;
          finished = true;
          outcome.status = "caught";
          outcome.invariant = record.invariant as string;
          outcome.message = record.message as string;
          outcome.replay = record.replay as string;
          break;
        case "passed":
          finished = true;
          outcome.status = outcome.failures === undefined ? "passed" : "caught";
          break;
      }
    },
  );
  if (watchdog !== undefined) clearInterval(watchdog);
  outcome.ms = performance.now() - started;
  if (finished) return outcome;
  if (hung) {
    outcome.status = "hung";
    outcome.invariant = `one simulated run made no progress for ${options.simRunHangMs / 1000} s`;
  } else if (result.timedOut) {
    outcome.status = "budget";
  } else {
    outcome.status = "crashed";
    outcome.message = lastLines(result.output, 4);
  }
  return outcome;
}

function simCaught(sim: SimOutcome): boolean {
  return sim.status === "caught" || sim.status === "hung" || sim.status === "crashed";
}

function describeCatch(unit: UnitOutcome, sim: SimOutcome): string {
  const parts: string[] = [];
  if (unit.status === "caught" || unit.status === "timeout") {
    parts.push(`unit: ${unit.failing.slice(0, 2).join("; ")}`);
  }
  if (sim.status === "caught") {
    parts.push(`sim: "${sim.invariant}" after ${sim.runs} run(s) (seed ${sim.seed}, ${sim.shape})`);
  }
  if (sim.status === "hung") parts.push(`sim: run ${sim.runs} hung (seed ${sim.seed}, ${sim.shape})`);
  if (sim.status === "crashed") parts.push(`sim: crashed after ${sim.runs} run(s): ${sim.message}`);
  return parts.join(" — ");
}

/** Runs every mutant in `mutants` (see the module comment); returns one result each. */
export async function runMutants(
  mutants: readonly Mutant[],
  runnerOptions: RunnerOptions,
): Promise<MutantResult[]> {
  let options = runnerOptions;
  const deno = denoBinary();
  const scratch = makeScratch(options.repo, options.from);
  const copy = join(scratch, "repo");
  const log = options.log;
  log(
    `mutate: scratch copy of ${options.from === "head" ? "HEAD" : "the work tree"} in ${copy}; deno ${deno}`,
  );
  const results: MutantResult[] = [];
  try {
    let exclude: string[] = [];
    if (options.baseline && !options.skipSim) {
      log("mutate: baseline (unmutated) simulator campaign, every seed ...");
      const sim = await runSim(deno, copy, options, { keepGoing: true });
      const failures = sim.failures ?? [];
      log(
        `mutate: baseline: ${sim.runs} run(s), ${failures.length} failing, in ${
          (sim.ms / 1000).toFixed(0)
        } s`,
      );
      for (const failure of failures) {
        log(`mutate:   baseline fails ${failure.key}: ${failure.invariant}; replay: ${failure.replay}`);
      }
      const tooMany = failures.length > Math.max(2, 0.02 * sim.runs);
      if ((sim.status !== "passed" && sim.status !== "caught") || tooMany) {
        throw new Error(
          `the unmutated code fails the simulator campaign (base ${options.simBase}): ${sim.status}, ` +
            `${failures.length} failing run(s) ${
              sim.message ?? ""
            }; results would mean nothing. Fix that first.`,
        );
      }
      // Seeds the unmutated code fails say nothing about a mutant: they are left out, and listed.
      exclude = failures.map((failure) => failure.key);
      options.baselineFailures?.push(...failures);
    }
    options = { ...options, simExclude: exclude };
    for (const mutant of mutants) {
      const result = await runOne(deno, copy, mutant, options);
      results.push(result);
      options.onResult?.(result);
      log(
        `mutate: ${mutant.id}: ${result.verdict}${result.caughtBy === "" ? "" : ` (${result.caughtBy})`} in ${
          (result.ms / 1000).toFixed(0)
        } s`,
      );
    }
  } finally {
    if (options.keepScratch) log(`mutate: kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

async function runOne(
  deno: string,
  copy: string,
  mutant: Mutant,
  options: RunnerOptions,
): Promise<MutantResult> {
  const started = performance.now();
  const path = join(copy, mutant.file);
  const skippedUnit: UnitOutcome = { status: "skipped", failing: [], ms: 0 };
  const skippedSim: SimOutcome = {
    status: mutant.simulated ? "skipped" : "n/a",
    runs: 0,
    campaignRuns: 0,
    known: 0,
    ms: 0,
  };
  const base = { id: mutant.id, unit: skippedUnit, sim: skippedSim, caughtBy: "" };
  if (!existsSync(path)) {
    return {
      ...base,
      compiled: "unchecked",
      verdict: "stale",
      caughtBy: `${mutant.file} does not exist`,
      ms: 0,
    };
  }
  const pristine = readFileSync(path, "utf8");
  const applied = applyMutant(pristine, mutant);
  if (!applied.ok) {
    return { ...base, compiled: "unchecked", verdict: "stale", caughtBy: applied.problem, ms: 0 };
  }
  writeFileSync(path, applied.text);
  try {
    const check = await typeCheck(deno, copy, mutant.file);
    if (!check.ok) {
      // Is it the mutant, or does the file not type-check even unmutated (someone mid-edit)?
      writeFileSync(path, pristine);
      const baseline = await typeCheck(deno, copy, mutant.file);
      if (baseline.ok) {
        return {
          ...base,
          compiled: "no",
          compileError: check.error,
          verdict: "does not compile",
          ms: performance.now() - started,
        };
      }
      writeFileSync(path, applied.text);
    }
    const compiled = check.ok ? "yes" : "unchecked";
    const unit = options.skipUnit
      ? skippedUnit
      : await runUnit(deno, copy, mutant.relevantTests, options.unitBudgetMs);
    const unitCaught = unit.status === "caught" || unit.status === "timeout";
    const sim = !mutant.simulated || options.skipSim || (options.stopAtFirst && unitCaught)
      ? skippedSim
      : await runSim(deno, copy, options, { exclude: options.simExclude ?? [] });
    const caught = unitCaught || simCaught(sim);
    const verdict = mutant.equivalent !== undefined
      ? (caught ? "equivalent but caught" : "equivalent")
      : (caught ? "caught" : "not caught");
    return {
      id: mutant.id,
      compiled,
      unit,
      sim,
      verdict,
      caughtBy: describeCatch(unit, sim),
      ms: performance.now() - started,
    };
  } finally {
    writeFileSync(path, pristine);
  }
}

// -------------------------------------------------------------------------------------------------
// RESULTS.md

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function unitCell(unit: UnitOutcome): string {
  switch (unit.status) {
    case "caught":
      return `**caught**: ${cell(unit.failing.slice(0, 2).join("; "))}${
        unit.failing.length > 2 ? ` (+${unit.failing.length - 2})` : ""
      }`;
    case "timeout":
      return `**caught** (hung: ${cell(unit.failing[0] ?? "")})`;
    case "passed":
      return "passed";
    case "skipped":
      return "—";
  }
}

function simCell(sim: SimOutcome): string {
  switch (sim.status) {
    case "caught":
      return `**caught** after ${sim.runs} run(s): "${
        cell(sim.invariant ?? "")
      }" (seed ${sim.seed}, ${sim.shape})`;
    case "hung":
      return `**caught**: run ${sim.runs} hung (seed ${sim.seed}, ${sim.shape})`;
    case "crashed":
      return `**caught**: the campaign crashed after ${sim.runs} run(s): ${cell(sim.message ?? "")}`;
    case "passed":
      return `passed all ${sim.runs} runs${
        sim.known > 0 ? ` (${sim.known} known-bug failures passed over)` : ""
      }`;
    case "budget":
      return `not caught in the time budget (${sim.runs} of ${sim.campaignRuns} runs)`;
    case "skipped":
      return "not run";
    case "n/a":
      return "n/a (not simulated)";
  }
}

export interface ResultsMeta {
  date: string;
  from: string;
  commit: string;
  simBase: number;
  simRuns: string;
  totalMs: number;
  command: string;
  /** A line for the summary (e.g. why some entries were not run). */
  note?: string;
}

/** The RESULTS.md text for `results` (in catalogue order). */
export function formatResults(allResults: readonly MutantResult[], meta: ResultsMeta): string {
  const byId = new Map(CATALOGUE.map((mutant) => [mutant.id, mutant]));
  // Results of entries since removed or renamed are left out; entries not run are listed.
  // Verdicts follow the catalogue as it is now (an entry argued equivalent after its run, say).
  const results = allResults.filter((result) => byId.has(result.id)).map((result) => {
    if (!["caught", "not caught", "equivalent", "equivalent but caught"].includes(result.verdict)) {
      return result;
    }
    const caught = result.verdict === "caught" || result.verdict === "equivalent but caught";
    const verdict: MutantResult["verdict"] = byId.get(result.id)!.equivalent !== undefined
      ? (caught ? "equivalent but caught" : "equivalent")
      : (caught ? "caught" : "not caught");
    return { ...result, verdict };
  });
  const dropped = allResults.filter((result) => !byId.has(result.id)).map((result) => result.id);
  const notRun = CATALOGUE.filter((mutant) => !allResults.some((result) => result.id === mutant.id)).map((
    mutant,
  ) => mutant.id);
  const scored = results.filter((result) => result.verdict === "caught" || result.verdict === "not caught");
  const caught = scored.filter((result) => result.verdict === "caught");
  const percent = scored.length === 0 ? 0 : (100 * caught.length) / scored.length;
  const simScored = scored.filter((result) =>
    byId.get(result.id)?.simulated && result.sim.status !== "skipped"
  );
  const simCaughtCount = simScored.filter((result) => simCaught(result.sim)).length;
  const lines: string[] = [];
  lines.push("# Mutation results");
  lines.push("");
  lines.push(
    "Written by `deno task mutate` (scripts/mutate.ts) from the catalogue in tests/mutation/catalogue.ts. " +
      "Each mutant is applied to a scratch copy; its unit tests run under Deno, then the simulator's CI " +
      "campaign (tests/mutation/sim_probe.ts) runs seed by seed until the first failure. Do not edit by hand.",
  );
  lines.push("");
  lines.push(`- Run: ${meta.date}, ${meta.from} at ${meta.commit}; \`${meta.command}\``);
  lines.push(
    `- Simulator: CI campaign of seed base ${meta.simBase} (${meta.simRuns}); the unmutated code ran it first, and any run it failed is left out for every mutant (listed below)`,
  );
  lines.push(
    `- Time: ${
      (meta.totalMs / 60000).toFixed(1)
    } min summed over ${results.length} mutants (plus one baseline campaign per session)`,
  );
  lines.push("");
  lines.push("## Summary");
  lines.push("");
  lines.push(
    `- **${caught.length} of ${scored.length} non-equivalent mutants caught (${percent.toFixed(1)}%)**; ` +
      `the simulator alone caught ${simCaughtCount} of the ${simScored.length} it ran on.`,
  );
  const others = results.filter((result) => !scored.includes(result));
  for (const verdict of ["equivalent", "equivalent but caught", "stale", "does not compile"] as const) {
    const these = others.filter((result) => result.verdict === verdict);
    if (these.length > 0) lines.push(`- ${verdict}: ${these.map((result) => result.id).join(", ")}`);
  }
  const missed = scored.filter((result) => result.verdict === "not caught");
  if (missed.length > 0) lines.push(`- not caught: ${missed.map((result) => result.id).join(", ")}`);
  if (notRun.length > 0) lines.push(`- in the catalogue but not in this run: ${notRun.join(", ")}`);
  if (dropped.length > 0) {
    lines.push(`- run, but no longer in the catalogue (left out of the table): ${dropped.join(", ")}`);
  }
  if (meta.note !== undefined) lines.push(`- ${meta.note}`);
  lines.push("");
  lines.push("Issue 11's bug classes:");
  lines.push("");
  for (const [key, text] of Object.entries(ISSUE_CLASSES)) {
    const mine = results.filter((result) => byId.get(result.id)?.issueClass === key);
    const status = mine.length === 0
      ? "no mutant in this run"
      : mine.map((result) => `${result.id}: ${result.verdict}`).join("; ");
    lines.push(`- ${text}: ${status}`);
  }
  lines.push("");
  lines.push("## Mutants");
  lines.push("");
  lines.push("| id | area | slip | file | unit tests (Deno) | simulator | verdict | time |");
  lines.push("|---|---|---|---|---|---|---|---|");
  for (const result of results) {
    const mutant = byId.get(result.id);
    if (mutant === undefined) continue;
    const issue = mutant.issueClass === undefined ? "" : ` (issue class)`;
    const verdict = result.verdict === "stale" || result.verdict === "does not compile"
      ? `**${result.verdict}**: ${cell(result.caughtBy || result.compileError || "")}`
      : `**${result.verdict}**`;
    lines.push(
      `| ${mutant.id} | ${areaOf(mutant)} | ${mutant.slip}${issue} | ${
        mutant.file.replace(/^src\//, "")
      } | ` +
        `${unitCell(result.unit)} | ${simCell(result.sim)} | ${verdict} | ${seconds(result.ms)} |`,
    );
  }
  lines.push("");
  lines.push("## What each mutant is");
  lines.push("");
  for (const result of results) {
    const mutant = byId.get(result.id);
    if (mutant === undefined) continue;
    lines.push(`- **${mutant.id}**: ${mutant.title}.`);
    if (mutant.equivalent !== undefined) lines.push(`  - Equivalent: ${mutant.equivalent}`);
    if (mutant.knownMiss !== undefined) lines.push(`  - Known miss: ${mutant.knownMiss}`);
    if (result.sim.replay) {
      lines.push(`  - Simulator replay (in a copy with the mutant applied): \`${result.sim.replay}\``);
    }
  }
  lines.push("");
  return lines.join("\n");
}

// -------------------------------------------------------------------------------------------------
// Selection

/** A 32-bit FNV-1a hash of a text (the rotating sample's key). */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * `count` mutants chosen by `key` (the same key, the same sample): only those the verification is
 * expected to catch (not equivalent, no knownMiss). Rotating the key (a date, a fresh random number)
 * rotates the sample.
 */
export function sampleMutants(count: number, key: string, mutants: readonly Mutant[] = CATALOGUE): Mutant[] {
  const eligible = mutants.filter((mutant) =>
    mutant.equivalent === undefined && mutant.knownMiss === undefined
  );
  let state = hashKey(key) || 1;
  const next = () => {
    // xorshift32: enough to shuffle a few dozen entries.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const pool = [...eligible];
  const chosen: Mutant[] = [];
  while (chosen.length < count && pool.length > 0) chosen.push(pool.splice(next() % pool.length, 1)[0]!);
  return chosen;
}

/** Every selected mutant that does not apply exactly once to the files under `root` (stale). */
export function staleMutants(
  root: string,
  mutants: readonly Mutant[],
  read: (path: string) => string | null,
): string[] {
  const problems: string[] = [];
  for (const mutant of mutants) {
    const text = read(join(root, mutant.file));
    if (text === null) {
      problems.push(`mutant ${mutant.id} is stale: ${mutant.file} does not exist`);
      continue;
    }
    const applied = applyMutant(text, mutant);
    if (!applied.ok) problems.push(applied.problem);
  }
  return problems;
}
