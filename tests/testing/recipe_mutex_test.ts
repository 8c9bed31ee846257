/**
 * Mutex safety in the deterministic simulator: real Clients and the real Mutex recipe against
 * simulated replicas, under crashes and restarts, partitions (among replicas, and between a client
 * and its server, and a client's server cut off from the quorum), connection resets, slow disks and
 * clock drift. Each participant loops acquire → hold (virtual time) → release; the holds of different
 * participants, from acquire() resolving to release() or the `lost` signal firing, never overlap,
 * and the fencing tokens of successive holders grow.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LostError, Mutex } from "../../src/recipes/mod.ts";
import { type Hold, HoldLog } from "../../src/testing/hold_log.ts";
import { RecipeWorld, type RecipeWorldOptions } from "../../src/testing/recipe_world.ts";
import { QUIET_NETWORK } from "../../src/testing/sim_network.ts";
import { between } from "../../src/testing/sim_random.ts";
import { WorldMember } from "../../src/testing/world_member.ts";

const LOCK_PATH = "/locks/sim";
const TEST_TIMEOUT_MS = 120_000;
/** 4 participants, 15 s of faults from 2 s on, then 5 s of calm (virtual time). */
const SCENARIO = { participants: 4, faultMs: 15_000, calmMs: 5_000, loseOnDisconnect: true };

interface MutexRun {
  world: RecipeWorld;
  log: HoldLog;
  /** Holds that began after the faults stopped. */
  acquiredAfterHeal: number;
  members: WorldMember[];
}

