/**
 * `deno publish --dry-run` succeeds: deno.json is complete, every exported module type-checks, and
 * the public API has no "slow types" (JSR needs explicit types on exported symbols to generate
 * documentation and .d.ts files for Node users). A new export without an explicit return type, or a
 * class field without a type, fails here; the error names the file and line.
 *
 * Runs under Deno only (it is Deno's command); under Node and Bun it is skipped.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { repoRoot, runtime } from "../support/runtime.ts";

const current = runtime();

test("deno publish --dry-run succeeds", {
  skip: current === "deno"
    ? false
    : `needs deno publish; the deno run of this suite covers it (this is ${current})`,
  timeout: 180_000,
}, () => {
  const result = spawnSync(process.execPath, ["publish", "--dry-run", "--allow-dirty"], {
    cwd: repoRoot(),
    encoding: "utf8",
    timeout: 170_000,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  assert.equal(result.error, undefined, `deno publish could not run: ${result.error?.message}`);
  assert.equal(result.status, 0, `deno publish --dry-run --allow-dirty failed:\n${output}`);
  assert.match(output, /Dry run complete/, output);
});
