/**
 * Scenarios where ZooKeeper 3.8 and Corral (which follows 3.9) knowingly differ; the test skips them
 * for Corral, naming the difference with README_NOTE.
 */
import assert from "node:assert/strict";
import { createClient, CREATOR_ALL_ACL, type WatchEvent } from "../../../../src/client/mod.ts";
import { barrier, labels, rejectsWith, type ScenarioServer, withClients } from "./shared.ts";

export async function existsIgnoresAcl(server: ScenarioServer, root: string): Promise<void> {
  const alice = await createClient(server.connectString, {
    auth: [{ scheme: "digest", auth: "alice:secret" }],
  });
  try {
    await withClients([server.connectString], async (anonymous) => {
      await alice.create(`${root}/secret`, "s", { acl: [...CREATOR_ALL_ACL] });
      await rejectsWith(anonymous.getData(`${root}/secret`), "NOAUTH");
      assert.equal((await anonymous.exists(`${root}/secret`))?.dataLength, 1, "3.8.0's exists checks no ACL");
    });
  } finally {
    await alice.close();
  }
}

export async function notificationZxid(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (watcher, writer) => {
    await writer.create(`${root}/z`, "");
    const events: WatchEvent[] = [];
    await watcher.getData(`${root}/z`, { watch: (event) => events.push(event) });
    await writer.setData(`${root}/z`, "1");
    await barrier(watcher);
    assert.deepEqual(events, [{
      type: "NodeDataChanged",
      state: "SyncConnected",
      path: `${root}/z`,
      zxid: -1,
    }]);
  });
}

export async function oneShotBesidePersistent(server: ScenarioServer, root: string): Promise<void> {
  await withClients([server.connectString, server.connectString], async (watcher, writer) => {
    const p = `${root}/p`;
    await writer.create(p, "");
    const events: WatchEvent[] = [];
    const listener = (event: WatchEvent) => events.push(event);
    await watcher.addWatch(p, "persistent", listener);
    // The same listener as a one-shot watch too: the client calls it once per event.
    await watcher.getData(p, { watch: listener });
    await writer.setData(p, "1");
    await writer.setData(p, "2");
    await writer.create(`${p}/c`, "");
    await barrier(watcher);
    // In 3.8 the session's one-shot registration replaced its persistent data watch on the server,
    // which then went with the first event (ZOOKEEPER-4466); the persistent child watch stayed.
    assert.deepEqual(labels(events), [`NodeDataChanged ${p}`, `NodeChildrenChanged ${p}`]);
  });
}

export const README_NOTE =
  'documented in README.md "Compatibility notes" (Corral follows ZooKeeper 3.9 there)';
