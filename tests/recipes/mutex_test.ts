/**
 * Mutex against a real server: Curator's node layout, mutual exclusion under contention with
 * fencing tokens that grow, one watch per waiter (no herd), tryAcquire, abort, and the lost signal.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LostError, Mutex } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness, work } from "./support/harness.ts";

const PROTECTED_LOCK = /^_c_[0-9a-f-]{36}-lock-\d{10}$/;

describe("Mutex", () => {
  test("uses Curator's InterProcessMutex layout: <path>/_c_<uuid>-lock-<seq>, parents as containers", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const lock = await new Mutex(client, "/locks/a/b", { data: "holder-1" }).acquire();
      assert.match(lock.name, PROTECTED_LOCK);
      assert.equal(lock.path, `/locks/a/b/${lock.name}`);
      assert.equal(lock.sequence, 0);
      const stat = (await client.exists(lock.path))!;
      assert.equal(stat.ephemeralOwner, client.sessionId);
      assert.equal(lock.fencingToken, stat.czxid);
      assert.equal(new TextDecoder().decode((await client.getData(lock.path)).data), "holder-1");
      // Curator's creatingParentContainersIfNeeded makes the parents containers; a Stat shows a
      // container's ephemeralOwner as 0, as ZooKeeper does, so only its existence is checked here.
      assert.equal((await client.exists("/locks/a/b"))!.ephemeralOwner, 0n);
      await lock.release();
      assert.equal(await client.exists(lock.path), null);
      assert.ok(lock.lost.aborted);
      assert.ok(LostError.is(lock.lost.reason, "released"));
    });
  });

  test("uses the given random for the uuid", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const lock = await new Mutex(client, "/locks/r", { random: () => "fixed-uuid" }).acquire();
      assert.equal(lock.name, "_c_fixed-uuid-lock-0000000000");
      await lock.release();
    });
  });

  test("keeps working while the server reaps the empty lock container between holders", async () => {
    await withHarness(async (harness) => {
      const [client, observer] = await Promise.all([harness.connect(), harness.connect()]);
      const mutex = new Mutex(client, "/locks/reaped/deep");
      for (let round = 0; round < 3; round++) {
        const lock = await mutex.acquire({ signal: AbortSignal.timeout(5_000) });
        await lock.release();
        await waitFor(async () => (await observer.exists("/locks/reaped/deep")) === null, {
          timeoutMs: 5_000,
          what: "the reaper to delete the empty container",
        });
      }
    }, { config: { containerCheckIntervalMs: 10 } });
  });

  test("at most one holder at a time under contention; fencing tokens grow with each holder", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3, 4].map(() => harness.connect()));
      let holders = 0;
      let maxHolders = 0;
      const tokens: number[] = [];
      await Promise.all(clients.map(async (client) => {
        const mutex = new Mutex(client, "/locks/contended");
        for (let round = 0; round < 5; round++) {
          await mutex.run(async (lock) => {
            holders++;
            maxHolders = Math.max(maxHolders, holders);
            tokens.push(lock.fencingToken);
            await work(2);
            assert.ok(lock.held);
            holders--;
          });
        }
      }));
      assert.equal(maxHolders, 1);
      assert.equal(tokens.length, 25);
      for (let index = 1; index < tokens.length; index++) {
        assert.ok(tokens[index]! > tokens[index - 1]!, `token ${tokens[index]} after ${tokens[index - 1]}`);
      }
      assert.deepEqual(await new Mutex(clients[0]!, "/locks/contended").participants(), []);
    });
  });

  test("a waiter watches only the node just ahead of it (no herd effect)", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      const first = await new Mutex(clients[0]!, "/locks/herd").acquire();
      const waiting = clients.slice(1).map((client) => new Mutex(client, "/locks/herd").acquire());
      const probe = new Mutex(clients[0]!, "/locks/herd");
      await waitFor(async () => (await probe.participants()).length === 4, {
        timeoutMs: 5_000,
        what: "4 in line",
      });
      const line = await probe.participants();
      // Each waiter's getData watch sits on its predecessor (the holder also watches its own node,
      // to notice a deletion): one watch on each node but the last, two on the holder's.
      const expected = [2, 1, 1, undefined];
      await waitFor(() => {
        const watches = harness.dataWatches();
        return line.every((path, index) => watches.get(path) === expected[index]);
      }, { timeoutMs: 5_000, what: `watches ${JSON.stringify(expected)} on the line` });
      await first.release();
      const held = await Promise.all(waiting.map(async (pending) => {
        const lock = await pending;
        await lock.release();
        return lock.sequence;
      }));
      assert.deepEqual(held, [1, 2, 3]);
    });
  });

  test("tryAcquire resolves null while the lock is held and leaves no node behind", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/try").acquire();
      const mutex = new Mutex(b, "/locks/try");
      assert.equal(await mutex.tryAcquire(), null);
      assert.equal((await mutex.participants()).length, 1);
      await held.release();
      const lock = await mutex.tryAcquire();
      assert.ok(lock !== null);
      await lock.release();
    });
  });

  test("acquire gives up when its signal aborts, and leaves the line", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/abort").acquire();
      const controller = new AbortController();
      const mutex = new Mutex(b, "/locks/abort");
      const waiting = mutex.acquire({ signal: controller.signal });
      await waitFor(async () => (await mutex.participants()).length === 2, {
        timeoutMs: 5_000,
        what: "b in line",
      });
      controller.abort(new Error("gave up"));
      await assert.rejects(waiting, /gave up/);
      assert.equal((await mutex.participants()).length, 1);
      await held.release();
      await assert.rejects(mutex.acquire({ signal: AbortSignal.abort(new Error("already")) }), /already/);
    });
  });

  test("lost fires when the holder's session expires, and the next waiter gets the lock", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/expire").acquire();
      const next = new Mutex(b, "/locks/expire").acquire();
      assert.equal(await settlesWithin(next, 100), false);
      await harness.expire(a);
      await waitFor(() => held.lost.aborted, { timeoutMs: 10_000, what: "the holder's lost signal" });
      assert.ok(LostError.is(held.lost.reason, "sessionExpired"), String(held.lost.reason));
      assert.equal(held.held, false);
      const lock = await next;
      assert.ok(lock.fencingToken > held.fencingToken);
      await held.release(); // after a loss: no error
      await lock.release();
    });
  });

  test("lost fires when someone deletes the holder's node", async () => {
    await withHarness(async (harness) => {
      const [a, admin] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/deleted").acquire();
      await admin.delete(held.path);
      await waitFor(() => held.lost.aborted, { timeoutMs: 5_000, what: "lost after deletion" });
      assert.ok(LostError.is(held.lost.reason, "nodeDeleted"));
    });
  });

  test("lost fires when the client is closed, and a waiter is rejected when its session ends", async () => {
    await withHarness(async (harness) => {
      const [a, b, c] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/closed").acquire();
      const waiting = new Mutex(c, "/locks/closed").acquire();
      await a.close();
      assert.ok(LostError.is(held.lost.reason, "clientClosed"));
      const second = await waiting;
      const third = new Mutex(b, "/locks/closed").acquire();
      await harness.expire(b);
      await assert.rejects(third, (error: unknown) => LostError.is(error, "sessionExpired"));
      await second.release();
    });
  });
});
