/**
 * The independent ZooKeeper model (src/testing/model/): write semantics as the protocol reference
 * states them (§4 Stat, §7 create modes and validation order, §9 multi, §10 sessions). Pure and fast.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Code } from "../../src/core/errors.ts";
import type { ACL, CreateRequest, Request, Stat } from "../../src/core/records.ts";
import { ZnodeModel } from "../../src/testing/model/znode_model.ts";

const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const S = 0x1234n;
const OTHER = 0x5678n;
const IP = [{ scheme: "ip", id: "10.0.0.1" }];

function fresh(extendedTypesEnabled = false): ZnodeModel {
  const model = new ZnodeModel({ extendedTypesEnabled, superDigest: null });
  model.openSession(S);
  model.openSession(OTHER);
  return model;
}

/** A write at zxid `zxid` (time 1000 + zxid) by session S. */
function write(model: ZnodeModel, zxid: number, request: Request, sessionId = S) {
  return model.write(request, { sessionId, identities: IP, zxid, time: 1000 + zxid });
}

const create = (
  path: string,
  flags = 0,
  kind: CreateRequest["kind"] = "create2",
  ttl = 0n,
): CreateRequest => ({ kind, path, data: new TextEncoder().encode(path), acl: OPEN, flags, ttl });

function stat(model: ZnodeModel, path: string): Stat {
  const node = model.tree.get(path);
  assert.ok(node, `${path} exists`);
  return model.tree.statOf(node);
}

describe("model: independence", () => {
  test("imports from src/core only plain records, error codes and zxid helpers", () => {
    const dir = new URL("../../src/testing/model/", import.meta.url);
    const allowed = new Set(["../../core/records.ts", "../../core/errors.ts", "../../core/zxid.ts"]);
    const files = readdirSync(dir).filter((name) => name.endsWith(".ts"));
    assert.ok(files.length >= 4, `only ${files.length} model files`);
    for (const name of files) {
      const text = readFileSync(new URL(name, dir), "utf8");
      for (const match of text.matchAll(/from "([^"]+)"/g)) {
        const source = match[1]!;
        assert.ok(source.startsWith("./") || allowed.has(source), `${name} imports ${source}`);
      }
    }
  });
});

describe("model: a fresh tree", () => {
  test("has the system nodes exactly as ZooKeeper starts (§4.2)", () => {
    const model = fresh();
    assert.equal(stat(model, "/").cversion, -1);
    assert.equal(stat(model, "/").numChildren, 1);
    assert.equal(stat(model, "/zookeeper").cversion, -2);
    assert.equal(stat(model, "/zookeeper/config").aversion, -1);
    assert.deepEqual(model.tree.get("/zookeeper/config")!.acl, [{
      perms: 1,
      id: { scheme: "world", id: "anyone" },
    }]);
    assert.equal(write(model, 1, create("/t")).err, Code.OK);
    assert.equal(stat(model, "/").cversion, 0);
  });
});

