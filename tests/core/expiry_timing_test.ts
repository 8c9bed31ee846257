/**
 * When a dead client's session ends, to the millisecond, in the pure core: ZooKeeper's timing is
 * deadline = roundUp(last activity seen by the leader + timeout) to a multiple of tickTime, checked
 * exactly at that deadline; a follower's clients reach the leader within half a tick (the leader
 * asks every learner for its touched sessions twice a tick). So a client of the leader is gone
 * within (T, T + tick] of its last request, a follower's within (T, T + 1.5 tick], and over phases
 * spread evenly the follower's adds a quarter tick on average. The members are ticked every
 * millisecond here, so only the core's own rules show.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble, type EnsembleClient } from "./support/ensemble_harness.ts";
import type { Request } from "../../src/core/records.ts";

const TICK_MS = 100;
/** The harness's sessions ask for 10 s (within [2, 200] ticks here). */
const TIMEOUT_MS = 10_000;
const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const ephemeral = (path: string): Request => ({ kind: "create", path, data: null, acl: OPEN, flags: 1, ttl: 0n });

/** Advances every member's clock 1 ms at a time until `done()` or `limitMs`; returns the time reached. */
function stepUntil(ensemble: Ensemble, done: () => boolean, limitMs: number): number {
  const end = ensemble.now + limitMs;
  while (!done() && ensemble.now < end) {
    ensemble.now += 1;
    for (const replica of ensemble.replicas.values()) replica.tick(ensemble.now);
    ensemble.settle();
  }
  return ensemble.now;
}

/**
 * For each of `phases` start offsets spread evenly over two ticks: a client of `where` creates an
 * ephemeral node, makes its last request at that phase and dies; returns last request → deletion.
 * `followerRestartMs`: the follower is first restarted this long after a tick boundary, which sets
 * where its half-tick reports fall relative to the leader's deadline grid (the report phase).
 */
function samples(where: "leader" | "follower", phases: number, followerRestartMs = 0): number[] {
  const ensemble = new Ensemble({ voters: 3, tickTimeMs: TICK_MS });
  const leader = ensemble.stabilize();
  const member = where === "leader" ? leader : [1, 2, 3].find((sid) => sid !== leader)!;
  if (where === "follower") {
    ensemble.crash(member);
    stepUntil(ensemble, () => false, Math.ceil(ensemble.now / TICK_MS) * TICK_MS + followerRestartMs - ensemble.now);
    ensemble.restart(member);
    stepUntil(ensemble, () => ensemble.replicas.get(member)!.status().serving, 60_000);
  }
  const results: number[] = [];
  for (let phase = 0; phase < phases; phase++) {
    const client: EnsembleClient = ensemble.client(member);
    const path = `/victim-${where}-${phase}`;
    assert.equal(client.call(ephemeral(path))?.header.err, 0, `create ${path}`);
    // Move to this sample's phase (relative to a tick boundary of the harness clock), then act.
    const offset = Math.floor((phase / phases) * 2 * TICK_MS);
    const base = Math.ceil(ensemble.now / (2 * TICK_MS)) * (2 * TICK_MS) + 2 * TICK_MS;
    stepUntil(ensemble, () => false, base + offset - ensemble.now);
    const lastRequestMs = ensemble.now;
    assert.equal(client.call({ kind: "exists", path: "/", watch: false })?.header.err, 0);
    ensemble.crashClient(client);
    const leaderTree = () => ensemble.replicas.get(leader)!.server.tree;
    const gone = stepUntil(ensemble, () => leaderTree().get(path) === undefined, TIMEOUT_MS + 4 * TICK_MS);
    assert.equal(leaderTree().get(path), undefined, `${path} outlived its session by over ${TIMEOUT_MS + 4 * TICK_MS} ms`);
    results.push(gone - lastRequestMs);
  }
  return results;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe("session expiry timing (ZooKeeper's buckets and report cadence)", () => {
  test("a client of the leader: gone within (T, T + tick], half a tick late on average", () => {
    const delays = samples("leader", 20);
    for (const delay of delays) assert.ok(delay > TIMEOUT_MS && delay <= TIMEOUT_MS + TICK_MS, `delay ${delay} ms: ${delays.join(", ")}`);
    assert.ok(Math.abs(mean(delays) - (TIMEOUT_MS + TICK_MS / 2)) <= TICK_MS / 10, `mean ${mean(delays)}: ${delays.join(", ")}`);
  });

  test("a client of a follower: gone within (T, T + 1.5 tick]; over report phases, three quarters of a tick late on average", () => {
    // ZooKeeper's report phase is where its leader's half-tick ping loop happens to run; over phases
    // spread evenly the mean is T + 3/4 tick, for one phase anywhere in (T + tick/2, T + tick].
    const all: number[] = [];
    for (let restart = 0; restart < 5; restart++) {
      const delays = samples("follower", 10, restart * TICK_MS / 10);
      for (const delay of delays) {
        assert.ok(delay > TIMEOUT_MS && delay <= TIMEOUT_MS + 1.5 * TICK_MS, `delay ${delay} ms: ${delays.join(", ")}`);
      }
      const phaseMean = mean(delays);
      assert.ok(phaseMean > TIMEOUT_MS + TICK_MS / 2 - 1 && phaseMean <= TIMEOUT_MS + TICK_MS + 1, `phase ${restart}: mean ${phaseMean}: ${delays.join(", ")}`);
      all.push(...delays);
    }
    assert.ok(Math.abs(mean(all) - (TIMEOUT_MS + 0.75 * TICK_MS)) <= TICK_MS / 10, `mean ${mean(all)}: ${all.join(", ")}`);
  });
});
