/**
 * Seeds that found bugs in src/core, replayed through the simulator. The lasting regressions are the
 * hand-driven tests named with each seed (tests/core/): changes to the simulator's schedules or
 * workload, and to the core's own message pattern, reshuffle what a seed does, so these runs may stop
 * reaching the interleaving and then pass vacuously. They stay as a cheap net, and as the replay
 * commands quoted in the core tests. As of 2026-12-05: 10512, 189 and 637 (the seeds the bugs were
 * found with) no longer reach their interleavings once sync takes a quorum round (the message
 * pattern changed); 97 was found afterwards by planting the stale-follower bug back into today's
 * code (it fails with it, passes without; 294, 299, 525, 543, 548 too, but S1's storage path
 * reshuffles them). No seed among 3000 at 3 voters reaches the
 * closing-mark bug with today's message pattern: role_prep_state_test.ts is its regression.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFailure } from "../../src/testing/campaign.ts";
import { runSimulation } from "../../src/testing/simulator.ts";

interface SeedRegression {
  seed: number;
  voters: number;
  ticks?: number;
  /** What failed, and where the hand-driven test lives. */
  found: string;
}

const SEEDS: readonly SeedRegression[] = [
  {
    seed: 10512,
    voters: 3,
    found: "a re-elected leader kept a lost closeSession's closing mark: SESSIONEXPIRED for a session that never closed (tests/core/role_prep_state_test.ts)",
  },
  {
    seed: 189,
    voters: 5,
    ticks: 200,
    found: "a leader's new role answered the sync of a follower still following its ended role (tests/core/stale_follower_sync_test.ts)",
  },
  {
    seed: 637,
    voters: 5,
    ticks: 200,
    found: "as 189 (tests/core/stale_follower_sync_test.ts)",
  },
  {
    seed: 97,
    voters: 5,
    ticks: 200,
    found: "as 189, with today's message pattern (tests/core/stale_follower_sync_test.ts)",
  },
  {
    seed: 251,
    voters: 5,
    ticks: 200,
    found: "per-client FIFO flagged an abandoned connection's SESSIONMOVED no-op (a checker false positive, fixed in history_checker.ts)",
  },
  {
    seed: 541,
    voters: 5,
    ticks: 200,
    found: "as 251",
  },
];

for (const { seed, voters, ticks, found } of SEEDS) {
  test(`seed ${seed} at ${voters} voters${ticks === undefined ? "" : `, ${ticks} ticks`} passes (found: ${found})`, { timeout: 300_000 }, async () => {
    // Awaited: runSimulation becomes asynchronous with the real storage path (issue 11 item 1).
    const result = await runSimulation({ seed, voters, ...(ticks === undefined ? {} : { ticks }) });
    assert.equal(result.failure, null, result.failure === null ? "" : `\n${formatFailure(result)}\n`);
    assert.ok(result.stats.acknowledgedWrites > 0, "the run did some work");
  });
}