async function runMutex(options: RecipeWorldOptions & {
  participants: number;
  sessionTimeoutMs: number;
  faultMs: number;
  calmMs: number;
  loseOnDisconnect: boolean;
  /** How long a holder holds, at most (virtual ms); default 300. */
  holdMsMax?: number;
}): Promise<MutexRun> {
  const world = new RecipeWorld(options);
  const log = new HoldLog(`lock ${LOCK_PATH}`);
  const members = Array.from(
    { length: options.participants },
    (_, index) => new WorldMember(world, `p${index + 1}`, { sessionTimeoutMs: options.sessionTimeoutMs }),
  );
  const uuid = world.uuids();
  const faultEndMs = 2_000 + options.faultMs;
  const endMs = faultEndMs + options.calmMs;
  let healedAtMs = Number.POSITIVE_INFINITY;
  let finished = 0;
  const loop = async (member: WorldMember) => {
    try {
      for (let round = 0; round < 10_000 && world.nowMs < endMs; round++) {
        const client = await member.client();
        const mutex = new Mutex(client, LOCK_PATH, { loseOnDisconnect: options.loseOnDisconnect, random: uuid });
        let lock;
        world.note(`${member.name}: acquiring`);
        try {
          lock = await mutex.acquire({ signal: world.timeoutSignal(15_000) });
        } catch (error) {
          world.note(`${member.name}: acquire failed: ${error instanceof Error ? error.message : String(error)}`);
          await world.sleep(between(world.prng, 10, 100));
          continue;
        }
        world.note(`${member.name}: acquired ${lock.name} (token ${lock.fencingToken})`);
        const hold: Hold = log.begin(member.name, world.nowMs, lock.fencingToken);
        const lost = lock.lost;
        const onLost = () => log.end(hold, world.nowMs, LostError.is(lost.reason) ? lost.reason.why : "lost");
        if (lost.aborted) onLost();
        else lost.addEventListener("abort", onLost, { once: true });
        await world.sleep(between(world.prng, 20, options.holdMsMax ?? 300), lost).catch(() => undefined);
        log.end(hold, world.nowMs, "released");
        await lock.release().catch(() => undefined);
        await world.sleep(between(world.prng, 0, 50));
      }
    } catch (error) {
      world.fail("participant loop", `${member.name}: ${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      finished++;
    }
  };
  const loops = members.map(loop);
  world.startFaults(faultEndMs);
  await world.run(faultEndMs);
  world.heal();
  healedAtMs = world.nowMs;
  await world.run(endMs + 60_000, () => finished === members.length);
  await Promise.race([Promise.all(loops), Promise.resolve()]);
  const acquiredAfterHeal = log.holds.filter((hold) => hold.fromMs > healedAtMs).length;
  return { world, log, acquiredAfterHeal, members };
}

function check(run: MutexRun, holdsMin = 10): void {
  const { world, log } = run;
  const problems = [...log.overlaps(world.nowMs), ...log.tokenProblems()];
  const summary = `${JSON.stringify(world.worldStats)} holds ${JSON.stringify(log.endings())}`;
  assert.deepEqual(world.failures, [], world.describe());
  assert.deepEqual(problems, [], `${problems.slice(0, 5).join("\n")}\n${summary}\n${world.describe()}`);
  assert.ok(log.holds.length >= holdsMin, `only ${log.holds.length} holds: ${summary}\n${world.describe()}`);
  assert.ok(run.acquiredAfterHeal > 0, `nobody acquired the lock after the faults stopped: ${summary}\n${world.describe([LOCK_PATH])}`);
}

describe("Mutex in the simulator (loseOnDisconnect: a disconnect ends the hold)", () => {
  const seeds: Record<number, number[]> = { 3: [1, 2, 3, 4], 5: [1, 3, 4, 5] };
  for (const voters of [3, 5]) {
    for (const seed of seeds[voters]!) {
      test(`${voters} voters, seed ${seed}: holds never overlap, tokens grow`, { timeout: TEST_TIMEOUT_MS }, async () => {
        check(await runMutex({ ...SCENARIO, seed, voters, sessionTimeoutMs: 2_000 + 500 * seed }));
      });
    }
  }

  test("5 voters, seed 3, holds of up to 3 s: holds never overlap", { timeout: TEST_TIMEOUT_MS }, async () => {
    check(await runMutex({ ...SCENARIO, seed: 3, voters: 5, sessionTimeoutMs: 2_500, holdMsMax: 3_000 }), 5);
  });

  // Once left an orphan lock node: a protected create whose answer was lost during a long outage.
  test("5 voters, seed 2, an outage longer than the reconnect wait: no orphan lock node", { timeout: TEST_TIMEOUT_MS }, async () => {
    check(await runMutex({ ...SCENARIO, seed: 2, voters: 5, sessionTimeoutMs: 3_000 }));
  });
});

describe("Mutex in the simulator: determinism", () => {
  test("the same seed gives the same run twice; another seed a different one", { timeout: TEST_TIMEOUT_MS }, async () => {
    const short = { ...SCENARIO, voters: 3, sessionTimeoutMs: 2_000, faultMs: 5_000, calmMs: 2_000 };
    const first = await runMutex({ ...short, seed: 7 });
    const second = await runMutex({ ...short, seed: 7 });
    const other = await runMutex({ ...short, seed: 8 });
    assert.ok(first.log.holds.length > 5, first.world.describe());
    assert.deepEqual(second.world.log, first.world.log);
    assert.deepEqual(second.log.holds, first.log.holds);
    assert.deepEqual(second.world.worldStats, first.world.worldStats);
    assert.notDeepEqual(other.world.log, first.world.log);
  });
});

/**
 * A holder cut off from every server, with another client waiting: the servers expire the holder's
 * session a session timeout after they last heard from it, and hand the lock on. The holder's
 * client notices the silence after its read timeout (2/3 of the session timeout):
 * - with loseOnDisconnect its hold ends then, before the servers can expire the session: no overlap;
 * - by default (Curator's choice) it ends a whole session timeout after the disconnect, so up to
 *   2/3 of a session timeout after the next holder got the lock. This documented gap is what the
 *   fencing token covers: the next holder's token is larger.
 */
async function cutOffHolder(options: { seed: number; loseOnDisconnect: boolean }): Promise<{ world: RecipeWorld; log: HoldLog }> {
  // No faults but the one under test (replica links break on their own otherwise).
  const world = new RecipeWorld({ seed: options.seed, voters: 3, clientFaults: false, plan: { network: QUIET_NETWORK } });
  const log = new HoldLog(`lock ${LOCK_PATH}`);
  const sessionTimeoutMs = 3_000;
  const holder = world.newClient({ sessionTimeoutMs });
  const waiter = world.newClient({ sessionTimeoutMs });
  const uuid = world.uuids();
  let done = false;
  const scenario = (async () => {
    await holder.connect();
    await waiter.connect();
    const first = await new Mutex(holder, LOCK_PATH, { loseOnDisconnect: options.loseOnDisconnect, random: uuid }).acquire();
    const held = log.begin("holder", world.nowMs, first.fencingToken);
    first.lost.addEventListener("abort", () => log.end(held, world.nowMs, (first.lost.reason as LostError).why), { once: true });
    const next = new Mutex(waiter, LOCK_PATH, { loseOnDisconnect: options.loseOnDisconnect, random: uuid }).acquire();
    await world.sleep(500);
    for (const sid of world.cluster.members) world.clientNetwork.cut(1, sid);
    world.note("holder cut off from every server");
    const second = await next;
    const taken = log.begin("waiter", world.nowMs, second.fencingToken);
    await world.sleep(4_000);
    log.end(taken, world.nowMs, "released");
    await second.release();
  })().catch((error: unknown) => world.fail("scenario", String(error))).finally(() => (done = true));
  await world.run(30_000, () => done);
  await scenario;
  assert.deepEqual(world.failures, [], world.describe());
  return { world, log };
}

describe("Mutex in the simulator: a holder cut off from every server", () => {
  test("with loseOnDisconnect the holder stops before the servers hand the lock on", { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const seed of [51, 52, 53]) {
      const { world, log } = await cutOffHolder({ seed, loseOnDisconnect: true });
      assert.equal(log.holds.length, 2, world.describe());
      assert.equal(log.holds[0]!.why, "disconnected");
      assert.deepEqual(log.overlaps(world.nowMs), [], world.describe());
    }
  });

  test("by default the holder is told up to 2/3 of a session timeout late; fencing tokens still grow", { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const seed of [51, 52, 53]) {
      const { world, log } = await cutOffHolder({ seed, loseOnDisconnect: false });
      assert.equal(log.holds.length, 2, world.describe());
      const [first, second] = log.holds as [Hold, Hold];
      assert.equal(first.why, "sessionTimeout");
      const overlapMs = first.toMs! - second.fromMs;
      assert.ok(
        overlapMs > 0 && overlapMs <= (2 / 3) * 3_000 + 100,
        `expected the documented gap (0, 2100] ms, got ${overlapMs.toFixed(1)} ms; if the default became safe, update this test and the HoldOptions docs\n${world.describe()}`,
      );
      assert.deepEqual(log.tokenProblems(), []);
    }
  });
});
