/**
 * Issue 10 item 5, in-process: a client's deleteContainer (opcode 20) deleted any empty node, whatever
 * its ACL or kind. Now it is answered as ZooKeeper 3.8 answers it: BADARGUMENTS, one zxid consumed,
 * nothing deleted; the container reaper (which prepares the same txn itself) still reaps. The
 * process-level audit (acl_opcodes_test.ts) covers the wire, a follower and the judge.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { digestOf } from "../../src/core/acl.ts";
import { Code } from "../../src/core/errors.ts";
import { create, createHarness, OPEN, openSession, tick } from "../core/support/core_harness.ts";

const OWNER_ONLY = [{ perms: 31, id: { scheme: "digest", id: digestOf("owner:pw") } }];

describe("deleteContainer (20) from a client", () => {
  test("is BADARGUMENTS for containers and persistent nodes, any ACL, super included; nothing deleted", () => {
    const h = createHarness({ superDigest: digestOf("super:pw") });
    const owner = openSession(h);
    owner.send({ kind: "auth", type: 0, scheme: "digest", auth: new TextEncoder().encode("owner:pw") });
    const targets = [
      { kind: "createContainer" as const, path: "/box-open", acl: OPEN, flags: 4 },
      { kind: "createContainer" as const, path: "/box-closed", acl: OWNER_ONLY, flags: 4 },
      { kind: "create" as const, path: "/plain-open", acl: OPEN, flags: 0 },
      { kind: "create" as const, path: "/plain-closed", acl: OWNER_ONLY, flags: 0 },
    ];
    for (const target of targets) {
      const reply = owner.send({ ...target, data: null, ttl: 0n });
      assert.equal(reply.header.err, Code.OK, `creating ${target.path}`);
    }
    const stranger = openSession(h);
    const superUser = openSession(h);
    superUser.send({ kind: "auth", type: 0, scheme: "digest", auth: new TextEncoder().encode("super:pw") });
    for (const client of [stranger, owner, superUser]) {
      for (const { path } of targets) {
        const before = owner.send({ kind: "sync", path: "/" }).header.zxid;
        const reply = client.send({ kind: "deleteContainer", path });
        assert.equal(reply.header.err, Code.BADARGUMENTS, `deleteContainer ${path}`);
        assert.ok(reply.header.zxid > before, `deleteContainer ${path} consumes a zxid, as ZooKeeper's error txn does`);
        assert.equal(owner.send({ kind: "exists", path, watch: false }).header.err, Code.OK, `${path} still exists`);
      }
    }
  });

  test("the container reaper still deletes an emptied container", () => {
    const h = createHarness({ containerCheckIntervalMs: 1000 });
    const s = openSession(h);
    s.send({ kind: "createContainer", path: "/c", data: null, acl: OPEN, flags: 4, ttl: 0n });
    assert.equal(s.send({ kind: "deleteContainer", path: "/c" }).header.err, Code.BADARGUMENTS);
    s.send(create("/c/x"));
    s.send({ kind: "delete", path: "/c/x", version: -1 });
    tick(h, 1500);
    assert.equal(s.send({ kind: "exists", path: "/c", watch: false }).header.err, Code.NONODE);
  });
});
