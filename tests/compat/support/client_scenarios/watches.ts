/**
 * Watch scenarios: one-shot, persistent and recursive watches, and their removal (including the
 * persistent removeAllWatches type that ZooKeeper 3.8 cannot parse).
 */
import assert from "node:assert/strict";
import { createClient, CreateMode, type WatchEvent } from "../../../../src/client/mod.ts";
import { waitFor } from "../../../support/wait_for.ts";
import { barrier, eventWaitMs, labels, rejectsWith, type ScenarioServer, withClients } from "./shared.ts";

export async function oneShotWatches(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (watcher, writer) => {
    const w = `${root}/w`;
    await writer.create(w, "0");
    const events: WatchEvent[] = [];
    const record = (event: WatchEvent) => events.push(event);
    await watcher.getData(w, { watch: record });
    assert.equal(await watcher.exists(`${w}/new`, { watch: record }), null);
    await watcher.getChildren(w, { watch: record });
    await writer.setData(w, "1");
    await writer.setData(w, "2");
    await writer.create(`${w}/new`, "");
    await writer.setData(`${w}/new`, "x");
    await writer.delete(`${w}/new`);
    await barrier(watcher);
    assert.deepEqual(labels(events), [
      `NodeDataChanged ${w}`,
      `NodeCreated ${w}/new`,
      `NodeChildrenChanged ${w}`,
    ]);
    assert.deepEqual(events[0]?.state, "SyncConnected");

    // exists on an existing node is a data watch; getChildren2 a child watch; same data still fires.
    const second: WatchEvent[] = [];
    await watcher.exists(w, { watch: (event) => second.push(event) });
    await watcher.getChildren2(w, { watch: (event) => second.push(event) });
    await writer.setData(w, "2");
    await writer.create(`${w}/c`, "");
    await barrier(watcher);
    assert.deepEqual(labels(second), [`NodeDataChanged ${w}`, `NodeChildrenChanged ${w}`]);

    // One listener set as data and child watch: a delete reaches it once (the server sends one event).
    const deleted: WatchEvent[] = [];
    const onDelete = (event: WatchEvent) => deleted.push(event);
    await watcher.getData(`${w}/c`, { watch: onDelete });
    await watcher.getChildren(`${w}/c`, { watch: onDelete });
    const parent: WatchEvent[] = [];
    await watcher.getChildren(w, { watch: (event) => parent.push(event) });
    await writer.delete(`${w}/c`);
    await barrier(watcher);
    assert.deepEqual(labels(deleted), [`NodeDeleted ${w}/c`]);
    assert.deepEqual(labels(parent), [`NodeChildrenChanged ${w}`]);

    // An ephemeral's end is seen by others' watches; a self-made change fires before its reply.
    const eph = `${root}/eph`;
    const ephemeralOwner = await createClient(server.connectString, { sessionTimeoutMs: 20_000 });
    try {
      await ephemeralOwner.create(eph, "", { mode: CreateMode.EPHEMERAL });
      const gone: WatchEvent[] = [];
      await watcher.exists(eph, { watch: (event) => gone.push(event) });
      await ephemeralOwner.close();
      await waitFor(() => gone.length > 0, {
        timeoutMs: eventWaitMs,
        what: "NodeDeleted of the closed session's ephemeral",
      });
      assert.deepEqual(labels(gone), [`NodeDeleted ${eph}`]);
    } finally {
      await ephemeralOwner.close();
    }
    const order: string[] = [];
    await watcher.getData(w, { watch: () => order.push("event") });
    await watcher.setData(w, "self");
    order.push("reply");
    assert.deepEqual(order, ["event", "reply"]);
  });
}