describe("model: create", () => {
  test("sequential names come from the create counter, deletes not counted (the observed /t sequence)", () => {
    const model = fresh();
    write(model, 1, create("/t"));
    write(model, 2, create("/t/a"));
    write(model, 3, { kind: "delete", path: "/t/a", version: -1 });
    const first = write(model, 4, create("/t/s-", 2));
    const second = write(model, 5, create("/t/", 2, "create"));
    assert.equal(first.body?.kind === "create2" && first.body.path, "/t/s-0000000001");
    assert.deepEqual(second.body, { kind: "create", path: "/t/0000000002" });
    const t = stat(model, "/t");
    assert.equal(t.cversion, 4);
    assert.equal(t.numChildren, 2);
    assert.equal(t.pzxid, 5);
  });

  test("a new node's stat: czxid = mzxid = pzxid = Z, ctime = mtime = T, and the parent's pzxid moves", () => {
    const model = fresh();
    const created = write(model, 7, create("/n"));
    assert.deepEqual(created.body, {
      kind: "create2",
      path: "/n",
      stat: {
        czxid: 7,
        mzxid: 7,
        ctime: 1007,
        mtime: 1007,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeralOwner: 0n,
        dataLength: 2,
        numChildren: 0,
        pzxid: 7,
      },
    });
    assert.equal(stat(model, "/").pzxid, 7);
    assert.deepEqual(created.changes, [{ path: "/n", type: "created" }, {
      path: "/",
      type: "childrenChanged",
    }]);
  });

  test("validation order decides the error (§7.6)", () => {
    const model = fresh();
    write(model, 1, create("/e", 1));
    const code = (request: Request, sessionId = S) => write(model, 9, request, sessionId).err;
    assert.equal(code(create("/x", 7)), Code.BADARGUMENTS);
    assert.equal(code(create("/x", 5)), Code.UNIMPLEMENTED); // TTL while extended types are off
    assert.equal(code(create("/x", 5, "createTTL", 100n)), Code.UNIMPLEMENTED);
    assert.equal(code(create("x")), Code.BADARGUMENTS);
    assert.equal(code(create("/a//b")), Code.NONODE); // parent lookup before path validation
    assert.equal(code(create("/zookeeper/")), Code.BADARGUMENTS);
    assert.equal(code(create("/")), Code.NODEEXISTS);
    assert.equal(code(create("/e")), Code.NODEEXISTS);
    assert.equal(code(create("/e/child")), Code.NOCHILDRENFOREPHEMERALS);
    assert.equal(code({ ...create("/x"), acl: [] }), Code.INVALIDACL);
    assert.equal(
      code({ ...create("/x"), acl: [{ perms: 31, id: { scheme: "world", id: "me" } }] }),
      Code.INVALIDACL,
    );
    assert.equal(code(create("/x"), 0x999n), Code.SESSIONEXPIRED);
    assert.equal(code(create("/x", 7), 0x999n), Code.BADARGUMENTS); // flags come before the session
    // A failed sequential create does not advance the counter.
    assert.equal(code(create("/e/s-", 2)), Code.NOCHILDRENFOREPHEMERALS);
    assert.equal(model.tree.get("/e")!.created, 0);
  });

  test("TTL with extended types: flags 5/6 on createTTL only, 0 < ttl < 2^40", () => {
    const model = fresh(true);
    assert.equal(write(model, 1, create("/x", 5)).err, Code.BADARGUMENTS); // TTL flags on create2
    assert.equal(write(model, 2, create("/x", 0, "createTTL", 100n)).err, Code.BADARGUMENTS);
    assert.equal(write(model, 3, create("/x", 5, "createTTL", 0n)).err, Code.BADARGUMENTS);
    assert.equal(write(model, 4, create("/x", 5, "createTTL", 0x100_0000_0000n)).err, Code.BADARGUMENTS);
    const made = write(model, 5, create("/x", 6, "createTTL", 100n));
    assert.equal(made.body?.kind === "create2" && made.body.path, "/x0000000000");
    assert.equal(stat(model, "/x0000000000").ephemeralOwner, 0n);
    assert.equal(model.reapable("/x0000000000"), "an empty TTL node");
  });

  test("the opcode makes containers, not flag 4; containers are reapable once they had a child and are empty", () => {
    const model = fresh();
    write(model, 1, create("/plain", 4));
    write(model, 2, create("/box", 0, "createContainer"));
    assert.equal(model.tree.get("/plain")!.kind, "persistent");
    assert.equal(model.tree.get("/box")!.kind, "container");
    assert.equal(stat(model, "/box").ephemeralOwner, 0n);
    assert.equal(model.reapable("/box"), null); // never had a child
    write(model, 3, create("/box/c"));
    assert.equal(model.reapable("/box"), null); // not empty
    write(model, 4, { kind: "delete", path: "/box/c", version: -1 });
    assert.ok(model.reapable("/box"));
    assert.equal(model.reapable("/plain"), null);
    assert.equal(write(model, 5, { kind: "deleteContainer", path: "/box" }).err, Code.BADARGUMENTS); // clients may not
    const reaped = model.reap("/box", { sessionId: 0n, identities: [], zxid: 6, time: 6 });
    assert.equal(reaped.err, Code.OK);
    assert.equal(model.tree.get("/box"), undefined);
  });

  test("ephemerals carry their session and die in its closeSession, with that zxid", () => {
    const model = fresh();
    write(model, 1, create("/p"));
    write(model, 2, create("/p/e", 1));
    write(model, 3, create("/p/f", 3, "create2", 0n), OTHER);
    assert.equal(stat(model, "/p/e").ephemeralOwner, S);
    const closed = write(model, 4, { kind: "closeSession" });
    assert.equal(closed.err, Code.OK);
    assert.equal(model.tree.get("/p/e"), undefined);
    assert.ok(model.tree.get("/p/f0000000001"));
    assert.equal(stat(model, "/p").pzxid, 4);
    assert.equal(stat(model, "/p").cversion, 3);
    assert.deepEqual(closed.changes, [{ path: "/p/e", type: "deleted" }, {
      path: "/p",
      type: "childrenChanged",
    }]);
    assert.equal(write(model, 5, create("/q")).err, Code.SESSIONEXPIRED);
    model.expireSession(OTHER, 6);
    assert.equal(model.tree.get("/p/f0000000001"), undefined);
  });
});

