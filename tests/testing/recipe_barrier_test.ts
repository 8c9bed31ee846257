/**
 * Barrier safety in the deterministic simulator: real Clients running DoubleBarrier and Barrier
 * against simulated replicas under crashes and restarts, partitions (among replicas, between a client
 * and its server, a client's server cut off from the quorum), connection resets and slow disks.
 * - DoubleBarrier: nobody gets out of enter() before `memberCount` members have called it, and
 *   nobody gets out of leave() before every member that got through enter() has called leave()
 *   (members whose session ended in the round excepted: their node went with the session).
 * - Barrier: no waiter gets through before the barrier was removed (waiters sync first: see below).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Client } from "../../src/client/client.ts";
import { Barrier, DoubleBarrier } from "../../src/recipes/mod.ts";
import { RecipeWorld } from "../../src/testing/recipe_world.ts";
import { between } from "../../src/testing/sim_random.ts";
import { WorldMember } from "../../src/testing/world_member.ts";

const TEST_TIMEOUT_MS = 120_000;
const FAULT_START_MS = 1_000;

interface Visit {
  who: string;
  enterCalledMs: number;
  enteredMs: number | null;
  leaveCalledMs: number | null;
  leftMs: number | null;
  /** The member's session ended during the round (its node went with it). */
  sessionEnded: boolean;
  failure: string | null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One member's part in one round of a double barrier. */
async function visit(world: RecipeWorld, member: WorldMember, path: string, memberCount: number, uuid: () => string): Promise<Visit> {
  const client: Client = await member.client();
  const record: Visit = {
    who: member.name,
    enterCalledMs: world.nowMs,
    enteredMs: null,
    leaveCalledMs: null,
    leftMs: null,
    sessionEnded: false,
    failure: null,
  };
  const barrier = new DoubleBarrier(client, path, { memberCount, random: uuid });
  try {
    await barrier.enter({ signal: world.timeoutSignal(20_000) });
    record.enteredMs = world.nowMs;
    await world.sleep(between(world.prng, 10, 500));
    record.leaveCalledMs = world.nowMs;
    await barrier.leave({ signal: world.timeoutSignal(20_000) });
    record.leftMs = world.nowMs;
  } catch (error) {
    record.failure = message(error);
  }
  record.sessionEnded = member.current !== client;
  return record;
}

function checkRound(round: number, visits: readonly Visit[], memberCount: number): string[] {
  const problems: string[] = [];
  const calls = visits.map((v) => v.enterCalledMs).sort((a, b) => a - b);
  for (const v of visits) {
    if (v.enteredMs !== null && (calls.length < memberCount || calls[memberCount - 1]! > v.enteredMs)) {
      problems.push(`round ${round}: ${v.who} got through enter() at ${v.enteredMs.toFixed(1)} ms, before ${memberCount} members had called it (calls at ${calls.map((c) => c.toFixed(1)).join(", ")})`);
    }
    if (v.leftMs === null) continue;
    for (const other of visits) {
      if (other === v || other.enteredMs === null || other.sessionEnded) continue;
      if (other.leaveCalledMs === null || other.leaveCalledMs > v.leftMs) {
        problems.push(`round ${round}: ${v.who} got through leave() at ${v.leftMs.toFixed(1)} ms, but ${other.who} (entered at ${other.enteredMs.toFixed(1)} ms) called leave() ${other.leaveCalledMs === null ? "never" : `at ${other.leaveCalledMs.toFixed(1)} ms`}${other.failure === null ? "" : ` (${other.failure})`}`);
      }
    }
  }
  return problems;
}

