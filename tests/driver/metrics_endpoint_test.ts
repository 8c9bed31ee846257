/**
 * The Prometheus endpoint of a running Corral (any runtime): promtool parses it, ZooKeeper's metric
 * names that its dashboards chart are there (and in mntr, with `zk_`), the latency summaries count
 * reads and writes separately, and process metrics are present. promtool's only complaints may be
 * its naming-convention lints about names ZooKeeper itself exports (they are the compatibility).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MNTR_ORDER } from "../../src/driver/metrics/zookeeper_names.ts";
import { exercise, get, promtool, skipUnlessPromtool, startOpsServer } from "./admin_support.ts";

/** Names ZooKeeper's Grafana dashboards and alert rules read (grafana/jsonnet-libs zookeeper-observ-lib, ZooKeeper's docs). */
const DASHBOARD_NAMES = [
  "znode_count", "outstanding_requests", "num_alive_connections", "watch_count", "avg_latency", "min_latency",
  "max_latency", "packets_received", "packets_sent", "approximate_data_size", "ephemerals_count", "global_sessions",
  "open_file_descriptor_count", "max_file_descriptor_count", "uptime", "readlatency", "updatelatency",
];
/** Process metrics under simpleclient_hotspot's names. */
const PROCESS_NAMES = ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "jvm_memory_bytes_used"];
/** promtool lints that ZooKeeper's own names draw (counter without _total, "_count" gauges, "_ms"). */
const NAMING_LINTS = [
  /^(\S+) counter metrics should have "_total" suffix$/,
  /^(\S+) non-histogram and non-summary metrics should not have "_count" suffix$/,
  /^(\S+) metric names should not contain abbreviated units$/,
];

describe("Prometheus endpoint", () => {
  test("serves ZooKeeper's names; promtool parses it", { skip: skipUnlessPromtool() }, async () => {
    const ops = await startOpsServer();
    try {
      const client = await exercise(`127.0.0.1:${ops.server.port}`);
      const scrape = await get(ops.metricsUrl);
      await client.close();
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = scrape.text;
      for (const name of [...DASHBOARD_NAMES, ...PROCESS_NAMES]) {
        assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), `${name} is exported`);
      }
      assert.match(text, /^znode_count [1-9]\d*\.0$/m, "znode_count counts the tree");
      assert.match(text, /^num_alive_connections 1\.0$/m);
      const count = (name: string) => Number(new RegExp(`^${name}_count (\\S+)$`, "m").exec(text)?.[1]);
      assert.ok(count("readlatency") >= 5, `readlatency counts the 5 reads (got ${count("readlatency")})`);
      assert.ok(count("updatelatency") >= 7, `updatelatency counts 2 creates + 5 setData (got ${count("updatelatency")})`);
      const verdict = promtool(text);
      assert.ok(verdict !== null);
      assert.ok(verdict.code === 0 || verdict.code === 3, `promtool failed (exit ${verdict.code}):\n${verdict.output}`);
      const zookeeperNames = new Set(MNTR_ORDER);
      for (const line of verdict.output.split("\n").filter((item) => item.trim() !== "")) {
        const match = NAMING_LINTS.map((lint) => lint.exec(line.trim())).find((found) => found !== null);
        assert.ok(match, `promtool reported more than a naming lint: ${line}`);
        assert.ok(zookeeperNames.has(match[1]!), `promtool's lint names ${match[1]}, which is not one of ZooKeeper's names: ${line}`);
      }
    } finally {
      await ops.stop();
    }
  });

  test("mntr prints the same names with zk_, in ZooKeeper's order; other paths and methods are refused", async () => {
    const ops = await startOpsServer();
    try {
      const client = await exercise(`127.0.0.1:${ops.server.port}`);
      const mntr = ops.server.fourLetterWord("mntr");
      await client.close();
      const keys = mntr.trim().split("\n").map((line) => line.split("\t")[0]!);
      for (const name of DASHBOARD_NAMES.filter((name) => !name.endsWith("latency") || name.endsWith("_latency"))) {
        assert.ok(keys.includes(`zk_${name}`), `mntr has zk_${name}`);
      }
      for (const name of ["readlatency", "updatelatency", "jvm_pause_time_ms"]) {
        for (const part of ["avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"]) {
          assert.ok(keys.includes(`zk_${part}_${name}`), `mntr has zk_${part}_${name}`);
        }
      }
      assert.ok(keys.length > 50, `mntr prints ${keys.length} lines`);
      assert.deepEqual(keys.slice(0, 4), ["zk_version", "zk_server_state", "zk_ephemerals_count", "zk_num_alive_connections"]);
      assert.equal((await get(ops.metricsUrl.replace("/metrics", "/other"))).status, 404);
      assert.equal((await get(ops.metricsUrl, { method: "POST", body: "x" })).status, 405);
    } finally {
      await ops.stop();
    }
  });
});
