/**
 * The raw load generator (bench/raw_load.ts) against an in-process server: it counts exactly the
 * replies in its window, sends the mix it is asked for, and its latency histogram crosses the
 * process boundary intact (LatencyHistogram.toCounts / fromCounts).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LatencyHistogram } from "../../bench/latency_histogram.ts";
import { rawLoad } from "../../bench/raw_load.ts";
import { createClient } from "../../src/client/mod.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { serve } from "../../src/driver/server_driver.ts";
import { defaultTransport } from "../../src/transport/auto.ts";

describe("raw load generator", () => {
  test("pipelines getData and setData, counts what the server did, and reports its latencies", { timeout: 60_000 }, async () => {
    const handle = await serve({ transport: await defaultTransport(), host: "127.0.0.1", port: 0, config: defaultServerConfig() });
    const client = await createClient(`127.0.0.1:${handle.port}`);
    try {
      await client.create("/a", "x");
      await client.create("/b", "x");
      const before = (await client.exists("/a"))!.version + (await client.exists("/b"))!.version;
      const result = await rawLoad({
        servers: [`127.0.0.1:${handle.port}`],
        paths: ["/a", "/b"],
        connections: 4,
        outstanding: 8,
        readPercent: 50,
        dataBytes: 100,
        warmupMs: 100,
        durationMs: 500,
      });
      assert.equal(result.errors, 0, String(result.firstError));
      assert.ok(result.operations > 100, `only ${result.operations} operations`);
      const latencies = LatencyHistogram.fromCounts(result.latencyCounts);
      assert.equal(latencies.count, result.operations, "one latency per counted reply");
      assert.ok(latencies.percentile(0.5) > 0 && latencies.percentile(0.99) < 5000);
      // Half the requests were writes: the versions moved by about half of everything sent (warm-up
      // and drained requests included, so at least half of the counted ones).
      const after = (await client.exists("/a"))!.version + (await client.exists("/b"))!.version;
      assert.ok(after - before >= result.operations / 2 - 1, `${after - before} writes for ${result.operations} operations`);
      const data = (await client.getData("/a")).data;
      assert.deepEqual(data, new Uint8Array(100).fill(0x62), "setData carried the payload");
    } finally {
      await client.close();
      await handle.close();
    }
  });

  test("a histogram survives toCounts and fromCounts; bad buckets are refused", () => {
    const histogram = new LatencyHistogram();
    for (const ms of [0.05, 0.2, 0.2, 3, 90]) histogram.record(ms);
    const copy = LatencyHistogram.fromCounts(histogram.toCounts());
    assert.equal(copy.count, 5);
    for (const fraction of [0.1, 0.5, 0.9, 1]) assert.equal(copy.percentile(fraction), histogram.percentile(fraction));
    assert.throws(() => LatencyHistogram.fromCounts([[-1, 1]]), /bad histogram bucket/);
  });
});