export async function persistentWatches(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (watcher, writer) => {
    const p = `${root}/p`;
    const r = `${root}/r`;
    const persistent: WatchEvent[] = [];
    const recursive: WatchEvent[] = [];
    const onPersistent = (event: WatchEvent) => persistent.push(event);
    const onRecursive = (event: WatchEvent) => recursive.push(event);
    // Both may be set on nodes that do not exist yet.
    await watcher.addWatch(p, "persistent", onPersistent);
    await watcher.addWatch(r, "persistentRecursive", onRecursive);
    await writer.create(p, "");
    await writer.create(`${p}/c`, "");
    await writer.create(`${p}/c/g`, "");
    await writer.setData(p, "1");
    await writer.setData(p, "2");
    await writer.create(r, "");
    await writer.create(`${r}/a`, "");
    await writer.create(`${r}/a/b`, "");
    await writer.setData(`${r}/a`, "x");
    await writer.delete(`${r}/a/b`);
    await writer.delete(`${p}/c/g`);
    await writer.delete(`${p}/c`);
    await writer.delete(p);
    await writer.create(p, "again");
    await barrier(watcher);
    assert.deepEqual(labels(persistent), [
      `NodeCreated ${p}`,
      `NodeChildrenChanged ${p}`,
      `NodeDataChanged ${p}`,
      `NodeDataChanged ${p}`,
      `NodeChildrenChanged ${p}`,
      `NodeDeleted ${p}`,
      `NodeCreated ${p}`,
    ]);
    // Recursive watches report no NodeChildrenChanged (creations and deletions say it all).
    assert.deepEqual(labels(recursive), [
      `NodeCreated ${r}`,
      `NodeCreated ${r}/a`,
      `NodeCreated ${r}/a/b`,
      `NodeDataChanged ${r}/a`,
      `NodeDeleted ${r}/a/b`,
    ]);

    // The async iterator form; breaking out removes the watch here and on the server.
    const stream = watcher.watch(r, { mode: "persistentRecursive" });
    await stream.ready;
    await writer.create(`${r}/s`, "");
    await writer.delete(`${r}/s`);
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(`${event.type} ${event.path}`);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, [`NodeCreated ${r}/s`, `NodeDeleted ${r}/s`]);
  });
}

export async function removingWatches(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (watcher, writer) => {
    const rm = `${root}/rm`;
    await writer.create(rm, "");
    const events: WatchEvent[] = [];
    const listener = (event: WatchEvent) => events.push(event);
    await watcher.getData(rm, { watch: listener });
    await watcher.getChildren(rm, { watch: listener });
    await watcher.removeWatches(rm, listener, { type: "data" });
    await writer.setData(rm, "1");
    await barrier(watcher);
    assert.deepEqual(labels(events), [`DataWatchRemoved ${rm}`]);
    await watcher.removeAllWatches(rm, "children");
    await writer.create(`${rm}/c`, "");
    await barrier(watcher);
    assert.deepEqual(labels(events), [`DataWatchRemoved ${rm}`, `ChildWatchRemoved ${rm}`]);
    await rejectsWith(watcher.removeWatches(rm, listener), "NOWATCHER");
    await rejectsWith(watcher.removeAllWatches(rm, "any"), "NOWATCHER");

    // A persistent watch goes with type "any" (3.8 has no persistent type on the wire).
    const kept: WatchEvent[] = [];
    const onKept = (event: WatchEvent) => kept.push(event);
    await watcher.addWatch(rm, "persistentRecursive", onKept);
    await writer.create(`${rm}/d`, "");
    await watcher.removeWatches(rm, onKept);
    await writer.create(`${rm}/e`, "");
    await barrier(watcher);
    assert.deepEqual(labels(kept), [`NodeCreated ${rm}/d`, `PersistentWatchRemoved ${rm}`]);

    // Two listeners of one kind: removing one leaves the server's watch for the other.
    const first: WatchEvent[] = [];
    const second: WatchEvent[] = [];
    const onFirst = (event: WatchEvent) => first.push(event);
    const onSecond = (event: WatchEvent) => second.push(event);
    await watcher.getData(rm, { watch: onFirst });
    await watcher.getData(rm, { watch: onSecond });
    await watcher.removeWatches(rm, onFirst, { type: "data" });
    await writer.setData(rm, "2");
    await barrier(watcher);
    assert.deepEqual(labels(first), [`DataWatchRemoved ${rm}`]);
    assert.deepEqual(labels(second), [`NodeDataChanged ${rm}`]);

    // local: true forgets the watch here only; the server's later notification reaches nobody.
    const local: WatchEvent[] = [];
    const onLocal = (event: WatchEvent) => local.push(event);
    await watcher.getData(rm, { watch: onLocal });
    await watcher.removeWatches(rm, onLocal, { local: true });
    await writer.setData(rm, "3");
    await barrier(watcher);
    assert.deepEqual(labels(local), [`DataWatchRemoved ${rm}`]);
  });
}

export async function removeAllPersistentType(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString], async (watcher) => {
    const path = `${root}/pw`;
    await watcher.create(path, "");
    await watcher.addWatch(path, "persistent", () => {});
    // WatcherType PERSISTENT (4) is 3.9's; ZooKeeper 3.8 cannot parse it.
    await rejectsWith(watcher.removeAllWatches(path, "persistent"), "MARSHALLINGERROR");
  });
}
