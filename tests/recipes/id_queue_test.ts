/**
 * DistributedIdQueue against a real server: Curator's `queue-|<id>|<seq>` names, FIFO order
 * whatever the ids, removal by id before consumers take the items, and each item delivered or
 * removed exactly once when both race.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeQueueItems, DistributedIdQueue, queueIdOf } from "../../src/recipes/mod.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("DistributedIdQueue", () => {
  test("uses Curator's layout and takes items in put order whatever their ids", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new DistributedIdQueue(client, "/queues/ids");
      await queue.put("render 9", "zeta");
      await queue.put("render 1", "alpha");
      await queue.put("render 5", "mid");
      const name = (await client.getChildren("/queues/ids")).find((child) => child.endsWith("0000000000"))!;
      assert.match(name, /^_c_[0-9a-f-]{36}-queue-\|zeta\|0000000000$/);
      assert.deepEqual(decodeQueueItems((await client.getData(`/queues/ids/${name}`)).data).map(text), [
        "render 9",
      ]);
      assert.equal((await queue.peek())!.id, "zeta");
      const taken: string[] = [];
      for (let index = 0; index < 3; index++) {
        const message = await queue.take({ signal: AbortSignal.timeout(5_000) });
        taken.push(`${message.id}:${text(message.data)}`);
      }
      assert.deepEqual(taken, ["zeta:render 9", "alpha:render 1", "mid:render 5"]);
      assert.equal(await queue.poll(), null);
    });
  });

  test("with protectedNames off, names are exactly Curator's; ids lose '/' and '|' as in Curator", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new DistributedIdQueue(client, "/queues/curator-ids", { protectedNames: false });
      await queue.put("x", "a/b|c");
      assert.deepEqual(await client.getChildren("/queues/curator-ids"), ["queue-|a_b_c|0000000000"]);
      assert.equal(queueIdOf("a/b|c"), "a_b_c");
      assert.ok(await queue.has("a_b_c"));
      assert.equal((await queue.poll())!.id, "a_b_c");
      assert.throws(() => queueIdOf(""), /non-empty/);
    });
  });

  test("remove(id) drops every queued item with that id, and consumers never see them", async () => {
    await withHarness(async (harness) => {
      const [producer, consumer] = await Promise.all([harness.connect(), harness.connect()]);
      const queue = new DistributedIdQueue(producer, "/queues/cancel");
      await queue.put("a1", "a");
      await queue.put("b1", "b");
      await queue.put("a2", "a");
      assert.ok(await queue.has("a"));
      assert.equal(await queue.remove("a"), 2);
      assert.equal(await queue.remove("a"), 0);
      assert.equal(await queue.has("a"), false);
      assert.equal(await queue.size(), 1);
      const consumerQueue = new DistributedIdQueue(consumer, "/queues/cancel");
      assert.equal(text((await consumerQueue.take()).data), "b1");
      const waiting = consumerQueue.take({ signal: AbortSignal.timeout(10_000) });
      assert.equal(await settlesWithin(waiting, 100), false);
      await queue.put("c1", "c");
      assert.equal((await waiting).id, "c");
    });
  });

  test("when consumers and a remover race, every item is taken or removed exactly once", async () => {
    await withHarness(async (harness) => {
      const [producer, remover, ...consumers] = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      const queue = new DistributedIdQueue(producer!, "/queues/race");
      for (let index = 0; index < 20; index++) await queue.put(`item-${index}`, `id-${index % 5}`);
      const taken: string[] = [];
      const consuming = consumers.map(async (client) => {
        const mine = new DistributedIdQueue(client, "/queues/race");
        for (let round = 0; round < 20; round++) {
          const message = await mine.poll();
          if (message === null) return;
          taken.push(text(message.data));
        }
      });
      const removing = (async () => {
        const mine = new DistributedIdQueue(remover!, "/queues/race");
        let removed = 0;
        for (let id = 0; id < 5; id++) removed += await mine.remove(`id-${id}`);
        return removed;
      })();
      const [removed] = await Promise.all([removing, ...consuming]);
      assert.equal(new Set(taken).size, taken.length, "no item taken twice");
      assert.equal(await queue.size(), 0);
      assert.equal(taken.length + (removed as number), 20);
    });
  });
});