describe("model: setData, delete, setACL", () => {
  test("setData bumps version (32-bit wrap), sets mzxid and mtime, checks the version", () => {
    const model = fresh();
    write(model, 1, create("/a"));
    const set = write(model, 2, { kind: "setData", path: "/a", data: null, version: 0 });
    assert.equal(set.body?.kind === "stat" && set.body.stat.version, 1);
    assert.equal(stat(model, "/a").mzxid, 2);
    assert.equal(stat(model, "/a").mtime, 1002);
    assert.equal(stat(model, "/a").czxid, 1);
    assert.equal(stat(model, "/a").dataLength, 0);
    assert.equal(
      write(model, 3, { kind: "setData", path: "/a", data: null, version: 0 }).err,
      Code.BADVERSION,
    );
    assert.equal(stat(model, "/a").mzxid, 2);
    assert.equal(
      write(model, 4, { kind: "setData", path: "/nope", data: null, version: -1 }).err,
      Code.NONODE,
    );
    assert.equal(
      write(model, 4, { kind: "setData", path: "/a/", data: null, version: -1 }).err,
      Code.BADARGUMENTS,
    );
    model.tree.mutable("/a").version = 2147483647;
    const wrapped = write(model, 5, { kind: "setData", path: "/a", data: null, version: -1 });
    assert.equal(wrapped.body?.kind === "stat" && wrapped.body.stat.version, -2147483648);
    assert.equal(stat(model, "/").mzxid, 0); // the parent's data stat never moves for children
  });

  test("delete: system paths, parent, DELETE permission before the child's existence, version, children", () => {
    const model = fresh();
    write(model, 1, create("/a"));
    write(model, 2, create("/a/b"));
    const code = (path: string, version = -1) => write(model, 9, { kind: "delete", path, version }).err;
    assert.equal(code("/zookeeper"), Code.BADARGUMENTS);
    assert.equal(code("/"), Code.BADARGUMENTS);
    assert.equal(code("/x/y"), Code.NONODE);
    assert.equal(code("/a"), Code.NOTEMPTY);
    assert.equal(code("/a/b", 3), Code.BADVERSION);
    model.tree.mutable("/a").acl = [{ perms: 31 & ~8, id: { scheme: "world", id: "anyone" } }];
    assert.equal(code("/a/missing"), Code.NOAUTH);
    model.tree.mutable("/a").acl = OPEN;
    const deleted = write(model, 10, { kind: "delete", path: "/a/b", version: 0 });
    assert.equal(deleted.err, Code.OK);
    assert.equal(deleted.body, null);
    assert.equal(stat(model, "/a").cversion, 2);
    assert.equal(stat(model, "/a").pzxid, 10);
  });

  test("setACL bumps aversion only, fires nothing, checks ADMIN and aversion", () => {
    const model = fresh();
    write(model, 1, create("/a"));
    const set = write(model, 2, {
      kind: "setACL",
      path: "/a",
      acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }],
      version: 0,
    });
    assert.equal(set.err, Code.OK);
    assert.deepEqual(set.changes, []);
    assert.equal(stat(model, "/a").aversion, 1);
    assert.equal(stat(model, "/a").mzxid, 1);
    assert.equal(write(model, 3, { kind: "setACL", path: "/a", acl: OPEN, version: -1 }).err, Code.NOAUTH);
    assert.equal(write(model, 3, { kind: "setData", path: "/a", data: null, version: -1 }).err, Code.NOAUTH);
  });
});

