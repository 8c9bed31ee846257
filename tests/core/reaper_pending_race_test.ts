/**
 * SIM-13: the container/TTL reaper picks its candidates from the applied tree, but its
 * deleteContainer is prepared against the pending view (writes prepared, not yet applied). When a
 * client's delete and re-create of the same path are pending, the node the reaper would delete is
 * no longer the one it judged: only an empty container that has had a child, or a TTL node not
 * written since it expired, may go. Anything else (a persistent node, a fresh container, a TTL node
 * just written) must survive; the reaper's txn then fails with no effect and it looks again at its
 * next check, as ZooKeeper's ContainerManager does every period.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  create,
  createHarness,
  drain,
  type Harness,
  OPEN,
  openSession,
  type TestSession,
  tick,
} from "./support/core_harness.ts";
import { Code } from "../../src/core/errors.ts";
import type { Request } from "../../src/core/records.ts";
import { nodeKindOf } from "../../src/core/txn.ts";

const CHECK_MS = 1000;

function harness(): Harness {
  return createHarness({ containerCheckIntervalMs: CHECK_MS, extendedTypesEnabled: true });
}

const container = (path: string): Request => ({
  kind: "createContainer",
  path,
  data: null,
  acl: OPEN,
  flags: 0,
  ttl: 0n,
});
const ttlNode = (path: string, ttl: bigint): Request => ({
  kind: "createTTL",
  path,
  data: null,
  acl: OPEN,
  flags: 5,
  ttl,
});
const remove = (path: string): Request => ({ kind: "delete", path, version: -1 });

/** Sends requests whose persists are held, so they stay prepared but unapplied. */
function sendHeld(h: Harness, session: TestSession, requests: readonly Request[], firstXid: number): void {
  h.holdPersists = true;
  requests.forEach((request, index) => {
    h.server.request(session.connection, { xid: firstXid + index, type: 0 }, request);
    drain(h);
  });
}

/** Lets storage acknowledge everything held, in order. */
function release(h: Harness): void {
  h.holdPersists = false;
  const last = h.heldPersists.at(-1);
  h.heldPersists = [];
  if (last !== undefined) h.server.persisted(last);
  drain(h);
}

function errorsOf(session: TestSession, firstXid: number, count: number): number[] {
  const replies = session.received.flatMap((o) => (o.kind === "reply" ? [o.reply] : []));
  return Array.from({ length: count }, (_, index) => {
    const reply = replies.find((r) => r.header.xid === firstXid + index);
    assert.ok(reply, `request ${firstXid + index} was answered`);
    return reply.header.err;
  });
}

/** Advances past the next reaper check while `session` stays alive; returns how many txns it prepared. */
function reaperRuns(h: Harness, session: TestSession): number {
  const before = h.heldPersists.length;
  session.send({ kind: "ping" });
  tick(h, CHECK_MS + 1);
  return h.heldPersists.length - before;
}

function kindAt(h: Harness, path: string): string | null {
  const node = h.server.tree.get(path);
  return node === undefined ? null : nodeKindOf(node.ephemeralOwner);
}

describe("the reaper's deleteContainer against pending writes", () => {
  test("an expired TTL node deleted and re-created as persistent while pending survives the reaper (seed 1742291274)", () => {
    const h = harness();
    const s = openSession(h);
    assert.equal(s.send(create("/k0")).header.err, Code.OK);
    assert.equal(s.send(ttlNode("/k0/c0", 500n)).header.err, Code.OK);
    tick(h, 600); // expired in the applied tree; the reaper's check is still ahead

    sendHeld(h, s, [remove("/k0/c0"), create("/k0/c0", "user data")], 100);
    assert.equal(kindAt(h, "/k0/c0"), "ttl", "the applied tree still holds the expired TTL node");
    assert.equal(reaperRuns(h, s), 1, "the reaper picked the expired TTL node and prepared a txn for it");
    release(h);

    assert.deepEqual(errorsOf(s, 100, 2), [Code.OK, Code.OK]);
    assert.equal(kindAt(h, "/k0/c0"), "persistent", "the user's persistent node is not reaped");
    const read = s.send({ kind: "getData", path: "/k0/c0", watch: false });
    assert.equal(read.header.err, Code.OK);
  });

  test("a used container deleted and re-created as persistent while pending survives", () => {
    const h = harness();
    const s = openSession(h);
    assert.equal(s.send(container("/c")).header.err, Code.OK);
    assert.equal(s.send(create("/c/child")).header.err, Code.OK);
    assert.equal(s.send(remove("/c/child")).header.err, Code.OK);

    sendHeld(h, s, [remove("/c"), create("/c")], 200);
    assert.equal(reaperRuns(h, s), 1);
    release(h);

    assert.deepEqual(errorsOf(s, 200, 2), [Code.OK, Code.OK]);
    assert.equal(kindAt(h, "/c"), "persistent");
  });

  test("a used container re-created as a fresh container while pending survives until it is used", () => {
    const h = harness();
    const s = openSession(h);
    assert.equal(s.send(container("/c")).header.err, Code.OK);
    assert.equal(s.send(create("/c/child")).header.err, Code.OK);
    assert.equal(s.send(remove("/c/child")).header.err, Code.OK);

    sendHeld(h, s, [remove("/c"), container("/c")], 300);
    assert.equal(reaperRuns(h, s), 1);
    release(h);
    assert.deepEqual(errorsOf(s, 300, 2), [Code.OK, Code.OK]);
    assert.equal(kindAt(h, "/c"), "container", "a container that never had a child is not reaped");

    // Once used and emptied it goes at the next check, as before.
    assert.equal(s.send(create("/c/child")).header.err, Code.OK);
    assert.equal(s.send(remove("/c/child")).header.err, Code.OK);
    reaperRuns(h, s);
    assert.equal(kindAt(h, "/c"), null);
  });

  test("an expired TTL node written to while pending is not reaped; it goes once it expires again", () => {
    const h = harness();
    const s = openSession(h);
    assert.equal(s.send(ttlNode("/t", 500n)).header.err, Code.OK);
    tick(h, 600);

    sendHeld(h, s, [{ kind: "setData", path: "/t", data: new Uint8Array([1]), version: -1 }], 400);
    assert.equal(reaperRuns(h, s), 1);
    release(h);
    assert.deepEqual(errorsOf(s, 400, 1), [Code.OK]);
    assert.equal(kindAt(h, "/t"), "ttl", "the write refreshed it: not expired any more");

    tick(h, 600);
    reaperRuns(h, s);
    assert.equal(kindAt(h, "/t"), null, "expired again and untouched: reaped");
  });

  test("with nothing pending, expired TTL nodes and used empty containers are still reaped", () => {
    const h = harness();
    const s = openSession(h);
    assert.equal(s.send(ttlNode("/t", 500n)).header.err, Code.OK);
    assert.equal(s.send(container("/c")).header.err, Code.OK);
    assert.equal(s.send(create("/c/child")).header.err, Code.OK);
    assert.equal(s.send(remove("/c/child")).header.err, Code.OK);
    tick(h, 600);
    reaperRuns(h, s);
    assert.equal(kindAt(h, "/t"), null);
    assert.equal(kindAt(h, "/c"), null);
  });
});
