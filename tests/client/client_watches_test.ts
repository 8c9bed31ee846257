/**
 * Watches against real servers: one-shot data/exist/child watches, persistent and persistent
 * recursive watches (callbacks and async iterators), removal, and the ordering guarantee.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Client, createClient, KeeperError, type WatchEvent } from "../../src/client/mod.ts";
import { assertCompat } from "../support/compat_availability.ts";
import { waitFor } from "../support/wait_for.ts";
import { TARGETS, targetSkip } from "../compat/targets.ts";

const testTimeoutMs = 60_000;

/** Node events only, as [type, path]. */
function nodeEvents(events: WatchEvent[]): [string, string | null][] {
  return events.filter((e) => e.type !== "None").map((e) => [e.type, e.path]);
}

/** Every notification the server queued for `client` before now has been delivered once this resolves. */
async function barrier(client: Client): Promise<void> {
  await client.sync("/");
  await client.exists("/");
}

const scenarios: Record<string, (watcher: Client, writer: Client) => Promise<void>> = {
  async "one-shot data, exist and child watches fire once"(watcher, writer) {
    await writer.create("/w", "0");
    const events: WatchEvent[] = [];
    const record = (event: WatchEvent) => events.push(event);
    await watcher.getData("/w", { watch: record });
    assert.equal(await watcher.exists("/w/new", { watch: record }), null);
    await watcher.getChildren("/w", { watch: record });
    await writer.setData("/w", "1");
    await writer.setData("/w", "2");
    await writer.create("/w/new", "");
    await writer.delete("/w/new");
    await barrier(watcher);
    assert.deepEqual(nodeEvents(events), [
      ["NodeDataChanged", "/w"],
      ["NodeCreated", "/w/new"],
      ["NodeChildrenChanged", "/w"],
    ]);
    const deleted: WatchEvent[] = [];
    await watcher.exists("/w", { watch: (e) => deleted.push(e) });
    await writer.delete("/w");
    await waitFor(() => deleted.length === 1, { timeoutMs: 5000, what: "NodeDeleted" });
    assert.deepEqual(nodeEvents(deleted), [["NodeDeleted", "/w"]]);
  },

  async "a watch event arrives before the reply that reveals the change"(watcher) {
    await watcher.create("/self", "0");
    const order: string[] = [];
    await watcher.getData("/self", { watch: () => order.push("event") });
    await watcher.setData("/self", "1");
    order.push("reply");
    assert.deepEqual(order, ["event", "reply"]);
    await watcher.delete("/self");
  },

  async "persistent recursive watch as an async iterator, removed when closed"(watcher, writer) {
    await writer.create("/r", "");
    const stream = watcher.watch("/r", { mode: "persistentRecursive" });
    await stream.ready;
    await writer.create("/r/a", "");
    await writer.create("/r/a/b", "");
    await writer.setData("/r/a", "x");
    await writer.delete("/r/a/b");
    const seen: [string, string | null][] = [];
    for await (const event of stream) {
      seen.push([event.type, event.path]);
      if (seen.length === 4) break;
    }
    assert.deepEqual(seen, [
      ["NodeCreated", "/r/a"],
      ["NodeCreated", "/r/a/b"],
      ["NodeDataChanged", "/r/a"],
      ["NodeDeleted", "/r/a/b"],
    ]);
    assert.equal(watcher.state, "connected");
    // The break closed the stream and removed the watch here and on the server.
    const after: WatchEvent[] = [];
    await watcher.getData("/r/a", { watch: (e) => after.push(e) });
    await writer.delete("/r/a");
    await writer.delete("/r");
    await barrier(watcher);
    assert.deepEqual(nodeEvents(after), [["NodeDeleted", "/r/a"]]);
  },

  async "persistent watch: the node's own events and its children changes, not grandchildren"(
    watcher,
    writer,
  ) {
    await writer.create("/p", "");
    const events: WatchEvent[] = [];
    const listener = (event: WatchEvent) => events.push(event);
    await watcher.addWatch("/p", "persistent", listener);
    await writer.create("/p/c", "");
    await writer.create("/p/c/g", "");
    await writer.setData("/p", "1");
    await writer.setData("/p", "2");
    await barrier(watcher);
    assert.deepEqual(nodeEvents(events), [
      ["NodeChildrenChanged", "/p"],
      ["NodeDataChanged", "/p"],
      ["NodeDataChanged", "/p"],
    ]);
    await watcher.removeWatches("/p", listener);
    assert.deepEqual(events.at(-1), {
      type: "PersistentWatchRemoved",
      state: "SyncConnected",
      path: "/p",
      zxid: -1,
    });
    await writer.setData("/p", "3");
    await barrier(watcher);
    assert.equal(nodeEvents(events).length, 4);
    await writer.delete("/p/c/g");
    await writer.delete("/p/c");
    await writer.delete("/p");
  },

  async "removeWatches and removeAllWatches"(watcher, writer) {
    await writer.create("/rm", "");
    const events: WatchEvent[] = [];
    const listener = (event: WatchEvent) => events.push(event);
    await watcher.getData("/rm", { watch: listener });
    await watcher.getChildren("/rm", { watch: listener });
    await watcher.removeWatches("/rm", listener, { type: "data" });
    await writer.setData("/rm", "1");
    await barrier(watcher);
    assert.deepEqual(nodeEvents(events), [["DataWatchRemoved", "/rm"]]);
    await watcher.removeAllWatches("/rm", "children");
    await writer.create("/rm/c", "");
    await barrier(watcher);
    assert.deepEqual(nodeEvents(events), [["DataWatchRemoved", "/rm"], ["ChildWatchRemoved", "/rm"]]);
    await assert.rejects(
      watcher.removeWatches("/rm", listener),
      (e: unknown) => KeeperError.is(e, "NOWATCHER"),
    );
    await assert.rejects(
      watcher.removeAllWatches("/rm", "any"),
      (e: unknown) => KeeperError.is(e, "NOWATCHER"),
    );
    await writer.delete("/rm/c");
    await writer.delete("/rm");
  },
};

for (const target of TARGETS) {
  test(
    `client watches against ${target.name}`,
    { skip: targetSkip(target, []), timeout: testTimeoutMs },
    async () => {
      assertCompat(target.needs);
      const server = await target.start();
      try {
        for (const [name, scenario] of Object.entries(scenarios)) {
          const watcher = await createClient(server.connectString);
          const writer = await createClient(server.connectString);
          try {
            await scenario(watcher, writer);
          } catch (error) {
            throw new Error(
              `${target.name}: scenario "${name}" failed: ${error instanceof Error ? error.stack : error}`,
            );
          } finally {
            await watcher.close();
            await writer.close();
          }
        }
      } finally {
        await server.stop();
      }
    },
  );
}
