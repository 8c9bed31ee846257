/**
 * Differential test: the same seeded operation sequence against two servers must give identical
 * normalized traces (errors, results, stats with relative zxids, sequential names, notifications).
 * "zookeeper vs zookeeper" proves the harness is deterministic; "zookeeper vs corral" is the judge.
 *
 * Replay one seed:  CORRAL_DIFF_SEED=7 node --import tsx --test tests/compat/differential_test.ts
 * Longer runs:      CORRAL_DIFF_STEPS=2000 CORRAL_DIFF_SEEDS=1,2,3,4,5 ...
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertCompat } from "../support/compat_availability.ts";
import { generateSteps } from "./differential/generator.ts";
import { firstDifference, type RunOutput, runSteps } from "./differential/runner.ts";
import {
  type CompatServer,
  type CompatTarget,
  corralTarget,
  targetSkip,
  zookeeperTarget,
} from "./targets.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 600_000;

const defaultSeeds = [1, 2, 3, 4, 5, 6, 7, 8];
const defaultSteps = 400;

interface Pair {
  left: CompatTarget;
  right: CompatTarget;
}

const PAIRS: readonly Pair[] = [
  { left: zookeeperTarget, right: zookeeperTarget },
  { left: zookeeperTarget, right: corralTarget },
];

for (const pair of PAIRS) {
  const skip = targetSkip(pair.left, ["java", "zookeeper"]) || targetSkip(pair.right, pair.right.needs);
  test(`differential: ${pair.left.name} vs ${pair.right.name} give identical traces`, {
    skip,
    timeout: testTimeoutMs,
  }, async () => {
    assertCompat([...pair.left.needs, ...pair.right.needs]);
    const servers = await Promise.all([
      pair.left.start({ slowContainerReaper: true }),
      pair.right.start({ slowContainerReaper: true }),
    ]);
    try {
      for (const seed of seeds()) await compareSeed(pair, servers as [CompatServer, CompatServer], seed);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  });
}

async function compareSeed(pair: Pair, servers: [CompatServer, CompatServer], seed: number): Promise<void> {
  const count = Number(process.env.CORRAL_DIFF_STEPS ?? defaultSteps);
  const root = `/diff${seed}`;
  const steps = generateSteps({ seed, count, root });
  const [left, right] = await Promise.all(
    servers.map((server) =>
      runSteps({ host: server.host, port: server.port, root, steps }).catch((error: unknown) => {
        throw new Error(
          `seed ${seed}: run against ${server.connectString} broke: ${
            error instanceof Error ? error.message : error
          }\n` +
            `replay: ${replayHint(seed)}\n--- server log tail ---\n${server.logTail()}`,
        );
      })
    ),
  ) as [RunOutput, RunOutput];
  const index = firstDifference(left.trace, right.trace);
  if (index === -1) {
    assert.equal(left.trace.length, count);
    return;
  }
  const context = left.trace.slice(Math.max(0, index - 5), index).map((entry) =>
    `  ${JSON.stringify(entry)}`
  );
  assert.fail(
    [
      `differential mismatch: seed ${seed}, step ${index} of ${count} (${pair.left.name} vs ${pair.right.name})`,
      `op: ${
        steps[index] === undefined
          ? "(trace length differs)"
          : left.trace[index]?.op ?? right.trace[index]?.op
      }`,
      `left  (${pair.left.name}): ${JSON.stringify(left.trace[index])}`,
      `right (${pair.right.name}): ${JSON.stringify(right.trace[index])}`,
      `preceding steps (identical on both):`,
      ...context,
      `replay: ${replayHint(seed)}`,
    ].join("\n"),
  );
}

function seeds(): number[] {
  const single = process.env.CORRAL_DIFF_SEED;
  if (single !== undefined) return [Number(single)];
  const list = process.env.CORRAL_DIFF_SEEDS;
  if (list !== undefined) return list.split(",").map((seed) => Number(seed.trim()));
  return defaultSeeds;
}

function replayHint(seed: number): string {
  return `CORRAL_DIFF_SEED=${seed} node --import tsx --test tests/compat/differential_test.ts`;
}
