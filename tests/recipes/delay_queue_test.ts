/**
 * DistributedDelayQueue against a real server: Curator's `queue-|<epoch hex>|<seq>` names and item
 * framing, items taken in due order and never before they are due, a waiting take woken by its
 * timer and by new puts, abort, and a session's end.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeeperError } from "../../mod.ts";
import {
  decodeQueueItems,
  delayOf,
  DistributedDelayQueue,
  DistributedQueue,
  encodeDelay,
  LostError,
} from "../../src/recipes/mod.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("DistributedDelayQueue", () => {
  test("encodes due times as Curator's epochToString (%08X) and reads them back", () => {
    assert.equal(encodeDelay(255), "000000FF");
    assert.equal(encodeDelay(1_700_000_000_000), "18BCFE56800");
    assert.equal(delayOf("queue-|18BCFE56800|0000000003"), 1_700_000_000_000);
    assert.equal(delayOf("_c_0b4c-9e-queue-|000000FF|0000000000"), 255);
    assert.equal(delayOf("queue-0000000003"), 0, "a plain queue node is due at once, as in Curator");
    assert.equal(delayOf("queue-|zz|0000000003"), 0);
    assert.throws(() => encodeDelay(0), /positive integer/);
    assert.throws(() => encodeDelay(1.5), /positive integer/);
  });

  test("uses Curator's layout, and takes items in due order only once due", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      let now = 10_000;
      const queue = new DistributedDelayQueue(client, "/queues/delay", { now: () => now });
      await queue.put("third", 3_000);
      await queue.put("first", 1_000);
      await queue.putMulti(["second-a", "second-b"], new Date(2_000));
      await queue.put("later", 50_000);
      const names = await client.getChildren("/queues/delay");
      const first = names.find((name) => name.includes("|000003E8|"))!;
      assert.match(first, /^_c_[0-9a-f-]{36}-queue-\|000003E8\|\d{10}$/);
      assert.deepEqual(decodeQueueItems((await client.getData(`/queues/delay/${first}`)).data).map(text), [
        "first",
      ]);
      assert.equal(await queue.size(), 4);
      const peeked = await queue.peek();
      assert.equal(text(peeked!.data), "first");
      assert.equal(peeked!.delayUntilMs, 1_000);

      const taken: string[] = [];
      for (let index = 0; index < 3; index++) taken.push((await queue.poll())!.items.map(text).join("+"));
      assert.deepEqual(taken, ["first", "second-a+second-b", "third"]);
      assert.equal(await queue.poll(), null, "the last item is not due yet");
      assert.equal(text((await queue.peek())!.data), "later", "peek shows it anyway");
      now = 50_000;
      const later = await queue.poll();
      assert.equal(text(later!.data), "later");
      assert.equal(later!.delayUntilMs, 50_000);
      assert.equal(await queue.size(), 0);
    });
  });

  test("with protectedNames off, names are exactly Curator's; a plain consumer sees the same nodes", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new DistributedDelayQueue(client, "/queues/curator-delay", { protectedNames: false });
      await queue.put("x", 255);
      assert.deepEqual(await client.getChildren("/queues/curator-delay"), ["queue-|000000FF|0000000000"]);
      assert.equal(text((await new DistributedQueue(client, "/queues/curator-delay").poll())!.data), "x");
    });
  });

  test("take waits until the item is due, by the wall clock", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const queue = new DistributedDelayQueue(client, "/queues/wait-due");
      const due = Date.now() + 400;
      await queue.put("soon", due);
      assert.equal(await queue.poll(), null);
      const message = await queue.take({ signal: AbortSignal.timeout(10_000) });
      assert.ok(Date.now() >= due, `taken ${due - Date.now()} ms early`);
      assert.equal(text(message.data), "soon");
      assert.equal(message.delayUntilMs, due);
    });
  });

  test("a waiting take is woken by a put due earlier than the head", async () => {
    await withHarness(async (harness) => {
      const [consumer, producer] = await Promise.all([harness.connect(), harness.connect()]);
      const queue = new DistributedDelayQueue(consumer, "/queues/wake");
      await queue.put("tomorrow", Date.now() + 86_400_000);
      const taking = queue.take({ signal: AbortSignal.timeout(10_000) });
      assert.equal(await settlesWithin(taking, 150), false);
      await new DistributedDelayQueue(producer, "/queues/wake").put("now", Date.now());
      assert.equal(text((await taking).data), "now");
      assert.equal(await queue.size(), 1);
    });
  });

  test("take gives up on abort, and rejects once the session has ended", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const queue = new DistributedDelayQueue(a, "/queues/give-up");
      await queue.put("far", Date.now() + 86_400_000);
      const controller = new AbortController();
      const taking = queue.take({ signal: controller.signal });
      assert.equal(await settlesWithin(taking, 100), false);
      controller.abort(new Error("shutting down"));
      await assert.rejects(taking, /shutting down/);

      const waiting = new DistributedDelayQueue(b, "/queues/give-up").take();
      assert.equal(await settlesWithin(waiting, 100), false);
      await harness.expire(b);
      await assert.rejects(
        waiting,
        (error: unknown) => KeeperError.is(error, "SESSIONEXPIRED") || LostError.is(error, "sessionExpired"),
      );
    });
  });
});
