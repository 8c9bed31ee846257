/**
 * Real processes, briefly: the benchmark's 3-server ensembles form (one leader, two followers, seen
 * through `srvr`), serve a short 50/50 load through every member, and leave no process behind.
 * The ZooKeeper one needs java and Debian's zookeeper jars and is skipped without them.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { processCpuMicros } from "../../bench/process_cpu.ts";
import {
  startCorralEnsembleTarget,
  startZooKeeperEnsembleTarget,
} from "../../bench/vs_zookeeper_ensembles.ts";
import { connectLoadClients, LOAD_WORKLOADS, runLoad } from "../../bench/vs_zookeeper_load.ts";
import type { BenchTarget } from "../../bench/vs_zookeeper_targets.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { runtime } from "../support/runtime.ts";

async function checkEnsemble(target: BenchTarget): Promise<void> {
  try {
    assert.equal(target.servers.length, 3);
    assert.equal(target.pids.length, 3);
    assert.deepEqual([...(target.roles ?? [])].sort(), ["follower", "follower", "leader"]);
    // One client per member: creates go through followers to the leader, reads stay local.
    const load = await connectLoadClients(target.servers, 3);
    try {
      const result = await runLoad(load, LOAD_WORKLOADS[1]!, 300, 4);
      assert.equal(result.errors, 0, `first error: ${String(result.firstError)}`);
      assert.ok(result.operations > 0);
    } finally {
      await load.close();
    }
  } finally {
    await target.stop();
  }
  for (const pid of target.pids) {
    assert.ok(Number.isNaN(processCpuMicros(pid)), `process ${pid} is still there`);
  }
}

describe("benchmark ensembles", () => {
  test(
    `startCorralEnsembleTarget() forms three corral serve processes on ${runtime()}`,
    { timeout: 90_000 },
    async () => {
      await checkEnsemble(await startCorralEnsembleTarget(runtime()));
    },
  );

  test(
    "startZooKeeperEnsembleTarget() forms three ZooKeeper QuorumPeerMain processes",
    { timeout: 90_000, skip: skipUnlessCompat(["java", "zookeeper"]) },
    async () => {
      assertCompat(["java", "zookeeper"]);
      await checkEnsemble(await startZooKeeperEnsembleTarget());
    },
  );
});
