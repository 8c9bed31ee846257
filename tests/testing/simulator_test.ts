/**
 * The deterministic simulator: the CI campaign (500+ FRESH seeds every run, from a printed base,
 * across 3, 5 and 7 voters with and without observers, swarm plans; the regression seeds; known
 * bugs tolerated by signature, see src/testing/ci_campaign.ts), determinism, and end-to-end proof
 * that a broken replica makes a run fail.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage } from "../../src/core/peer_messages.ts";
import { formatFailure, runCampaign } from "../../src/testing/campaign.ts";
import { CI_CAMPAIGN, ciRuns, freshSeedBase, KNOWN_FAILING, knownBugOf, REGRESSION_SEEDS } from "../../src/testing/ci_campaign.ts";
import { replayCommand, runSimulation } from "../../src/testing/simulator.ts";
import { defaultPlan } from "../../src/testing/sim_options.ts";
import { PEER_FRAME_CODEC } from "../../src/testing/peer_frame_codec.ts";

const CAMPAIGN_TIMEOUT_MS = 600_000;

/** Fresh every run; CORRAL_SIM_SEED_BASE=B replays a whole campaign. */
const SEED_BASE = freshSeedBase((name) => process.env[name]);
console.log(`simulator CI campaign: seed base ${SEED_BASE} (replay all: CORRAL_SIM_SEED_BASE=${SEED_BASE}, or deno task sim --ci --ci-base ${SEED_BASE})`);

describe("simulator: CI campaign", () => {
  test("runs at least 500 fresh seeds across 3, 5 and 7 voters with observers, plus the regression seeds", async () => {
    const runs = ciRuns(SEED_BASE);
    assert.ok(runs.length >= 500, `only ${runs.length} runs`);
    assert.deepEqual([...new Set(runs.map((run) => run.voters))].sort(), [3, 5, 7]);
    assert.ok(runs.some((run) => run.observers > 0));
    assert.notDeepEqual(ciRuns(SEED_BASE + 1).map((run) => run.seed), runs.map((run) => run.seed), "another base draws other seeds");
    for (const regression of REGRESSION_SEEDS) {
      const known = KNOWN_FAILING.some((k) => k.seed === regression.seed && k.voters === regression.voters && k.observers === regression.observers);
      assert.equal(runs.some((run) => run.seed === regression.seed && run.voters === regression.voters), !known, `regression seed ${regression.seed}`);
    }
  });

  for (const shape of CI_CAMPAIGN) {
    const runs = ciRuns(SEED_BASE).filter((run) => run.voters === shape.voters && run.observers === shape.observers);
    test(`${shape.voters} voters, ${shape.observers} observer(s): ${runs.length} fresh swarm seeds pass every check`, { timeout: CAMPAIGN_TIMEOUT_MS }, async () => {
      const summary = await runCampaign(runs, { keepGoing: true });
      const fresh = summary.failures.filter((result) => knownBugOf(result) === null);
      for (const result of summary.failures) {
        const bug = knownBugOf(result);
        if (bug !== null) console.log(`known bug (tolerated): ${bug}; replay: ${result.replay}`);
      }
      assert.equal(fresh.length, 0, fresh.length === 0 ? "" : `\n${fresh.length} failing seed(s): ${fresh.map((r) => r.replay).join("; ")}\n${formatFailure(fresh[0]!)}\n`);
      assert.equal(summary.runs, runs.length);
      assert.ok(summary.totals.acknowledgedWrites > 0 && summary.faults.crashes > 0 && summary.faults.partitions > 0, "the campaign exercises writes and faults");
    });
  }
});

describe("simulator: real peer frames", () => {
  test("runs pass with every peer message carried as a cbor peer frame (src/wire/peer_codec.ts)", { timeout: CAMPAIGN_TIMEOUT_MS }, async () => {
    const runs = ciRuns(SEED_BASE).filter((run) => run.voters === 5 && run.observers === 2).slice(0, 12);
    const summary = await runCampaign(runs, { codec: PEER_FRAME_CODEC });
    const failure = summary.failures[0];
    assert.equal(failure, undefined, failure === undefined ? "" : `\n${formatFailure(failure)}\n`);
    assert.ok(summary.totals.messagesSent > 10_000);
  });
});

