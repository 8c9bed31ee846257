import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Chroot } from "../../src/client/chroot.ts";
import { KeeperError } from "../../src/client/keeper_error.ts";
import {
  CreateMode,
  createRequest,
  firstMultiError,
  multiRequestOps,
  op,
  OPEN_ACL_UNSAFE,
  serverPath,
} from "../../src/client/ops.ts";

const none = new Chroot("");

describe("createRequest", () => {
  test("picks the opcode from the mode like the Java client", () => {
    assert.equal(createRequest(none, "/a", "x", {}).kind, "create");
    assert.equal(createRequest(none, "/a", "x", { withStat: true }).kind, "create2");
    assert.equal(createRequest(none, "/a", "x", { mode: CreateMode.CONTAINER }).kind, "createContainer");
    const ttl = createRequest(none, "/a", "x", { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 5000 });
    assert.deepEqual([ttl.kind, ttl.flags, ttl.ttl], ["createTTL", 5, 5000n]);
  });

  test("defaults: empty data and OPEN_ACL_UNSAFE; strings are UTF-8; chroot applied", () => {
    const request = createRequest(new Chroot("/app"), "/a", undefined, {});
    assert.deepEqual(request, {
      kind: "create",
      path: "/app/a",
      data: new Uint8Array(0),
      acl: [...OPEN_ACL_UNSAFE],
      flags: 0,
      ttl: 0n,
    });
    assert.deepEqual(createRequest(none, "/a", "é", {}).data, Uint8Array.from([0xc3, 0xa9]));
    assert.equal(createRequest(none, "/a", null, {}).data, null);
  });

  test("rejects bad paths, modes and TTLs with KeeperError BADARGUMENTS before sending", () => {
    const bad = (fn: () => unknown, pattern: RegExp) =>
      assert.throws(
        fn,
        (error: unknown) => KeeperError.is(error, "BADARGUMENTS") && pattern.test((error as Error).message),
      );
    bad(() => createRequest(none, "a", "", {}), /must start with \//);
    bad(() => createRequest(none, "/a/", "", {}), /must not end with \//);
    bad(() => createRequest(none, "/a", "", { mode: 9 }), /unknown create mode 9/);
    bad(() => createRequest(none, "/a", "", { mode: CreateMode.PERSISTENT_WITH_TTL }), /ttlMs/);
    bad(() => createRequest(none, "/a", "", { ttlMs: 10 }), /only allowed with/);
    // Sequential creates may end with "/": the server appends the counter.
    assert.equal(createRequest(none, "/q/", "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }).path, "/q/");
    bad(() => serverPath(none, "/a//b", "getData"), /empty node name/);
  });
});

describe("multi ops", () => {
  test("op builders map to wire ops, check included", () => {
    const ops = multiRequestOps(new Chroot("/c"), [
      op.create("/a", "1"),
      op.check("/a", 2),
      op.setData("/a", "2"),
      op.delete("/a"),
    ]);
    assert.deepEqual(ops.map((o) => [o.kind, o.path]), [["create", "/c/a"], ["check", "/c/a"], [
      "setData",
      "/c/a",
    ], ["delete", "/c/a"]]);
    assert.equal((ops[3] as { version: number }).version, -1);
  });

  test("firstMultiError finds the first non-zero code", () => {
    const ok = { type: "error" as const, code: 0, codeName: "OK" };
    const failed = { type: "error" as const, code: -110, codeName: "NODEEXISTS" };
    const after = { type: "error" as const, code: -2, codeName: "RUNTIMEINCONSISTENCY" };
    assert.deepEqual(firstMultiError([ok, failed, after]), { index: 1, code: -110 });
    assert.equal(firstMultiError([{ type: "delete" }]), null);
  });
});

describe("KeeperError", () => {
  test("carries code, name, path and a message that says what failed", () => {
    const error = new KeeperError(-101, { operation: "getData", path: "/x" });
    assert.equal(error.code, -101);
    assert.equal(error.codeName, "NONODE");
    assert.equal(error.path, "/x");
    assert.match(error.message, /^getData \/x: NONODE: the node does not exist/);
    assert.ok(KeeperError.is(error, "NONODE"));
    assert.ok(!KeeperError.is(error, "NODEEXISTS"));
  });
});
