/**
 * Keeps the mutation catalogue in step with the code: every entry applies exactly once to today's
 * source (any runtime), and every mutated file still type-checks (Deno only: `deno check`, run in a
 * scratch copy, one mutant per file per round so a round's files are checked in one call).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { applyMutant } from "./apply.ts";
import { areaOf, CATALOGUE, ISSUE_CLASSES, type Mutant } from "./catalogue.ts";
import { denoBinary, makeScratch } from "./runner.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

describe("mutation catalogue", () => {
  test("at least 40 mutants over core, storage, driver and client; ids unique; tests exist", () => {
    assert.ok(CATALOGUE.length >= 40, `only ${CATALOGUE.length} mutants`);
    const ids = new Set<string>();
    for (const mutant of CATALOGUE) {
      assert.match(mutant.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, `id ${mutant.id} is not kebab-case`);
      assert.ok(!ids.has(mutant.id), `id ${mutant.id} repeats`);
      ids.add(mutant.id);
      assert.ok(mutant.relevantTests.length > 0, `${mutant.id} names no unit tests`);
      for (const file of mutant.relevantTests) {
        assert.ok(existsSync(join(REPO, file)), `${mutant.id}: ${file} does not exist`);
      }
      if (mutant.equivalent !== undefined) {
        assert.ok(mutant.equivalent.length > 80, `${mutant.id}: argue why it is equivalent`);
      }
      assert.notEqual(mutant.find, mutant.replace, `${mutant.id} changes nothing`);
    }
    assert.deepEqual(new Set(CATALOGUE.map(areaOf)), new Set(["core", "storage", "driver", "client"]));
  });

  test("every bug class issue 11 lists has a mutant", () => {
    for (const key of Object.keys(ISSUE_CLASSES)) {
      assert.ok(
        CATALOGUE.some((mutant) => mutant.issueClass === key),
        `no mutant for: ${ISSUE_CLASSES[key as keyof typeof ISSUE_CLASSES]}`,
      );
    }
  });

  test("every entry applies exactly once to today's source (else it is stale: update the catalogue)", () => {
    const stale: string[] = [];
    for (const mutant of CATALOGUE) {
      const path = join(REPO, mutant.file);
      if (!existsSync(path)) {
        stale.push(`${mutant.id}: ${mutant.file} does not exist`);
        continue;
      }
      const applied = applyMutant(readFileSync(path, "utf8"), mutant);
      if (!applied.ok) stale.push(applied.problem);
    }
    assert.deepEqual(stale, []);
  });

  test(
    "every mutated file still type-checks (deno check; one mutant per file per round)",
    {
      skip: IS_DENO ? false : "deno check runs under Deno only (the other runtimes would only repeat it)",
      timeout: 900_000,
    },
    async () => {
      const scratch = makeScratch(REPO, "worktree");
      const copy = join(scratch, "repo");
      const started = performance.now();
      try {
        // Stale entries are the previous test's failure; the rest are still checked.
        const rounds = roundsOf(CATALOGUE.filter((mutant) => {
          const path = join(copy, mutant.file);
          return existsSync(path) && applyMutant(readFileSync(path, "utf8"), mutant).ok;
        }));
        const failures: string[] = [];
        for (const round of rounds) {
          const pristine = new Map<string, string>();
          for (const mutant of round) {
            const path = join(copy, mutant.file);
            const text = readFileSync(path, "utf8");
            pristine.set(path, text);
            const applied = applyMutant(text, mutant);
            assert.ok(applied.ok, applied.ok ? "" : applied.problem);
            writeFileSync(path, applied.text);
          }
          const result = await denoCheck(copy, round.map((mutant) => mutant.file));
          if (!result.ok) {
            failures.push(`round with ${round.map((mutant) => mutant.id).join(", ")}:\n${result.output}`);
          }
          for (const [path, text] of pristine) writeFileSync(path, text);
        }
        console.log(
          `catalogue: ${CATALOGUE.length} mutants type-checked in ${rounds.length} rounds, ${
            ((performance.now() - started) / 1000).toFixed(0)
          } s`,
        );
        assert.deepEqual(failures, [], "mutants that do not compile test nothing but the compiler");
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },
  );
});

/** Groups mutants so that no two in a round touch the same file. */
function roundsOf(mutants: readonly Mutant[]): Mutant[][] {
  const rounds: Mutant[][] = [];
  for (const mutant of mutants) {
    let round = rounds.find((candidate) => !candidate.some((other) => other.file === mutant.file));
    if (round === undefined) rounds.push(round = []);
    round.push(mutant);
  }
  return rounds;
}

function denoCheck(cwd: string, files: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(denoBinary(), ["check", "--quiet", ...files], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      resolve({
        ok: error === null,
        output: `${stdout}${stderr}`.trim().split("\n").slice(0, 20).join("\n"),
      });
    });
  });
}
