/**
 * Scenarios of multi and multiRead (atomicity, per-op results) and of ACLs and auth (digest, NOAUTH,
 * INVALIDACL, whoAmI, AUTHFAILED).
 */
import assert from "node:assert/strict";
import {
  type Client,
  createClient,
  CreateMode,
  CREATOR_ALL_ACL,
  op,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  type WatchEvent,
} from "../../../../src/client/mod.ts";
import { decode, labels, rejectsWith, type ScenarioServer, withClients } from "./shared.ts";

export async function multiOps(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString], async (client) => {
    assert.deepEqual(await client.multi([]), [], "an empty multi succeeds");
    const results = await client.multi([
      op.create(`${root}/m`, "0"),
      op.create(`${root}/m/s-`, "1", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
      op.create(`${root}/m/box`, "", { mode: CreateMode.CONTAINER }),
      op.check(`${root}/m`, 0),
      op.setData(`${root}/m`, "2", 0),
      op.create(`${root}/m/gone`, ""),
      op.delete(`${root}/m/gone`, 0),
    ]);
    assert.deepEqual(results.map((result) => result.type), [
      "create",
      "create",
      "create",
      "check",
      "setData",
      "create",
      "delete",
    ]);
    const [plain, sequential, container, , setData] = results;
    assert.deepEqual(plain, { type: "create", path: `${root}/m`, stat: null }, "a plain create has no stat");
    assert.equal(sequential?.type === "create" && sequential.path, `${root}/m/s-0000000000`);
    // A container op is create2-style: its result carries the stat.
    assert.ok(container?.type === "create" && container.stat !== null, "the container create has a stat");
    assert.equal(setData?.type === "setData" && setData.stat.version, 1);

    const failures: [string, Parameters<Client["multi"]>[0], string[]][] = [
      [
        "BADVERSION",
        [op.setData(`${root}/m`, "3"), op.check(`${root}/m`, 0), op.delete(`${root}/m/s-0000000000`)],
        ["OK", "BADVERSION", "RUNTIMEINCONSISTENCY"],
      ],
      ["NONODE", [op.check(`${root}/nope`), op.create(`${root}/x`, "")], ["NONODE", "RUNTIMEINCONSISTENCY"]],
      ["NODEEXISTS", [op.create(`${root}/y`, ""), op.create(`${root}/y`, "")], ["OK", "NODEEXISTS"]],
      ["NOTEMPTY", [op.delete(`${root}/m`)], ["NOTEMPTY"]],
      [
        "NOCHILDRENFOREPHEMERALS",
        [
          op.create(`${root}/eph`, "", { mode: CreateMode.EPHEMERAL }),
          op.create(`${root}/eph/child`, ""),
          op.setData(`${root}/m`, "4"),
        ],
        ["OK", "NOCHILDRENFOREPHEMERALS", "RUNTIMEINCONSISTENCY"],
      ],
    ];
    for (const [code, ops, perOp] of failures) {
      const error = await rejectsWith(client.multi(ops), code);
      assert.deepEqual(
        error.results?.map((result) => result.type === "error" ? result.codeName : result.type),
        perOp,
        `per-op results of the ${code} multi`,
      );
    }
    assert.equal(decode((await client.getData(`${root}/m`)).data), "2", "no failed multi applied anything");
    assert.equal(await client.exists(`${root}/y`), null);
    assert.equal(await client.exists(`${root}/eph`), null);

    await client.create(`${root}/locked`, "l", { acl: [...READ_ACL_UNSAFE] });
    const reads = await client.multiRead([
      op.getData(`${root}/m`),
      op.getChildren(`${root}/m`),
      op.getData(`${root}/nope`),
      op.getChildren(`${root}/nope`),
      op.getData(`${root}/locked`),
    ]);
    assert.equal(reads[0]?.type === "getData" && decode(reads[0].data), "2");
    assert.equal(reads[0]?.type === "getData" && reads[0].stat.version, 1);
    assert.deepEqual(reads[1]?.type === "getChildren" && reads[1].children.sort(), ["box", "s-0000000000"]);
    assert.deepEqual(reads[2], { type: "error", code: -101, codeName: "NONODE" });
    assert.deepEqual(reads[3], { type: "error", code: -101, codeName: "NONODE" });
    assert.equal(reads[4]?.type === "getData" && decode(reads[4].data), "l");
    assert.deepEqual(await client.multiRead([]), []);
  });
}