describe("simulator: determinism and replay", () => {
  test("the same seed gives the same run, event for event", async () => {
    for (const seed of [5, 6]) {
      const first = await runSimulation({ seed, voters: 5, observers: 1 });
      const second = await runSimulation({ seed, voters: 5, observers: 1 });
      assert.deepEqual(second.stats, first.stats);
      assert.deepEqual(second.failure, first.failure);
    }
  });

  test("different seeds draw different fault plans (swarm), a fixed plan without swarm", async () => {
    const plans: string[] = [];
    for (const seed of [1, 2, 3]) plans.push(JSON.stringify((await runSimulation({ seed, ticks: 5, sessionLiveness: false })).plan));
    assert.equal(new Set(plans).size, 3);
    const fixed = (await runSimulation({ seed: 1, ticks: 5, swarm: false, sessionLiveness: false })).plan;
    assert.deepEqual(fixed, defaultPlan(3));
  });

  test("the replay command names the seed and every option that differs from the defaults", async () => {
    assert.equal(
      replayCommand({ seed: 42, voters: 5, observers: 2, ticks: 80, clients: 4, swarm: false, codec: PEER_FRAME_CODEC }),
      "SEED=42 deno task sim --servers 5 --ticks 80 --observers 2 --no-swarm --cbor",
    );
    assert.equal(replayCommand({ seed: 7, voters: 3, observers: 0, clients: 4, swarm: true }), "SEED=7 deno task sim --servers 3");
  });

  test("without faults every run converges and passes", async () => {
    const quiet = {
      crashes: false,
      partitions: false,
      asymmetricPartitions: false,
      isolateLeader: false,
      connectionBreaks: false,
      delaySpikes: false,
      slowDisks: false,
      clockJumps: false,
      clientDrops: false,
      aimedCrashes: false,
    };
    for (const seed of [1, 2, 3]) {
      const result = await runSimulation({ seed, voters: 3, plan: { ...quiet, network: { ...defaultPlan(3).network, lossRate: 0, duplicateRate: 0, reorderRate: 0 } } });
      assert.equal(result.failure, null, result.failure === null ? "" : formatFailure(result));
      assert.equal(result.stats.faults.crashes, 0);
      assert.ok(result.stats.acknowledgedWrites > 10);
    }
  });
});

describe("simulator: a broken replica fails the run", () => {
  test("a codec that corrupts proposals on the way to followers breaks 'one txn per zxid'", async () => {
    const encoder = new TextEncoder();
    const result = await runSimulation({
      seed: 3,
      voters: 3,
      codec: {
        encode: (message) => structuredClone(message),
        decode: (encoded) => {
          const message = encoded as PeerMessage;
          if (message.kind === "proposal" && message.entry.txn.type === "setData") message.entry.txn.data = encoder.encode("corrupted");
          return message;
        },
      },
    });
    assert.equal(result.failure?.invariant, "one txn per zxid", JSON.stringify(result.failure));
    assert.match(result.replay, /^SEED=3 deno task sim --servers 3/);
  });

  test("a codec that loses commits (the connection does not break) stalls followers: liveness fails", async () => {
    const result = await runSimulation({
      seed: 2,
      voters: 3,
      livenessMsMax: 20_000,
      plan: { crashes: false, partitions: false, isolateLeader: false, asymmetricPartitions: false },
      codec: {
        encode: (message) => structuredClone(message),
        decode: (encoded) => {
          const message = encoded as PeerMessage;
          return message.kind === "commit" ? { kind: "ping", sessions: [] } : message;
        },
      },
    });
    assert.ok(result.failure !== null, "a run whose followers never commit cannot pass");
  });
});
