import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { repoRoot, runtime } from "../support/runtime.ts";
import { spawnProcess } from "../support/spawned_process.ts";
import { waitFor } from "../support/wait_for.ts";

/** `corral <args>` run by the runtime running this test, from the repository root. */
function corral(args: string[], onStdout?: (text: string) => void) {
  const script = "src/cli/main.ts";
  const runtimeArgs = runtime() === "deno" ? ["run", "-A", script] : runtime() === "bun" ? [script] : ["--import", "tsx", script];
  return spawnProcess(process.execPath, [...runtimeArgs, ...args], { cwd: repoRoot(), ...(onStdout ? { onStdout } : {}) });
}

/**
 * SIGTERM by pid, then the exit status within a deadline. (child.kill() is avoided on purpose: Deno's
 * node:child_process then reports signal SIGTERM even when the child exits 0 on its own.)
 */
async function terminate(child: ReturnType<typeof corral>): Promise<{ code: number | null; signal: string | null }> {
  process.kill(child.pid, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), 10000);
  });
  const exit = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (exit === null) {
    await child.stop();
    throw new Error(`corral did not exit within 10 s of SIGTERM; output:\n${child.output()}`);
  }
  return exit;
}

/** Starts `corral serve ...`, waits for the "serving on" line and returns the port it names. */
async function startServe(args: string[]) {
  let stdout = "";
  const child = corral(["serve", ...args], (text) => {
    stdout += text;
  });
  try {
    const match = await waitFor(() => {
      if (child.exitStatus() !== null) throw new Error(`corral exited early: ${child.output()}`);
      return /corral: serving on 127\.0\.0\.1:(\d+) \((node|deno|bun), standalone\)\n/.exec(stdout);
    }, { timeoutMs: 30000, what: "the \"serving on\" line" });
    assert.equal(match[2], runtime());
    return { child, port: Number(match[1]) };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

describe("corral CLI", () => {
  test("serve --port 0 prints the real port, answers ruok, exits 0 on SIGTERM", async () => {
    const { child, port } = await startServe(["--port", "0", "--host", "127.0.0.1", "--4lw", "*"]);
    try {
      assert.ok(port > 0);
      assert.equal(await fourLetterWord("127.0.0.1", port, "ruok", 5000), "imok");
    } finally {
      const exit = await terminate(child);
      assert.deepEqual(exit, { code: 0, signal: null }, `clean exit; output:\n${child.output()}`);
    }
  });

  test("serve zoo.cfg takes clientPortAddress, clientPort and the 4lw whitelist from the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "corral-cli-"));
    try {
      const cfgPath = join(dir, "zoo.cfg");
      await writeFile(cfgPath, "tickTime=2000\nclientPort=0\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=ruok, srvr\n");
      const { child, port } = await startServe([cfgPath]);
      try {
        assert.equal(await fourLetterWord("127.0.0.1", port, "ruok", 5000), "imok");
        assert.equal(await fourLetterWord("127.0.0.1", port, "stat", 5000), "stat is not executed because it is not in the whitelist.\n");
      } finally {
        const exit = await terminate(child);
        assert.deepEqual(exit, { code: 0, signal: null }, `clean exit; output:\n${child.output()}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a malformed zoo.cfg fails with the file, line and problem; bad usage exits 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "corral-cli-"));
    try {
      const cfgPath = join(dir, "zoo.cfg");
      await writeFile(cfgPath, "# comment\ntickTime=abc\n");
      const bad = corral(["serve", cfgPath]);
      assert.equal((await bad.exited).code, 1);
      assert.match(bad.output(), /zoo\.cfg line 2: tickTime \(ms\) must be an integer/);
      const usage = corral(["serve", "--bogus"]);
      assert.equal((await usage.exited).code, 2);
      assert.match(usage.output(), /unknown option --bogus/);
      const help = corral(["--help"]);
      assert.equal((await help.exited).code, 0);
      assert.match(help.output(), /corral serve <zoo\.cfg>/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("bin/corral.mjs (the npm bin) runs the CLI", async () => {
    const args = runtime() === "deno" ? ["run", "-A", "bin/corral.mjs", "--version"] : ["bin/corral.mjs", "--version"];
    const child = spawnProcess(process.execPath, args, { cwd: repoRoot() });
    assert.equal((await child.exited).code, 0, child.output());
    assert.match(child.output(), /^corral 3\.8\.0-corral-\d+\.\d+\.\d+, built on /);
  });
});
