/**
 * Leader election safety in the deterministic simulator: real Clients running LeaderLatch and
 * LeaderSelector against simulated replicas under crashes and restarts, partitions (among replicas,
 * between a client and its server, a client's server cut off from the quorum), connection resets,
 * slow disks and clock drift. Terms are recorded from the moment a participant is told it leads to
 * the moment it stops (its term's `lost` fires, or `lead` returns); terms of different participants
 * never overlap, and fencing tokens grow from one term to the next.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LeaderLatch, LeaderSelector, type LeadershipTerm, LostError } from "../../src/recipes/mod.ts";
import { HoldLog } from "../../src/testing/hold_log.ts";
import { RecipeWorld } from "../../src/testing/recipe_world.ts";
import { between } from "../../src/testing/sim_random.ts";
import { WorldMember } from "../../src/testing/world_member.ts";

const TEST_TIMEOUT_MS = 120_000;
const FAULT_START_MS = 2_000;

interface Scenario {
  seed: number;
  voters: number;
  participants: number;
  sessionTimeoutMs: number;
  faultMs: number;
  calmMs: number;
}

/** Records a term in `log` until its `lost` signal fires (or `end` is called). */
function recordTerm(world: RecipeWorld, log: HoldLog, who: string, term: LeadershipTerm): () => void {
  const hold = log.begin(who, world.nowMs, term.fencingToken);
  world.note(`${who}: leads (token ${term.fencingToken})`);
  const end = () => log.end(hold, world.nowMs, LostError.is(term.lost.reason) ? term.lost.reason.why : "ended");
  if (term.lost.aborted) end();
  else term.lost.addEventListener("abort", end, { once: true });
  return () => log.end(hold, world.nowMs, "returned");
}

/** Runs `loop` for each participant through a fault phase and a calm phase; returns the log. */
async function runElection(
  scenario: Scenario,
  what: string,
  loop: (world: RecipeWorld, member: WorldMember, log: HoldLog, endMs: number) => Promise<void>,
): Promise<{ world: RecipeWorld; log: HoldLog; healedAtMs: number }> {
  const world = new RecipeWorld({ seed: scenario.seed, voters: scenario.voters });
  const log = new HoldLog(what);
  const members = Array.from(
    { length: scenario.participants },
    (_, index) => new WorldMember(world, `p${index + 1}`, { sessionTimeoutMs: scenario.sessionTimeoutMs }),
  );
  const faultEndMs = FAULT_START_MS + scenario.faultMs;
  const endMs = faultEndMs + scenario.calmMs;
  let finished = 0;
  for (const member of members) {
    loop(world, member, log, endMs).catch((error: unknown) => {
      world.fail("participant loop", `${member.name}: ${error instanceof Error ? error.stack : String(error)}`);
    }).finally(() => finished++);
  }
  world.startFaults(faultEndMs);
  await world.run(faultEndMs);
  world.heal();
  const healedAtMs = world.nowMs;
  await world.run(endMs + 60_000, () => finished === members.length);
  return { world, log, healedAtMs };
}

function check(result: { world: RecipeWorld; log: HoldLog; healedAtMs: number }, termsMin: number, paths: string[]): void {
  const { world, log } = result;
  const summary = `${JSON.stringify(world.worldStats)} terms ${JSON.stringify(log.endings())}`;
  assert.deepEqual(world.failures, [], world.describe());
  const problems = [...log.overlaps(world.nowMs), ...log.tokenProblems()];
  assert.deepEqual(problems, [], `${problems.slice(0, 5).join("\n")}\n${summary}\n${world.describe()}`);
  assert.ok(log.holds.length >= termsMin, `only ${log.holds.length} terms: ${summary}\n${world.describe(paths)}`);
  const afterHeal = log.holds.filter((hold) => hold.fromMs > result.healedAtMs).length;
  assert.ok(afterHeal > 0, `nobody led after the faults stopped: ${summary}\n${world.describe(paths)}`);
}

