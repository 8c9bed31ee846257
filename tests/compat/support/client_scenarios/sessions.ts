/**
 * Session scenarios: sync and timeouts, close and expiry as others see them, connection loss with
 * watches re-registered on reconnect, and chroot.
 */
import assert from "node:assert/strict";
import {
  createClient,
  CreateMode,
  op,
  type SessionState,
  type WatchEvent,
} from "../../../../src/client/mod.ts";
import { killSession } from "../../../client/support/kill_session.ts";
import { waitFor } from "../../../support/wait_for.ts";
import {
  barrier,
  decode,
  eventWaitMs,
  labels,
  nodeLabels,
  rejectsWith,
  type ScenarioServer,
  withClients,
} from "./shared.ts";

export async function syncAndSession(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString], async (client) => {
    await client.create(`${root}/s`, "");
    await client.sync(`${root}/s`);
    await client.sync("/");
    // sync does not look at the node: a missing path syncs as well.
    await client.sync(`${root}/nope`);
    assert.ok(client.lastZxidSeen > 0);
    assert.ok(client.sessionId !== 0n);
    assert.equal(client.sessionPassword.length, 16);
  });
  // tickTime 2000: timeouts are clamped to [4000, 40000].
  const short = await createClient(server.connectString, { sessionTimeoutMs: 1000 });
  const long = await createClient(server.connectString, { sessionTimeoutMs: 1_000_000 });
  const middle = await createClient(server.connectString, { sessionTimeoutMs: 15_000 });
  try {
    assert.deepEqual([short.sessionTimeoutMs, long.sessionTimeoutMs, middle.sessionTimeoutMs], [
      4000,
      40_000,
      15_000,
    ]);
  } finally {
    await short.close();
    await long.close();
    await middle.close();
  }
}

export async function closeObserved(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString], async (observer) => {
    const client = await createClient(server.connectString, { sessionTimeoutMs: 20_000 });
    const states: SessionState[] = [];
    client.on("state", (state) => states.push(state));
    const eph = `${root}/eph`;
    await client.create(eph, "", { mode: CreateMode.EPHEMERAL });
    const gone: WatchEvent[] = [];
    await observer.exists(eph, { watch: (event) => gone.push(event) });
    await client.close();
    assert.equal(client.state, "closed");
    assert.deepEqual(states, ["closed"]);
    await waitFor(() => gone.length > 0, { timeoutMs: eventWaitMs, what: "the observer's NodeDeleted" });
    assert.deepEqual(labels(gone), [`NodeDeleted ${eph}`]);
    await rejectsWith(client.exists("/"), "CONNECTIONLOSS");
    // The closed session cannot be resumed.
    await rejectsWith(
      createClient(server.connectString, { sessionId: client.sessionId, password: client.sessionPassword }),
      "SESSIONEXPIRED",
    );
  });
}

export async function expiryObserved(server: ScenarioServer, root: string): Promise<void> {
  const { proxy } = server;
  await withClients([server.connectString], async (observer) => {
    const victim = await createClient(proxy.connectString, {
      sessionTimeoutMs: 20_000,
      reconnectDelayMs: 100,
    });
    try {
      const states: SessionState[] = [];
      victim.on("state", (state) => states.push(state));
      const eph = `${root}/victim`;
      await victim.create(eph, "", { mode: CreateMode.EPHEMERAL });
      const events: WatchEvent[] = [];
      await victim.exists(eph, { watch: (event) => events.push(event) });
      const gone: WatchEvent[] = [];
      await observer.exists(eph, { watch: (event) => gone.push(event) });

      proxy.block(true);
      proxy.cutAll();
      await waitFor(() => victim.state === "disconnected", {
        timeoutMs: eventWaitMs,
        what: "the victim to be cut off",
      });
      await killSession(server.host, server.port, victim.sessionId, victim.sessionPassword);
      await waitFor(() => gone.length > 0, { timeoutMs: eventWaitMs, what: "the observer's NodeDeleted" });
      proxy.block(false);
      await waitFor(() => victim.state === "expired", {
        timeoutMs: 20_000,
        what: "the victim to learn on reconnecting that its session is gone",
      });
      assert.deepEqual(states, ["disconnected", "expired"]);
      assert.deepEqual(labels(events), ["Disconnected", "Expired"]);
      assert.deepEqual(labels(gone), [`NodeDeleted ${eph}`]);
      await rejectsWith(victim.exists("/"), "SESSIONEXPIRED");
      await rejectsWith(victim.create(`${root}/after`, ""), "SESSIONEXPIRED");
    } finally {
      proxy.block(false);
      await victim.close();
    }
  });
}

