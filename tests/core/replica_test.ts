import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import { treeDigest } from "../../src/core/tree_digest.ts";
import type { Request } from "../../src/core/records.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string, data = "", flags = 0): Request => ({ kind: "create", path, data: new TextEncoder().encode(data), acl: OPEN, flags, ttl: 0n });

function assertConverged(ensemble: Ensemble): void {
  const digests = new Map<number, string>();
  for (const [sid, replica] of ensemble.replicas) digests.set(sid, `${replica.server.tree.lastZxid}:${treeDigest(replica.server.tree)}`);
  assert.equal(new Set(digests.values()).size, 1, `replicas differ: ${JSON.stringify([...digests])}`);
}

describe("replica: election and Zab", () => {
  for (const voters of [3, 5]) {
    test(`${voters} voters elect one leader and all follow it`, () => {
      const ensemble = new Ensemble({ voters });
      const leader = ensemble.stabilize();
      assert.equal(leader, voters, "the highest sid wins among equal histories");
      for (const replica of ensemble.replicas.values()) assert.equal(replica.status().leader, leader);
    });
  }

  test("writes through a follower and the leader are replicated in one order", () => {
    const ensemble = new Ensemble({ voters: 3, observers: 1 });
    const leader = ensemble.stabilize();
    const follower = [1, 2, 3].find((sid) => sid !== leader)!;
    const viaFollower = ensemble.client(follower);
    const viaLeader = ensemble.client(leader);
    const viaObserver = ensemble.client(4);
    assert.equal(viaFollower.call(create("/a", "1"))?.header.err, 0);
    assert.equal(viaLeader.call(create("/a/b", "2"))?.header.err, 0);
    assert.equal(viaObserver.call(create("/a/c", "3"))?.header.err, 0);
    assert.equal(viaFollower.call(create("/a"))?.header.err, -110);
    const read = viaObserver.call({ kind: "getChildren", path: "/a", watch: false });
    assert.deepEqual((read?.body as { children: string[] }).children.sort(), ["b", "c"]);
    assertConverged(ensemble);
  });

  test("a follower's watch fires for a write made through another member", () => {
    const ensemble = new Ensemble({ voters: 3 });
    ensemble.stabilize();
    const a = ensemble.client(1);
    const b = ensemble.client(2);
    a.call(create("/w"));
    b.call({ kind: "getData", path: "/w", watch: true });
    a.call({ kind: "setData", path: "/w", data: null, version: -1 });
    assert.deepEqual(b.state.events, ["3 /w"]);
  });

  test("sync on a follower answers after the leader's earlier commits are applied there", () => {
    const ensemble = new Ensemble({ voters: 3 });
    const leader = ensemble.stabilize();
    const follower = [1, 2, 3].find((sid) => sid !== leader)!;
    const client = ensemble.client(follower);
    client.call(create("/s"));
    const reply = client.call({ kind: "sync", path: "/s" });
    assert.deepEqual(reply?.body, { kind: "sync", path: "/s" });
  });

  test("the leader crashes: a new leader serves, nothing committed is lost, the old one rejoins", () => {
    const ensemble = new Ensemble({ voters: 3 });
    const first = ensemble.stabilize();
    const follower = [1, 2, 3].find((sid) => sid !== first)!;
    const client = ensemble.client(follower);
    for (let i = 0; i < 20; i++) assert.equal(client.call(create(`/n${i}`))?.header.err, 0);
    ensemble.crash(first);
    const second = ensemble.stabilize();
    assert.notEqual(second, first);
    const again = ensemble.client(follower === second ? [1, 2, 3].find((s) => s !== first && s !== second)! : follower);
    assert.equal(again.call({ kind: "exists", path: "/n19", watch: false })?.header.err, 0);
    assert.equal(again.call(create("/after"))?.header.err, 0);
    ensemble.restart(first);
    ensemble.stabilize();
    assertConverged(ensemble);
  });

  test("a minority partition stops serving; the majority goes on; healing converges", () => {
    const ensemble = new Ensemble({ voters: 5 });
    const leader = ensemble.stabilize();
    const minority = [leader, leader === 1 ? 2 : 1];
    const majority = [1, 2, 3, 4, 5].filter((sid) => !minority.includes(sid));
    const stranded = ensemble.client(leader);
    ensemble.partition(minority, majority);
    // The old leader cannot commit without a quorum: this write never succeeds.
    assert.equal(stranded.call(create("/lost")), null, "no reply without a quorum");
    ensemble.run(3000);
    for (const sid of minority) assert.equal(ensemble.replicas.get(sid)!.status().serving, false, `${sid} in the minority must not serve`);
    const newLeader = ensemble.leader();
    assert.ok(newLeader !== null && majority.includes(newLeader), "the majority elected a leader");
    const client = ensemble.client(majority[0]!);
    assert.equal(client.call(create("/majority"))?.header.err, 0);
    ensemble.heal();
    ensemble.stabilize();
    assertConverged(ensemble);
    assert.equal(ensemble.replicas.get(majority[0]!)!.server.tree.get("/lost"), undefined, "the uncommitted write was truncated away");
    assert.ok(ensemble.replicas.get(leader)!.server.tree.get("/majority"), "the old leader caught up");
  });

  test("a follower that restarts far behind catches up (DIFF or SNAP) and converges", () => {
    const ensemble = new Ensemble({ voters: 3 });
    const leader = ensemble.stabilize();
    const follower = [1, 2, 3].find((sid) => sid !== leader)!;
    ensemble.crash(follower);
    const client = ensemble.client(leader);
    for (let i = 0; i < 30; i++) assert.equal(client.call(create(`/x${i}`, "d"))?.header.err, 0);
    ensemble.restart(follower);
    ensemble.stabilize();
    assertConverged(ensemble);
  });
});

test("a client's closeSession through a follower is answered, and its ephemerals go", () => {
  const ensemble = new Ensemble({ voters: 3 });
  const leader = ensemble.stabilize();
  const follower = [1, 2, 3].find((sid) => sid !== leader)!;
  const client = ensemble.client(follower);
  assert.equal(client.call(create("/eph", "", 1))?.header.err, 0);
  assert.equal(client.call({ kind: "closeSession" })?.header.err, 0);
  assert.ok(client.state.closed, "the connection is closed after the reply");
  assert.equal(ensemble.replicas.get(leader)!.server.tree.get("/eph"), undefined);
});

test("a follower 2500 txns behind catches up through several DIFF messages", () => {
  const ensemble = new Ensemble({ voters: 3 });
  const leader = ensemble.stabilize();
  const follower = [1, 2, 3].find((sid) => sid !== leader)!;
  ensemble.crash(follower);
  const client = ensemble.client(leader);
  for (let i = 0; i < 2500; i++) assert.equal(client.call({ kind: "create", path: `/d${i}`, data: null, acl: OPEN, flags: 0, ttl: 0n })?.header.err, 0);
  ensemble.restart(follower);
  ensemble.stabilize();
  assertConverged(ensemble);
});
