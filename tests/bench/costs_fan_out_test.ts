import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Client, createClient } from "../../src/client/mod.ts";
import { connectPool } from "../../bench/costs/client_pool.ts";
import { startCorralMemoryTarget } from "../../bench/costs/costs_targets.ts";
import { runFanOutRound } from "../../bench/costs/fan_out.ts";

describe("runFanOutRound (in-memory server)", () => {
  test("delivers exactly one NodeDataChanged to each of 20 watchers, round after round", async () => {
    const target = await startCorralMemoryTarget();
    const transport = { transport: target.clientTransport! };
    let writer: Client | null = null;
    const pool = await connectPool(target.connectString, { count: 4, concurrency: 2, sessionTimeoutMs: 30_000, ...transport });
    try {
      assert.equal(pool.clients.length, 4);
      assert.equal(pool.connectDelays.count, 4);
      writer = await createClient(target.connectString, transport);
      await writer.create("/fan", "0");
      for (let round = 0; round < 2; round++) {
        const result = await runFanOutRound({
          writer,
          watchers: pool.clients,
          watchersPerClient: 5,
          path: "/fan",
          cpuMicros: () => target.cpuMicros(),
          watchCount: () => target.watchCount(),
          timeoutMs: 20_000,
          registerConcurrency: 3,
        });
        assert.equal(result.expected, 20);
        assert.equal(result.delivered, 20, "every watcher got its event");
        assert.equal(result.duplicates, 0, "and none got a second one");
        assert.equal(result.deliveryMs.length, 20);
        assert.equal(result.serverWatches, 4, "the server holds one watch per connection");
        assert.ok(Number.isFinite(result.allDeliveredMs) && Number.isFinite(result.setDataReplyMs));
        assert.ok(result.deliveryMs.every((ms, i) => i === 0 || ms >= result.deliveryMs[i - 1]!), "arrival order");
        assert.equal(await target.watchCount(), 0, "one-shot watches are gone once fired");
      }
      assert.equal(pool.departures().size, 0, "no session left connected state");
      await pool.close(1);
      assert.equal(pool.clients.length, 3, "close(n) ends the last n sessions");
    } finally {
      await writer?.close();
      await pool.close();
      await target.stop();
    }
  });

  test("refuses a round without watchers", async () => {
    await assert.rejects(
      runFanOutRound({
        writer: null as unknown as Client, // never used: the count is checked first
        watchers: [],
        watchersPerClient: 5,
        path: "/fan",
        cpuMicros: () => 0,
        timeoutMs: 1000,
        registerConcurrency: 1,
      }),
      RangeError,
    );
  });
});

describe("connectPool", () => {
  test("refuses an empty pool and reports a server that is not there", async () => {
    await assert.rejects(connectPool("127.0.0.1:1", { count: 0, concurrency: 1, sessionTimeoutMs: 4000 }), RangeError);
    const target = await startCorralMemoryTarget();
    await target.stop();
    await assert.rejects(
      connectPool(target.connectString, {
        count: 2,
        concurrency: 2,
        sessionTimeoutMs: 4000,
        transport: target.clientTransport!,
        connectTimeoutMs: 500,
      }),
      /connectPool: a session to .* failed after 0 connected/,
    );
  });
});