describe("DoubleBarrier in the simulator", () => {
  for (const voters of [3, 5]) {
    for (const seed of [31, 32, 33]) {
      test(`${voters} voters, seed ${seed}: no early release from enter() or leave()`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const world = new RecipeWorld({ seed, voters });
        const memberCount = 3;
        const members = Array.from({ length: memberCount }, (_, i) => new WorldMember(world, `p${i + 1}`, { sessionTimeoutMs: 4_000 }));
        const uuids = members.map(() => world.uuids());
        const rounds = 12;
        const visits: Visit[][] = [];
        let done = false;
        const all = (async () => {
          for (let round = 0; round < rounds; round++) {
            world.note(`round ${round}`);
            visits.push(await Promise.all(members.map((member, i) => visit(world, member, `/barriers/r${round}`, memberCount, uuids[i]!))));
          }
        })().catch((error: unknown) => world.fail("participants", message(error))).finally(() => (done = true));
        world.startFaults(FAULT_START_MS + 15_000);
        await world.run(FAULT_START_MS + 15_000, () => done);
        world.heal();
        await world.run(world.nowMs + 120_000, () => done);
        await all;
        assert.deepEqual(world.failures, [], world.describe());
        const problems = visits.flatMap((round, index) => checkRound(index, round, memberCount));
        assert.deepEqual(problems, [], `${problems.slice(0, 5).join("\n")}\n${world.describe()}`);
        const completed = visits.filter((round) => round.every((v) => v.leftMs !== null)).length;
        assert.equal(visits.length, rounds, world.describe());
        assert.ok(completed >= rounds / 3, `only ${completed} of ${rounds} rounds completed by everyone: ${JSON.stringify(world.worldStats)}\n${world.describe()}`);
      });
    }
  }
});

describe("Barrier in the simulator", () => {
  for (const voters of [3, 5]) {
    for (const seed of [41, 42]) {
      test(`${voters} voters, seed ${seed}: no waiter gets through before remove()`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const world = new RecipeWorld({ seed, voters });
        const members = Array.from({ length: 4 }, (_, i) => new WorldMember(world, `p${i + 1}`, { sessionTimeoutMs: 4_000 }));
        const [coordinator, ...workers] = members as [WorldMember, ...WorldMember[]];
        const problems: string[] = [];
        let passed = 0;
        let done = false;
        const run = (async () => {
          for (let round = 0; round < 15; round++) {
            const path = `/gates/g${round}`;
            const gate = new Barrier(await coordinator.client(), path);
            try {
              await gate.set();
            } catch (error) {
              world.note(`round ${round}: set failed: ${message(error)}`);
              continue;
            }
            let removeCalledMs = Number.POSITIVE_INFINITY;
            const waits = workers.map(async (worker) => {
              try {
                // The worker learned of the barrier out of band (from this test, not from ZooKeeper), so
                // it syncs first: its server may not have applied the coordinator's create yet, and
                // ZooKeeper promises no cross-client view without a sync.
                const client = await worker.client();
                await client.sync(path);
                await new Barrier(client, path).wait({ signal: world.timeoutSignal(20_000) });
                if (world.nowMs < removeCalledMs) {
                  problems.push(`round ${round}: ${worker.name} got through at ${world.nowMs.toFixed(1)} ms, before remove() was called`);
                }
                passed++;
              } catch (error) {
                world.note(`round ${round}: ${worker.name}'s wait failed: ${message(error)}`);
              }
            });
            await world.sleep(between(world.prng, 50, 800));
            removeCalledMs = world.nowMs;
            await new Barrier(await coordinator.client(), path).remove().catch((error: unknown) => world.note(`remove failed: ${message(error)}`));
            await Promise.all(waits);
          }
        })().catch((error: unknown) => world.fail("participants", message(error))).finally(() => (done = true));
        world.startFaults(FAULT_START_MS + 15_000);
        await world.run(FAULT_START_MS + 15_000, () => done);
        world.heal();
        await world.run(world.nowMs + 120_000, () => done);
        await run;
        assert.deepEqual(world.failures, [], world.describe());
        assert.deepEqual(problems, [], `${problems.slice(0, 5).join("\n")}\n${world.describe()}`);
        assert.ok(passed >= 15, `only ${passed} waits got through: ${JSON.stringify(world.worldStats)}\n${world.describe()}`);
      });
    }
  }
});
