/**
 * MultiLock against a real server: each part in Curator's mutex layout, all or none (a failed or
 * aborted acquire releases what it took), release in reverse order, the combined lost signal, and
 * parts of other kinds (a ReadWriteLock side).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { WatchEvent } from "../../mod.ts";
import { LostError, MultiLock, Mutex, ReadWriteLock } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

const PROTECTED_LOCK = /^_c_[0-9a-f-]{36}-lock-\d{10}$/;

describe("MultiLock", () => {
  test("holds a Curator mutex node on every path; fencingToken is the largest part's", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const multi = new MultiLock(client, ["/locks/m/a", "/locks/m/b"], { data: "host-1" });
      assert.equal(multi.size, 2);
      const locks = await multi.acquire();
      assert.equal(locks.locks.length, 2);
      assert.ok(locks.held);
      for (const [index, lock] of locks.locks.entries()) {
        assert.equal(lock.path, `/locks/m/${"ab"[index]}/${lock.name}`);
        assert.match(lock.name, PROTECTED_LOCK);
        assert.equal(new TextDecoder().decode((await client.getData(lock.path)).data), "host-1");
      }
      assert.equal(locks.fencingToken, Math.max(...locks.locks.map((lock) => lock.fencingToken)));
      await locks.release();
      assert.ok(!locks.held);
      assert.ok(LostError.is(locks.lost.reason, "released"));
      for (const lock of locks.locks) assert.equal(await client.exists(lock.path), null);
    });
  });

  test("excludes a plain Mutex on any of its paths, and other multi-locks that overlap", async () => {
    await withHarness(async (harness) => {
      const [a, b, c] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const single = await new Mutex(a, "/locks/x/2").acquire();
      const first = new MultiLock(b, ["/locks/x/1", "/locks/x/2"]).acquire();
      assert.equal(await settlesWithin(first, 150), false, "waits for the plain mutex");
      const second = new MultiLock(c, ["/locks/x/1", "/locks/x/3"]).acquire();
      assert.equal(await settlesWithin(second, 150), false, "waits for the first multi-lock's /locks/x/1");
      await single.release();
      const firstLocks = await first;
      assert.equal(await settlesWithin(second, 100), false);
      await firstLocks.release();
      await (await second).release();
    });
  });

  test("all or none: an aborted wait releases the locks already taken", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const blocker = await new Mutex(a, "/locks/all/2").acquire();
      const controller = new AbortController();
      const waiting = new MultiLock(b, ["/locks/all/1", "/locks/all/2"]).acquire({
        signal: controller.signal,
      });
      const probe = new Mutex(a, "/locks/all/1");
      await waitFor(async () => (await new Mutex(a, "/locks/all/2").participants()).length === 2, {
        timeoutMs: 5_000,
        what: "the multi-lock waiting on its second path",
      });
      assert.equal((await probe.participants()).length, 1, "holds the first path meanwhile");
      controller.abort(new Error("gave up"));
      await assert.rejects(waiting, /gave up/);
      assert.deepEqual(await probe.participants(), [], "the first path was released");
      assert.equal((await new Mutex(a, "/locks/all/2").participants()).length, 1, "only the blocker is left");
      await blocker.release();
    });
  });

  test("tryAcquire resolves null when any part is taken, and leaves no node behind", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const blocker = await new Mutex(a, "/locks/try/3").acquire();
      const multi = new MultiLock(b, ["/locks/try/1", "/locks/try/2", "/locks/try/3"]);
      assert.equal(await multi.tryAcquire(), null);
      for (const path of ["/locks/try/1", "/locks/try/2"]) {
        assert.deepEqual(await new Mutex(a, path).participants(), []);
      }
      await blocker.release();
      const locks = await multi.tryAcquire();
      assert.ok(locks !== null);
      await locks.release();
    });
  });

  test("releases in reverse order of acquisition", async () => {
    await withHarness(async (harness) => {
      const [client, observer] = await Promise.all([harness.connect(), harness.connect()]);
      const locks = await new MultiLock(client, ["/locks/order/a", "/locks/order/b", "/locks/order/c"])
        .acquire();
      const deleted: string[] = [];
      for (const lock of locks.locks) {
        await observer.exists(lock.path, {
          watch: (event: WatchEvent) => {
            if (event.type === "NodeDeleted") deleted.push(event.path);
          },
        });
      }
      await locks.release();
      await waitFor(() => deleted.length === 3, { timeoutMs: 5_000, what: "three deletions" });
      assert.deepEqual(deleted, locks.locks.map((lock) => lock.path).reverse());
    });
  });

  test("lost fires when any part is lost; a part lost while waiting fails the acquire", async () => {
    await withHarness(async (harness) => {
      const [a, b, admin] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const locks = await new MultiLock(a, ["/locks/lost/1", "/locks/lost/2"]).acquire();
      await admin.delete(locks.locks[1]!.path);
      await waitFor(() => locks.lost.aborted, { timeoutMs: 5_000, what: "the multi-lock's lost signal" });
      assert.ok(LostError.is(locks.lost.reason, "nodeDeleted"));
      assert.equal(locks.held, false);
      await locks.release();

      const blocker = await new Mutex(admin, "/locks/lost/4").acquire();
      const waiting = new MultiLock(b, ["/locks/lost/3", "/locks/lost/4"]).acquire();
      await waitFor(async () => (await new Mutex(admin, "/locks/lost/3").participants()).length === 1, {
        timeoutMs: 5_000,
        what: "the first part taken",
      });
      const [taken] = await new Mutex(admin, "/locks/lost/3").participants();
      await admin.delete(taken!);
      await assert.rejects(waiting, (error: unknown) => LostError.is(error, "nodeDeleted"));
      assert.equal((await new Mutex(admin, "/locks/lost/4").participants()).length, 1, "left the line");
      await blocker.release();
    });
  });

  test("takes parts of other kinds: a write lock and a mutex", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const rw = new ReadWriteLock(a, "/locks/kinds/rw");
      const read = await new ReadWriteLock(b, "/locks/kinds/rw").readLock.acquire();
      const waiting = new MultiLock(a, [rw.writeLock, "/locks/kinds/m"]).acquire();
      assert.equal(await settlesWithin(waiting, 150), false, "the write lock waits for the reader");
      await read.release();
      const locks = await waiting;
      assert.match(locks.locks[0]!.name, /__WRIT__\d{10}$/);
      await locks.release();
      assert.throws(() => new MultiLock(a, []), /between 1 and/);
    });
  });
});
