/**
 * Protected creates: a create-sequential whose connection is lost finds its own node by the uuid in
 * its name instead of creating a second one — with a test double, and end to end through a proxy
 * that lets the create reach the server but cuts the connection before the reply comes back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CreateMode, KeeperError } from "../../mod.ts";
import {
  createProtected,
  DistributedQueue,
  LeaderLatch,
  Mutex,
  Semaphore,
  sequenceOf,
} from "../../src/recipes/mod.ts";
import { startFaultProxy } from "./support/fault_proxy.ts";
import { flakyCreates } from "./support/flaky_client.ts";
import { withHarness } from "./support/harness.ts";
import { waitFor } from "../support/wait_for.ts";

const OP_CREATE2 = 15;

describe("protected creates", () => {
  test("a create applied but reported lost is found by its uuid: one node, and it is the lock", async () => {
    await withHarness(async (harness) => {
      const real = await harness.connect();
      const flaky = flakyCreates(real, { loseAfterApplying: 1 });
      const lock = await new Mutex(flaky.client, "/locks/p", { random: () => "uuid-1" }).acquire();
      assert.deepEqual(flaky.appliedButLost, ["/locks/p/_c_uuid-1-lock-0000000000"]);
      assert.equal(lock.path, "/locks/p/_c_uuid-1-lock-0000000000");
      assert.deepEqual(await real.getChildren("/locks/p"), ["_c_uuid-1-lock-0000000000"]);
      await lock.release();
    });
  });

  test("a create that never happened is simply made again", async () => {
    await withHarness(async (harness) => {
      const real = await harness.connect();
      const flaky = flakyCreates(real, { loseBeforeSending: 2 });
      const node = await createProtected(flaky.client, "/p", "n-", {
        uuid: "u",
        mode: CreateMode.EPHEMERAL_SEQUENTIAL,
      });
      assert.equal(flaky.neverSent.length, 2);
      assert.equal(node.name, "_c_u-n-0000000000");
      assert.deepEqual(await real.getChildren("/p"), ["_c_u-n-0000000000"]);
    });
  });

  test("recipes that create sequential nodes all recover (latch, semaphore, queue)", async () => {
    await withHarness(async (harness) => {
      const real = await harness.connect();
      let counter = 0;
      const random = () => `uuid-${counter++}`;

      const latchClient = flakyCreates(real, { loseAfterApplying: 1 });
      const latch = new LeaderLatch(latchClient.client, "/election/p", { id: "me", random });
      await latch.start();
      await latch.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      assert.equal((await real.getChildren("/election/p")).length, 1);
      await latch.close();

      const semaphoreClient = flakyCreates(real, { loseAfterApplying: 2 }); // the gate's lock, then the lease
      const lease = await new Semaphore(semaphoreClient.client, "/semaphores/p", { maxLeases: 1, random })
        .acquire();
      assert.equal(semaphoreClient.appliedButLost.length, 2);
      assert.deepEqual(await real.getChildren("/semaphores/p/leases"), [lease.name]);
      assert.deepEqual(await real.getChildren("/semaphores/p/locks"), []);
      await lease.release();

      const queueClient = flakyCreates(real, { loseAfterApplying: 1 });
      await new DistributedQueue(queueClient.client, "/queues/p", { random }).put("once");
      assert.equal((await real.getChildren("/queues/p")).length, 1);
    });
  });

  test("with protectedNames off, names are Curator's plain queue-<seq> and a lost put rejects", async () => {
    await withHarness(async (harness) => {
      const real = await harness.connect();
      const flaky = flakyCreates(real, {
        loseAfterApplying: 1,
        matching: (path) => path.includes("/queue-"),
      });
      const queue = new DistributedQueue(flaky.client, "/queues/plain", { protectedNames: false });
      await assert.rejects(queue.put("maybe"), (error: unknown) => KeeperError.is(error, "CONNECTIONLOSS"));
      const put = await queue.put("surely");
      assert.match(put.path, /^\/queues\/plain\/queue-\d{10}$/);
      assert.equal(
        (await real.getChildren("/queues/plain")).length,
        2,
        "the lost put happened: it may, unprotected",
      );
    });
  });

  test("end to end: the reply to a lock's create is lost with the connection; the lock is still acquired once", async () => {
    await withHarness(async (harness) => {
      const proxy = await startFaultProxy({ host: "127.0.0.1", port: harness.port });
      try {
        const client = await harness.connect({ connectString: proxy.connectString });
        const observer = await harness.connect();
        const dropped = proxy.dropReplyTo((request) =>
          request.opcode === OP_CREATE2 && request.path?.includes("_c_") === true
        );
        const lock = await new Mutex(client, "/locks/e2e").acquire({ signal: AbortSignal.timeout(10_000) });
        const request = await dropped;
        assert.equal(request.path?.startsWith("/locks/e2e/_c_"), true);
        const children = await observer.getChildren("/locks/e2e");
        assert.deepEqual(children, [lock.name], "exactly one lock node, the one whose reply was lost");
        assert.equal(sequenceOf(lock.name), 0);
        assert.equal((await observer.exists(lock.path))!.ephemeralOwner, client.sessionId);
        await lock.release();
        assert.deepEqual(await observer.getChildren("/locks/e2e"), []);
      } finally {
        await proxy.close();
      }
    });
  });

  test("end to end: a waiter that recovered its node after a lost reply and then gives up leaves no orphan", async () => {
    await withHarness(async (harness) => {
      const proxy = await startFaultProxy({ host: "127.0.0.1", port: harness.port });
      try {
        const client = await harness.connect({ connectString: proxy.connectString });
        const observer = await harness.connect();
        const held = await new Mutex(observer, "/locks/race").acquire();
        const dropped = proxy.dropReplyTo((request) =>
          request.opcode === OP_CREATE2 && request.path?.includes("_c_") === true
        );
        const controller = new AbortController();
        const waiting = new Mutex(client, "/locks/race").acquire({ signal: controller.signal });
        await dropped;
        // The waiter recovered its node after the reconnect; give up waiting: the node must go too.
        await waitFor(async () => (await observer.getChildren("/locks/race")).length === 2, {
          timeoutMs: 5_000,
          what: "the waiter's node",
        });
        controller.abort(new Error("stop"));
        await assert.rejects(waiting, /stop/);
        assert.deepEqual(await observer.getChildren("/locks/race"), [held.name]);
        await held.release();
      } finally {
        await proxy.close();
      }
    });
  });
});
