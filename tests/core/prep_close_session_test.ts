/**
 * A closeSession is prepared (ZooKeeper's PrepRequestProcessor) before it is applied, and every
 * write prepared after it is checked against the state it leaves: the session's ephemerals gone,
 * so their parents hold fewer children. In the total order of txns the close comes first, so a
 * delete of a parent whose only children were that session's ephemerals must succeed, even while
 * the close is still waiting for storage; answering NOTEMPTY would report a state that never
 * existed at the delete's zxid.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  create,
  createHarness,
  drain,
  type Harness,
  openSession,
  type TestSession,
  tick,
} from "./support/core_harness.ts";
import { Code } from "../../src/core/errors.ts";
import type { Reply } from "../../src/core/records.ts";

function repliesOf(session: TestSession): Reply[] {
  return session.received.flatMap((o) => (o.kind === "reply" ? [o.reply] : []));
}

/** Acknowledges every held persist, so the pipelined txns apply in order. */
function releasePersists(h: Harness): void {
  h.holdPersists = false;
  const last = h.heldPersists.at(-1);
  h.heldPersists = [];
  if (last !== undefined) h.server.persisted(last);
  drain(h);
}

/** /p with two ephemerals of `owner` as its only children, all applied. */
function parentOfEphemerals(h: Harness, owner: TestSession, other: TestSession): void {
  assert.equal(other.send(create("/p")).header.err, Code.OK);
  assert.equal(owner.send(create("/p/e1", "", 1)).header.err, Code.OK);
  assert.equal(owner.send(create("/p/e2", "", 1)).header.err, Code.OK);
  assert.equal(h.server.tree.get("/p")?.children.size, 2);
}

describe("prep: closeSession's pending view", () => {
  test("a delete of the ephemerals' parent prepared behind an unapplied closeSession succeeds", () => {
    const h = createHarness();
    const owner = openSession(h);
    const other = openSession(h);
    parentOfEphemerals(h, owner, other);

    h.holdPersists = true;
    h.server.request(owner.connection, { xid: 100, type: -11 }, { kind: "closeSession" });
    drain(h);
    h.server.request(other.connection, { xid: 101, type: 2 }, { kind: "delete", path: "/p", version: -1 });
    drain(h);
    assert.ok(h.heldPersists.length >= 2, "both txns are prepared and wait for storage");
    assert.equal(h.server.tree.get("/p")?.children.size, 2, "nothing is applied yet");

    releasePersists(h);
    const reply = repliesOf(other).find((r) => r.header.xid === 101);
    assert.ok(reply, "the delete is answered once storage acknowledges it");
    assert.equal(reply.header.err, Code.OK, "the close (earlier zxid) removed /p's only children first");
    assert.equal(h.server.tree.get("/p"), undefined, "/p is deleted");
    assert.equal(other.send({ kind: "exists", path: "/p", watch: false }).header.err, Code.NONODE);
  });

  test("the same holds when the session expires instead of closing", () => {
    const h = createHarness();
    const owner = openSession(h, { timeoutMs: 4000 });
    const other = openSession(h, { timeoutMs: 30000 });
    parentOfEphemerals(h, owner, other);

    h.holdPersists = true;
    // Only `other` stays active; `owner` expires, and its closeSession is prepared but held.
    for (
      let step = 0;
      step < 20 && h.server.tree.get("/p/e1") !== undefined && h.heldPersists.length === 0;
      step++
    ) {
      other.send({ kind: "ping" });
      tick(h, 1000);
    }
    assert.equal(h.heldPersists.length, 1, "the expiry's closeSession is prepared and held");
    h.server.request(other.connection, { xid: 201, type: 2 }, { kind: "delete", path: "/p", version: -1 });
    drain(h);
    releasePersists(h);
    const reply = repliesOf(other).find((r) => r.header.xid === 201);
    assert.ok(reply, "the delete is answered");
    assert.equal(reply.header.err, Code.OK);
    assert.equal(h.server.tree.get("/p"), undefined);
  });
});
