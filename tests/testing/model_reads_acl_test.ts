/**
 * The independent ZooKeeper model: reads (§3) and ACLs (§8) — identities, the fix-up of a list, the
 * permission check, getACL masking — with the reference's observed examples. Pure and fast.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { ACL, Id, Request } from "../../src/core/records.ts";
import {
  digestId,
  fixupAcl,
  identitiesOfAuth,
  isAllowed,
  READ,
  WRITE,
} from "../../src/testing/model/model_acl.ts";
import { isValidPath, sequenceSuffix } from "../../src/testing/model/model_path.ts";
import { base64, sha1 } from "../../src/testing/model/model_sha1.ts";
import { ZnodeModel } from "../../src/testing/model/znode_model.ts";

const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const S = 0x77n;
const IP: Id[] = [{ scheme: "ip", id: "10.0.0.1" }];
const BOB: Id[] = [...IP, { scheme: "digest", id: digestId("bob:secret") }];

function model(superDigest: string | null = null): ZnodeModel {
  const m = new ZnodeModel({ extendedTypesEnabled: false, superDigest });
  m.openSession(S);
  return m;
}

function write(m: ZnodeModel, zxid: number, request: Request, identities: Id[] = IP) {
  return m.write(request, { sessionId: S, identities, zxid, time: zxid });
}

const create = (path: string, acl: ACL[] = OPEN, flags = 0): Request => ({
  kind: "create",
  path,
  data: null,
  acl,
  flags,
  ttl: 0n,
});

describe("model: paths and hashing", () => {
  test("path rules and the %010d suffix", () => {
    for (const good of ["/", "/a", "/a/.x", "/a/x.", "/a/..."]) assert.ok(isValidPath(good), good);
    for (const bad of ["", "a", "/a/", "//a", "/a/./b", "/a/..", "/a\u0000", "/a\u0001", "/\ud800"]) {
      assert.ok(!isValidPath(bad), JSON.stringify(bad));
    }
    assert.equal(sequenceSuffix(0), "0000000000");
    assert.equal(sequenceSuffix(42), "0000000042");
    assert.equal(sequenceSuffix(-1), "-000000001");
    assert.equal(sequenceSuffix(-2147483648), "-2147483648");
  });

  test("SHA-1 and base64 match the standard vectors, and digest ids the observed one", () => {
    const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hex(sha1(new TextEncoder().encode("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert.equal(hex(sha1(new Uint8Array(0))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert.equal(
      hex(sha1(new TextEncoder().encode("a".repeat(1000)))),
      "291e9a6c66994949b57ba5e650361e98fc36b1ba",
    );
    assert.equal(base64(new TextEncoder().encode("ab")), "YWI=");
    assert.equal(digestId("bob:secret"), "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=");
  });
});

describe("model: ACLs", () => {
  test("fix-up: duplicates dropped, auth expanded, invalid ids refused", () => {
    const world = { perms: 1, id: { scheme: "world", id: "anyone" } };
    assert.deepEqual(fixupAcl([world, world], IP), [world]);
    assert.equal(fixupAcl([], IP), null);
    assert.equal(fixupAcl(null, IP), null);
    assert.equal(fixupAcl([{ perms: 31, id: { scheme: "auth", id: "" } }], IP), null); // ip is not an authenticated identity
    assert.deepEqual(fixupAcl([{ perms: 3, id: { scheme: "auth", id: "" } }], BOB), [{
      perms: 3,
      id: BOB[1],
    }]);
    assert.equal(fixupAcl([{ perms: 1, id: { scheme: "digest", id: "user:" } }], IP), null);
    assert.ok(fixupAcl([{ perms: 1, id: { scheme: "digest", id: ":x" } }], IP));
    assert.equal(fixupAcl([{ perms: 1, id: { scheme: "digest", id: "a:b:c" } }], IP), null);
    assert.equal(fixupAcl([{ perms: 1, id: { scheme: "ip", id: "300.1.1.1" } }], IP), null);
    assert.equal(fixupAcl([{ perms: 1, id: { scheme: "nope", id: "x" } }], IP), null);
  });

  test("the permission check: world, digest, ip masks, super", () => {
    const acl: ACL[] = [{ perms: READ, id: { scheme: "ip", id: "10.0.0.0/8" } }, {
      perms: WRITE,
      id: BOB[1]!,
    }];
    assert.ok(isAllowed(acl, READ, IP));
    assert.ok(!isAllowed(acl, READ, [{ scheme: "ip", id: "11.0.0.1" }]));
    assert.ok(!isAllowed(acl, WRITE, IP));
    assert.ok(isAllowed(acl, WRITE, BOB));
    assert.ok(isAllowed(acl, WRITE, [{ scheme: "super", id: "" }]));
    assert.ok(isAllowed([], WRITE, []));
    const superDigest = digestId("super:pw");
    assert.deepEqual(
      identitiesOfAuth("digest", new TextEncoder().encode("super:pw"), "10.0.0.1", { superDigest })?.map((
        id,
      ) => id.scheme),
      ["digest", "super"],
    );
    assert.equal(identitiesOfAuth("kerberos", null, "10.0.0.1", { superDigest }), null);
  });

  test("writes and reads are refused without the permission; getACL masks digests without ADMIN", () => {
    const m = model();
    const bobOnly: ACL[] = [{ perms: 31, id: BOB[1]! }, {
      perms: READ,
      id: { scheme: "world", id: "anyone" },
    }];
    assert.equal(write(m, 1, create("/b", bobOnly)).err, Code.OK);
    assert.equal(write(m, 2, create("/b/c")).err, Code.NOAUTH);
    assert.equal(write(m, 3, create("/b/c"), BOB).err, Code.OK);
    assert.equal(write(m, 4, { kind: "setData", path: "/b", data: null, version: -1 }).err, Code.NOAUTH);
    const masked = m.read({ kind: "getACL", path: "/b" }, S, IP);
    assert.deepEqual(masked?.body?.kind === "getACL" && masked.body.acl[0]!.id, {
      scheme: "digest",
      id: "bob:x",
    });
    const full = m.read({ kind: "getACL", path: "/b" }, S, BOB);
    assert.deepEqual(full?.body?.kind === "getACL" && full.body.acl[0]!.id, BOB[1]);
    assert.equal(write(m, 5, create("/secret", [{ perms: 31, id: BOB[1]! }]), BOB).err, Code.OK);
    assert.equal(m.read({ kind: "getData", path: "/secret", watch: false }, S, IP)?.err, Code.NOAUTH);
    assert.equal(m.read({ kind: "getACL", path: "/secret" }, S, IP)?.err, Code.NOAUTH);
    assert.equal(write(m, 6, { kind: "delete", path: "/secret/none", version: -1 }).err, Code.NOAUTH);
  });
});

describe("model: reads", () => {
  test("getData, exists, getChildren(2), getAllChildrenNumber, getEphemerals, multiRead, sync", () => {
    const m = model();
    assert.deepEqual(m.read({ kind: "getAllChildrenNumber", path: "/" }, S, IP)?.body, {
      kind: "getAllChildrenNumber",
      totalNumber: 3,
    });
    assert.deepEqual(m.read({ kind: "getChildren", path: "/", watch: false }, S, IP)?.body, {
      kind: "getChildren",
      children: ["zookeeper"],
    });
    write(m, 1, create("/a"));
    write(m, 2, create("/ab", OPEN, 1));
    write(m, 3, create("/a/e", OPEN, 1));
    assert.equal(m.read({ kind: "exists", path: "/nope", watch: true }, S, IP)?.err, Code.NONODE);
    const children2 = m.read({ kind: "getChildren2", path: "/a", watch: false }, S, IP);
    assert.equal(children2?.body?.kind === "getChildren2" && children2.body.stat.numChildren, 1);
    assert.deepEqual(m.read({ kind: "getEphemerals", prefixPath: "/a" }, S, IP)?.body, {
      kind: "getEphemerals",
      ephemerals: ["/a/e", "/ab"],
    });
    assert.deepEqual(m.read({ kind: "getEphemerals", prefixPath: "/a/" }, S, IP)?.body, {
      kind: "getEphemerals",
      ephemerals: ["/a/e"],
    });
    const multi = m.read(
      {
        kind: "multiRead",
        ops: [{ kind: "getChildren", path: "/a", watch: false }, {
          kind: "getData",
          path: "/zz",
          watch: false,
        }],
      },
      S,
      IP,
    );
    assert.deepEqual(multi?.body, {
      kind: "multi",
      results: [{ type: "getChildren", children: ["e"] }, { type: "error", err: Code.NONODE }],
    });
    assert.deepEqual(m.read({ kind: "sync", path: "/whatever" }, S, IP)?.body, {
      kind: "sync",
      path: "/whatever",
    });
    assert.equal(m.read({ kind: "ping" }, S, IP), null);
  });
});
