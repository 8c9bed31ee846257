/**
 * The client against real servers (Apache ZooKeeper 3.8, and Corral when its target is enabled):
 * every operation once, with the results ZooKeeper gives.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createClient,
  CreateMode,
  CREATOR_ALL_ACL,
  KeeperError,
  op,
  OPEN_ACL_UNSAFE,
  Perms,
} from "../../src/client/mod.ts";
import { assertCompat } from "../support/compat_availability.ts";
import { TARGETS, targetSkip } from "../compat/targets.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 60_000;
const text = (value: string) => new TextEncoder().encode(value);
const decode = (value: Uint8Array) => new TextDecoder().decode(value);

async function rejectsWith(promise: Promise<unknown>, codeName: string): Promise<KeeperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeeperError, `expected a KeeperError, got ${String(error)}`);
    assert.equal(error.codeName, codeName, error.message);
    return error;
  }
  assert.fail(`expected ${codeName}, but it succeeded`);
}

const scenarios: Record<string, (connectString: string) => Promise<void>> = {
  async "create, getData, setData, delete with versions"(connectString) {
    const client = await createClient(connectString, { sessionTimeoutMs: 10_000 });
    try {
      assert.equal(await client.create("/basic", "hello"), "/basic");
      const { data, stat } = await client.getData("/basic");
      assert.equal(decode(data), "hello");
      assert.deepEqual([stat.version, stat.dataLength, stat.numChildren, stat.ephemeralOwner], [0, 5, 0, 0n]);
      const created = await client.create2("/basic/child", null);
      assert.equal(created.path, "/basic/child");
      assert.equal(created.stat.dataLength, 0);
      assert.deepEqual(
        (await client.getData("/basic/child")).data,
        new Uint8Array(0),
        "null data reads back as empty",
      );
      const set = await client.setData("/basic", text("bye"), { version: 0 });
      assert.equal(set.version, 1);
      await rejectsWith(client.setData("/basic", "x", { version: 0 }), "BADVERSION");
      await rejectsWith(client.create("/basic", ""), "NODEEXISTS");
      await rejectsWith(client.create("/missing/child", ""), "NONODE");
      await rejectsWith(client.delete("/basic"), "NOTEMPTY");
      const missing = await rejectsWith(client.getData("/nope"), "NONODE");
      assert.equal(missing.path, "/nope");
      assert.equal(await client.exists("/nope"), null);
      assert.equal((await client.exists("/basic"))?.version, 1);
      await client.delete("/basic/child", { version: 0 });
      await client.delete("/basic");
      assert.equal(await client.exists("/basic"), null);
      await rejectsWith(client.getData("bad"), "BADARGUMENTS");
    } finally {
      await client.close();
    }
  },

  async "children, sequentials, ephemerals, getEphemerals, getAllChildrenNumber"(connectString) {
    const client = await createClient(connectString);
    const other = await createClient(connectString);
    try {
      await client.create("/kids", "");
      const first = await client.create("/kids/s-", "", { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const second = await client.create("/kids/e-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      assert.equal(first, "/kids/s-0000000000");
      assert.equal(second, "/kids/e-0000000001");
      await client.create("/kids/eph", "", { mode: CreateMode.EPHEMERAL });
      await rejectsWith(client.create("/kids/eph/x", ""), "NOCHILDRENFOREPHEMERALS");
      assert.deepEqual((await client.getChildren("/kids")).sort(), ["e-0000000001", "eph", "s-0000000000"]);
      const both = await client.getChildren2("/kids");
      assert.equal(both.stat.numChildren, 3);
      assert.equal((await client.exists("/kids/eph"))?.ephemeralOwner, client.sessionId);
      assert.deepEqual((await client.getEphemerals("/kids")).sort(), ["/kids/e-0000000001", "/kids/eph"]);
      assert.deepEqual((await client.getEphemerals()).sort(), ["/kids/e-0000000001", "/kids/eph"]);
      assert.deepEqual(await other.getEphemerals(), []);
      assert.equal(await client.getAllChildrenNumber("/kids"), 3);
      await client.close();
      assert.deepEqual(await other.getChildren("/kids"), ["s-0000000000"], "ephemerals go with the session");
      await other.delete("/kids/s-0000000000");
      await other.delete("/kids");
    } finally {
      await client.close();
      await other.close();
    }
  },

  async "containers use createContainer; TTL nodes need the server's extended types"(connectString) {
    const client = await createClient(connectString);
    try {
      const container = await client.create2("/box", "", { mode: CreateMode.CONTAINER });
      assert.equal(container.path, "/box");
      assert.equal(container.stat.ephemeralOwner, 0n);
      await client.delete("/box");
      // Both servers run with extended types off (ZooKeeper's default): TTL creates are UNIMPLEMENTED.
      await rejectsWith(
        client.create("/ttl", "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 60_000 }),
        "UNIMPLEMENTED",
      );
    } finally {
      await client.close();
    }
  },

  async "multi commits atomically or reports every op's result; multiRead is per op"(connectString) {
    const client = await createClient(connectString);
    try {
      const results = await client.multi([
        op.create("/m", "0"),
        op.create("/m/a", "1", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
        op.check("/m", 0),
        op.setData("/m", "2", 0),
      ]);
      assert.deepEqual(results.map((r) => r.type), ["create", "create", "check", "setData"]);
      assert.equal((results[1] as { path: string }).path, "/m/a0000000000");
      const error = await rejectsWith(
        client.multi([op.setData("/m", "3"), op.check("/m", 0), op.delete("/m/a0000000000")]),
        "BADVERSION",
      );
      assert.equal(error.path, "/m");
      assert.deepEqual(error.results?.map((r) => (r.type === "error" ? r.codeName : r.type)), [
        "OK",
        "BADVERSION",
        "RUNTIMEINCONSISTENCY",
      ]);
      assert.equal(decode((await client.getData("/m")).data), "2", "nothing of the failed multi applied");
      const reads = await client.multiRead([op.getData("/m"), op.getChildren("/m"), op.getData("/nope")]);
      assert.equal(reads[0]!.type === "getData" && decode(reads[0]!.data), "2");
      assert.deepEqual(reads[1], { type: "getChildren", children: ["a0000000000"] });
      assert.deepEqual(reads[2], { type: "error", code: -101, codeName: "NONODE" });
      await client.multi([op.delete("/m/a0000000000"), op.delete("/m")]);
      assert.equal(await client.exists("/m"), null);
    } finally {
      await client.close();
    }
  },

  async "ACLs with digest auth, whoAmI and sync"(connectString) {
    const owner = await createClient(connectString, { auth: [{ scheme: "digest", auth: "alice:secret" }] });
    const anonymous = await createClient(connectString);
    try {
      assert.deepEqual(
        (await owner.whoAmI()).map((info) => info.authScheme).sort(),
        ["digest", "ip"],
      );
      await owner.create("/secret", "s", { acl: [...CREATOR_ALL_ACL] });
      const { acl } = await owner.getACL("/secret");
      assert.deepEqual(acl, [{
        perms: Perms.ALL,
        id: { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" },
      }]);
      await rejectsWith(anonymous.getData("/secret"), "NOAUTH");
      await anonymous.addAuth("digest", "alice:secret");
      assert.equal(decode((await anonymous.getData("/secret")).data), "s");
      assert.deepEqual((await anonymous.whoAmI()).find((i) => i.authScheme === "digest"), {
        authScheme: "digest",
        user: "alice",
      });
      const stat = await owner.setACL("/secret", [...OPEN_ACL_UNSAFE], { version: 0 });
      assert.equal(stat.aversion, 1);
      await rejectsWith(owner.setACL("/secret", [...OPEN_ACL_UNSAFE], { version: 0 }), "BADVERSION");
      await anonymous.sync("/secret");
      await anonymous.delete("/secret");
    } finally {
      await owner.close();
      await anonymous.close();
    }
  },

  async "chroot prefixes requests and strips replies"(connectString) {
    const root = await createClient(connectString);
    try {
      await root.create("/app", "");
      const client = await createClient(`${connectString}/app`);
      try {
        assert.equal(
          await client.create("/q-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
          "/q-0000000000",
        );
        assert.deepEqual(await client.getEphemerals(), ["/q-0000000000"]);
        const results = await client.multi([op.create("/x", "")]);
        assert.deepEqual(results[0]!.type === "create" && results[0]!.path, "/x");
        assert.deepEqual((await root.getChildren("/app")).sort(), ["q-0000000000", "x"]);
        assert.deepEqual((await client.getChildren("/")).sort(), ["q-0000000000", "x"]);
        await client.delete("/x");
      } finally {
        await client.close();
      }
      await root.delete("/app");
    } finally {
      await root.close();
    }
  },

  async "pipelining: many requests in flight, answered in order, bounded by maxOutstanding"(connectString) {
    const client = await createClient(connectString, { maxOutstanding: 16 });
    try {
      await client.create("/pipe", "");
      const creates = Array.from({ length: 200 }, (_, i) => client.create(`/pipe/n${i}`, String(i)));
      const reads = Array.from({ length: 200 }, (_, i) => client.getData(`/pipe/n${i}`));
      assert.equal((await Promise.all(creates)).length, 200);
      const values = (await Promise.all(reads)).map((r) => decode(r.data));
      assert.deepEqual(
        values,
        Array.from({ length: 200 }, (_, i) => String(i)),
        "reads see the earlier creates (FIFO)",
      );
      assert.equal(await client.getAllChildrenNumber("/pipe"), 200);
      await Promise.all(Array.from({ length: 200 }, (_, i) => client.delete(`/pipe/n${i}`)));
      await client.delete("/pipe");
    } finally {
      await client.close();
    }
  },

  async "an aborted call rejects with the signal's reason; a closed client refuses calls"(connectString) {
    const client = await createClient(connectString);
    const controller = new AbortController();
    const pending = client.exists("/", { signal: controller.signal });
    controller.abort(new Error("gave up"));
    await assert.rejects(pending, /gave up/);
    await assert.rejects(client.exists("/", { signal: AbortSignal.abort(new Error("already")) }), /already/);
    assert.ok((await client.exists("/")) !== null, "the client still works after an abort");
    await client.close();
    assert.equal(client.state, "closed");
    await rejectsWith(client.exists("/"), "CONNECTIONLOSS");
  },
};

for (const target of TARGETS) {
  test(
    `client operations against ${target.name}`,
    { skip: targetSkip(target, []), timeout: testTimeoutMs },
    async () => {
      assertCompat(target.needs);
      const server = await target.start();
      try {
        for (const [name, scenario] of Object.entries(scenarios)) {
          try {
            await scenario(server.connectString);
          } catch (error) {
            throw new Error(
              `${target.name}: scenario "${name}" failed: ${
                error instanceof Error ? error.stack : error
              }\n--- server log tail ---\n${server.logTail().slice(-2000)}`,
            );
          }
        }
      } finally {
        await server.stop();
      }
    },
  );
}
