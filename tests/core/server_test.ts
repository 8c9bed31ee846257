import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bytes,
  create,
  createHarness,
  OPEN,
  openSession,
  register,
  TestSession,
  text,
  tick,
} from "./support/core_harness.ts";
import { digestOf } from "../../src/core/acl.ts";
import { Code } from "../../src/core/errors.ts";
import { EventType } from "../../src/core/records.ts";
import type { Reply, Stat } from "../../src/core/records.ts";

function stat(reply: Reply): Stat {
  const body = reply.body as { stat?: Stat } | null;
  if (!body?.stat) throw new Error(`no stat in reply err=${reply.header.err}`);
  return body.stat;
}

describe("server core: fresh tree", () => {
  test("system nodes have ZooKeeper's exact Stat values", () => {
    const h = createHarness();
    const s = openSession(h);
    const root = stat(s.send({ kind: "exists", path: "/", watch: false }));
    assert.equal(root.cversion, -1);
    assert.equal(root.numChildren, 1);
    const zk = stat(s.send({ kind: "exists", path: "/zookeeper", watch: false }));
    assert.equal(zk.cversion, -2);
    const config = s.send({ kind: "getACL", path: "/zookeeper/config" });
    assert.deepEqual(config.body, {
      kind: "getACL",
      acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }],
      stat: { ...stat(config), aversion: -1 },
    });
    const children = s.send({ kind: "getChildren", path: "/", watch: false });
    assert.deepEqual(children.body, { kind: "getChildren", children: ["zookeeper"] });
    const count = s.send({ kind: "getAllChildrenNumber", path: "/" });
    assert.deepEqual(count.body, { kind: "getAllChildrenNumber", totalNumber: 3 });
  });

  test("createSession consumes zxid 1 and creating /t makes / show cversion 0", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send(create("/t", "x"));
    assert.equal(reply.header.zxid, 2);
    assert.deepEqual(reply.body, { kind: "create", path: "/t" });
    assert.equal(stat(s.send({ kind: "exists", path: "/", watch: false })).cversion, 0);
  });
});

