/**
 * A member votes with its last LOGGED zxid, as ZooKeeper's getLastLoggedZxid, not with what it has
 * applied: a follower that acked a proposal but never got its COMMIT holds a txn the quorum may have
 * committed (and the leader acknowledged). Voting with the applied zxid hides it, so a member that
 * never logged that txn can win the election on its id and truncate it away
 * (tests/mutation: replica-vote-applied-zxid).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import type { Request } from "../../src/core/records.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string): Request => ({ kind: "create", path, data: new Uint8Array(0), acl: OPEN, flags: 0, ttl: 0n });

describe("replica: votes carry the last logged zxid", () => {
  test("a write acked by the leader and one follower that never applied it survives the leader's crash", () => {
    const ensemble = new Ensemble({ voters: 3 });
    const leader = ensemble.stabilize();
    const [withTxn, without] = [1, 2, 3].filter((sid) => sid !== leader).sort((a, b) => a - b) as [number, number];
    // The member that will lack the txn has the higher id: it wins any tie of equal votes.
    const client = ensemble.client(leader);
    ensemble.hold(leader, without);
    const loggedBefore = ensemble.disks.get(withTxn)!.log.length;
    ensemble.send(leader, client.connection, 1, create("/acked"));
    const logged = ensemble.settleUntil(() => ensemble.disks.get(withTxn)!.log.length > loggedBefore);
    assert.ok(logged, `member ${withTxn} logged the proposal`);
    // Its ack reaches the leader; the COMMIT back to it is held, so it never applies the txn.
    ensemble.hold(leader, withTxn);
    ensemble.settle();
    assert.equal(client.state.replies.at(-1)?.header.err, 0, "the leader acknowledged the create");
    assert.equal(ensemble.replicas.get(withTxn)!.server.tree.get("/acked"), undefined, `member ${withTxn} has not applied it`);

    ensemble.crash(leader);
    const next = ensemble.stabilizeAmong([withTxn, without], 30_000);
    assert.equal(next, withTxn, `member ${withTxn}, which logged the acknowledged txn, must lead`);
    for (const sid of [withTxn, without]) {
      assert.notEqual(ensemble.replicas.get(sid)!.server.tree.get("/acked"), undefined, `member ${sid} has /acked`);
    }
  });
});