describe("model: multi", () => {
  test("all or nothing: the results read 0 … code … -2 and nothing changes", () => {
    const model = fresh();
    write(model, 1, create("/a"));
    const failed = write(model, 2, {
      kind: "multi",
      ops: [create("/a/x"), { kind: "setData", path: "/a", data: null, version: -1 }, {
        kind: "check",
        path: "/a",
        version: 5,
      }, create("/a/y")],
    });
    assert.equal(failed.err, Code.OK);
    assert.deepEqual(failed.body, {
      kind: "multi",
      results: [
        { type: "error", err: 0 },
        { type: "error", err: 0 },
        { type: "error", err: Code.BADVERSION },
        { type: "error", err: Code.RUNTIMEINCONSISTENCY },
      ],
    });
    assert.deepEqual(failed.changes, []);
    assert.equal(model.tree.get("/a/x"), undefined);
    assert.equal(stat(model, "/a").version, 0);
    assert.equal(stat(model, "/a").cversion, 0);
    assert.equal(model.tree.get("/a")!.created, 0);
  });

  test("ops see the earlier ops' effects; one zxid for all; sequential numbers continue", () => {
    const model = fresh();
    const done = write(model, 3, {
      kind: "multi",
      ops: [create("/m", 0, "create"), create("/m/s-", 2), create("/m/s-", 2), {
        kind: "delete",
        path: "/m/s-0000000000",
        version: -1,
      }, create("/m/c", 4, "create")],
    });
    assert.equal(done.body?.kind, "multi");
    const results = done.body?.kind === "multi" ? done.body.results : [];
    assert.deepEqual(results.map((result) => result.type), [
      "create",
      "create2",
      "create2",
      "delete",
      "create2",
    ]);
    assert.deepEqual(results[2], {
      type: "create2",
      path: "/m/s-0000000001",
      stat: { ...stat(model, "/m/s-0000000001") },
    });
    assert.equal(model.tree.get("/m/c")!.kind, "container");
    const m = stat(model, "/m");
    assert.equal(m.czxid, 3);
    assert.equal(m.pzxid, 3);
    assert.equal(m.cversion, 4);
  });

  test("TTL flags on a non-TTL create op refuse the whole multi; an empty multi succeeds", () => {
    const model = fresh(true);
    assert.equal(
      write(model, 1, { kind: "multi", ops: [create("/x"), create("/y", 5)] }).err,
      Code.MARSHALLINGERROR,
    );
    assert.equal(model.tree.get("/x"), undefined);
    assert.deepEqual(write(model, 2, { kind: "multi", ops: [] }).body, { kind: "multi", results: [] });
  });

  test("reconfig is refused as ZooKeeper does by default (reconfigEnabled=false)", () => {
    const request: Request = {
      kind: "reconfig",
      joiningServers: null,
      leavingServers: null,
      newMembers: null,
      curConfigId: -1n,
    };
    assert.equal(write(fresh(), 1, request, 0x999n).err, Code.RECONFIGDISABLED);
  });
});
