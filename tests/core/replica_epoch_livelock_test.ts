/**
 * SIM-12 (seed 1162148145, 3 voters): a learner logs a leader's sync data (DIFF) as it arrives,
 * before NEWLEADER raises its currentEpoch. If it loses that leader in between (a crash, or the
 * leader goes away), its log holds txns of an epoch newer than its currentEpoch. Its vote took the
 * log's epoch (max(currentEpoch, log epoch), the SIM-3 fix), so with the same last zxid as a peer
 * that truly holds that epoch it won on sid; as leader it compared that peer's currentEpoch with its
 * own stored, older one, found the follower "ahead" and stepped down. Nothing changed, so the same
 * election picked it again: a livelock with no leader, forever.
 *
 * ZooKeeper keeps one number for both: a participant votes with its currentEpoch (getPeerEpoch) and
 * the leader compares a follower's currentEpoch with that same currentEpoch (waitForEpochAck), and
 * its currentEpoch is never behind its log's epoch (a crash between the sync data and the epoch
 * write is repaired at load by raising currentEpoch to the epoch found: ZOOKEEPER-1653). These tests
 * build that state the way the simulator found it and require a leader that stays.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import type { Sid } from "../../src/core/peer_messages.ts";
import type { Request } from "../../src/core/records.ts";
import { zxidEpoch } from "../../src/core/zxid.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string): Request => ({ kind: "create", path, data: new Uint8Array(0), acl: OPEN, flags: 0, ttl: 0n });

function lastLoggedEpoch(ensemble: Ensemble, sid: Sid): number {
  const log = ensemble.disks.get(sid)!.log;
  return log.length === 0 ? 0 : zxidEpoch(log[log.length - 1]!.header.zxid);
}

/**
 * Ticks every live member, half a tick at a time, delivering one event at a time until `done()`
 * holds; false if it never did within `maxMs` (bounded).
 */
function tickUntil(ensemble: Ensemble, done: () => boolean, maxMs: number): boolean {
  for (let elapsed = 0; elapsed < maxMs; elapsed += 50) {
    ensemble.now += 50;
    for (const replica of ensemble.replicas.values()) replica.tick(ensemble.now);
    if (ensemble.settleUntil(done)) return true;
  }
  return false;
}

/**
 * Leaves member 2 holding epoch-2 txns from a DIFF whose NEWLEADER it never took (currentEpoch 1),
 * member 1 holding the same txns as a member of epoch 2 (currentEpoch 2), and member 3 (the leader
 * of epoch 3 that sent the DIFF) down. `crashLearner`: member 2 crashes too (the seed's case);
 * otherwise it stays up and loses its leader.
 */
function buildMixedState(crashLearner: boolean): Ensemble {
  const ensemble = new Ensemble({ voters: 3 });
  const first = ensemble.stabilize();
  assert.equal(ensemble.client(first).call(create("/e1"))?.header.err, 0, "a write in epoch 1");
  // Epoch 2 without member 2: it is down while 1 and 3 elect again and commit two more writes.
  ensemble.crash(2);
  const other = first === 2 ? 3 : first;
  ensemble.crash(other);
  ensemble.restart(other);
  const second = ensemble.stabilizeAmong([1, 3]);
  const writer = ensemble.client(second);
  assert.equal(writer.call(create("/e2a"))?.header.err, 0, "a write in epoch 2");
  assert.equal(writer.call(create("/e2b"))?.header.err, 0, "another write in epoch 2");
  assert.equal(ensemble.disks.get(1)!.currentEpoch, 2, "1 is a member of epoch 2");
  assert.equal(lastLoggedEpoch(ensemble, 1), 2);
  // Epoch 3: 3 leads 2 while 1 is down; 2 takes the DIFF of epoch 2's writes, then loses 3 before
  // NEWLEADER's currentEpoch write: when 2 crashes, as soon as the DIFF is on its disk (NEWLEADER's
  // write is still queued); when it stays up, as soon as it applied the DIFF (NEWLEADER still on
  // the way: 3's crash drops it).
  ensemble.crash(1);
  ensemble.restart(2);
  const tookDiff = crashLearner
    ? () => lastLoggedEpoch(ensemble, 2) === 2
    : () => zxidEpoch(ensemble.replicas.get(2)!.status().lastLoggedZxid) === 2;
  assert.ok(tickUntil(ensemble, tookDiff, 20_000), "2 took epoch 2's txns from 3's DIFF");
  if (crashLearner) ensemble.crash(2);
  ensemble.crash(3);
  assert.equal(ensemble.disks.get(2)!.currentEpoch, 1, "2 never took NEWLEADER: its currentEpoch is still 1");
  if (crashLearner) ensemble.restart(2);
  ensemble.restart(1);
  return ensemble;
}

function assertLeaderStays(ensemble: Ensemble): void {
  const leader = ensemble.stabilizeAmong([1, 2], 30_000);
  const epoch = ensemble.replicas.get(leader)!.leaderEpoch;
  ensemble.run(5_000);
  assert.equal(ensemble.replicas.get(leader)!.leaderEpoch, epoch, `leader ${leader} keeps epoch ${epoch}`);
  const stepDowns = ensemble.logs.filter((line) => /leaving leading: follower \d+ has epoch/.test(line));
  assert.deepEqual(stepDowns, [], "no leader steps down for a follower 'ahead' of it");
  for (const sid of [1, 2]) {
    const disk = ensemble.disks.get(sid)!;
    assert.ok(disk.currentEpoch >= lastLoggedEpoch(ensemble, sid), `member ${sid}: saved currentEpoch ${disk.currentEpoch} is behind its log`);
    assert.ok(disk.acceptedEpoch >= disk.currentEpoch, `member ${sid}: saved acceptedEpoch ${disk.acceptedEpoch} < currentEpoch ${disk.currentEpoch}`);
  }
  // Nothing committed was lost: both hold the three writes.
  for (const sid of [1, 2]) {
    const tree = ensemble.replicas.get(sid)!.server.tree;
    for (const path of ["/e1", "/e2a", "/e2b"]) assert.ok(tree.get(path) !== undefined, `member ${sid} has ${path}`);
  }
}

describe("replica: currentEpoch behind the log's epoch (SIM-12)", () => {
  test("after a crash between sync data and NEWLEADER, the two survivors elect a leader that stays", () => {
    assertLeaderStays(buildMixedState(true));
  });

  test("after losing the leader between sync data and NEWLEADER, the two survivors elect a leader that stays", () => {
    assertLeaderStays(buildMixedState(false));
  });
});