describe("server core: create and sequential names", () => {
  test("sequential suffix counts creates, not deletes; cversion = creates + deletes", () => {
    const h = createHarness();
    const s = openSession(h);
    s.send(create("/t"));
    s.send(create("/t/a"));
    s.send({ kind: "delete", path: "/t/a", version: -1 });
    assert.deepEqual(s.send(create("/t/s-", "", 2)).body, { kind: "create", path: "/t/s-0000000001" });
    assert.deepEqual(s.send(create("/t/", "", 2)).body, { kind: "create", path: "/t/0000000002" });
    const t = stat(s.send({ kind: "exists", path: "/t", watch: false }));
    assert.equal(t.cversion, 4);
    assert.equal(t.numChildren, 2);
  });

  test("validation order decides the error", () => {
    const h = createHarness();
    const s = openSession(h);
    assert.equal(s.send(create("/a//b")).header.err, Code.NONODE);
    assert.equal(s.send(create("/sl/")).header.err, Code.NONODE);
    assert.equal(s.send(create("/zookeeper/")).header.err, Code.BADARGUMENTS);
    assert.equal(s.send(create("/")).header.err, Code.NODEEXISTS);
    assert.equal(s.send(create("/x", "", 7)).header.err, Code.BADARGUMENTS);
    assert.equal(s.send(create("noslash")).header.err, Code.BADARGUMENTS);
    assert.equal(s.send(create("/e", "", 1)).header.err, Code.OK);
    assert.equal(s.send(create("/e")).header.err, Code.NODEEXISTS);
    assert.equal(s.send(create("/e/child")).header.err, Code.NOCHILDRENFOREPHEMERALS);
    assert.equal(s.send({ kind: "delete", path: "/zookeeper", version: -1 }).header.err, Code.BADARGUMENTS);
    assert.equal(s.send(create("/zookeeper/foo")).header.err, Code.OK);
  });

  test("failed writes consume a zxid; reads do not", () => {
    const h = createHarness();
    const s = openSession(h);
    const first = s.send(create("/a"));
    const failed = s.send(create("/a"));
    assert.equal(failed.header.err, Code.NODEEXISTS);
    assert.equal(failed.header.zxid, first.header.zxid + 1);
    const read = s.send({ kind: "exists", path: "/a", watch: false });
    assert.equal(read.header.zxid, failed.header.zxid);
  });

  test("create2 returns the new node's stat; ephemeral owner is the session", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send({ kind: "create2", path: "/e", data: bytes("hi"), acl: OPEN, flags: 1, ttl: 0n });
    const st = stat(reply);
    assert.equal(st.ephemeralOwner, s.sessionId);
    assert.equal(st.dataLength, 2);
    assert.equal(st.czxid, reply.header.zxid);
    assert.equal(st.pzxid, reply.header.zxid);
  });

  test("container via opcode 19 reports ephemeralOwner 0 and is reaped once emptied", () => {
    const h = createHarness({ containerCheckIntervalMs: 1000 });
    const s = openSession(h);
    const reply = s.send({ kind: "createContainer", path: "/c", data: null, acl: OPEN, flags: 0, ttl: 0n });
    assert.equal(stat(reply).ephemeralOwner, 0n);
    s.send(create("/c/x"));
    s.send({ kind: "delete", path: "/c/x", version: -1 });
    tick(h, 1500);
    assert.equal(s.send({ kind: "exists", path: "/c", watch: false }).header.err, Code.NONODE);
  });

  test("TTL needs extended types and a valid ttl", () => {
    const off = openSession(createHarness());
    const ttlCreate = (ttl: bigint, flags = 5) => ({ kind: "createTTL" as const, path: "/ttl", data: null, acl: OPEN, flags, ttl });
    assert.equal(off.send(ttlCreate(1000n)).header.err, Code.UNIMPLEMENTED);
    // ZooKeeper checks the mode before the opcode (protocol reference §7.6 steps 2 and 3): with TTL
    // off, a createTTL without a TTL mode is BADARGUMENTS, a TTL mode on a plain create UNIMPLEMENTED.
    assert.equal(off.send(ttlCreate(1000n, 0)).header.err, Code.BADARGUMENTS);
    assert.equal(off.send(create("/p", "", 5)).header.err, Code.UNIMPLEMENTED);
    const h = createHarness({ extendedTypesEnabled: true, containerCheckIntervalMs: 1000 });
    const on = openSession(h);
    assert.equal(on.send(ttlCreate(0n)).header.err, Code.BADARGUMENTS);
    assert.equal(on.send(ttlCreate(1000n, 0)).header.err, Code.BADARGUMENTS);
    assert.equal(on.send(create("/p", "", 5)).header.err, Code.BADARGUMENTS);
    assert.equal(on.send(ttlCreate(500n)).header.err, Code.OK);
    tick(h, 600);
    tick(h, 600);
    assert.equal(on.send({ kind: "exists", path: "/ttl", watch: false }).header.err, Code.NONODE);
  });
});

describe("server core: versions", () => {
  test("setData bumps version even for identical data; setACL bumps only aversion", () => {
    const h = createHarness();
    const s = openSession(h);
    s.send(create("/v", "same"));
    const a = stat(s.send({ kind: "setData", path: "/v", data: bytes("same"), version: 0 }));
    assert.equal(a.version, 1);
    assert.equal(s.send({ kind: "setData", path: "/v", data: null, version: 0 }).header.err, Code.BADVERSION);
    const b = stat(s.send({ kind: "setACL", path: "/v", acl: OPEN, version: 0 }));
    assert.equal(b.aversion, 1);
    assert.equal(b.version, 1);
    assert.equal(b.mzxid, a.mzxid);
    const data = s.send({ kind: "getData", path: "/v", watch: false });
    assert.equal(text((data.body as { data: Uint8Array }).data), "same");
  });

  test("null data is preserved and reported with dataLength 0", () => {
    const h = createHarness();
    const s = openSession(h);
    s.send({ kind: "create", path: "/n", data: null, acl: OPEN, flags: 0, ttl: 0n });
    const reply = s.send({ kind: "getData", path: "/n", watch: false });
    assert.equal((reply.body as { data: unknown }).data, null);
    assert.equal(stat(reply).dataLength, 0);
  });
});

