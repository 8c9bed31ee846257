/**
 * Real processes, briefly: the benchmark's TLS setup. A standalone Corral (and Apache ZooKeeper,
 * when installed) started with certificates serves a short 50/50 load to clients over TLS, on the
 * port the target names, which a plaintext client cannot use; no process is left behind.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { processCpuMicros } from "../../bench/process_cpu.ts";
import { connectLoadClients, LOAD_WORKLOADS, runLoad } from "../../bench/vs_zookeeper_load.ts";
import { type BenchTarget, startCorralTarget, startZooKeeperTarget } from "../../bench/vs_zookeeper_targets.ts";
import { createClient } from "../../src/client/mod.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";

async function checkTlsTarget(target: BenchTarget): Promise<void> {
  try {
    assert.ok(target.clientTls !== undefined, "the target says its clients need TLS");
    const load = await connectLoadClients(target.servers, 2, target.clientTls);
    try {
      const result = await runLoad(load, LOAD_WORKLOADS[1]!, 300, 4);
      assert.equal(result.errors, 0, `first error: ${String(result.firstError)}`);
      assert.ok(result.operations > 0);
    } finally {
      await load.close();
    }
    const plaintext = await createClient(target.servers[0]!, { initialConnectTimeoutMs: 2000, reconnectDelayMs: 200 }).then(
      async (client) => {
        await client.close();
        return "connected";
      },
      () => "refused",
    );
    assert.equal(plaintext, "refused", "the measured port must be the TLS one");
  } finally {
    await target.stop();
  }
  for (const pid of target.pids) assert.ok(Number.isNaN(processCpuMicros(pid)), `process ${pid} is still there`);
}

describe("benchmark TLS setup", { skip: skipUnlessOpenssl() }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  test(`startCorralTarget(${runtime()}, { tls }) serves clients over TLS`, { timeout: 90_000 }, async () => {
    await checkTlsTarget(await startCorralTarget(runtime(), { tls: certs }));
  });

  test("startZooKeeperTarget(tls) serves clients over TLS", { timeout: 120_000, skip: skipUnlessCompat(["java", "zookeeper"]) }, async () => {
    assertCompat(["java", "zookeeper"]);
    await checkTlsTarget(await startZooKeeperTarget(certs));
  });
});