export async function aclsAndAuth(server: ScenarioServer, root: string): Promise<void> {
  const alice = await createClient(server.connectString, {
    auth: [{ scheme: "digest", auth: "alice:secret" }],
  });
  try {
    await withClients([server.connectString], async (anonymous) => {
      const who = await anonymous.whoAmI();
      assert.deepEqual(who, [{ authScheme: "ip", user: "127.0.0.1" }]);
      assert.deepEqual(
        (await alice.whoAmI()).map((info) => `${info.authScheme}:${info.user}`).sort(),
        ["digest:alice", "ip:127.0.0.1"],
      );

      const secret = `${root}/secret`;
      await alice.create(secret, "s", { acl: [...CREATOR_ALL_ACL] });
      const { acl, stat } = await alice.getACL(secret);
      assert.deepEqual(acl, [{
        perms: Perms.ALL,
        id: { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" },
      }]);
      assert.equal(stat.aversion, 0);
      await rejectsWith(anonymous.getData(secret), "NOAUTH");
      await rejectsWith(anonymous.setData(secret, "x"), "NOAUTH");
      await rejectsWith(anonymous.getChildren(secret), "NOAUTH");
      await rejectsWith(anonymous.create(`${secret}/c`, ""), "NOAUTH");
      await rejectsWith(anonymous.getACL(secret), "NOAUTH");
      await rejectsWith(anonymous.setACL(secret, [...OPEN_ACL_UNSAFE]), "NOAUTH");
      const reads = await anonymous.multiRead([op.getData(secret)]);
      assert.deepEqual(reads, [{ type: "error", code: -102, codeName: "NOAUTH" }]);
      // A version check needs READ, like getData.
      const failed = await rejectsWith(
        anonymous.multi([op.check(secret), op.setData(secret, "x")]),
        "NOAUTH",
      );
      assert.deepEqual(failed.results?.map((r) => r.type === "error" ? r.codeName : r.type), [
        "NOAUTH",
        "RUNTIMEINCONSISTENCY",
      ]);

      // Deleting needs DELETE on the parent, not rights on the node itself.
      await alice.create(`${secret}/child`, "", { acl: [...OPEN_ACL_UNSAFE] });
      await rejectsWith(anonymous.delete(`${secret}/child`), "NOAUTH");
      assert.equal(decode((await anonymous.getData(`${secret}/child`)).data), "");

      const readOnly = `${root}/read-only`;
      await alice.create(readOnly, "r", { acl: [...READ_ACL_UNSAFE] });
      assert.equal(decode((await anonymous.getData(readOnly)).data), "r");
      await rejectsWith(anonymous.setData(readOnly, "w"), "NOAUTH");
      await rejectsWith(anonymous.create(`${readOnly}/c`, ""), "NOAUTH");

      // An explicit digest id, written the way zkCli's addauth would match.
      const shared = `${root}/shared`;
      await anonymous.create(shared, "", {
        acl: [{
          perms: Perms.READ | Perms.WRITE,
          id: { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" },
        }],
      });
      await rejectsWith(anonymous.getData(shared), "NOAUTH");
      await alice.setData(shared, "by alice");
      await rejectsWith(alice.setACL(shared, [...OPEN_ACL_UNSAFE]), "NOAUTH");

      await anonymous.addAuth("digest", "alice:secret");
      assert.equal(decode((await anonymous.getData(secret)).data), "s");
      assert.ok(
        (await anonymous.whoAmI()).some((info) => info.authScheme === "digest" && info.user === "alice"),
      );
      await rejectsWith(anonymous.setACL(secret, [...OPEN_ACL_UNSAFE], { version: 3 }), "BADVERSION");
      const opened = await anonymous.setACL(secret, [...OPEN_ACL_UNSAFE], { version: 0 });
      assert.equal(opened.aversion, 1);
      await rejectsWith(alice.setACL(secret, [...OPEN_ACL_UNSAFE], { version: 0 }), "BADVERSION");
      await rejectsWith(
        alice.setACL(secret, [{ perms: Perms.ALL, id: { scheme: "ip", id: "not-an-address" } }]),
        "INVALIDACL",
      );
      await rejectsWith(
        alice.setACL(secret, [{ perms: Perms.ALL, id: { scheme: "nosuchscheme", id: "x" } }]),
        "INVALIDACL",
      );
    });

    // A credential the server rejects ends the session.
    await withClients([server.connectString], async (client) => {
      const events: WatchEvent[] = [];
      await client.exists("/", { watch: (event) => events.push(event) });
      await rejectsWith(client.addAuth("nosuchscheme", "x"), "AUTHFAILED");
      assert.equal(client.state, "authFailed");
      assert.deepEqual(labels(events), ["AuthFailed"]);
      await rejectsWith(client.exists("/"), "AUTHFAILED");
    });
  } finally {
    await alice.close();
  }
}
