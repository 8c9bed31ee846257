/**
 * The simulator runs the real storage and boot path (src/storage over sim_disk.ts, booted through
 * src/driver/replica_boot.ts, written through src/driver/persister.ts). Each disk fault, aimed by
 * hand at one member of a quiet 3-voter world with a real client writing:
 * - a bad sector in the log: recovery refuses the disk (detected, reported), the member gets an
 *   empty disk once the others are synced and rejoins; no acknowledged write is lost;
 * - an fsync failing with EIO, a disk filling up part-way through an append: the member stops,
 *   its supervisor restarts it, recovery cuts the partial write, it rejoins;
 * and, over whole simulated runs, a lying fsync makes the checkers name the loss, while the same
 * runs with an honest disk pass.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Sid } from "../../src/core/peer_messages.ts";
import { RecipeWorld } from "../../src/testing/recipe_world.ts";
import { QUIET_NETWORK } from "../../src/testing/sim_network.ts";
import { defaultPlan } from "../../src/testing/sim_options.ts";
import { runSimulation } from "../../src/testing/simulator.ts";

const TEST_TIMEOUT_MS = 300_000;
const WRITES = 24;

function quietWorld(seed: number): RecipeWorld {
  // No nemesis (startFaults is never called), no client faults, a reliable network; snapshots off,
  // so each member's log is one segment holding every txn.
  return new RecipeWorld({
    seed,
    voters: 3,
    clientFaults: false,
    plan: { network: QUIET_NETWORK, snapshotTxnCount: 100_000, committedLogMax: 5 },
  });
}

/** Runs the world until `promise` settles (or `budgetMs` of virtual time passes: a failure). */
async function drive<T>(world: RecipeWorld, promise: Promise<T>, budgetMs = 30_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  await world.run(world.nowMs + budgetMs, () => done);
  assert.ok(done, `not settled within ${budgetMs} virtual ms`);
  return await watched;
}

/** Every member up and serving at the leader's zxid. */
function synced(world: RecipeWorld): boolean {
  const cluster = world.cluster;
  const leader = cluster.leader();
  if (leader === null) return false;
  const zxid = cluster.replica(leader)!.status().lastZxid;
  return cluster.members.every((sid) => {
    const status = cluster.replica(sid)?.status();
    return status !== undefined && status.serving && status.leader === leader && status.lastZxid === zxid;
  });
}

async function runUntil(world: RecipeWorld, what: string, until: () => boolean, budgetMs = 30_000): Promise<void> {
  const held = await world.run(world.nowMs + budgetMs, until);
  assert.ok(held, `${what} within ${budgetMs} virtual ms; trace:\n${world.cluster.diagnostics().trace.slice(-20).join("\n")}`);
}

async function startWriting(seed: number, count: number) {
  const world = quietWorld(seed);
  await runUntil(world, "a serving ensemble", () => synced(world));
  const client = world.newClient({ sessionTimeoutMs: 10_000 });
  await drive(world, client.connect());
  const write = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await drive(world, client.create(`/n${i}`, new TextEncoder().encode(`value ${i}`)));
  };
  await write(0, count);
  await runUntil(world, "every member synced", () => synced(world));
  const follower = world.cluster.members.find((sid) => sid !== world.cluster.leader())!;
  return { world, client, write, follower };
}

function assertHolds(world: RecipeWorld, sid: Sid, count: number): void {
  const tree = world.cluster.replica(sid)!.server.tree;
  for (let i = 0; i < count; i++) {
    const node = tree.get(`/n${i}`);
    assert.ok(node !== undefined, `server ${sid} lost /n${i}`);
    assert.equal(new TextDecoder().decode(node.data ?? new Uint8Array(0)), `value ${i}`);
  }
}

function assertNoFailure(world: RecipeWorld): void {
  assert.deepEqual(world.failures, [], world.failures.map((failure) => `${failure.invariant}: ${failure.message}`).join("\n"));
}