describe("server core: multi", () => {
  test("successful multi: one zxid, results per op, effects of earlier ops visible", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send({
      kind: "multi",
      ops: [
        { kind: "create", path: "/m", data: null, acl: OPEN, flags: 0, ttl: 0n },
        { kind: "create2", path: "/m/s-", data: null, acl: OPEN, flags: 2, ttl: 0n },
        { kind: "check", path: "/m", version: 0 },
        { kind: "setData", path: "/m", data: bytes("d"), version: 0 },
      ],
    });
    assert.equal(reply.header.err, 0);
    const results = (reply.body as { results: Array<{ type: string; path?: string; stat?: Stat }> }).results;
    assert.deepEqual(results.map((r) => r.type), ["create", "create2", "check", "setData"]);
    assert.equal(results[1]!.path, "/m/s-0000000000");
    assert.equal(results[1]!.stat!.czxid, reply.header.zxid);
    const m = stat(s.send({ kind: "exists", path: "/m", watch: false }));
    assert.equal(m.czxid, reply.header.zxid);
    assert.equal(m.pzxid, reply.header.zxid);
  });

  test("failed multi: 0 before, the code, -2 after; nothing applied; zxid consumed", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send({
      kind: "multi",
      ops: [
        { kind: "create", path: "/ok", data: null, acl: OPEN, flags: 0, ttl: 0n },
        { kind: "delete", path: "/missing", version: -1 },
        { kind: "create", path: "/late", data: null, acl: OPEN, flags: 0, ttl: 0n },
      ],
    });
    assert.equal(reply.header.err, 0);
    assert.deepEqual((reply.body as { results: unknown[] }).results, [
      { type: "error", err: 0 },
      { type: "error", err: Code.NONODE },
      { type: "error", err: Code.RUNTIMEINCONSISTENCY },
    ]);
    assert.equal(s.send({ kind: "exists", path: "/ok", watch: false }).header.err, Code.NONODE);
    assert.equal(s.send(create("/ok")).header.zxid, reply.header.zxid + 1);
  });

  test("empty multi consumes a zxid and returns no results", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send({ kind: "multi", ops: [] });
    assert.deepEqual(reply.body, { kind: "multi", results: [] });
    assert.equal(reply.header.zxid, 2);
  });
});

