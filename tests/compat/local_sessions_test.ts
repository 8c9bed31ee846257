/**
 * Local sessions (issue 13 item 2: localSessionsEnabled, localSessionsUpgradingEnabled), judged
 * against Apache ZooKeeper 3.8 over the wire: the same script, by a raw jute client, on a 3-member
 * ZooKeeper ensemble and a 3-member `corral serve` ensemble started from the same zoo.cfg, once
 * without and once with upgrading. What the client sees (error codes, whether a session resumes
 * on which member, who owns an ephemeral) must be the same on both.
 *
 * - Without upgrading: a session made on a follower writes, but an ephemeral create (alone or in
 *   a multi) is EPHEMERALONLOCALSESSION; another member calls the session expired; its own member
 *   resumes it; after closeSession it is gone.
 * - With upgrading: the ephemeral create succeeds and the session becomes the ensemble's: another
 *   member resumes it with the ephemeral in place, and closing it deletes the ephemeral.
 *
 * Runs under Node only: four ensembles of processes, and local sessions are the core's, the same
 * code under every runtime (tests/core/local_sessions_test.ts runs there under all three).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CreateFlags, type Request } from "../../src/core/records.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { decodeResponse } from "../../src/wire/client_protocol.ts";
import { OPEN_ACL, WireClient } from "../driver/wire_client.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { runtime } from "../support/runtime.ts";
import { layOutTwin, removeDir, startTwin } from "./support/twin_ensemble.ts";

const create = (path: string, flags: number = CreateFlags.PERSISTENT): Request => ({
  kind: "create",
  path,
  data: new TextEncoder().encode("x"),
  acl: OPEN_ACL,
  flags,
  ttl: 0n,
});

type Transcript = Record<string, unknown>;

async function script(upgrading: boolean, port: (which: "follower" | "other") => number): Promise<Transcript> {
  const transport = await defaultTransport();
  const seen: Transcript = {};
  const open = async (which: "follower" | "other") => await WireClient.connect(transport, port(which));
  const clients: WireClient[] = [];
  try {
    const client = await open("follower");
    clients.push(client);
    const session = await client.handshake(10_000);
    seen.connected = session.timeOut > 0;
    const root = upgrading ? "/local-up" : "/local";
    seen.create_persistent = (await client.call(1, create(root))).err;
    seen.create_ephemeral = (await client.call(2, create(`${root}/e`, CreateFlags.EPHEMERAL))).err;
    seen.create_ephemeral_sequential = (await client.call(3, create(`${root}/s-`, CreateFlags.EPHEMERAL_SEQUENTIAL))).err;
    const multi: Request = { kind: "multi", ops: [{ kind: "create", path: `${root}/m`, data: null, acl: OPEN_ACL, flags: CreateFlags.EPHEMERAL, ttl: 0n }] };
    const multiReply = await client.call(4, multi);
    const results = multiReply.err === 0 ? decodeResponse("multi", multiReply.frame) : null;
    seen.multi_with_ephemeral = results?.kind === "multi" ? results.results.map((result) => result.type === "error" ? result.err : result.type) : multiReply.err;
    seen.set_data = (await client.call(5, { kind: "setData", path: root, data: null, version: -1 })).err;
    const existsReply = await client.call(6, { kind: "exists", path: `${root}/e`, watch: false });
    const stat = existsReply.err === 0 ? decodeResponse("exists", existsReply.frame) : null;
    seen.ephemeral_owned_by_session = stat?.kind === "stat" ? stat.stat.ephemeralOwner === session.sessionId : null;
    client.close();

    // The session on another member, then back on its own.
    const resume = { sessionId: session.sessionId, passwd: session.passwd };
    const elsewhere = await open("other");
    clients.push(elsewhere);
    const there = await elsewhere.handshake(10_000, resume);
    seen.resumed_on_other_member = there.timeOut > 0;
    let holder = elsewhere;
    if (there.timeOut === 0) {
      await elsewhere.waitClosed("the other member to close an expired session");
      holder = await open("follower");
      clients.push(holder);
      seen.resumed_on_its_member = (await holder.handshake(10_000, resume)).timeOut > 0;
    } else {
      seen.ephemeral_after_moving = (await elsewhere.call(7, { kind: "exists", path: `${root}/e`, watch: false })).err;
    }
    seen.close_session = (await holder.call(8, { kind: "closeSession" })).err;
    await holder.waitClosed("the connection to close after closeSession");

    const after = await open("other");
    clients.push(after);
    await after.handshake(10_000);
    await after.call(9, { kind: "sync", path: "/" });
    seen.ephemeral_after_close = (await after.call(10, { kind: "exists", path: `${root}/e`, watch: false })).err;
    seen.multi_ephemeral_after_close = (await after.call(11, { kind: "exists", path: `${root}/m`, watch: false })).err;
    const gone = await open("follower");
    clients.push(gone);
    seen.closed_session_resumes = (await gone.handshake(10_000, resume)).timeOut > 0;
    return seen;
  } finally {
    for (const client of clients) if (!client.closed) client.close();
  }
}

async function observe(kind: "zookeeper" | "corral", upgrading: boolean, dir: string): Promise<Transcript> {
  const layout = await layOutTwin({
    roles: ["participant", "participant", "participant"],
    tickTimeMs: 1000,
    extraLines: ["localSessionsEnabled=true", `localSessionsUpgradingEnabled=${upgrading}`],
  });
  const twin = await startTwin(kind, layout, join(dir, `${kind}-${upgrading ? "up" : "local"}`));
  try {
    const [follower, other] = twin.idsIn("follower") as [number, number];
    return await script(upgrading, (which) => twin.clientPortOf(which === "follower" ? follower : other));
  } catch (error) {
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${twin.output()}`);
  } finally {
    await twin.stop();
  }
}

test("local sessions: a raw client sees the same on Corral as on Apache ZooKeeper 3.8, without and with upgrading", {
  skip: runtime() !== "node"
    ? `runs under Node only (four ensembles of processes; local sessions are the same core under ${runtime()})`
    : skipUnlessCompat(["java", "zookeeper"]),
  timeout: 400_000,
}, async () => {
  assertCompat(["java", "zookeeper"]);
  const dir = mkdtempSync(join(tmpdir(), "corral-local-sessions-"));
  try {
    for (const upgrading of [false, true]) {
      const zookeeper = await observe("zookeeper", upgrading, dir);
      console.log(`zookeeper, upgrading ${upgrading}: ${JSON.stringify(zookeeper)}`);
      const corral = await observe("corral", upgrading, dir);
      console.log(`corral, upgrading ${upgrading}: ${JSON.stringify(corral)}`);
      // The judge judges: ZooKeeper itself refused the ephemeral without upgrading, allowed it with.
      assert.equal(zookeeper.create_ephemeral, upgrading ? 0 : -120, "ZooKeeper behaved as its documentation says");
      assert.deepEqual(corral, zookeeper, `upgrading ${upgrading}`);
    }
  } finally {
    removeDir(dir);
  }
});
