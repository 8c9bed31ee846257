/**
 * Prep-time state belongs to the role that prepared it. A leader that prepared a closeSession (the
 * session is marked closing) and lost its quorum before the txn committed must not carry that mark
 * into its next role: the close is lost, the client never heard back and goes on with its session
 * (seed 10512 at 3 voters found it: the leader answered every request of the session with
 * SESSIONEXPIRED in a later epoch while never closing it, so its ephemerals would live forever).
 * ZooKeeper rebuilds its session tracker from the committed state on every new leadership.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble, type EnsembleClient } from "./support/ensemble_harness.ts";
import type { Request } from "../../src/core/records.ts";
import { Code } from "../../src/core/errors.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string, flags = 0): Request => ({ kind: "create", path, data: new Uint8Array(), acl: OPEN, flags, ttl: 0n });
const EPHEMERAL = 1;

/**
 * Three voters; sid 3 leads epoch 1. A client of the leader creates an ephemeral, then sends
 * closeSession while the leader is cut off from both followers: the close is prepared (and logged
 * there) but never committed. The followers elect 2 (epoch 2); 3 rejoins as a follower (its
 * uncommitted close is truncated away).
 */
function lostClose(): { ensemble: Ensemble; client: EnsembleClient; sessionId: bigint } {
  const ensemble = new Ensemble({ voters: 3 });
  assert.equal(ensemble.stabilize(), 3);
  const client = ensemble.client(3);
  const sessionId = client.state.sessionId;
  assert.equal(client.call(create("/eph", EPHEMERAL))?.header.err, 0);
  ensemble.partition([3], [1, 2]);
  assert.equal(client.call({ kind: "closeSession" }), null, "no quorum: the close cannot commit");
  const newLeader = ensemble.stabilizeAmong([1, 2]);
  assert.equal(newLeader, 2);
  ensemble.heal();
  assert.equal(ensemble.stabilize(), 2);
  for (const replica of ensemble.replicas.values()) {
    assert.ok(replica.server.tree.get("/eph"), `the close never committed: member ${replica.myId} still has /eph`);
  }
  return { ensemble, client, sessionId };
}

describe("no prep state of an ended role survives into the next one", () => {
  test("a former leader that prepared a lost closeSession accepts the session as a follower", () => {
    const { ensemble, client } = lostClose();
    const resumed = ensemble.resume(3, client);
    assert.equal(resumed.state.closed, false, "the session is open: the member must not refuse it as closing");
    assert.equal(resumed.state.sessionId, client.state.sessionId);
    assert.equal(resumed.call({ kind: "setData", path: "/eph", data: null, version: -1 })?.header.err, 0);
  });

  test("a former leader that prepared a lost closeSession, leading again, serves the session and still expires it", () => {
    const { ensemble, client, sessionId } = lostClose();
    // 2 goes away: 1 and 3 have the same history, so 3 (the higher sid) leads epoch 3.
    ensemble.crash(2);
    assert.equal(ensemble.stabilize(), 3);
    const resumed = ensemble.resume(1, client);
    assert.equal(resumed.state.closed, false);
    const reply = resumed.call({ kind: "setData", path: "/eph", data: null, version: -1 });
    assert.equal(reply?.header.err, Code.OK, `a request of the open session is answered normally, got ${reply?.header.err}`);
    // The client goes silent: the leader must now expire the session and delete its ephemeral.
    ensemble.crashClient(resumed);
    ensemble.run(25_000);
    const leader = ensemble.replicas.get(3)!;
    assert.equal(leader.server.tree.get("/eph"), undefined, "the session expired and its ephemeral went");
    assert.ok(!leader.server.sessions().some((s) => s.sessionId === sessionId), "the session is closed");
  });

  test("a session prepared by a leader that lost its quorum does not exist in the next role", () => {
    const ensemble = new Ensemble({ voters: 3 });
    assert.equal(ensemble.stabilize(), 3);
    // A committed txn of epoch 1, so that 3 later rejoins with a TRUNC (not a snapshot, which would
    // rebuild everything anyway).
    assert.equal(ensemble.client(1).call(create("/x"))?.header.err, 0);
    ensemble.partition([3], [1, 2]);
    const before = new Set(ensemble.replicas.get(3)!.server.sessions().map((s) => s.sessionId));
    const orphan = ensemble.client(3);
    assert.equal(orphan.state.sessionId, 0n, "no quorum: the session is never confirmed to the client");
    const prepared = ensemble.replicas.get(3)!.server.sessions().map((s) => s.sessionId).filter((id) => !before.has(id));
    assert.equal(prepared.length, 1, "the leader prepared one session");
    assert.equal(ensemble.stabilizeAmong([1, 2]), 2);
    ensemble.heal();
    assert.equal(ensemble.stabilize(), 2);
    for (const replica of ensemble.replicas.values()) {
      const known = replica.server.sessions().some((s) => s.sessionId === prepared[0]);
      assert.ok(!known, `member ${replica.myId} still tracks a session whose createSession never committed`);
    }
  });
});