/** Joins with a LeaderLatch, stays a while, leaves (close), and joins again; a new client after expiry. */
async function latchLoop(world: RecipeWorld, member: WorldMember, log: HoldLog, endMs: number): Promise<void> {
  const uuid = world.uuids();
  for (let round = 0; round < 10_000 && world.nowMs < endMs; round++) {
    const client = await member.client();
    const latch = new LeaderLatch(client, "/election/latch", { id: member.name, loseOnDisconnect: true, random: uuid });
    latch.onChange((term) => {
      if (term !== null) recordTerm(world, log, member.name, term);
    });
    try {
      await latch.start();
      await world.sleep(between(world.prng, 200, 2_500));
    } catch (error) {
      world.note(`${member.name}: latch failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    await latch.close().catch(() => undefined);
    await world.sleep(between(world.prng, 0, 100));
  }
}

/** A LeaderSelector whose `lead` holds for a while (or until the term is lost) and returns. */
async function selectorLoop(world: RecipeWorld, member: WorldMember, log: HoldLog, endMs: number): Promise<void> {
  const uuid = world.uuids();
  for (let round = 0; round < 10_000 && world.nowMs < endMs; round++) {
    const client = await member.client();
    let stopped = false;
    const selector = new LeaderSelector(client, "/election/selector", {
      id: member.name,
      loseOnDisconnect: true,
      random: uuid,
      lead: async (term) => {
        const ended = recordTerm(world, log, member.name, term);
        await world.sleep(between(world.prng, 20, 400), term.lost).catch(() => undefined);
        ended();
      },
      onError: (error) => world.note(`${member.name}: selector error: ${error instanceof Error ? error.message : String(error)}`),
    });
    selector.start();
    // Stay until the session ends or the run does, checking now and then.
    for (let check = 0; check < 10_000 && !stopped; check++) {
      await world.sleep(200);
      stopped = world.nowMs >= endMs || member.current !== client;
    }
    await selector.close().catch(() => undefined);
  }
}

const LATCH = { participants: 4, sessionTimeoutMs: 2_500, faultMs: 15_000, calmMs: 5_000 };
const SELECTOR = { participants: 4, sessionTimeoutMs: 3_000, faultMs: 15_000, calmMs: 5_000 };
/** Seeds that once left an orphan election node (a protected create whose answer was lost in a long outage). */
const ORPHAN_CASE = "an outage longer than the reconnect wait: no orphan election node";

describe("LeaderLatch in the simulator (loseOnDisconnect)", () => {
  for (const voters of [3, 5]) {
    for (const seed of [11, 13, 14]) {
      test(`${voters} voters, seed ${seed}: at most one leader at a time, tokens grow`, { timeout: TEST_TIMEOUT_MS }, async () => {
        check(await runElection({ ...LATCH, seed, voters }, "leadership of /election/latch", latchLoop), 5, ["/election/latch"]);
      });
    }
  }
  test(`3 voters, seed 12, ${ORPHAN_CASE}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    check(await runElection({ ...LATCH, seed: 12, voters: 3 }, "leadership of /election/latch", latchLoop), 5, ["/election/latch"]);
  });
});

describe("LeaderSelector in the simulator (loseOnDisconnect)", () => {
  for (const voters of [3, 5]) {
    for (const seed of [21, 22, 24]) {
      test(`${voters} voters, seed ${seed}: at most one leader at a time, tokens grow`, { timeout: TEST_TIMEOUT_MS }, async () => {
        check(await runElection({ ...SELECTOR, seed, voters }, "leadership of /election/selector", selectorLoop), 10, ["/election/selector"]);
      });
    }
  }
  test(`3 voters, seed 23, ${ORPHAN_CASE}`, { timeout: TEST_TIMEOUT_MS }, async () => {
    check(await runElection({ ...SELECTOR, seed: 23, voters: 3 }, "leadership of /election/selector", selectorLoop), 10, ["/election/selector"]);
  });
});
