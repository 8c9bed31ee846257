/**
 * The recipes against Apache ZooKeeper 3.8 (skipped without Java and Debian's zookeeper): the same
 * znodes and watches work on the reference server — containers, create2, persistent recursive
 * watches, and the sequence order the lock recipes rely on; multi-locks, revocation, and the id and
 * delay queues' node names ("|" inside a sequential name).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Client, createClient } from "../../mod.ts";
import {
  DistributedDelayQueue,
  DistributedIdQueue,
  DistributedQueue,
  LeaderLatch,
  MultiLock,
  Mutex,
  revokeLock,
  Semaphore,
  TreeCache,
} from "../../src/recipes/mod.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { waitFor } from "../support/wait_for.ts";
import { readTree, work } from "./support/harness.ts";

const skip = skipUnlessCompat(["java", "zookeeper"]);

test(
  "locks, leases, election, queue and tree cache work against Apache ZooKeeper",
  { skip, timeout: 60_000 },
  async () => {
    assertCompat(["java", "zookeeper"]);
    const zookeeper = await startRealZooKeeper();
    const clients: Client[] = [];
    try {
      for (let index = 0; index < 3; index++) {
        clients.push(await createClient(zookeeper.connectString, { sessionTimeoutMs: 10_000 }));
      }
      const [a, b, c] = clients as [Client, Client, Client];

      let holders = 0;
      let maxHolders = 0;
      await Promise.all(clients.map(async (client) => {
        for (let round = 0; round < 3; round++) {
          await new Mutex(client, "/zk/locks/m").run(async (lock) => {
            assert.match(lock.name, /^_c_[0-9a-f-]{36}-lock-\d{10}$/);
            maxHolders = Math.max(maxHolders, ++holders);
            await work(2);
            holders--;
          });
        }
      }));
      assert.equal(maxHolders, 1);

      const leases = await new Semaphore(a, "/zk/semaphore", { maxLeases: 2 }).acquireMany(2);
      assert.equal(
        await new Semaphore(b, "/zk/semaphore", { maxLeases: 2 }).acquire({
          signal: AbortSignal.timeout(200),
        }).catch(() => null),
        null,
      );
      await Promise.all(leases.map((lease) => lease.release()));

      const first = new LeaderLatch(a, "/zk/election", { id: "a" });
      const second = new LeaderLatch(b, "/zk/election", { id: "b" });
      await first.start();
      await second.start();
      await first.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await first.close();
      const term = await second.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      assert.equal(term.id, "b");
      await second.close();

      const queue = new DistributedQueue(a, "/zk/queue");
      for (const item of ["1", "2", "3"]) await queue.put(item);
      const taken = [];
      for (let index = 0; index < 3; index++) {
        taken.push(
          new TextDecoder().decode((await new DistributedQueue(b, "/zk/queue").take()).data),
        );
      }
      assert.deepEqual(taken, ["1", "2", "3"]);

      const both = await new MultiLock(a, ["/zk/multi/1", "/zk/multi/2"]).acquire();
      assert.equal(await new MultiLock(b, ["/zk/multi/0", "/zk/multi/2"]).tryAcquire(), null);
      await both.release();
      const revocable = await new Mutex(a, "/zk/revocable", {
        onRevoke: (lock) => void lock.release(),
      }).acquire();
      assert.equal(await revokeLock(b, revocable.path), true);
      await waitFor(() => !revocable.held, { timeoutMs: 5_000, what: "the revoked lock released" });

      const ids = new DistributedIdQueue(a, "/zk/ids");
      await ids.put("one", "job-1");
      await ids.put("two", "job-2");
      assert.equal(await new DistributedIdQueue(b, "/zk/ids").remove("job-1"), 1);
      assert.equal((await new DistributedIdQueue(b, "/zk/ids").take()).id, "job-2");
      const delays = new DistributedDelayQueue(a, "/zk/delays");
      await delays.put("later", Date.now() + 300);
      await delays.put("due", Date.now() - 1);
      const consumer = new DistributedDelayQueue(b, "/zk/delays");
      const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
      assert.equal(decode((await consumer.take({ signal: AbortSignal.timeout(5_000) })).data), "due");
      assert.equal(decode((await consumer.take({ signal: AbortSignal.timeout(5_000) })).data), "later");

      await c.create("/zk/tree", "");
      const cache = new TreeCache(b, "/zk/tree");
      await cache.start();
      await c.create("/zk/tree/x", "1");
      await c.create("/zk/tree/x/y", "2");
      await c.setData("/zk/tree/x", "3");
      const expected = await readTree(c, "/zk/tree");
      await waitFor(
        () => cache.size === expected.size && new TextDecoder().decode(cache.get("/zk/tree/x")?.data) === "3",
        {
          timeoutMs: 5_000,
          what: "the cache to follow Apache ZooKeeper",
        },
      );
      await cache.close();
    } finally {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await zookeeper.stop();
    }
  },
);