export async function reconnectReRegistersWatches(server: ScenarioServer, root: string): Promise<void> {
  const { proxy } = server;
  await withClients([server.connectString], async (writer) => {
    const client = await createClient(proxy.connectString, {
      sessionTimeoutMs: 20_000,
      reconnectDelayMs: 100,
    });
    try {
      const states: SessionState[] = [];
      client.on("state", (state) => states.push(state));
      const sessionId = client.sessionId;
      const d = `${root}/d`; // data watch; changed while disconnected
      const same = `${root}/same`; // data watch; changed by the client's own lost request
      const still = `${root}/still`; // data watch; unchanged while disconnected
      const created = `${root}/created`; // exists watch on a missing node; created while disconnected
      const kids = `${root}/kids`; // child watch; a child added while disconnected
      const doomed = `${root}/doomed`; // data watch; deleted while disconnected
      const tree = `${root}/tree`; // recursive watch
      for (const path of [d, same, still, kids, doomed, tree]) await writer.create(path, "0");
      await client.create(`${root}/mine`, "", { mode: CreateMode.EPHEMERAL });
      const events: WatchEvent[] = [];
      const record = (event: WatchEvent) => events.push(event);
      await client.getData(d, { watch: record });
      await client.getData(same, { watch: record });
      await client.getData(still, { watch: record });
      assert.equal(await client.exists(created, { watch: record }), null);
      await client.getChildren(kids, { watch: record });
      await client.getData(doomed, { watch: record });
      const treeEvents: WatchEvent[] = [];
      await client.addWatch(tree, "persistentRecursive", (event) => treeEvents.push(event));

      // A request whose reply is lost: CONNECTIONLOSS, although the server applied it (and sent the
      // watch event it raised, which comes before the reply). New connections are refused first, so
      // the client stays cut off while the writer works.
      proxy.block(true);
      const lost = proxy.dropReplyTo((request) => request.opcode === 5 && request.path === same);
      const setting = client.setData(same, "lost reply");
      await lost;
      await rejectsWith(setting, "CONNECTIONLOSS");
      await waitFor(() => client.state === "disconnected", { timeoutMs: eventWaitMs, what: "the cut" });
      await rejectsWith(client.exists("/"), "CONNECTIONLOSS");

      await writer.setData(d, "1");
      await writer.create(created, "");
      await writer.create(`${kids}/k`, "");
      await writer.delete(doomed);
      await writer.create(`${tree}/missed`, ""); // recursive watches are re-added, not replayed
      proxy.block(false);
      await waitFor(() => client.state === "connected", { timeoutMs: 20_000, what: "the reconnect" });
      assert.equal(client.sessionId, sessionId, "the same session");
      assert.ok((await client.exists(`${root}/mine`)) !== null, "the ephemeral survived");
      await barrier(client);
      // The reconnect's setWatches carries the last zxid seen: changes made meanwhile fire at once.
      assert.deepEqual(labels(events).slice(0, 3), [
        `NodeDataChanged ${same}`,
        "Disconnected",
        "SyncConnected",
      ]);
      assert.deepEqual(
        labels(events.slice(3)).sort(),
        [
          `NodeCreated ${created}`,
          `NodeChildrenChanged ${kids}`,
          `NodeDataChanged ${d}`,
          `NodeDeleted ${doomed}`,
        ].sort(),
      );
      assert.deepEqual(nodeLabels(treeEvents), []);
      // Unchanged watches were re-registered without firing.
      await writer.setData(still, "1");
      await writer.create(`${tree}/after`, "");
      await barrier(client);
      assert.deepEqual(labels(events.slice(7)), [`NodeDataChanged ${still}`]);
      assert.deepEqual(labels(treeEvents), ["Disconnected", "SyncConnected", `NodeCreated ${tree}/after`]);
      assert.equal(decode((await client.getData(same)).data), "lost reply");
      assert.deepEqual(states, ["disconnected", "connected"]);
    } finally {
      proxy.block(false);
      await client.close();
    }
  });
}

export async function chrootScenario(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, `${server.connectString}${root}`], async (plain, client) => {
    assert.equal(await client.create("/q-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }), "/q-0000000000");
    assert.equal((await client.create2("/n", "")).path, "/n");
    assert.deepEqual(await client.getEphemerals(), ["/q-0000000000"]);
    assert.deepEqual(await client.getEphemerals("/q"), ["/q-0000000000"]);
    const results = await client.multi([
      op.create("/x", ""),
      op.create("/x/y", "", { mode: CreateMode.CONTAINER }),
    ]);
    assert.deepEqual(results.map((r) => r.type === "create" && r.path), ["/x", "/x/y"]);
    const reads = await client.multiRead([op.getChildren("/x"), op.getData("/nope")]);
    assert.deepEqual(reads, [{ type: "getChildren", children: ["y"] }, {
      type: "error",
      code: -101,
      codeName: "NONODE",
    }]);
    assert.deepEqual((await plain.getChildren(root)).sort(), ["n", "q-0000000000", "x"]);
    assert.deepEqual((await client.getChildren("/")).sort(), ["n", "q-0000000000", "x"]);
    assert.equal((await client.exists("/"))?.numChildren, 3);
    assert.equal(await client.getAllChildrenNumber("/"), 4);
    const failed = await rejectsWith(client.multi([op.create("/x", "")]), "NODEEXISTS");
    assert.equal(failed.path, "/x");

    const events: WatchEvent[] = [];
    const record = (event: WatchEvent) => events.push(event);
    await client.getData("/n", { watch: record });
    await client.getChildren("/", { watch: record });
    await client.addWatch("/x", "persistentRecursive", record);
    await plain.setData(`${root}/n`, "1");
    await plain.create(`${root}/x/y/z`, "");
    await plain.create(`${root}/m`, "");
    await client.sync("/");
    await barrier(client);
    assert.deepEqual(labels(events), ["NodeDataChanged /n", "NodeCreated /x/y/z", "NodeChildrenChanged /"]);
    await client.removeWatches("/x", record);
    await rejectsWith(client.getData("/nope"), "NONODE");
    await rejectsWith(client.delete("/x"), "NOTEMPTY");
  });
  // A chroot that does not exist: the session works, operations under it find nothing.
  await withClients([`${server.connectString}${root}/absent`], async (client) => {
    assert.equal(await client.exists("/"), null);
    await rejectsWith(client.create("/a", ""), "NONODE");
    await rejectsWith(client.getChildren("/"), "NONODE");
  });
}
