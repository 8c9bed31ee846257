/**
 * The process-ensemble harness names a member that exited on its own instead of waiting for a
 * leader until its deadline (issue 10 item 4: a member stopped itself with "storage failed, stopping
 * this member", stayed among the running members, and every later wait said "no leader for 20 s"
 * although the other four had a serving leader).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MemberExitedError, ProcessEnsemble } from "./ensemble_processes.ts";
import { runtime } from "./runtime.ts";

/** Far above how long noticing the exit takes, far below the wait's own deadline. */
const NOTICE_MS_MAX = 10_000;
const STEP_MS = 120_000;

test(`a member killed outside the harness is named at once, not waited for as "no leader" (${runtime()})`, {
  timeout: 300_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-harness-"));
  const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], { stepMs: STEP_MS });
  try {
    const leader = await ensemble.startAll();
    const victim = ensemble.members.find((member) => member.id !== leader.id)!;
    process.kill(victim.process!.pid, "SIGKILL"); // not ensemble.kill(): the harness was not told
    const started = Date.now();
    await assert.rejects(ensemble.waitForLeader("a leader after a member died"), (error: unknown) => {
      assert.ok(error instanceof MemberExitedError, `expected MemberExitedError, got ${String(error)}`);
      assert.match(error.message, new RegExp(`^member ${victim.id} exited on its own \\(signal SIGKILL\\): `));
      assert.match(error.message, /corral: serving on/, "the message carries the member's last output");
      return true;
    });
    const tookMs = Date.now() - started;
    assert.ok(tookMs < NOTICE_MS_MAX, `noticed after ${tookMs} ms (the wait's deadline is ${STEP_MS} ms)`);
    assert.ok(!ensemble.running().includes(victim), "an exited member is not running");
    await assert.rejects(ensemble.stableLeader(), MemberExitedError);
    // Once the test says it expected the exit, the rest of the ensemble is judged on its own.
    assert.equal((await ensemble.expectExit(victim)).signal, "SIGKILL");
    const survivor = await ensemble.waitForLeader("a leader among the survivors");
    assert.notEqual(survivor.id, victim.id);
  } finally {
    await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
