/**
 * The deterministic simulator: the CI campaign (500+ seeds across 3, 5 and 7 voters, some with
 * observers; known-failing seeds of known core bugs left out, see src/testing/ci_campaign.ts),
 * determinism, and end-to-end proof that a broken replica makes a run fail.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage } from "../../src/core/peer_messages.ts";
import { formatFailure, runCampaign } from "../../src/testing/campaign.ts";
import { CI_CAMPAIGN, ciRuns, KNOWN_FAILING } from "../../src/testing/ci_campaign.ts";
import { replayCommand, runSimulation } from "../../src/testing/simulator.ts";
import { defaultPlan } from "../../src/testing/sim_options.ts";
import { PEER_FRAME_CODEC } from "../../src/testing/peer_frame_codec.ts";

const CAMPAIGN_TIMEOUT_MS = 300_000;

describe("simulator: CI campaign", () => {
  test("runs at least 500 seeds across 3, 5 and 7 voters", () => {
    const runs = ciRuns();
    assert.ok(runs.length >= 500, `only ${runs.length} runs`);
    assert.deepEqual([...new Set(runs.map((run) => run.voters))].sort(), [3, 5, 7]);
    for (const known of KNOWN_FAILING) {
      assert.ok(CI_CAMPAIGN.some((shape) => shape.voters === known.voters && shape.observers === known.observers && known.seed <= shape.seeds), `known failure ${known.seed} is not in the campaign`);
    }
  });

  for (const shape of CI_CAMPAIGN) {
    const runs = ciRuns().filter((run) => run.voters === shape.voters && run.observers === shape.observers);
    test(`${shape.voters} voters, ${shape.observers} observer(s): ${runs.length} seeds pass every check`, { timeout: CAMPAIGN_TIMEOUT_MS }, () => {
      const summary = runCampaign(runs, {});
      const failure = summary.failures[0];
      assert.equal(failure, undefined, failure === undefined ? "" : `\n${formatFailure(failure)}\n`);
      assert.equal(summary.runs, runs.length);
      assert.ok(summary.totals.acknowledgedWrites > 0 && summary.totals.crashes > 0 && summary.totals.partitions > 0, "the campaign exercises writes and faults");
    });
  }
});

describe("simulator: real peer frames", () => {
  test("runs pass with every peer message carried as a cbor peer frame (src/wire/peer_codec.ts)", { timeout: CAMPAIGN_TIMEOUT_MS }, () => {
    const runs = ciRuns().filter((run) => run.voters === 5 && run.observers === 2).slice(0, 12);
    const summary = runCampaign(runs, { codec: PEER_FRAME_CODEC });
    const failure = summary.failures[0];
    assert.equal(failure, undefined, failure === undefined ? "" : `\n${formatFailure(failure)}\n`);
    assert.ok(summary.totals.messagesSent > 10_000);
  });
});

describe("simulator: determinism and replay", () => {
  test("the same seed gives the same run, event for event", () => {
    for (const seed of [5, 6]) {
      const first = runSimulation({ seed, voters: 5, observers: 1 });
      const second = runSimulation({ seed, voters: 5, observers: 1 });
      assert.deepEqual(second.stats, first.stats);
      assert.deepEqual(second.failure, first.failure);
    }
  });

  test("different seeds draw different fault plans (swarm), a fixed plan without swarm", () => {
    const plans = [1, 2, 3].map((seed) => JSON.stringify(runSimulation({ seed, ticks: 5 }).plan));
    assert.equal(new Set(plans).size, 3);
    const fixed = runSimulation({ seed: 1, ticks: 5, swarm: false }).plan;
    assert.deepEqual(fixed, defaultPlan(3));
  });

  test("the replay command names the seed and every option that differs from the defaults", () => {
    assert.equal(
      replayCommand({ seed: 42, voters: 5, observers: 2, ticks: 80, clients: 4, swarm: false, codec: PEER_FRAME_CODEC }),
      "SEED=42 deno task sim --servers 5 --ticks 80 --observers 2 --no-swarm --cbor",
    );
  });

  test("without faults every run converges and passes", () => {
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
    };
    for (const seed of [1, 2, 3]) {
      const result = runSimulation({ seed, voters: 3, plan: { ...quiet, network: { ...defaultPlan(3).network, lossRate: 0, duplicateRate: 0, reorderRate: 0 } } });
      assert.equal(result.failure, null, result.failure === null ? "" : formatFailure(result));
      assert.equal(result.stats.faults.crashes, 0);
      assert.ok(result.stats.acknowledgedWrites > 10);
    }
  });
});

describe("simulator: a broken replica fails the run", () => {
  test("a codec that corrupts proposals on the way to followers breaks 'one txn per zxid'", () => {
    const encoder = new TextEncoder();
    const result = runSimulation({
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

  test("a codec that loses commits (the connection does not break) stalls followers: liveness fails", () => {
    const result = runSimulation({
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
