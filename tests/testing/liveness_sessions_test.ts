/**
 * Liveness (issue 11 item 4): after faults stop the ensemble converges within LIVENESS_MS_MAX
 * (20 s, not 120 s), and once every client falls silent every session is closed — a committed
 * closeSession — and its ephemerals are gone within the longest session timeout plus
 * SESSION_CLOSE_SLACK_MS. The broken servers here are planted by patching the session tracker's
 * prototype for one run (restored after): a server whose expired sessions are never closed must
 * fail the run, where the checks before this phase existed let it pass.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LocalSessions } from "../../src/core/local_sessions.ts";
import { SessionTracker } from "../../src/core/session_tracker.ts";
import { formatFailure } from "../../src/testing/campaign.ts";
import { SESSION_CLOSE_SLACK_MS } from "../../src/testing/checkers/liveness_checker.ts";
import { runSimulation, type SimResult } from "../../src/testing/simulator.ts";
import { type FaultPlan, LIVENESS_MS_MAX } from "../../src/testing/sim_options.ts";

/** Some faults, no crashes (a crash rebuilds the tracker), ephemerals created by every client. */
const PLAN: Partial<FaultPlan> = {
  crashes: false,
  aimedCrashes: false,
  clockJumps: false,
  partitions: true,
  isolateLeader: true,
  connectionBreaks: true,
  clientDrops: true,
};

/** Runs `body` with SessionTracker.prototype[name] replaced, restoring it afterwards. */
async function withPatched<K extends "expire">(
  name: K,
  replacement: (original: SessionTracker[K]) => SessionTracker[K],
  body: () => Promise<SimResult>,
): Promise<SimResult> {
  const original = SessionTracker.prototype[name];
  SessionTracker.prototype[name] = replacement(original);
  try {
    return await body();
  } finally {
    SessionTracker.prototype[name] = original;
  }
}

describe("liveness: convergence and sessions after faults stop", () => {
  test("healthy runs converge within the bound and close every session once clients fall silent", async () => {
    for (const [seed, voters, observers] of [[1, 3, 0], [2, 5, 1], [3, 7, 0], [4, 3, 1]] as const) {
      const result = await runSimulation({ seed, voters, observers, ticks: 60, workloadFeatures: { ttlBadModes: false } });
      assert.equal(result.failure, null, result.failure === null ? "" : formatFailure(result));
      assert.ok(result.stats.convergeMs <= LIVENESS_MS_MAX);
      assert.ok(result.stats.sessionsDrained > 0, "the phase had sessions to wait for");
      assert.ok(result.stats.sessionCloseLagMs <= SESSION_CLOSE_SLACK_MS);
    }
  });

  test("with local sessions, every member's are gone once clients fall silent; a member that never expires them fails the run", async () => {
    const options = { seed: 7, voters: 3, ticks: 40, plan: PLAN, localSessions: { upgrading: false }, workloadFeatures: { ttlBadModes: false } };
    const healthy = await runSimulation(options);
    assert.equal(healthy.failure, null, healthy.failure === null ? "" : formatFailure(healthy));
    assert.ok(healthy.stats.sessionsDrained > 0, "the phase had local sessions to wait for");
    const original = LocalSessions.prototype.expire;
    LocalSessions.prototype.expire = () => [];
    try {
      const caught = await runSimulation(options);
      assert.equal(caught.failure?.invariant, "every expired session is closed", JSON.stringify(caught.failure));
      assert.match(caught.failure!.message, /still have \d+ local session\(s\)/);
    } finally {
      LocalSessions.prototype.expire = original;
    }
  });

  test("the convergence bound is far below the old 120 s", () => {
    assert.ok(LIVENESS_MS_MAX <= 30_000);
  });

  test("a server whose expired sessions are never closed fails the run (and passed before this phase)", async () => {
    // Expiry marks the sessions closing (so they get SESSIONEXPIRED) but the leader never proposes
    // the closeSession txn: sessions and their ephemerals live forever.
    const neverClose = (original: SessionTracker["expire"]) =>
      function (this: SessionTracker, nowMs: number): bigint[] {
        original.call(this, nowMs);
        return [];
      };
    const options = { seed: 7, voters: 3, ticks: 40, plan: PLAN, workloadFeatures: { ttlBadModes: false } };
    const caught = await withPatched("expire", neverClose, () => runSimulation(options));
    assert.equal(caught.failure?.invariant, "every expired session is closed", JSON.stringify(caught.failure));
    assert.match(caught.failure!.message, /still has \d+ session\(s\) open/);
    const blind = await withPatched("expire", neverClose, () => runSimulation({ ...options, sessionLiveness: false }));
    assert.equal(blind.failure, null, "without the session-liveness phase the other checks do not see it");
  });
});
