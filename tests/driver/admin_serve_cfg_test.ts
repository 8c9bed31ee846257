/**
 * `corral serve zoo.cfg` with ZooKeeper's metricsProvider.* and admin.* keys starts the Prometheus
 * endpoint and the AdminServer where zoo.cfg says (port 0 here: a free port, printed at start).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startCorralProcess } from "../support/corral_process.ts";
import { get, getJson } from "./admin_support.ts";

describe("corral serve with metricsProvider.* and admin.*", () => {
  test("serves /metrics and /commands from zoo.cfg's settings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-ops-"));
    const cfgPath = join(dir, "zoo.cfg");
    writeFileSync(cfgPath, [
      "tickTime=2000", "clientPort=0",
      "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
      "metricsProvider.httpHost=127.0.0.1", "metricsProvider.httpPort=0",
      "admin.enableServer=true", "admin.serverAddress=127.0.0.1", "admin.serverPort=0", "",
    ].join("\n"));
    const server = await startCorralProcess({ args: [cfgPath] });
    try {
      const metricsUrl = /Prometheus metrics on (\S+)/.exec(server.output())?.[1];
      const adminUrl = /AdminServer on (\S+)/.exec(server.output())?.[1];
      assert.ok(metricsUrl !== undefined && adminUrl !== undefined, `no endpoint lines in:\n${server.output()}`);
      const scrape = await get(metricsUrl);
      assert.equal(scrape.status, 200);
      assert.match(scrape.text, /^znode_count \d+\.0$/m);
      const ruok = await getJson(`${adminUrl}/ruok`);
      assert.deepEqual(ruok.body, { command: "ruok", error: null });
      const conf = await getJson(`${adminUrl}/conf`);
      assert.equal(conf.body["client_port"], server.port);
      const icfg = await getJson(`${adminUrl}/icfg`);
      assert.match(String(icfg.body["initial_configuration"]), /admin\.enableServer=true/);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
