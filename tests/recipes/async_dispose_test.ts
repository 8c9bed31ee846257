/**
 * `await using` on the client and on every recipe handle that is released, closed or left: leaving
 * the block releases it. The disposal method is also called directly, for runtimes or compilers
 * without the syntax; its key is Symbol.asyncDispose where the runtime has one.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { asyncDispose } from "../../src/client/async_dispose.ts";
import {
  ConfigWatcher,
  GroupMember,
  LeaderLatch,
  LeaderSelector,
  LostError,
  MultiLock,
  Mutex,
  publishConfig,
  ReadWriteLock,
  Semaphore,
  ServiceDiscovery,
  TreeCache,
} from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { withHarness } from "./support/harness.ts";

describe("asyncDispose", () => {
  test("is Symbol.asyncDispose where the runtime defines it", () => {
    const native = (Symbol as { asyncDispose?: symbol }).asyncDispose;
    assert.equal(asyncDispose, native ?? Symbol.for("Symbol.asyncDispose"));
  });

  test("await using releases a lock, a lease and a multi-lock when the block ends", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      let paths: string[] = [];
      {
        await using lock = await new Mutex(client, "/locks/using").acquire();
        await using lease = await new Semaphore(client, "/semaphores/using", { maxLeases: 2 }).acquire();
        await using read = await new ReadWriteLock(client, "/locks/rw-using").readLock.acquire();
        await using both = await new MultiLock(client, ["/locks/using-a", "/locks/using-b"]).acquire();
        paths = [lock.path, lease.path, read.path, ...both.locks.map((part) => part.path)];
        for (const path of paths) assert.ok(await client.exists(path), `${path} held inside the block`);
      }
      for (const path of paths) assert.equal(await client.exists(path), null, `${path} released`);
    });
  });

  test("await using closes a client, also when the block throws", async () => {
    await withHarness(async (harness) => {
      let outer: Awaited<ReturnType<typeof createClient>> | null = null;
      await assert.rejects(async () => {
        await using client = await createClient(harness.connectString, { sessionTimeoutMs: 4_000 });
        outer = client;
        await client.create("/using-client", "x");
        throw new Error("boom");
      }, /boom/);
      assert.equal(outer!.state, "closed");
    });
  });

  test("the disposal method releases, closes or leaves each recipe handle", async () => {
    await withHarness(async (harness) => {
      const [client, observer] = await Promise.all([harness.connect(), harness.connect()]);
      const lock = await new Mutex(client, "/locks/direct").acquire();
      await lock[asyncDispose]();
      assert.ok(LostError.is(lock.lost.reason, "released"));

      const latch = new LeaderLatch(client, "/election/direct");
      await latch.start();
      const term = await latch.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await latch[asyncDispose]();
      assert.ok(term.lost.aborted);
      assert.deepEqual(await observer.getChildren("/election/direct").catch(() => []), []);

      let leading = false;
      const selector = new LeaderSelector(client, "/election/selector-direct", {
        lead: (current) =>
          new Promise<void>((resolve) => {
            leading = true;
            current.lost.addEventListener("abort", () => resolve(), { once: true });
          }),
      });
      selector.start();
      await waitFor(() => leading, { timeoutMs: 5_000, what: "the selector leading" });
      await selector[asyncDispose]();
      assert.equal(selector.hasLeadership, false);

      const member = new GroupMember(client, "/groups/direct", { id: "m1" });
      await member.join();
      await member[asyncDispose]();
      assert.equal(await observer.exists("/groups/direct/m1"), null);

      const cache = new TreeCache(client, "/groups");
      await cache.start();
      await cache[asyncDispose]();

      const discovery = new ServiceDiscovery(client, "/services");
      const registration = await discovery.register({ name: "api", id: "i1", address: "10.0.0.1" });
      const services = discovery.serviceCache("api");
      await services.start();
      await registration[asyncDispose]();
      assert.equal(await observer.exists(registration.path), null);
      await services[asyncDispose]();

      await publishConfig(client, "/config/direct", { key: "value" });
      const watcher = new ConfigWatcher(client, "/config/direct");
      await watcher.start({ signal: AbortSignal.timeout(5_000) });
      await watcher[asyncDispose]();

      const multi = await new MultiLock(client, ["/locks/direct-a"]).acquire();
      await multi[asyncDispose]();
      assert.equal(multi.held, false);

      const other = await createClient(harness.connectString, { sessionTimeoutMs: 4_000 });
      await other[asyncDispose]();
      assert.equal(other.state, "closed");
    });
  });
});
