/**
 * The metrics registry and its two renderings (mntr, Prometheus text) in isolation: ZooKeeper's
 * summary lines and number formats, simpleclient's exposition shape, and the catalogue of ZooKeeper
 * names (exported ∪ left out, never both).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatMntrLines, mntrEntries } from "../../src/driver/metrics/mntr_format.ts";
import { formatPrometheus } from "../../src/driver/metrics/prometheus_format.ts";
import { MetricsRegistry } from "../../src/driver/metrics/registry.ts";
import { Summary, SUMMARY_SAMPLES_MAX } from "../../src/driver/metrics/summary.ts";
import { LEFT_OUT, MNTR_ORDER } from "../../src/driver/metrics/zookeeper_names.ts";

describe("Summary", () => {
  test("keeps count, sum, min, max and a 4-decimal average, as AvgMinMaxCounter", () => {
    const summary = new Summary("readlatency", { detailed: true });
    for (const value of [3, 1, 2]) summary.add(value);
    assert.deepEqual([summary.count, summary.sum, summary.min, summary.max], [3, 6, 1, 3]);
    summary.add(0);
    summary.add(0);
    summary.add(0);
    assert.equal(summary.average(), 1);
    summary.add(1);
    assert.equal(summary.average(), 1);
    const thirds = new Summary("x", { detailed: false });
    for (const value of [1, 1, 2]) thirds.add(value);
    assert.equal(thirds.average(), 1.3333);
  });

  test("percentiles come from at most SUMMARY_SAMPLES_MAX recent samples", () => {
    const summary = new Summary("updatelatency", { detailed: true });
    for (let value = 1; value <= 100; value++) summary.add(value);
    assert.deepEqual(summary.quantiles([0.5, 0.95, 0.99, 0.999]), [50, 95, 99, 100]);
    for (let i = 0; i < SUMMARY_SAMPLES_MAX; i++) summary.add(1000);
    assert.equal(summary.quantile(0.5), 1000, "old samples left the ring");
    assert.equal(summary.count, 100 + SUMMARY_SAMPLES_MAX, "the count keeps every sample");
  });
});

describe("mntr rendering", () => {
  test("prints ZooKeeper's summary lines and formats, in ZooKeeper's order", () => {
    const registry = new MetricsRegistry();
    const latency = registry.summary("readlatency", { detailed: true });
    registry.gauge("avg_latency", () => 2.5, "double");
    registry.gauge("znode_count", () => 5);
    registry.counter("throttled_ops").value = 7;
    latency.add(4);
    latency.add(6);
    const text = formatMntrLines(mntrEntries(registry, { version: "v", serverState: "standalone" }));
    assert.equal(
      text,
      [
        "zk_version\tv", "zk_server_state\tstandalone", "zk_avg_latency\t2.5", "zk_znode_count\t5", "zk_throttled_ops\t7",
        "zk_avg_readlatency\t5.0", "zk_min_readlatency\t4", "zk_max_readlatency\t6", "zk_cnt_readlatency\t2",
        "zk_sum_readlatency\t10", "zk_p50_readlatency\t4", "zk_p95_readlatency\t6", "zk_p99_readlatency\t6",
        "zk_p999_readlatency\t6", "",
      ].join("\n"),
    );
  });
});

describe("Prometheus rendering", () => {
  test("writes simpleclient's shape: HELP = name, no _total, Java doubles, quantiles with trailing commas", () => {
    const registry = new MetricsRegistry();
    registry.counter("cc").value = 10;
    registry.gauge("gg", () => 78);
    const basic = registry.summary("fsynctime", { detailed: false });
    registry.summary("readlatency", { detailed: true }).add(10);
    basic.add(10);
    basic.add(10);
    registry.family({ kind: "family", name: "jvm_memory_bytes_used", type: "gauge", help: "h", samples: () => [{ labels: { area: "he\"ap" }, value: 1e7 }] });
    const text = formatPrometheus(registry);
    assert.match(text, /^# HELP cc cc\n# TYPE cc counter\ncc 10\.0\n/m);
    assert.match(text, /# TYPE gg gauge\ngg 78\.0\n/);
    assert.match(text, /# TYPE fsynctime summary\nfsynctime\{quantile="0\.5",\} 10\.0\nfsynctime_count 2\.0\nfsynctime_sum 20\.0\n/);
    assert.match(text, /readlatency\{quantile="0\.5",\} 10\.0\nreadlatency\{quantile="0\.9",\} 10\.0\nreadlatency\{quantile="0\.99",\} 10\.0\n/);
    assert.match(text, /jvm_memory_bytes_used\{area="he\\"ap",\} 1\.0E7\n/);
  });

  test("an empty summary reports NaN quantiles, as simpleclient's sketches do", () => {
    const registry = new MetricsRegistry();
    registry.summary("updatelatency", { detailed: true });
    assert.match(formatPrometheus(registry), /updatelatency\{quantile="0\.5",\} NaN\nupdatelatency\{quantile="0\.9",\} NaN/);
  });
});

describe("ZooKeeper names", () => {
  test("nothing is both exported and left out, and the registry refuses kind changes", () => {
    for (const name of MNTR_ORDER) assert.equal(LEFT_OUT[name], undefined, `${name} is exported and left out`);
    const registry = new MetricsRegistry();
    registry.counter("x");
    assert.throws(() => registry.summary("x", { detailed: false }), /is a counter/);
    assert.throws(() => registry.counter("bad name"), /not a valid metric name/);
  });
});
