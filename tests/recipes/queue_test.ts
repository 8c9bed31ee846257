/**
 * DistributedQueue and PriorityQueue against a real server: Curator's item framing and names, FIFO
 * order, every item taken exactly once by competing consumers, blocking take, priority order.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  decodeQueueItems,
  DistributedQueue,
  encodePriority,
  encodeQueueItems,
  priorityOf,
  PriorityQueue,
} from "../../src/recipes/mod.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("queue item framing (Curator's ItemSerializer)", () => {
  test("encodes version, items and end marker big-endian, and decodes them back", () => {
    const bytes = encodeQueueItems(["ab", new Uint8Array([7])]);
    assert.deepEqual([...bytes], [0, 1, 0, 1, 1, 0, 0, 0, 2, 97, 98, 1, 0, 0, 0, 1, 7, 2]);
    assert.deepEqual(decodeQueueItems(bytes).map((item) => [...item]), [[97, 98], [7]]);
    assert.deepEqual(decodeQueueItems(encodeQueueItems([])), []);
    assert.throws(() => decodeQueueItems(new Uint8Array([0, 0, 0, 1, 2])), /version/);
    assert.throws(() => decodeQueueItems(new Uint8Array([0, 1, 0, 1, 1, 0, 0, 0, 9, 1])), /item length/);
    assert.throws(() => decodeQueueItems(new Uint8Array([0, 1, 0, 1, 1, 0, 0, 0, 0])), /end marker/);
  });

  test("priorities encode as Curator's priorityToString and sort numerically", () => {
    assert.equal(encodePriority(0), "100000000");
    assert.equal(encodePriority(10), "10000000A");
    assert.equal(encodePriority(-1), "0FFFFFFFF");
    const priorities = [5, -3, 0, 2 ** 31 - 1, -(2 ** 31), -1];
    const sorted = priorities.map(encodePriority).sort();
    assert.deepEqual(
      sorted.map((code) => priorityOf(`queue-${code}0000000000`)),
      [...priorities].sort((a, b) => a - b),
    );
    assert.throws(() => encodePriority(2 ** 31), /32-bit/);
  });
});

describe("DistributedQueue", () => {
  test("FIFO, with protected queue-<seq> names and Curator's framing in the nodes", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new DistributedQueue(client, "/queues/fifo");
      for (let index = 0; index < 10; index++) await queue.put(`item-${index}`);
      const name = (await client.getChildren("/queues/fifo")).find((child) => child.endsWith("0000000000"));
      assert.match(name!, /^_c_[0-9a-f-]{36}-queue-\d{10}$/);
      assert.deepEqual(decodeQueueItems((await client.getData(`/queues/fifo/${name}`)).data).map(text), [
        "item-0",
      ]);
      assert.equal(await queue.size(), 10);
      assert.equal(text((await queue.peek())!.data), "item-0");
      const taken: string[] = [];
      for (let index = 0; index < 10; index++) taken.push(text((await queue.take()).data));
      assert.deepEqual(taken, Array.from({ length: 10 }, (_, index) => `item-${index}`));
      assert.equal(await queue.poll(), null);
      await queue.putMulti(["x", "y"]);
      assert.deepEqual((await queue.take()).items.map(text), ["x", "y"]);
    });
  });

  test("competing consumers take every item exactly once, in sequence order per consumer", async () => {
    await withHarness(async (harness) => {
      const [producerA, producerB, ...consumers] = await Promise.all(
        [0, 1, 2, 3, 4].map(() => harness.connect()),
      );
      const put = (client: typeof producerA, tag: string) =>
        (async () => {
          const queue = new DistributedQueue(client!, "/queues/shared");
          for (let index = 0; index < 15; index++) await queue.put(`${tag}${index}`);
        })();
      const taken: { consumer: number; sequence: number; item: string }[] = [];
      const done = new AbortController();
      const consuming = consumers.map(async (client, consumer) => {
        const queue = new DistributedQueue(client, "/queues/shared");
        while (!done.signal.aborted) {
          const message = await queue.take({
            signal: AbortSignal.any([done.signal, AbortSignal.timeout(10_000)]),
          })
            .catch(() => null);
          if (message === null) return;
          taken.push({ consumer, sequence: message.sequence, item: text(message.data) });
          if (taken.length === 30) done.abort();
        }
      });
      await Promise.all([put(producerA, "a"), put(producerB, "b")]);
      await Promise.all(consuming);
      const items = taken.map((entry) => entry.item).sort();
      assert.equal(items.length, 30);
      assert.equal(new Set(items).size, 30, "no item twice");
      for (const consumer of [0, 1, 2]) {
        const sequences = taken.filter((entry) => entry.consumer === consumer).map((entry) => entry.sequence);
        assert.deepEqual(sequences, [...sequences].sort((x, y) => x - y), `consumer ${consumer} in order`);
      }
    });
  });

  test("take waits for an item; an aborted take gives up", async () => {
    await withHarness(async (harness) => {
      const [consumer, producer] = await Promise.all([harness.connect(), harness.connect()]);
      const waiting = new DistributedQueue(consumer, "/queues/wait").take();
      await consumer.sync("/");
      assert.equal(await settlesWithin(waiting, 50), false);
      await new DistributedQueue(producer, "/queues/wait").put("hello");
      assert.equal(text((await waiting).data), "hello");
      await assert.rejects(
        new DistributedQueue(consumer, "/queues/wait").take({ signal: AbortSignal.timeout(50) }),
        /timeout|abort/i,
      );
    });
  });

  test("reads plain-byte nodes of other producers as one item", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      await client.create("/queues", null);
      await client.create("/queues/raw", null);
      await client.create("/queues/raw/queue-", "raw bytes", { mode: 2 });
      assert.equal(text((await new DistributedQueue(client, "/queues/raw").take()).data), "raw bytes");
    });
  });
});

describe("PriorityQueue", () => {
  test("takes lower priorities first, FIFO within a priority", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new PriorityQueue(client, "/queues/priority");
      await queue.put("low-1", 10);
      await queue.put("urgent", -5);
      await queue.put("normal-1", 0);
      await queue.put("low-2", 10);
      await queue.put("normal-2", 0);
      const names = await client.getChildren("/queues/priority");
      assert.ok(names.every((name) => /-queue-[01][0-9A-F]{8}\d{10}$/.test(name)), names.join());
      const taken: string[] = [];
      for (let index = 0; index < 5; index++) {
        const message = await queue.take();
        taken.push(`${text(message.data)}@${message.priority}`);
      }
      assert.deepEqual(taken, ["urgent@-5", "normal-1@0", "normal-2@0", "low-1@10", "low-2@10"]);
      assert.equal(await queue.poll(), null);
    });
  });
});
