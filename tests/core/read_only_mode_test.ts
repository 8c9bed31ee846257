/**
 * Read-only mode (readonlymode.enabled) in the core, on a deterministic ensemble: a member cut off
 * from its quorum for max(2 s, tickTime) serves reads to clients that allow read-only, with local
 * sessions, and answers writes NOTREADONLY, as ZooKeeper 3.8's ReadOnlyZooKeeperServer does; it
 * stops when it rejoins. tests/compat/read_only_kazoo_test.ts judges the same against ZooKeeper.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { Request } from "../../src/core/records.ts";
import { Ensemble, type EnsembleClient } from "./support/ensemble_harness.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string, data = ""): Request => ({ kind: "create", path, data: new TextEncoder().encode(data), acl: OPEN, flags: 0, ttl: 0n });

/** A 3-voter ensemble (tick 100 ms, so the grace is 2 s) with /a written; one follower cut off. */
function cutOffFollower(readOnlyMode = true): { ensemble: Ensemble; leader: number; cutOff: number; global: EnsembleClient } {
  const ensemble = new Ensemble({ voters: 3, readOnlyMode });
  const leader = ensemble.stabilize();
  const global = ensemble.client(leader);
  assert.equal(global.call(create("/a", "before"))?.header.err, Code.OK);
  const cutOff = [1, 2, 3].find((sid) => sid !== leader)!;
  ensemble.run(500); // /a reaches every member
  ensemble.partition([cutOff], [1, 2, 3].filter((sid) => sid !== cutOff));
  return { ensemble, leader, cutOff, global };
}

/** Runs until `sid` is read-only (bounded); returns how long it took. */
function untilReadOnly(ensemble: Ensemble, sid: number, maxMs = 10_000): number {
  for (let elapsed = 0; elapsed <= maxMs; elapsed += 50) {
    if (ensemble.replicas.get(sid)!.server.readOnly) return elapsed;
    ensemble.run(50);
  }
  throw new Error(`member ${sid} did not turn read-only within ${maxMs} ms`);
}

describe("read-only mode: a member without a quorum", () => {
  test("turns read-only once it has looked for a leader for 2 s, not before", () => {
    const { ensemble, cutOff } = cutOffFollower();
    ensemble.run(1000);
    assert.equal(ensemble.replicas.get(cutOff)!.status().state, "looking", "it noticed the quorum is gone");
    assert.equal(ensemble.replicas.get(cutOff)!.server.readOnly, false, "not read-only within the grace");
    const early = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(early.state.closed, true, "no read-only client served before the grace");
    untilReadOnly(ensemble, cutOff);
  });

  test("serves reads to a client that allows read-only, with a session of its own, and answers every write and sync NOTREADONLY", () => {
    const { ensemble, cutOff } = cutOffFollower();
    untilReadOnly(ensemble, cutOff);
    const client = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(client.state.closed, false);
    assert.equal(client.state.readOnly, true, "the connect response says read-only");
    assert.notEqual(client.state.sessionId, 0n);
    const read = client.call({ kind: "getData", path: "/a", watch: true });
    assert.equal(read?.header.err, Code.OK);
    assert.equal(new TextDecoder().decode(read?.body?.kind === "getData" ? read.body.data ?? new Uint8Array() : new Uint8Array()), "before");
    assert.equal(client.call({ kind: "getChildren", path: "/", watch: false })?.header.err, Code.OK);
    const writes: Request[] = [
      create("/b"),
      { kind: "setData", path: "/a", data: null, version: -1 },
      { kind: "delete", path: "/a", version: -1 },
      { kind: "setACL", path: "/a", acl: OPEN, version: -1 },
      { kind: "multi", ops: [{ kind: "create", path: "/m", data: null, acl: OPEN, flags: 0, ttl: 0n }] },
      { kind: "sync", path: "/" },
    ];
    for (const write of writes) {
      assert.equal(client.call(write)?.header.err, Code.NOTREADONLY, `${write.kind} is NOTREADONLY`);
    }
    assert.equal(client.state.closed, false, "refusals keep the connection");
    assert.equal(client.call({ kind: "exists", path: "/b", watch: false })?.header.err, Code.NONODE, "nothing was written");
    // The session lives on its pings; its client can come back to it on a new connection.
    ensemble.run(8000);
    assert.equal(client.call({ kind: "ping" })?.header.err, Code.OK);
    const again = ensemble.resume(cutOff, client, { canBeReadOnly: true });
    assert.equal(again.state.sessionId, client.state.sessionId, "the local session resumes");
    assert.equal(client.state.closed, true, "its old connection is closed");
  });

  test("turns away clients that do not allow read-only, and sessions of the ensemble", () => {
    const { ensemble, cutOff, global } = cutOffFollower();
    untilReadOnly(ensemble, cutOff);
    const plain = ensemble.client(cutOff);
    assert.equal(plain.state.closed, true, "a client that does not allow read-only is closed");
    assert.equal(plain.state.answered, false, "and given no session");
    const resumed = ensemble.resume(cutOff, global, { canBeReadOnly: true });
    assert.equal(resumed.state.closed, true, "a session of the ensemble is not resumed here (ZOOKEEPER-3863)");
    assert.equal(resumed.state.answered, false, "nor called expired: the client keeps it and tries another server");
  });

  test("a local session whose client falls silent expires; closeSession ends one at once", () => {
    const { ensemble, cutOff } = cutOffFollower();
    untilReadOnly(ensemble, cutOff);
    const silent = ensemble.client(cutOff, { canBeReadOnly: true });
    ensemble.crashClient(silent);
    ensemble.run(12_000); // its timeout is 10 s
    const late = ensemble.resume(cutOff, silent, { canBeReadOnly: true });
    assert.equal(late.state.answered && late.state.sessionId === 0n, true, "told its session expired");
    assert.equal(late.state.closed, true);
    const closing = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(closing.call({ kind: "closeSession" })?.header.err, Code.OK);
    assert.equal(closing.state.closed, true);
    const after = ensemble.resume(cutOff, closing, { canBeReadOnly: true });
    assert.equal(after.state.sessionId, 0n, "a closed local session is gone");
  });

  test("stops being read-only when it rejoins: its read-only clients are disconnected and their sessions are unknown to the ensemble", () => {
    const { ensemble, leader, cutOff } = cutOffFollower();
    untilReadOnly(ensemble, cutOff);
    const client = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(client.state.readOnly, true);
    ensemble.heal();
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(cutOff)!.server.readOnly, false);
    assert.equal(client.state.closed, true, "read-only connections are closed when the mode ends");
    for (const sid of [cutOff, leader]) {
      const moved = ensemble.resume(sid, client, { canBeReadOnly: true });
      assert.equal(moved.state.sessionId, 0n, `member ${sid}: the local session is expired for the ensemble`);
      assert.equal(moved.state.readOnly, false);
    }
    const fresh = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(fresh.state.readOnly, false, "a new session is an ensemble session again");
    assert.equal(fresh.call(create("/after"))?.header.err, Code.OK);
  });

  test("without readonlymode.enabled a member without a quorum serves nobody", () => {
    const { ensemble, cutOff } = cutOffFollower(false);
    ensemble.run(6000);
    assert.equal(ensemble.replicas.get(cutOff)!.server.readOnly, false);
    const client = ensemble.client(cutOff, { canBeReadOnly: true });
    assert.equal(client.state.closed, true);
  });
});
