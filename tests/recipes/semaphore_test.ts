/**
 * Semaphore against a real server: Curator's InterProcessSemaphoreV2 layout (`locks`, `leases`),
 * never more holders than leases under contention, abort, acquireMany and the lost signal.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LostError, Semaphore } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness, work } from "./support/harness.ts";

describe("Semaphore", () => {
  test("uses Curator's layout: <path>/leases/_c_<uuid>-lease-<seq>, gate at <path>/locks", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const lease = await new Semaphore(client, "/semaphores/layout", { maxLeases: 2, data: "me" }).acquire();
      assert.match(lease.path, /^\/semaphores\/layout\/leases\/_c_[0-9a-f-]{36}-lease-0000000000$/);
      assert.equal(new TextDecoder().decode((await client.getData(lease.path)).data), "me");
      assert.deepEqual(await client.getChildren("/semaphores/layout/locks"), [], "the gate is released");
      await lease.release();
      assert.deepEqual(await client.getChildren("/semaphores/layout/leases"), []);
    });
  });

  test("never more holders than leases under contention", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3, 4].map(() => harness.connect()));
      let holders = 0;
      let maxHolders = 0;
      await Promise.all(clients.map(async (client) => {
        const semaphore = new Semaphore(client, "/semaphores/pool", { maxLeases: 2 });
        for (let round = 0; round < 4; round++) {
          const lease = await semaphore.acquire();
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          await work(5);
          holders--;
          await lease.release();
        }
      }));
      assert.ok(maxHolders <= 2, `saw ${maxHolders} holders`);
      assert.equal(maxHolders, 2, "two leases were held at once at some point");
    });
  });

  test("a waiter gets a lease when one is returned; acquireMany takes several", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const leases = await new Semaphore(a, "/semaphores/many", { maxLeases: 3 }).acquireMany(3);
      assert.equal(leases.length, 3);
      const waiting = new Semaphore(b, "/semaphores/many", { maxLeases: 3 }).acquire();
      await b.sync("/");
      assert.equal(await settlesWithin(waiting, 100), false);
      await leases[1]!.release();
      const lease = await waiting;
      assert.ok(lease.fencingToken > leases[2]!.fencingToken);
      await Promise.all([lease, leases[0]!, leases[2]!].map((held) => held.release()));
      assert.throws(() => new Semaphore(a, "/semaphores/many", { maxLeases: 0 }), /maxLeases/);
    });
  });

  test("an aborted acquire leaves neither a lease node nor the gate behind", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Semaphore(a, "/semaphores/abort", { maxLeases: 1 }).acquire();
      const controller = new AbortController();
      const waiting = new Semaphore(b, "/semaphores/abort", { maxLeases: 1 }).acquire({
        signal: controller.signal,
      });
      await waitFor(async () => (await a.getChildren("/semaphores/abort/leases")).length === 2, {
        timeoutMs: 5_000,
        what: "the waiter's lease node",
      });
      controller.abort(new Error("enough"));
      await assert.rejects(waiting, /enough/);
      assert.deepEqual(await a.getChildren("/semaphores/abort/leases"), [held.name]);
      assert.deepEqual(await a.getChildren("/semaphores/abort/locks"), []);
      await held.release();
    });
  });

  test("a lease's lost signal fires on session expiry, freeing the lease for a waiter", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Semaphore(a, "/semaphores/expire", { maxLeases: 1 }).acquire();
      const waiting = new Semaphore(b, "/semaphores/expire", { maxLeases: 1 }).acquire();
      await harness.expire(a);
      await waitFor(() => held.lost.aborted, { timeoutMs: 10_000, what: "the lease's lost signal" });
      assert.ok(LostError.is(held.lost.reason, "sessionExpired"));
      await (await waiting).release();
    });
  });
});
