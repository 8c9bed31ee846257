/**
 * Node scenarios: create in every mode, reads and writes with versions and stats, children and counts,
 * each with the error codes ZooKeeper 3.8 answers.
 */
import assert from "node:assert/strict";
import { CreateMode, CREATOR_ALL_ACL } from "../../../../src/client/mod.ts";
import { decode, rejectsWith, type ScenarioServer, statShape, withClients } from "./shared.ts";

export async function createModes(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (client, other) => {
    assert.equal(await client.create(`${root}/p`, "persistent"), `${root}/p`);
    assert.equal(await client.create(`${root}/e`, "", { mode: CreateMode.EPHEMERAL }), `${root}/e`);
    // Sequence numbers come from the parent's cversion: 10 digits, shared by every sequential child.
    assert.equal(
      await client.create(`${root}/ps-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
      `${root}/ps-0000000002`,
    );
    assert.equal(
      await client.create(`${root}/es-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
      `${root}/es-0000000003`,
    );
    // A sequential path may end in "/": the name is the number alone.
    await client.create(`${root}/q`, "");
    assert.equal(
      await client.create(`${root}/q/`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
      `${root}/q/0000000000`,
    );

    const container = await client.create2(`${root}/box`, "c", { mode: CreateMode.CONTAINER });
    assert.equal(container.path, `${root}/box`);
    // ZooKeeper hides the container and TTL markers: clients see ephemeralOwner 0.
    assert.deepEqual(statShape(container.stat), {
      version: 0,
      cversion: 0,
      aversion: 0,
      dataLength: 1,
      numChildren: 0,
      ephemeralOwner: 0n,
    });
    assert.equal(container.stat.czxid, container.stat.mzxid);
    assert.equal(container.stat.pzxid, container.stat.czxid);

    // Both servers run with extendedTypesEnabled=true, so TTL nodes exist.
    const ttl = await client.create2(`${root}/ttl`, "t", {
      mode: CreateMode.PERSISTENT_WITH_TTL,
      ttlMs: 600_000,
    });
    assert.equal(ttl.path, `${root}/ttl`);
    assert.equal(ttl.stat.ephemeralOwner, 0n);
    assert.equal(
      await client.create(`${root}/ttls-`, "", {
        mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
        ttlMs: 600_000,
      }),
      `${root}/ttls-0000000007`,
    );
    const created = await client.create2(`${root}/c2`, null);
    assert.deepEqual(statShape(created.stat), {
      version: 0,
      cversion: 0,
      aversion: 0,
      dataLength: 0,
      numChildren: 0,
      ephemeralOwner: 0n,
    });

    const eph = await client.exists(`${root}/e`);
    assert.equal(eph?.ephemeralOwner, client.sessionId);
    assert.equal(eph?.dataLength, 0);

    await rejectsWith(client.create(`${root}/p`, ""), "NODEEXISTS");
    await rejectsWith(client.create(`${root}/missing/child`, ""), "NONODE");
    await rejectsWith(client.create(`${root}/e/child`, ""), "NOCHILDRENFOREPHEMERALS");
    await rejectsWith(
      client.create(`${root}/e/s-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
      "NOCHILDRENFOREPHEMERALS",
    );
    // The auth scheme without any authenticated identity: the server has nothing to put in the ACL.
    await rejectsWith(client.create(`${root}/creator`, "", { acl: [...CREATOR_ALL_ACL] }), "INVALIDACL");
    // Checked by the client before sending, as the Java client does.
    await rejectsWith(client.create(`${root}/bad/`, ""), "BADARGUMENTS");
    await rejectsWith(
      client.create(`${root}/ttl2`, "", { mode: CreateMode.PERSISTENT_WITH_TTL }),
      "BADARGUMENTS",
    );

    const children = (await other.getChildren(root)).sort();
    assert.deepEqual(children, [
      "box",
      "c2",
      "e",
      "es-0000000003",
      "p",
      "ps-0000000002",
      "q",
      "ttl",
      "ttls-0000000007",
    ]);
    await client.close();
    assert.deepEqual(
      (await other.getChildren(root)).sort(),
      ["box", "c2", "p", "ps-0000000002", "q", "ttl", "ttls-0000000007"],
      "the session's ephemerals went with it",
    );
  });
}

export async function readWriteVersions(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString], async (client) => {
    const path = `${root}/n`;
    await client.create(path, "hello");
    const first = await client.getData(path);
    assert.equal(decode(first.data), "hello");
    assert.deepEqual(statShape(first.stat), {
      version: 0,
      cversion: 0,
      aversion: 0,
      dataLength: 5,
      numChildren: 0,
      ephemeralOwner: 0n,
    });
    assert.equal(first.stat.czxid, first.stat.mzxid);
    assert.ok(first.stat.ctime > 0 && first.stat.ctime === first.stat.mtime);

    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    const set = await client.setData(path, binary, { version: 0 });
    assert.equal(set.version, 1);
    assert.ok(set.mzxid > set.czxid);
    assert.equal(set.pzxid, first.stat.pzxid, "setData leaves pzxid alone");
    assert.deepEqual((await client.getData(path)).data, binary);
    await rejectsWith(client.setData(path, "x", { version: 0 }), "BADVERSION");
    await rejectsWith(client.setData(path, "x", { version: 7 }), "BADVERSION");
    await rejectsWith(client.setData(`${root}/nope`, "x"), "NONODE");
    await rejectsWith(client.setData(`${root}/nope`, "x", { version: 3 }), "NONODE");
    assert.equal((await client.setData(path, null, { version: -1 })).version, 2);
    assert.deepEqual((await client.getData(path)).data, new Uint8Array(0), "null data reads back as empty");

    const child = await client.create2(`${path}/c`, "");
    const parent = (await client.exists(path))!;
    assert.equal(parent.numChildren, 1);
    assert.equal(parent.cversion, 1);
    assert.equal(parent.pzxid, child.stat.czxid, "a child create moves the parent's pzxid");
    assert.equal(parent.version, 2, "a child does not change the parent's version");

    await rejectsWith(client.getData(`${root}/nope`), "NONODE");
    assert.equal(await client.exists(`${root}/nope`), null);
    await rejectsWith(client.delete(path), "NOTEMPTY");
    await rejectsWith(client.delete(`${path}/c`, { version: 1 }), "BADVERSION");
    await rejectsWith(client.delete(`${root}/nope`), "NONODE");
    await rejectsWith(client.delete(`${root}/nope`, { version: 5 }), "NONODE");
    await client.delete(`${path}/c`, { version: 0 });
    const after = (await client.exists(path))!;
    assert.equal(after.cversion, 2, "a child delete bumps cversion too");
    assert.ok(after.pzxid > parent.pzxid);
    await client.delete(path, { version: 2 });
    assert.equal(await client.exists(path), null);
    await rejectsWith(client.getData("relative"), "BADARGUMENTS");
    await rejectsWith(client.delete("/"), "BADARGUMENTS");
  });
}

export async function childrenAndCounts(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (client, other) => {
    await client.create(`${root}/a`, "");
    await client.create(`${root}/a/x`, "");
    await client.create(`${root}/a/x/y`, "");
    await client.create(`${root}/b`, "");
    await client.create(`${root}/eph`, "", { mode: CreateMode.EPHEMERAL });
    await client.create(`${root}/a/e-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    await other.create(`${root}/b/theirs`, "", { mode: CreateMode.EPHEMERAL });

    assert.deepEqual((await client.getChildren(root)).sort(), ["a", "b", "eph"]);
    const both = await client.getChildren2(root);
    assert.deepEqual(both.children.sort(), ["a", "b", "eph"]);
    assert.deepEqual(both.stat, (await client.exists(root))!, "getChildren2's stat is the node's");
    assert.deepEqual(await client.getChildren(`${root}/a/x/y`), []);
    await rejectsWith(client.getChildren(`${root}/nope`), "NONODE");
    await rejectsWith(client.getChildren2(`${root}/nope`), "NONODE");

    assert.equal(await client.getAllChildrenNumber(root), 7);
    assert.equal(await client.getAllChildrenNumber(`${root}/a`), 3);
    assert.equal(await client.getAllChildrenNumber(`${root}/a/x/y`), 0);
    await rejectsWith(client.getAllChildrenNumber(`${root}/nope`), "NONODE");

    assert.deepEqual((await client.getEphemerals(root)).sort(), [`${root}/a/e-0000000001`, `${root}/eph`]);
    // The prefix is a string prefix, not a path: "<root>/e" matches "<root>/eph".
    assert.deepEqual(await client.getEphemerals(`${root}/e`), [`${root}/eph`]);
    assert.deepEqual(await client.getEphemerals(`${root}/zzz`), []);
    assert.deepEqual(await other.getEphemerals(root), [`${root}/b/theirs`]);
  });
}
