/**
 * The AdminServer of a running Corral: every command answers under ZooKeeper's primary name and
 * aliases with ZooKeeper 3.8's JSON fields, unknown commands get ZooKeeper's error JSON, and 3.9's
 * snapshot/restore need credentials that hold ALL on "/" and round-trip the tree.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { digestOf } from "../../src/core/acl.ts";
import { exercise, fieldPaths, get, getJson, startOpsServer, ZOOKEEPER_38_FIELDS, ZOOKEEPER_38_TOP_LEVEL } from "./admin_support.ts";

const ALIASES: Readonly<Record<string, string>> = {
  ruok: "ruok", srvr: "server_stats", stat: "stats", mntr: "monitor", conf: "configuration", cons: "connections",
  dump: "dump", wchs: "watch_summary", wchc: "watches", wchp: "watches_by_path", envi: "environment", isro: "is_read_only",
  lead: "leader", voting_view: "voting_view", obsr: "observers", lsnp: "last_snapshot", crst: "connection_stat_reset",
  srst: "stat_reset", gtmk: "get_trace_mask", icfg: "initial_configuration", zabstate: "zabstate", dirs: "dirs", hash: "hash",
};

describe("AdminServer commands", () => {
  test("answer under ZooKeeper's names and aliases with ZooKeeper 3.8's fields", async () => {
    const ops = await startOpsServer();
    try {
      const client = await exercise(`127.0.0.1:${ops.server.port}`);
      for (const [alias, primary] of Object.entries(ALIASES)) {
        const { status, body } = await getJson(`${ops.adminUrl}/${alias}`);
        assert.equal(status, 200, alias);
        assert.equal(body["command"], primary, `${alias} answers as ${primary}`);
        if (primary !== "leader") assert.equal(body["error"], null, `${alias}: ${String(body["error"])}`);
        const expected = ZOOKEEPER_38_FIELDS[primary];
        if (expected !== undefined) assert.deepEqual(fieldPaths(body), [...expected].sort(), `${primary}'s fields`);
        const topLevel = ZOOKEEPER_38_TOP_LEVEL[primary];
        if (topLevel !== undefined) assert.deepEqual(Object.keys(body).sort(), [...topLevel].sort(), `${primary}'s fields`);
      }
      const cons = await getJson(`${ops.adminUrl}/cons`);
      const connection = (cons.body["connections"] as Record<string, unknown>[])[0]!;
      const wchp = await getJson(`${ops.adminUrl}/wchp`);
      const paths = wchp.body["path_to_session_ids"] as Record<string, unknown[]>;
      assert.deepEqual(Object.keys(paths), ["/a/e"]);
      // Session ids are exact 64-bit numbers in the JSON text (as Jackson writes longs).
      const wchpText = (await get(`${ops.adminUrl}/wchp`)).text;
      assert.match(wchpText, /"\/a\/e" : \[ (\d+) \]/);
      assert.equal(/"\/a\/e" : \[ (\d+) \]/.exec(wchpText)![1], (await get(`${ops.adminUrl}/cons`)).text.match(/"session_id" : (\d+)/)![1]);
      assert.equal(typeof connection["session_id"], "number");
      const mask = await getJson(`${ops.adminUrl}/stmk?traceMask=1234`);
      assert.equal(mask.body["tracemask"], 1234);
      await client.close();
    } finally {
      await ops.stop();
    }
  });

  test("an unknown command gets ZooKeeper's error JSON; /commands lists the commands", async () => {
    const ops = await startOpsServer();
    try {
      for (const name of ["nosuchcommand", "RUOK", "ruok%2F"]) {
        const { status, body } = await getJson(`${ops.adminUrl}/${name}`);
        assert.equal(status, 200);
        assert.equal(body["error"], `Unknown command: ${decodeURIComponent(name)}`);
        assert.equal(body["command"], decodeURIComponent(name));
      }
      const list = await get(ops.adminUrl);
      assert.equal(list.status, 200);
      for (const name of ["configuration", "monitor", "snapshot", "restore", "watches_by_path"]) {
        assert.ok(list.text.includes(`href="/commands/${name}"`), `/commands lists ${name}`);
      }
    } finally {
      await ops.stop();
    }
  });
});

describe("AdminServer snapshot and restore", () => {
  test("a downloaded snapshot restores the tree it was taken from", async () => {
    const ops = await startOpsServer();
    const auth = { authorization: "digest backup:secret" };
    try {
      const client = await createClient(`127.0.0.1:${ops.server.port}`);
      await client.create("/kept", "before");
      await client.create("/kept/child", new Uint8Array([0, 1, 2, 255]));
      const snapshot = await fetch(`${ops.adminUrl}/snapshot`, { headers: auth, signal: AbortSignal.timeout(10_000) });
      assert.equal(snapshot.status, 200);
      assert.equal(snapshot.headers.get("content-type"), "application/octet-stream");
      const zxid = snapshot.headers.get("last_zxid");
      assert.match(zxid ?? "", /^0x[0-9a-f]+$/);
      const bytes = new Uint8Array(await snapshot.arrayBuffer());
      assert.equal(String(bytes.length), snapshot.headers.get("snapshot_size"));
      await client.setData("/kept", "after");
      await client.create("/added", "");
      await client.delete("/kept/child");
      await client.close();
      const restored = await getJson(`${ops.adminUrl}/restore`, { method: "POST", body: bytes, headers: auth });
      assert.equal(restored.status, 200, JSON.stringify(restored.body));
      assert.deepEqual(restored.body, { last_zxid: Number(zxid), command: "restore", error: null });
      const reader = await createClient(`127.0.0.1:${ops.server.port}`);
      assert.equal(new TextDecoder().decode((await reader.getData("/kept")).data), "before");
      assert.deepEqual([...(await reader.getData("/kept/child")).data], [0, 1, 2, 255]);
      assert.equal(await reader.exists("/added"), null);
      await reader.close();
    } finally {
      await ops.stop();
    }
  });

  test("credentials: missing → 401, unknown scheme → 401, no ALL on / → 403, the root ACL's holder → 200", async () => {
    const ops = await startOpsServer();
    try {
      const client = await createClient(`127.0.0.1:${ops.server.port}`);
      await client.addAuth("digest", "owner:pw");
      await client.setACL("/", [{ perms: 31, id: { scheme: "digest", id: digestOf("owner:pw") } }]);
      await client.close();
      const url = `${ops.adminUrl}/snapshot`;
      const cases: [Record<string, string>, number, string][] = [
        [{}, 401, "Auth info is missing for the command"],
        [{ authorization: "kerberos x" }, 401, "Not authenticated"],
        [{ authorization: "digest a b c" }, 401, "Not authenticated"],
        [{ authorization: "digest stranger:pw" }, 403, "Not authorized"],
      ];
      for (const [headers, status, error] of cases) {
        const { status: got, body } = await getJson(url, { headers });
        assert.equal(got, status, JSON.stringify(headers));
        assert.deepEqual(body, { command: "snapshot", error });
      }
      const restore = await getJson(`${ops.adminUrl}/restore`, { method: "POST", body: "x", headers: { authorization: "digest stranger:pw" } });
      assert.equal(restore.status, 403);
      const owner = await fetch(url, { headers: { authorization: "digest owner:pw" }, signal: AbortSignal.timeout(10_000) });
      assert.equal(owner.status, 200);
      await owner.arrayBuffer();
    } finally {
      await ops.stop();
    }
  });
});
