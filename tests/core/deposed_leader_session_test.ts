/**
 * SIM-14 (seed 1169469126, 3 voters and an observer): a leader cut off from its quorum leads on
 * until syncLimit runs out. A client whose session was created meanwhile under the new leader, and
 * which reconnects to the old one, must not be told its session expired: the old leader does not know
 * the sessions of the newer epoch. It answers only after a quorum round confirms it still leads,
 * which a deposed leader never gets.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ensemble } from "./support/ensemble_harness.ts";

describe("a deposed leader and the sessions of a newer epoch", () => {
  test("a reconnect to a leader that lost its quorum is not answered 'expired' for a live session", () => {
    const ensemble = new Ensemble({ voters: 3 });
    const old = ensemble.stabilize();
    const others = [1, 2, 3].filter((sid) => sid !== old);
    // The old leader is cut off and its clock stopped: it has not noticed yet, and still leads.
    ensemble.freeze(old);
    ensemble.partition([old], others);
    const next = ensemble.stabilizeAmong(others, 30_000);
    assert.notEqual(next, old);
    assert.notEqual(ensemble.replicas.get(old)!.leaderEpoch, null, "the old leader has not noticed");
    const client = ensemble.client(next);
    assert.notEqual(client.state.sessionId, 0n, "a session of the new epoch");

    const moved = ensemble.resume(old, client);
    assert.equal(moved.state.closed, false, "the old leader must not call the live session expired");

    // Once it runs again, it finds no quorum and steps down; the session lives on under the new leader.
    ensemble.freeze(old, false);
    ensemble.run(3_000);
    assert.equal(ensemble.replicas.get(old)!.leaderEpoch, null, "the old leader stepped down");
    assert.equal(moved.state.sessionId, 0n, "it never answered the reconnect");
    const again = ensemble.resume(next, client);
    assert.equal(again.state.sessionId, client.state.sessionId, "the session is alive under the new leader");
  });
});