describe("simulator storage: disk faults on the real storage path", () => {
  test("a bad sector in a member's log is detected at its restart; it rejoins with a new disk, losing nothing", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { world, follower } = await startWriting(11, WRITES);
    const cluster = world.cluster;
    cluster.crash(follower, { keepUnsynced: "none" });
    const fs = cluster.disk(follower).fileSystem;
    const log = fs.files().filter((file) => file.path.startsWith("/data/log.")).at(-1)!;
    // The last byte of the last record (its body): a complete record whose CRC no longer matches.
    const flipped = cluster.corruptSector(follower, { path: log.path, offset: log.synced - 1, bit: 0 });
    assert.ok(flipped !== null);
    assert.equal(cluster.corruptSector(cluster.leader()!), null, "a second damaged disk is refused (a majority keeps every write)");
    cluster.restart(follower);
    await runUntil(world, "the damaged member refusing to start", () => cluster.isDamaged(follower));
    assert.ok(cluster.diagnostics().trace.some((line) => line.includes(`${follower} refuses to start, its disk is damaged (detected)`) && line.includes("CRC")));
    await runUntil(world, "the member rejoining with a new disk", () => synced(world));
    const stats = cluster.disk(follower).stats;
    assert.equal(stats.corruptionsDetected, 1);
    assert.equal(stats.wipes, 1);
    for (const sid of cluster.members) assertHolds(world, sid, WRITES);
    assertNoFailure(world);
  });

  test("an fsync failing with EIO stops the member; restarted, it catches up", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { world, write, follower } = await startWriting(12, 8);
    const cluster = world.cluster;
    cluster.disk(follower).failNextFsync();
    await write(8, WRITES);
    await runUntil(world, "every member synced again", () => synced(world));
    const trace = cluster.diagnostics().trace;
    assert.ok(trace.some((line) => line.includes(`${follower} stops: storage failed`) && line.includes("EIO")), trace.join("\n"));
    assert.ok(trace.some((line) => line.includes(`restart ${follower} (supervisor)`)));
    assert.equal(cluster.disk(follower).stats.fsyncErrors, 1);
    for (const sid of cluster.members) assertHolds(world, sid, WRITES);
    assertNoFailure(world);
  });

  test("a disk filling up part-way through an append stops the member; recovery cuts the partial record", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { world, write, follower } = await startWriting(13, 8);
    const cluster = world.cluster;
    const disk = cluster.disk(follower);
    disk.diskFull(20); // less than one record: the next append writes 20 bytes and fails
    await write(8, 12);
    await runUntil(world, "the member stopping", () => cluster.isDown(follower));
    disk.diskFull(null); // the operator frees space before the supervisor restarts it
    await write(12, WRITES);
    await runUntil(world, "every member synced again", () => synced(world));
    const { trace, logs } = cluster.diagnostics();
    assert.ok(trace.some((line) => line.includes(`${follower} stops: storage failed`) && line.includes("ENOSPC")), trace.join("\n"));
    assert.equal(disk.stats.diskFullErrors, 1);
    // The segment writer cuts the failed append's bytes at once, or recovery cuts them as a torn tail.
    assert.ok(!logs.some((line) => line.startsWith(`${follower} `) && line.includes("damaged")), logs.join("\n"));
    for (const sid of cluster.members) assertHolds(world, sid, WRITES);
    assertNoFailure(world);
  });
});

describe("simulator storage: a lying fsync", () => {
  const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
  const planFor = (lyingFsync: boolean) => {
    const base = defaultPlan(3);
    // Crash-heavy: any number of voters down, every unsynced write lost at a crash.
    return { ...base, crashes: true, crashLosesUnsynced: true, downVotersMax: 3, actionMsMin: 100, actionMsMax: 400, disk: { ...base.disk, lyingFsync } };
  };

  test("with crashes, runs on disks whose fsync lies fail, naming the loss; the same runs on honest disks pass", { timeout: TEST_TIMEOUT_MS }, async () => {
    const named: string[] = [];
    for (const seed of SEEDS) {
      const honest = await runSimulation({ seed, voters: 3, swarm: false, plan: planFor(false) });
      assert.equal(honest.failure, null, honest.failure === null ? "" : `seed ${seed}, honest disks: ${honest.failure.invariant}: ${honest.failure.message}`);
      const lying = await runSimulation({ seed, voters: 3, swarm: false, plan: planFor(true) });
      if (lying.failure !== null) named.push(`seed ${seed}: ${lying.failure.invariant}: ${lying.failure.message.split("\n")[0]}`);
    }
    console.log(`lying fsync:\n  ${named.join("\n  ")}`);
    assert.ok(named.length >= SEEDS.length / 4, `only ${named.length} of ${SEEDS.length} runs on lying disks failed`);
    const lossInvariants = /committed|lost|recovers from its own disk|keeps every durable write|one history|histories|acknowledged/;
    for (const line of named) assert.match(line, lossInvariants);
  });
});
