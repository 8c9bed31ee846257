/**
 * Configuration (ready-znode pattern) and Rendezvous against a real server: a watcher only ever sees
 * whole configurations, in publish order, and follows every publish; a rendezvous waiter gets the
 * data once it is published.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeeperError } from "../../mod.ts";
import { type ConfigSnapshot, ConfigWatcher, publishConfig, Rendezvous } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("configuration", () => {
  test("a watcher waits for the first configuration, then follows each publish", async () => {
    await withHarness(async (harness) => {
      const [writer, reader] = await Promise.all([harness.connect(), harness.connect()]);
      const watcher = new ConfigWatcher(reader, "/config/app");
      const first = watcher.start({ signal: AbortSignal.timeout(5_000) });
      await reader.sync("/");
      assert.equal(await settlesWithin(first, 50), false);
      const v1 = await publishConfig(writer, "/config/app", { "db.url": "pg://one", "pool": "5" });
      const snapshot = await first;
      assert.equal(snapshot.version, v1);
      assert.deepEqual([...snapshot.values].map(([key, value]) => [key, text(value)]), [[
        "db.url",
        "pg://one",
      ], ["pool", "5"]]);
      const v2 = await publishConfig(writer, "/config/app", { "db.url": "pg://two" });
      assert.ok(v2 > v1);
      await waitFor(() => watcher.current?.version === v2, {
        timeoutMs: 5_000,
        what: "the second configuration",
      });
      assert.deepEqual([...watcher.current!.values.keys()], ["db.url"], "removed keys are gone");
      assert.deepEqual(await writer.getChildren("/config/app").then((names) => names.sort()), [
        "entries",
        "ready",
      ]);
      await watcher.close();
    });
  });

  test("never a torn configuration: each snapshot is one publish, in order", async () => {
    await withHarness(async (harness) => {
      const [writer, ...readers] = await Promise.all([
        harness.connect(),
        harness.connect(),
        harness.connect(),
      ]);
      const keys = ["a", "b", "c", "d"];
      const snapshots: ConfigSnapshot[] = [];
      await publishConfig(writer, "/config/torn", Object.fromEntries(keys.map((key) => [key, "0"])));
      const watchers = readers.map((reader) => new ConfigWatcher(reader, "/config/torn"));
      for (const watcher of watchers) {
        watcher.onChange((snapshot) => snapshots.push(snapshot));
        await watcher.start();
      }
      let last = 0;
      for (let generation = 1; generation <= 25; generation++) {
        last = await publishConfig(
          writer,
          "/config/torn",
          Object.fromEntries(keys.map((key) => [key, String(generation)])),
        );
      }
      await waitFor(() => watchers.every((watcher) => watcher.current?.version === last), {
        timeoutMs: 5_000,
        what: "every watcher at the last configuration",
      });
      for (const snapshot of snapshots) {
        const values = new Set([...snapshot.values.values()].map(text));
        assert.equal(values.size, 1, `a torn snapshot: ${[...values].join()}`);
        assert.equal(snapshot.values.size, keys.length);
      }
      for (const watcher of watchers) await watcher.close();
    });
  });

  test("a watcher stops with the session's end", async () => {
    await withHarness(async (harness) => {
      const [writer, reader] = await Promise.all([harness.connect(), harness.connect()]);
      await publishConfig(writer, "/config/end", { k: "v" });
      const watcher = new ConfigWatcher(reader, "/config/end");
      await watcher.start();
      await harness.expire(reader);
      await waitFor(() => watcher.failure !== null, { timeoutMs: 10_000, what: "the watcher to stop" });
      assert.ok(KeeperError.is(watcher.failure, "SESSIONEXPIRED"), String(watcher.failure));
      await watcher.close();
    });
  });
});

describe("Rendezvous", () => {
  test("waiters get the data once published; an ephemeral rendezvous ends with its creator", async () => {
    await withHarness(async (harness) => {
      const [coordinator, master, worker] = await Promise.all([
        harness.connect(),
        harness.connect(),
        harness.connect(),
      ]);
      await new Rendezvous(coordinator, "/rendezvous/job").create({ ephemeral: true });
      const waiting = new Rendezvous(worker, "/rendezvous/job").wait({ signal: AbortSignal.timeout(5_000) });
      await worker.sync("/");
      assert.equal(await settlesWithin(waiting, 50), false);
      const stat = await new Rendezvous(master, "/rendezvous/job").publish("10.0.0.9:7000");
      const { data, stat: seen } = await waiting;
      assert.equal(text(data), "10.0.0.9:7000");
      assert.equal(seen.mzxid, stat.mzxid);
      await coordinator.close();
      assert.equal(await worker.exists("/rendezvous/job"), null);
    });
  });

  test("a waiter that comes before the node exists waits for its creation and data", async () => {
    await withHarness(async (harness) => {
      const [master, worker] = await Promise.all([harness.connect(), harness.connect()]);
      const waiting = new Rendezvous(worker, "/rendezvous/late").wait();
      await worker.sync("/");
      await new Rendezvous(master, "/rendezvous/late").create();
      assert.equal(await settlesWithin(waiting, 50), false, "empty is not published");
      await new Rendezvous(master, "/rendezvous/late").publish("here");
      assert.equal(text((await waiting).data), "here");
      assert.throws(() => new Rendezvous(master, "relative"), /absolute/);
      await assert.rejects(new Rendezvous(master, "/rendezvous/late").publish(""), /non-empty/);
    });
  });
});
