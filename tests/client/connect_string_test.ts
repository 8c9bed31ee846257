import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Chroot } from "../../src/client/chroot.ts";
import { parseConnectString } from "../../src/client/connect_string.ts";

describe("parseConnectString", () => {
  test("hosts with and without ports, in order, and a chroot", () => {
    assert.deepEqual(parseConnectString("zk1:2182, 10.0.0.2 ,zk3:3000/app/x"), {
      hosts: [{ host: "zk1", port: 2182 }, { host: "10.0.0.2", port: 2181 }, { host: "zk3", port: 3000 }],
      chroot: "/app/x",
    });
  });

  test('a chroot of "/" or none means no chroot', () => {
    assert.equal(parseConnectString("a:1/").chroot, "");
    assert.equal(parseConnectString("a:1").chroot, "");
  });

  test("rejects empty host lists, bad ports and bad chroots with the offending part", () => {
    assert.throws(() => parseConnectString(""), /names no server/);
    assert.throws(() => parseConnectString("a:0"), /bad port "0"/);
    assert.throws(() => parseConnectString("a:x"), /bad port "x"/);
    assert.throws(() => parseConnectString("a:1/app/"), /chroot "\/app\/" is not a valid path/);
    assert.throws(() => parseConnectString("[::1]:2181"), /bad host/);
  });
});

describe("Chroot", () => {
  const chroot = new Chroot("/app");

  test("prefixes client paths and strips server paths", () => {
    assert.equal(chroot.toServer("/"), "/app");
    assert.equal(chroot.toServer("/a/b"), "/app/a/b");
    assert.equal(chroot.toClient("/app"), "/");
    assert.equal(chroot.toClient("/app/a"), "/a");
    assert.equal(chroot.toClient("/apple"), "/apple", "a sibling with the same prefix is not inside");
  });

  test("strips multi results and filters ephemerals outside the chroot", () => {
    const stat = {
      czxid: 1,
      mzxid: 1,
      ctime: 0,
      mtime: 0,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: 0n,
      dataLength: 0,
      numChildren: 0,
      pzxid: 1,
    };
    assert.deepEqual(
      chroot.stripResponse({
        kind: "multi",
        results: [{ type: "create", path: "/app/x" }, { type: "create2", path: "/app/y", stat }, {
          type: "delete",
        }],
      }),
      {
        kind: "multi",
        results: [{ type: "create", path: "/x" }, { type: "create2", path: "/y", stat }, { type: "delete" }],
      },
    );
    assert.deepEqual(chroot.stripResponse({ kind: "getEphemerals", ephemerals: ["/app/e", "/apple/e"] }), {
      kind: "getEphemerals",
      ephemerals: ["/e"],
    });
  });

  test("no chroot changes nothing", () => {
    const none = new Chroot("");
    assert.equal(none.toServer("/a"), "/a");
    assert.equal(none.toClient("/a"), "/a");
  });
});
