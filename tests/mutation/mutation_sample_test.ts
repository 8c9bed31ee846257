/**
 * CI's rotating mutation sample: a few catalogue mutants (2 by default), chosen by a key that changes
 * every day, must each be caught by their unit tests or the simulator campaign. Over the days every
 * mutant the verification is expected to catch gets its turn, so a weakened test or checker shows up
 * without running the whole catalogue (`deno task mutate`, an hour) on every push.
 *
 * Deno only: the mutants run their unit tests under Deno (one runtime is enough to judge a mutant,
 * and three would triple the cost). Environment:
 *   CORRAL_MUTATION_SAMPLE_KEY   the key (printed; set it to replay a CI run's sample); default: the UTC date
 *   CORRAL_MUTATION_SAMPLE       how many mutants (default 2; 0 skips)
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_OPTIONS, runMutants, sampleMutants } from "./runner.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const count = Number(process.env.CORRAL_MUTATION_SAMPLE ?? "2");
const key = process.env.CORRAL_MUTATION_SAMPLE_KEY || new Date().toISOString().slice(0, 10);

const skip = !IS_DENO
  ? "the mutation sample runs under Deno only (it judges each mutant once; the other runtimes would repeat it)"
  : !(Number.isInteger(count) && count > 0)
  ? "CORRAL_MUTATION_SAMPLE is 0"
  : false;

test(
  `a rotating sample of ${count} mutant(s) is caught (key ${key})`,
  { skip, timeout: 1_200_000 },
  async () => {
    const mutants = sampleMutants(count, key);
    console.log(
      `mutation sample (key ${key}; replay: CORRAL_MUTATION_SAMPLE_KEY=${key}, or deno task mutate --sample ${count} --rotate ${key}): ` +
        mutants.map((mutant) => mutant.id).join(", "),
    );
    const started = performance.now();
    const results = await runMutants(mutants, {
      ...DEFAULT_OPTIONS,
      repo: REPO,
      // CI's own simulator test already runs the unmutated campaign; unit tests first, the simulator
      // only for a mutant they miss, and at most a third of the campaign for it.
      baseline: false,
      stopAtFirst: true,
      simMaxRuns: 200,
      simBudgetMs: 300_000,
      log: (line) => console.log(line),
    });
    console.log(
      `mutation sample: ${results.length} mutant(s) in ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s`,
    );
    const missed = results.filter((result) => result.verdict !== "caught");
    assert.deepEqual(
      missed.map((result) =>
        `${result.id}: ${result.verdict} ${result.caughtBy} ${result.compileError ?? ""}`.trim()
      ),
      [],
      "each sampled mutant must be caught; if the code moved, update tests/mutation/catalogue.ts; if a check got weaker, that is the bug",
    );
  },
);
