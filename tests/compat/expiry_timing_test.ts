/**
 * Dead clients' sessions end when ZooKeeper's would. The same harness (tests/compat/support/
 * expiry_harness.ts) kills clients of the leader and of the followers at moments spread over two
 * ticks, on a 3-member Apache ZooKeeper 3.8 ensemble and then on a 3-member Corral ensemble from the
 * same zoo.cfg (tickTime 2 s, 4 s sessions), and times each ephemeral node's deletion.
 *
 * What ZooKeeper's rules give (and this test checks ZooKeeper itself against, so a wrong model
 * fails loudly): a leader's client is gone within (T, T + tick] of its last request, uniformly, so
 * its distribution does not depend on the run; a follower's client within (T, T + 1.5 tick], but
 * where in that range depends on the phase of the follower's half-tick reports against the
 * leader's deadline grid, fixed for a run and different in every run (for ZooKeeper as for Corral):
 * a follower's median lies anywhere in (T + tick/2, T + tick]. So:
 * - leader's clients: Corral's p50 and p99 within 0.3 s of ZooKeeper's measured in the same run;
 * - followers' clients: both servers' samples inside ZooKeeper's envelope (T + 1.5 tick + 0.3 s
 *   of slack for commit latency on a loaded machine), and the medians inside the band above.
 * The exact figures, with more samples and 10 s sessions, are in bench/EXPIRY.md
 * (bench/expiry_bench.ts).
 *
 * Runs under Node only: two ensembles of processes take about a minute, and the timing is the
 * core's and the driver's, the same code under every runtime (Corral's members run under Node).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { runtime } from "../support/runtime.ts";
import { type ExpirySample, type ExpirySummary, measureExpiry, summarise } from "./support/expiry_harness.ts";
import { layOutTwin, removeDir, startTwin } from "./support/twin_ensemble.ts";

const TICK_MS = 2000;
const TIMEOUT_MS = 4000;
const VICTIMS_PER_PLACE = 24;
/** Commit latency and a loaded machine's scheduling, on top of ZooKeeper's rules. */
const SLACK_MS = 300;

async function measure(kind: "zookeeper" | "corral", dir: string): Promise<ExpirySample[]> {
  const layout = await layOutTwin({ roles: ["participant", "participant", "participant"], tickTimeMs: TICK_MS });
  const twin = await startTwin(kind, layout, join(dir, kind));
  try {
    return await measureExpiry({
      clientPort: twin.clientPortOf,
      leaderId: twin.idsIn("leader")[0]!,
      followerIds: twin.idsIn("follower"),
      tickTimeMs: TICK_MS,
      sessionTimeoutMs: TIMEOUT_MS,
      victimsPerPlace: VICTIMS_PER_PLACE,
      label: kind,
    });
  } catch (error) {
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${twin.output()}`);
  } finally {
    await twin.stop();
  }
}

const line = (kind: string, s: ExpirySummary) =>
  `${kind} ${s.place}: n ${s.count}, min ${s.minMs}, p50 ${s.p50Ms}, p99 ${s.p99Ms}, max ${s.maxMs}, mean ${s.meanMs.toFixed(0)} ms`;

function checkFollowerEnvelope(kind: string, summary: ExpirySummary, report: string): void {
  assert.ok(summary.minMs > TIMEOUT_MS - SLACK_MS, `${kind}: a follower's client went too early\n${report}`);
  assert.ok(summary.maxMs <= TIMEOUT_MS + 1.5 * TICK_MS + SLACK_MS, `${kind}: a follower's client outlived T + 1.5 tick\n${report}`);
  assert.ok(
    summary.p50Ms > TIMEOUT_MS + TICK_MS / 2 - SLACK_MS && summary.p50Ms <= TIMEOUT_MS + TICK_MS + SLACK_MS,
    `${kind}: followers' median outside (T + tick/2, T + tick]\n${report}`,
  );
}

test("session expiry timing matches Apache ZooKeeper 3.8 (clients of the leader and of followers killed mid-session)", {
  skip: runtime() !== "node"
    ? `runs under Node only (two ensembles, about a minute; the timing is the same core and driver under ${runtime()})`
    : skipUnlessCompat(["java", "zookeeper"]),
  timeout: 300_000,
}, async () => {
  assertCompat(["java", "zookeeper"]);
  const dir = mkdtempSync(join(tmpdir(), "corral-expiry-"));
  try {
    const zookeeper = await measure("zookeeper", dir);
    const corral = await measure("corral", dir);
    const summaries = {
      zookeeper: { leader: summarise(zookeeper, "leader"), follower: summarise(zookeeper, "follower") },
      corral: { leader: summarise(corral, "leader"), follower: summarise(corral, "follower") },
    };
    const report = [
      line("zookeeper", summaries.zookeeper.leader),
      line("corral   ", summaries.corral.leader),
      line("zookeeper", summaries.zookeeper.follower),
      line("corral   ", summaries.corral.follower),
    ].join("\n");
    console.log(`expiry timing (tick ${TICK_MS} ms, session ${TIMEOUT_MS} ms):\n${report}`);
    // ZooKeeper first: if it leaves the envelope, the model of its timing is wrong, not Corral.
    for (const kind of ["zookeeper", "corral"] as const) {
      const leader = summaries[kind].leader;
      assert.ok(leader.minMs > TIMEOUT_MS - SLACK_MS && leader.maxMs <= TIMEOUT_MS + TICK_MS + SLACK_MS, `${kind}: a leader's client outside (T, T + tick]\n${report}`);
      checkFollowerEnvelope(kind, summaries[kind].follower, report);
    }
    const zk = summaries.zookeeper.leader;
    const ours = summaries.corral.leader;
    assert.ok(Math.abs(ours.p50Ms - zk.p50Ms) <= 300, `leader's clients: p50 ${ours.p50Ms} vs ZooKeeper's ${zk.p50Ms}\n${report}`);
    assert.ok(Math.abs(ours.p99Ms - zk.p99Ms) <= 300, `leader's clients: p99 ${ours.p99Ms} vs ZooKeeper's ${zk.p99Ms}\n${report}`);
  } finally {
    removeDir(dir);
  }
});
