/**
 * The paper benchmark's harness (bench/paper): real replicas in one process complete every operation
 * of a tiny run without errors, and every server's meter is charged. No timing assertions.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runOnce, type RunSettings } from "../../bench/paper/paper_run.ts";
import { perCoreThroughput, singleProcessThroughput } from "../../bench/paper/throughput.ts";

function tinyRun(readRatio: number, overrides: Partial<RunSettings> = {}) {
  return runOnce({
    voters: 3,
    readRatio,
    clients: 6,
    window: 10,
    znodes: 3,
    dataBytes: 1024,
    warmupOps: 100,
    warmupMsMax: 5_000,
    measureOps: 600,
    // Generous: the run ends at measureOps long before this on any machine.
    measureMsMax: 20_000,
    seed: 7,
    ...overrides,
  });
}

describe("paper benchmark run", () => {
  test("a tiny mixed run completes its operations with no failures and charges every server", () => {
    const result = tinyRun(0.5);
    assert.deepEqual(result.failures, []);
    assert.ok(result.operations >= 600, `expected at least 600 operations, got ${result.operations}`);
    assert.equal(result.cpuMs.size, 3);
    for (const [sid, ms] of result.cpuMs) assert.ok(ms > 0, `server ${sid} was charged no CPU`);
    assert.ok(result.voters === 3 && [1, 2, 3].includes(result.leader));
    assert.ok(perCoreThroughput(result) > 0);
    assert.ok(singleProcessThroughput(result) > 0);
  });

  test("with writes only, the leader is the busiest server", () => {
    // All servers share one heap, so a GC pause lands on whichever server runs: a run may be unlucky.
    // The leader must come out busiest in one of three runs (it does about 1.5× a follower's work).
    const seen: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = tinyRun(0, { clients: 9, window: 20, measureOps: 1500, seed: 7 + attempt });
      assert.deepEqual(result.failures, []);
      const leaderMs = result.cpuMs.get(result.leader)!;
      const others = [...result.cpuMs].filter(([sid]) => sid !== result.leader);
      if (others.every(([, ms]) => leaderMs > ms)) return;
      seen.push(`leader ${result.leader}: ${leaderMs.toFixed(1)} ms, others: ${others.map(([sid, ms]) => `${sid}: ${ms.toFixed(1)} ms`).join(", ")}`);
    }
    assert.fail(`the leader was not the busiest server in any of 3 runs:\n${seen.join("\n")}`);
  });

  test("with reads only, every server serves its own clients", () => {
    const result = tinyRun(1);
    assert.deepEqual(result.failures, []);
    assert.ok(result.operations >= 600);
    for (const [sid, ms] of result.cpuMs) assert.ok(ms > 0, `server ${sid} was charged no CPU`);
  });
});
