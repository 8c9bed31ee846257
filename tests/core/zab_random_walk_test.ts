/**
 * Random walks over replica interleavings (tests/core/support/random_walk.ts): every append the core
 * issues continues the log, as the real store demands; and members that stop for good (as one whose
 * storage failed stops itself) leave the rest with a serving leader within a few election rounds.
 *
 * Issue 10 item 4 was found this way: a member re-following the same leader took the leader's answer
 * to its earlier role's followerInfo as its own and logged txns twice (tests/core/
 * zab_stale_stream_test.ts replays that interleaving by hand, which stays valid whatever else
 * changes). Walks hit it rarely (about one in a few hundred); seed 139 with 5 voters and 30000 steps
 * is the one that found it ("server 2: append 0x60000001b does not follow 0xa00000040"). Any change
 * to the core reshuffles what a seed does, so it is kept as a walk like the others, not as proof.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomWalk } from "./support/random_walk.ts";

const SEEDS = 12;
const STEPS = 20_000;
/** After a member stops, the rest must be served by one leader within this much virtual time. */
const CONVERGE_MS_MAX = 5_000;

describe("zab random walks", () => {
  for (const voters of [3, 5]) {
    test(`${voters} voters: every append continues the log (${SEEDS} walks of ${STEPS} steps)`, () => {
      let sessions = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const result = randomWalk({ seed, voters, steps: STEPS });
        assert.equal(result.failure, null, `seed ${seed}: ${result.failure}\n${result.trace.join("\n")}`);
        sessions += result.sessions;
      }
      assert.ok(sessions > SEEDS * 100, `the walks should commit work (${sessions} sessions opened)`);
    });
  }

  test("seed 139 (5 voters, 30000 steps), the walk that found issue 10 item 4", () => {
    const result = randomWalk({ seed: 139, voters: 5, steps: 30_000 });
    assert.equal(result.failure, null, `${result.failure}\n${result.trace.join("\n")}`);
  });

  test("members that stop themselves leave the rest electing a leader within a few rounds", () => {
    for (const [voters, stopped] of [[3, 1], [5, 1], [5, 2]] as const) {
      for (let seed = 1; seed <= 6; seed++) {
        const result = randomWalk({ seed, voters, steps: STEPS / 2, stopAfter: stopped, convergeMsMax: 20_000 });
        assert.equal(result.failure, null, `seed ${seed}: ${result.failure}`);
        assert.ok(
          result.convergedMs !== null && result.convergedMs !== undefined && result.convergedMs <= CONVERGE_MS_MAX,
          `${voters} voters, ${stopped} stopped, seed ${seed}: the rest converged after ${result.convergedMs} ms (bound ${CONVERGE_MS_MAX})\n${result.trace.slice(-80).join("\n")}`,
        );
      }
    }
  });
});
