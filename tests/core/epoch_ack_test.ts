/**
 * An ackEpoch acknowledges one epoch: the one the learner saved. Members keep one connection per
 * pair across roles, so a learner still starting up (resending followerInfo) can have its
 * followerInfo answered by two roles of the same leader: the leader stepped down and leads again.
 * If the first role's leaderInfo arrives late, the learner saves that older epoch and acks it, and
 * the second role used to count the ack as one for its own, newer epoch: the learner then followed
 * an epoch it never accepted (acceptedEpoch below currentEpoch), and the new epoch was "accepted" by
 * a quorum that had not all saved it, which is what keeps two leaders from picking the same epoch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import type { Sid } from "../../src/core/peer_messages.ts";

function assertEpochsOrdered(ensemble: Ensemble, when: string): void {
  for (const [sid, replica] of ensemble.replicas) {
    const status = replica.status();
    assert.ok(status.acceptedEpoch >= status.currentEpoch, `${when}: member ${sid} follows epoch ${status.currentEpoch} but accepted only ${status.acceptedEpoch}`);
    const disk = ensemble.disks.get(sid)!;
    assert.ok(disk.acceptedEpoch >= disk.currentEpoch, `${when}: member ${sid} saved currentEpoch ${disk.currentEpoch} > acceptedEpoch ${disk.acceptedEpoch}`);
  }
}

test("a learner's late ack of a leader's earlier epoch is not taken for the leader's next epoch", () => {
  const ensemble = new Ensemble({ voters: 3 });
  assert.equal(ensemble.stabilize(), 3);
  const replica = (sid: Sid) => ensemble.replicas.get(sid)!;
  // 1 starts a new learner role under 3 (it alone saw a break); its followerInfo is on the way, and
  // 3's answer (leaderInfo of epoch 1) waits on a slow link.
  replica(1).peerLost(3);
  assert.ok(ensemble.settleUntil(() => replica(1).status().state === "following"), "1 follows 3 again");
  ensemble.hold(3, 1);
  ensemble.settle();
  assert.deepEqual(ensemble.heldKinds(3, 1), ["leaderInfo"], "3 answered 1 with epoch 1's leaderInfo");
  // 3 loses 2 and steps down, then 2 and 3 elect 3 again: epoch 2. 1, still starting up, resends
  // followerInfo, which 3's new role answers too.
  ensemble.partition([1, 3], [2]);
  for (let waited = 0; waited < 2_000 && replica(3).leaderEpoch !== null; waited += 50) ensemble.run(50);
  assert.equal(replica(3).leaderEpoch, null, "3 lost its quorum");
  ensemble.heal();
  for (let waited = 0; waited < 800 && replica(3).leaderEpoch !== 2; waited += 50) ensemble.run(50);
  assert.equal(replica(3).leaderEpoch, 2, "3 leads epoch 2 with 2");
  assert.equal(replica(1).status().state, "following", "1 is still starting up under 3");
  assert.equal(ensemble.heldKinds(3, 1).filter((kind) => kind === "leaderInfo").length, 2, "both roles of 3 answered 1");
  // The slow link delivers: epoch 1's leaderInfo first.
  ensemble.release(3, 1);
  ensemble.settle();
  assertEpochsOrdered(ensemble, "after the late leaderInfo");
  assert.ok(ensemble.logs.some((line) => line.startsWith("1: ") && line.includes("now leads epoch 2")), "1 started over on hearing of epoch 2");
  ensemble.stabilize();
  assertEpochsOrdered(ensemble, "once stable");
  assert.equal(replica(1).status().currentEpoch, 2, "1 ends up following epoch 2");
  assert.equal(replica(1).status().leader, 3);
});
