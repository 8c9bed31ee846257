/**
 * SharedCounter against a real server: concurrent increments from several clients all count,
 * Curator's byte layouts (SharedCount int32, DistributedAtomicLong int64), trySet's version check.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SharedCounter } from "../../src/recipes/mod.ts";
import { withHarness } from "./support/harness.ts";

describe("SharedCounter", () => {
  test("concurrent increments from five clients: none lost", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3, 4].map(() => harness.connect()));
      const results: number[] = [];
      await Promise.all(clients.map(async (client) => {
        const counter = new SharedCounter(client, "/counters/hits");
        for (let round = 0; round < 20; round++) results.push((await counter.add(1)).value);
      }));
      assert.equal((await new SharedCounter(clients[0]!, "/counters/hits").get()).value, 100);
      // Every increment saw a distinct new value: 1..100.
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, index) => index + 1),
      );
    });
  });

  test("stores Curator's layouts: 4-byte SharedCount by default, 8-byte DistributedAtomicLong on request", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      await new SharedCounter(client, "/counters/int32").set(258);
      assert.deepEqual([...(await client.getData("/counters/int32")).data], [0, 0, 1, 2]);
      const long = new SharedCounter(client, "/counters/int64", { encoding: "int64", initial: 2 ** 40 });
      assert.equal((await long.add(-1)).value, 2 ** 40 - 1);
      assert.deepEqual([...(await client.getData("/counters/int64")).data], [
        0,
        0,
        0,
        0xff,
        0xff,
        0xff,
        0xff,
        0xff,
      ]);
      await assert.rejects(new SharedCounter(client, "/counters/int32").set(2 ** 31), /does not fit/);
      await assert.rejects(new SharedCounter(client, "/counters/int64").get(), /expected 4/);
      await client.create("/counters/empty", null);
      assert.equal((await new SharedCounter(client, "/counters/empty").add(5)).value, 5);
    });
  });

  test("trySet writes only at the version it read", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const mine = new SharedCounter(a, "/counters/cas");
      const theirs = new SharedCounter(b, "/counters/cas");
      const missing = await mine.get();
      assert.deepEqual(missing, { value: 0, version: -1 });
      const created = await mine.trySet(10, -1);
      assert.deepEqual(created, { value: 10, version: 0 });
      assert.equal(await theirs.trySet(99, -1), null, "already created");
      const read = await theirs.get();
      await mine.add(1);
      assert.equal(await theirs.trySet(read.value + 5, read.version), null, "someone wrote meanwhile");
      assert.equal((await theirs.get()).value, 11);
    });
  });
});
