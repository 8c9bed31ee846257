/**
 * Session expiry timing, Corral against Apache ZooKeeper 3.8: the harness of
 * tests/compat/expiry_timing_test.ts with the settings (tickTime 2 s, 10 s sessions) and
 * more samples, on a 3-member ensemble of each from the same zoo.cfg. Writes bench/EXPIRY.md.
 *
 *   node --import tsx bench/expiry_bench.ts [--victims N] [--rounds R] [--out bench/EXPIRY.md]
 *
 * A sample is the time from a dead client's last request to its ephemeral node's deletion (seen by
 * a watcher on the leader). A follower's distribution shifts by up to half a tick between runs
 * (where its half-tick reports fall against the leader's deadline grid is fixed for a run, on
 * either server), so compare followers' figures as ranges, leaders' figures directly.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { type ExpirySample, measureExpiry, summarise } from "../tests/compat/support/expiry_harness.ts";
import { layOutTwin, removeDir, startTwin } from "../tests/compat/support/twin_ensemble.ts";
import { renderTable } from "./markdown_table.ts";

const TICK_MS = 2000;
const TIMEOUT_MS = 10_000;

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer, got ${process.argv[index + 1]}`);
  return value;
}

async function measure(kind: "zookeeper" | "corral", dir: string, victims: number, rounds: number): Promise<ExpirySample[]> {
  const layout = await layOutTwin({ roles: ["participant", "participant", "participant"], tickTimeMs: TICK_MS });
  const twin = await startTwin(kind, layout, join(dir, kind));
  try {
    const samples: ExpirySample[] = [];
    for (let round = 0; round < rounds; round++) {
      samples.push(...await measureExpiry({
        clientPort: twin.clientPortOf,
        leaderId: twin.idsIn("leader")[0]!,
        followerIds: twin.idsIn("follower"),
        tickTimeMs: TICK_MS,
        sessionTimeoutMs: TIMEOUT_MS,
        victimsPerPlace: victims,
        label: `${kind}${round}`,
      }));
      console.error(`expiry bench: ${kind} round ${round + 1}/${rounds} done`);
    }
    return samples;
  } finally {
    await twin.stop();
  }
}

async function main(): Promise<void> {
  const victims = option("--victims", 40);
  const rounds = option("--rounds", 2);
  const outIndex = process.argv.indexOf("--out");
  const out = outIndex < 0 ? join("bench", "EXPIRY.md") : process.argv[outIndex + 1]!;
  const dir = mkdtempSync(join(tmpdir(), "corral-expiry-bench-"));
  try {
    const results = {
      "Apache ZooKeeper 3.8": await measure("zookeeper", dir, victims, rounds),
      [`Corral (Node ${process.versions.node})`]: await measure("corral", dir, victims, rounds),
    };
    const rows: string[][] = [];
    for (const [server, samples] of Object.entries(results)) {
      for (const place of ["leader", "follower", "all"] as const) {
        const s = summarise(samples, place);
        const seconds = (ms: number) => (ms / 1000).toFixed(2);
        rows.push([server, place, String(s.count), seconds(s.minMs), seconds(s.p50Ms), seconds(s.p90Ms), seconds(s.p99Ms), seconds(s.maxMs), seconds(s.meanMs)]);
      }
    }
    const text = [
      "# Session expiry timing: Corral and Apache ZooKeeper 3.8",
      "",
      `Written by \`node --import tsx bench/expiry_bench.ts\` on ${new Date().toISOString().slice(0, 10)} ` +
        `(${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}). tickTime ${TICK_MS} ms, sessions of ${TIMEOUT_MS} ms, ` +
        `3 participants each, ${victims} dead clients per place per round, ${rounds} round(s).`,
      "A sample: a dead client's last request → its ephemeral node's deletion, in seconds. ZooKeeper's rules: a",
      "leader's client goes within (T, T + tick] (uniform), a follower's within (T, T + 1.5 tick], where in that",
      "range depending on the run (the phase of the follower's half-tick reports against the leader's deadline grid).",
      "CI checks the same with 4 s sessions (tests/compat/expiry_timing_test.ts).",
      "",
      renderTable({
        title: "Dead client → ephemeral node deleted (s)",
        columns: ["server", "clients of", "n", "min", "p50", "p90", "p99", "max", "mean"],
        rows,
      }),
      "",
    ].join("\n");
    writeFileSync(out, text);
    console.log(text);
  } finally {
    removeDir(dir);
  }
}

await main();
