/**
 * Every example in examples/ runs to completion under the runtime running this test: exit code 0,
 * the line that says it did its job, and the line that says it stopped. The runtime-specific ones
 * (embedded_deno.ts, embedded_bun.ts, embedded_node.ts) run under their own runtime only; the suite
 * runs under all three, so each is covered once. The HTTP examples also stop cleanly on Ctrl-C
 * (SIGINT) in their `--serve` mode.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { runtimeCommand } from "../support/corral_process.ts";
import { repoRoot, runtime, type RuntimeName } from "../support/runtime.ts";
import { type SpawnedProcess, spawnProcess } from "../support/spawned_process.ts";
import { waitFor } from "../support/wait_for.ts";

interface Example {
  file: string;
  /** A line the example prints when it did its job. */
  expect: RegExp;
  /** Runs only under this runtime. */
  only?: RuntimeName;
}

const EXAMPLES: readonly Example[] = [
  { file: "demo.ts", expect: /^all \d+ leaders served; work done: \d+$/m },
  {
    file: "leader_workers.ts",
    expect: /^leader_workers: 5 items done in order over \d+ terms .* one crash survived$/m,
  },
  {
    file: "config_service.ts",
    expect: /^config_service: 2 instances reloaded live through 3 configurations/m,
  },
  {
    file: "lock_file.ts",
    expect: /^lock_file: 20 appends by 4 workers, none lost, fencing tokens increasing$/m,
  },
  { file: "embedded_node.ts", only: "node", expect: /^embedded_node: 8 requests answered$/m },
  { file: "embedded_deno.ts", only: "deno", expect: /^embedded_deno: 8 requests answered$/m },
  { file: "embedded_bun.ts", only: "bun", expect: /^embedded_bun: 8 requests answered$/m },
];

/** Generous: an example takes about a second, but Deno's first run compiles and CI is shared. */
const EXAMPLE_TIMEOUT_MS = 60_000;

const current = runtime();

function skipReason(example: Example): string | false {
  if (example.only === undefined || example.only === current) return false;
  return `${example.file} is for ${example.only}; the ${example.only} run of this suite covers it`;
}

function startExample(file: string, args: readonly string[] = []): SpawnedProcess {
  const [command, ...prefix] = runtimeCommand(current);
  return spawnProcess(command!, [...prefix, join(repoRoot(), "examples", file), ...args], {
    cwd: repoRoot(),
  });
}

/** Waits for the process to exit; stops it and fails if it takes longer than `timeoutMs`. */
async function exitWithin(child: SpawnedProcess, timeoutMs: number): Promise<{ code: number | null }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    child.exited,
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    await child.stop(2000);
    assert.fail(
      `${child.commandLine} did not stop within ${timeoutMs} ms\n--- output ---\n${child.output()}`,
    );
  }
  return outcome;
}

describe(`examples under ${current}`, () => {
  for (const example of EXAMPLES) {
    test(`examples/${example.file} runs to completion`, {
      skip: skipReason(example),
      timeout: EXAMPLE_TIMEOUT_MS + 10_000,
    }, async () => {
      const child = startExample(example.file);
      const exit = await exitWithin(child, EXAMPLE_TIMEOUT_MS);
      const output = child.output();
      assert.equal(exit.code, 0, `${child.commandLine} exited with ${exit.code}\n--- output ---\n${output}`);
      assert.match(output, example.expect, `expected ${example.expect} in the output:\n${output}`);
      assert.match(output, /stopped\s*$/, `the last line should say it stopped:\n${output}`);
    });
  }

  for (const example of EXAMPLES.filter((candidate) => candidate.file.startsWith("embedded_"))) {
    test(`examples/${example.file} --serve answers HTTP until Ctrl-C`, {
      skip: skipReason(example),
      timeout: EXAMPLE_TIMEOUT_MS + 10_000,
    }, async () => {
      const child = startExample(example.file, ["--serve"]);
      try {
        const baseUrl = await waitFor(() => /HTTP on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.output())?.[1], {
          timeoutMs: EXAMPLE_TIMEOUT_MS,
          what: `${example.file} to print its HTTP address`,
        });
        const put = await fetch(`${baseUrl}/keys/from-test`, { method: "PUT", body: "it works" });
        assert.equal(put.status, 201, await put.text());
        const get = await fetch(`${baseUrl}/keys/from-test`);
        assert.equal(await get.text(), "it works");
        process.kill(child.pid, "SIGINT");
        const exit = await exitWithin(child, 20_000);
        assert.equal(exit.code, 0, `exit code after SIGINT\n--- output ---\n${child.output()}`);
        assert.match(child.output(), /stopped \(interrupted\)\s*$/);
      } finally {
        await child.stop(2000);
      }
    });
  }
});
