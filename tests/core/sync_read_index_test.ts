/**
 * sync is linearizable: a leader answers it only after a quorum confirmed, after the sync arrived,
 * that it still leads (ZooKeeper answers from its own state at once, so a leader that lost its
 * quorum but has not noticed yet, for up to syncLimit, lets its clients and its followers' clients
 * read past a write that completed in a newer epoch). Here the old leader's clock is starved, so it
 * never notices; the check does not depend on how long noticing takes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";
import type { Sid } from "../../src/core/peer_messages.ts";
import type { Request } from "../../src/core/records.ts";
import { Code } from "../../src/core/errors.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string): Request => ({ kind: "create", path, data: new Uint8Array(), acl: OPEN, flags: 0, ttl: 0n });

/** Cuts every link between the groups without either side seeing a break (messages wait). */
function silentSplit(ensemble: Ensemble, a: readonly Sid[], b: readonly Sid[]): void {
  for (const x of a) {
    for (const y of b) {
      ensemble.hold(x, y);
      ensemble.hold(y, x);
    }
  }
}

/**
 * Five voters, 5 leads epoch 1. The clocks of 5 and its follower 4 stop (neither notices anything;
 * 4 keeps following 5) and they hear nothing from 1, 2, 3, which elect 3 (epoch 2); /w completes
 * there. Returns a client of member `via` (4 or 5) opened before all that.
 */
function deposedLeader(via: 4 | 5) {
  const ensemble = new Ensemble({ voters: 5 });
  assert.equal(ensemble.stabilize(), 5);
  const client = ensemble.client(via);
  ensemble.freeze(5);
  ensemble.freeze(4);
  silentSplit(ensemble, [4, 5], [1, 2, 3]);
  const newLeader = ensemble.stabilizeAmong([1, 2, 3]);
  assert.equal(newLeader, 3);
  assert.equal(ensemble.replicas.get(5)!.status().state, "leading", "5 still believes it leads");
  assert.equal(ensemble.replicas.get(4)!.status().leader, 5, "4 still follows 5");
  const writer = ensemble.client(newLeader);
  assert.equal(writer.call(create("/w"))?.header.err, Code.OK, "/w completes in the new epoch");
  return { ensemble, client };
}

for (const [via, whose] of [[5, "its own client"], [4, "a client of its follower"]] as const) {
  test(`a deposed leader that has not noticed answers no sync for ${whose}`, () => {
    const { ensemble, client } = deposedLeader(via);
    const synced = client.call({ kind: "sync", path: "/" });
    ensemble.run(300);
    if (synced === null && client.state.replies.length === 0) return; // not answered: right
    const read = client.call({ kind: "exists", path: "/w", watch: false });
    assert.equal(read?.header.err, Code.OK, `sync was answered, yet a read after it misses /w (${read?.header.err})`);
  });
}

test("sync through a follower and through the leader still answer in a healthy ensemble, after one round trip", () => {
  const ensemble = new Ensemble({ voters: 3, observers: 1 });
  const leader = ensemble.stabilize();
  const follower = [1, 2, 3].find((sid) => sid !== leader)!;
  for (const sid of [leader, follower, 4]) {
    const client = ensemble.client(sid);
    assert.equal(client.call(create(`/s${sid}`))?.header.err, Code.OK);
    const reply = client.call({ kind: "sync", path: `/s${sid}` });
    assert.deepEqual(reply?.body, { kind: "sync", path: `/s${sid}` }, `sync through member ${sid}`);
  }
});

test("a read pipelined after a sync does not see a write the same client sent after it", () => {
  const ensemble = new Ensemble({ voters: 3 });
  const leader = ensemble.stabilize();
  const follower = [1, 2, 3].find((sid) => sid !== leader)!;
  for (const sid of [leader, follower]) {
    const client = ensemble.client(sid);
    const path = `/after${sid}`;
    const before = client.state.replies.length;
    // The first sync starts a leadership round; the second arrives while it is out, so it needs the
    // next round, and the create's proposal is acked before that round's echoes come back.
    ensemble.send(sid, client.connection, 100, { kind: "sync", path: "/" });
    ensemble.send(sid, client.connection, 101, { kind: "sync", path: "/" });
    ensemble.send(sid, client.connection, 102, { kind: "exists", path, watch: false });
    ensemble.send(sid, client.connection, 103, create(path));
    ensemble.settle();
    const replies = client.state.replies.slice(before);
    assert.deepEqual(replies.map((reply) => [reply.header.xid, reply.header.err]), [[100, 0], [101, 0], [102, Code.NONODE], [103, 0]], `through member ${sid}`);
  }
});

test("a single voter is its own quorum: its sync is answered at once", () => {
  const ensemble = new Ensemble({ voters: 1 });
  const client = ensemble.client(ensemble.stabilize());
  assert.equal(client.call(create("/one"))?.header.err, Code.OK);
  assert.deepEqual(client.call({ kind: "sync", path: "/one" })?.body, { kind: "sync", path: "/one" });
});
