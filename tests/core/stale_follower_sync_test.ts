/**
 * A leader's new role answers only the learners that joined it. Members talk over one connection per
 * pair whatever their roles, so when a leader steps down and is elected again, a follower that never
 * noticed (its clock starved, or no break reached it) still follows the ended role and sends it
 * syncs and forwarded writes. Answering such a sync let the stale follower reply with its old state
 * after a write of the new epoch had completed (seeds 189 and 637 at 5 voters, 200 ticks: "sync sees
 * every earlier write"). ZooKeeper closes every learner's socket when a leader's role ends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import type { Request } from "../../src/core/records.ts";
import { Code } from "../../src/core/errors.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string): Request => ({ kind: "create", path, data: new Uint8Array(), acl: OPEN, flags: 0, ttl: 0n });

/**
 * Three voters, 3 leads epoch 1. Member 2's clock stops (it keeps following 3's epoch-1 role), 1
 * crashes, so 3 loses its quorum and steps down; 1 restarts and 3 leads epoch 2 with 1, while 2 still
 * follows the ended role. A client of 3 then writes /w in epoch 2.
 */
function staleFollower() {
  const ensemble = new Ensemble({ voters: 3 });
  assert.equal(ensemble.stabilize(), 3);
  const stale = ensemble.client(2);
  assert.notEqual(stale.state.sessionId, 0n);
  ensemble.freeze(2);
  ensemble.crash(1);
  ensemble.run(2_000);
  assert.equal(ensemble.replicas.get(3)!.leaderEpoch, null, "3 lost its quorum and stepped down");
  ensemble.restart(1);
  assert.equal(ensemble.stabilizeAmong([1, 3]), 3);
  assert.equal(ensemble.replicas.get(3)!.leaderEpoch, 2);
  const status = ensemble.replicas.get(2)!.status();
  assert.deepEqual([status.state, status.leader, status.currentEpoch], ["following", 3, 1], "2 still follows epoch 1");
  const writer = ensemble.client(3);
  assert.equal(writer.call(create("/w"))?.header.err, Code.OK);
  return { ensemble, stale };
}

test("a sync through a follower of the leader's ended role is not answered from stale state", () => {
  const { ensemble, stale } = staleFollower();
  const synced = stale.call({ kind: "sync", path: "/" });
  if (synced !== null && !stale.state.closed) {
    const read = stale.call({ kind: "exists", path: "/w", watch: false });
    assert.equal(read?.header.err, Code.OK, `2 answered sync, then missed /w written before it (got ${read?.header.err})`);
  }
  // Once 2's clock runs again it notices the silence and rejoins the current epoch.
  ensemble.freeze(2, false);
  for (let waited = 0; waited < 10_000 && ensemble.replicas.get(2)!.status().currentEpoch !== 2; waited += 100) ensemble.run(100);
  assert.equal(ensemble.stabilize(), 3);
  assert.equal(ensemble.replicas.get(2)!.status().currentEpoch, 2);
  assert.ok(ensemble.replicas.get(2)!.server.tree.get("/w"), "2 caught up");
});

test("the leader's new role does not take writes forwarded by a follower of its ended role", () => {
  const { ensemble, stale } = staleFollower();
  stale.call(create("/from-stale"));
  ensemble.run(200);
  assert.equal(ensemble.replicas.get(3)!.server.tree.get("/from-stale"), undefined, "prepared for a member that is not its learner");
});