describe("server core: watches", () => {
  test("own data watch fires before own setData reply", () => {
    const h = createHarness();
    const s = openSession(h);
    s.send(create("/self"));
    s.send({ kind: "getData", path: "/self", watch: true });
    s.received = [];
    s.send({ kind: "setData", path: "/self", data: null, version: -1 });
    assert.deepEqual(s.received.map((o) => o.kind), ["notification", "reply"]);
  });

  test("create fires NodeCreated then NodeChildrenChanged; delete NodeDeleted then children", () => {
    const h = createHarness();
    const a = openSession(h);
    const b = openSession(h);
    a.send(create("/w"));
    b.send({ kind: "exists", path: "/w/x", watch: true });
    b.send({ kind: "getChildren", path: "/w", watch: true });
    a.send(create("/w/x"));
    assert.deepEqual(b.takeEvents(), [
      { type: EventType.NodeCreated, state: 3, path: "/w/x" },
      { type: EventType.NodeChildrenChanged, state: 3, path: "/w" },
    ]);
    b.send({ kind: "getData", path: "/w/x", watch: true });
    b.send({ kind: "getChildren", path: "/w/x", watch: true });
    b.send({ kind: "getChildren", path: "/w", watch: true });
    a.send({ kind: "delete", path: "/w/x", version: -1 });
    assert.deepEqual(b.takeEvents(), [
      { type: EventType.NodeDeleted, state: 3, path: "/w/x" },
      { type: EventType.NodeChildrenChanged, state: 3, path: "/w" },
    ]);
    a.send(create("/w/y"));
    assert.deepEqual(b.takeEvents(), [], "one-shot watches are consumed");
  });

  test("persistent recursive watch sees descendants, never NodeChildrenChanged, and stays", () => {
    const h = createHarness();
    const a = openSession(h);
    const b = openSession(h);
    a.send(create("/r"));
    assert.deepEqual(b.send({ kind: "addWatch", path: "/r", mode: 1 }).body, { kind: "errorResponse", err: 0 });
    a.send(create("/r/a"));
    a.send(create("/r/a/b"));
    a.send({ kind: "setData", path: "/r/a/b", data: null, version: -1 });
    a.send({ kind: "delete", path: "/r/a/b", version: -1 });
    assert.deepEqual(b.takeEvents().map((e) => [e.type, e.path]), [
      [EventType.NodeCreated, "/r/a"],
      [EventType.NodeCreated, "/r/a/b"],
      [EventType.NodeDataChanged, "/r/a/b"],
      [EventType.NodeDeleted, "/r/a/b"],
    ]);
    assert.equal(b.send({ kind: "removeWatches", path: "/r", type: 5 }).header.err, 0);
    assert.equal(b.send({ kind: "removeWatches", path: "/r", type: 5 }).header.err, Code.NOWATCHER);
    assert.equal(b.send({ kind: "checkWatches", path: "/r", type: 9 }).header.err, Code.MARSHALLINGERROR);
  });

  test("setWatches fires what changed since relativeZxid before its reply", () => {
    const h = createHarness();
    const a = openSession(h);
    a.send(create("/w"));
    const since = a.send({ kind: "exists", path: "/w", watch: false }).header.zxid;
    a.send({ kind: "setData", path: "/w", data: null, version: -1 });
    a.send(create("/w/x"));
    const b = openSession(h);
    b.received = [];
    b.send({
      kind: "setWatches",
      relativeZxid: since,
      dataWatches: ["/w", "/gone"],
      existWatches: ["/w/x", "/nothere"],
      childWatches: ["/w"],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    assert.deepEqual(b.received.map((o) => o.kind === "notification" ? [o.event.type, o.event.path, o.zxid] : o.kind), [
      [EventType.NodeDataChanged, "/w", -1],
      [EventType.NodeDeleted, "/gone", -1],
      [EventType.NodeCreated, "/w/x", -1],
      [EventType.NodeChildrenChanged, "/w", -1],
      "reply",
    ]);
  });
});

describe("server core: sessions", () => {
  test("timeout is clamped to [2, 20] × tickTime", () => {
    const h = createHarness({ tickTimeMs: 2000, minSessionTimeoutMs: 4000, maxSessionTimeoutMs: 40000 });
    const s = openSession(h, { timeoutMs: 1000 });
    assert.equal(s.received.find((o) => o.kind === "connectResponse")!.kind, "connectResponse");
    const t = openSession(h, { timeoutMs: 10_000_000 });
    const timeout = (x: typeof s) => (x.received.find((o) => o.kind === "connectResponse") as { response: { timeOut: number } }).response.timeOut;
    assert.equal(timeout(s), 4000);
    assert.equal(timeout(t), 40000);
  });

  test("expiry deletes ephemerals with watches firing, and closes the connection", () => {
    const h = createHarness({ tickTimeMs: 2000, minSessionTimeoutMs: 4000 });
    const owner = openSession(h, { timeoutMs: 4000 });
    const watcher = openSession(h, { timeoutMs: 40000 });
    owner.send(create("/eph", "", 1));
    watcher.send({ kind: "exists", path: "/eph", watch: true });
    // Deadline = now + 4000 rounded up to the next tick boundary: expiry within 4 to 6 s.
    for (let i = 0; i < 6; i++) {
      assert.ok(!owner.closed, `not expired after ${i} s`);
      tick(h, 1000);
      watcher.send({ kind: "ping" });
    }
    assert.ok(owner.closed, "owner's connection closed on expiry");
    assert.deepEqual(watcher.takeEvents().map((e) => e.type), [EventType.NodeDeleted]);
    assert.equal(watcher.send({ kind: "exists", path: "/eph", watch: false }).header.err, Code.NONODE);
  });

  test("resume with the right password keeps the session; a wrong one gets timeOut 0", () => {
    const h = createHarness();
    const first = openSession(h);
    first.send(create("/keep", "", 1));
    const again = register(new TestSession(h));
    const ok = again.connect({ sessionId: first.sessionId, passwd: first.passwd });
    assert.equal(ok.sessionId, first.sessionId);
    assert.ok(first.closed, "the old connection of the session is closed");
    const bad = register(new TestSession(h));
    const refused = bad.connect({ sessionId: first.sessionId, passwd: new Uint8Array(16) });
    assert.equal(refused.timeOut, 0);
    assert.equal(refused.sessionId, 0n);
    assert.ok(bad.closed);
  });

  test("closeSession replies, deletes ephemerals and closes; lastZxidSeen ahead is refused", () => {
    const h = createHarness();
    const s = openSession(h);
    s.send(create("/e1", "", 1));
    const reply = s.send({ kind: "closeSession" });
    assert.equal(reply.header.err, 0);
    assert.ok(s.closed);
    const t = openSession(h);
    assert.equal(t.send({ kind: "exists", path: "/e1", watch: false }).header.err, Code.NONODE);
    const ahead = register(new TestSession(h));
    assert.throws(() => ahead.connect({ lastZxidSeen: 1000 }), /no connect response/);
    assert.ok(ahead.closed);
  });

  test("unknown opcode: UNIMPLEMENTED with zxid -1, then close", () => {
    const h = createHarness();
    const s = openSession(h);
    h.server.request(s.connection, { xid: 7, type: 50 }, null);
    h.server.takeOutputs().forEach((o) => s.received.push(o));
    const reply = s.received.find((o) => o.kind === "reply") as { reply: Reply };
    assert.deepEqual(reply.reply.header, { xid: 7, zxid: -1, err: Code.UNIMPLEMENTED });
    assert.ok(s.closed);
  });
});

describe("server core: ACLs", () => {
  test("digest auth, NOAUTH, auth ACL expansion, getACL masking, super", () => {
    const h = createHarness({ superDigest: digestOf("super:test") });
    const bob = openSession(h);
    bob.send({ kind: "auth", type: 0, scheme: "digest", auth: bytes("bob:secret") }, -4);
    assert.equal(bob.send({ kind: "create", path: "/p", data: null, acl: [{ perms: 31, id: { scheme: "auth", id: "" } }], flags: 0, ttl: 0n }).header.err, 0);
    const acl = bob.send({ kind: "getACL", path: "/p" }).body as { acl: unknown[] };
    assert.deepEqual(acl.acl, [{ perms: 31, id: { scheme: "digest", id: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=" } }]);
    const eve = openSession(h);
    assert.equal(eve.send({ kind: "getData", path: "/p", watch: false }).header.err, Code.NOAUTH);
    assert.equal(eve.send({ kind: "create", path: "/q", data: null, acl: [{ perms: 31, id: { scheme: "auth", id: "" } }], flags: 0, ttl: 0n }).header.err, Code.INVALIDACL);
    assert.equal(eve.send({ kind: "create", path: "/q", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "x" } }], flags: 0, ttl: 0n }).header.err, Code.INVALIDACL);
    assert.equal(eve.send({ kind: "create", path: "/q", data: null, acl: [{ perms: 31, id: { scheme: "ip", id: "300.1.1.1" } }], flags: 0, ttl: 0n }).header.err, Code.INVALIDACL);
    bob.send({ kind: "create", path: "/r", data: null, acl: [{ perms: 1, id: { scheme: "digest", id: "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=" } }, { perms: 1, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n });
    const masked = eve.send({ kind: "getACL", path: "/r" }).body as { acl: Array<{ id: { id: string } }> };
    assert.equal(masked.acl[0]!.id.id, "bob:x");
    const root = openSession(h);
    root.send({ kind: "auth", type: 0, scheme: "digest", auth: bytes("super:test") }, -4);
    assert.equal(root.send({ kind: "getData", path: "/p", watch: false }).header.err, 0);
    const who = root.send({ kind: "whoAmI" }).body as { clientInfo: Array<{ authScheme: string }> };
    assert.deepEqual(who.clientInfo.map((c) => c.authScheme).sort(), ["digest", "ip", "super"]);
  });

  test("unknown auth scheme: AUTHFAILED then close", () => {
    const h = createHarness();
    const s = openSession(h);
    const reply = s.send({ kind: "auth", type: 0, scheme: "kerberos", auth: null }, -4);
    assert.deepEqual(reply.header, { xid: -4, zxid: 0, err: Code.AUTHFAILED });
    assert.ok(s.closed);
  });

  test("ip ACL matches by mask", () => {
    const h = createHarness();
    const local = openSession(h, { remoteAddress: "10.1.2.3" });
    local.send({ kind: "create", path: "/ip", data: null, acl: [{ perms: 31, id: { scheme: "ip", id: "10.1.0.0/16" } }], flags: 0, ttl: 0n });
    assert.equal(local.send({ kind: "getData", path: "/ip", watch: false }).header.err, 0);
    const other = openSession(h, { remoteAddress: "10.2.2.3" });
    assert.equal(other.send({ kind: "getData", path: "/ip", watch: false }).header.err, Code.NOAUTH);
  });
});
