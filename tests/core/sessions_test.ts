import { test } from "node:test";
import assert from "node:assert/strict";
import { ExpiryQueue } from "../../src/core/expiry_queue.ts";
import { passwordMatches, sessionPassword } from "../../src/core/session_password.ts";
import { SessionTracker } from "../../src/core/session_tracker.ts";
import { createHarness, openSession } from "./support/core_harness.ts";

test("session password equals Apache ZooKeeper's for the same id", () => {
  const hex = [...sessionPassword(0x100000997c60000n)].map((b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex, "d8cb9e99850c761b769e1f49d6c43e89");
  assert.ok(passwordMatches(0x100000997c60000n, sessionPassword(0x100000997c60000n)));
  assert.ok(!passwordMatches(0x100000997c60001n, sessionPassword(0x100000997c60000n)));
});

test("session ids carry the server id in the top byte and count up", () => {
  const tracker = new SessionTracker({ serverId: 1, seedMs: 0x997c6, tickTimeMs: 2000, nowMs: 0, sessionsMax: 10 });
  assert.equal(tracker.nextSessionId(), 0x100000997c60000n);
  assert.equal(tracker.nextSessionId(), 0x100000997c60001n);
  const high = new SessionTracker({ serverId: 200, seedMs: 5, tickTimeMs: 2000, nowMs: 0, sessionsMax: 10 });
  assert.ok(high.nextSessionId()! < 0n, "server ids ≥ 128 give negative (signed) ids, as Java's long");
});

test("expiry is bucketed: deadlines round up to the next tick", () => {
  const queue = new ExpiryQueue<string>(2000, 0);
  assert.equal(queue.touch("a", 1000, 4000), 6000);
  assert.equal(queue.touch("b", 0, 4000), 6000);
  assert.deepEqual(queue.expire(5999), []);
  assert.deepEqual(queue.expire(6000).sort(), ["a", "b"]);
  queue.touch("c", 6000, 4000);
  queue.touch("c", 9000, 4000);
  assert.deepEqual(queue.expire(12_000), []);
  assert.deepEqual(queue.expire(1_000_000_000), ["c"], "a long jump expires without stepping every interval");
});

test("tracker: closing sessions do not touch; expire marks closing", () => {
  const tracker = new SessionTracker({ serverId: 1, seedMs: 0, tickTimeMs: 1000, nowMs: 0, sessionsMax: 2 });
  const a = tracker.nextSessionId()!;
  tracker.add(a, 3000, 0);
  assert.ok(tracker.touch(a, 1500));
  const b = tracker.nextSessionId()!;
  tracker.add(b, 3000, 0);
  assert.equal(tracker.nextSessionId(), null, "full tracker refuses new sessions");
  assert.deepEqual(tracker.expire(4000), [b]);
  assert.ok(tracker.get(b)!.closing);
  assert.ok(!tracker.touch(b, 4000));
});

test("a reset state (a learner's SNAP) hands out no id handed out before, even at the same instant", () => {
  // The clock had not moved between two SNAPs of a member (seed 1584790551 at 5 voters and 2
  // observers): both trackers started from the same seed, a new session got the id of an earlier
  // one, and its password (derived from the id, as ZooKeeper's) let that session's client in.
  const h = createHarness();
  h.server.resetState();
  h.server.setServing(true);
  const first = openSession(h).sessionId;
  h.server.resetState();
  h.server.setServing(true);
  const second = openSession(h).sessionId;
  assert.ok(second > first, `0x${second.toString(16)} after 0x${first.toString(16)}`);
  const replaced = new SessionTracker({ serverId: 1, seedMs: 5, tickTimeMs: 2000, nowMs: 0, sessionsMax: 10, after: 0x100000009990000n });
  assert.equal(replaced.nextSessionId(), 0x100000009990000n, "continues after the tracker it replaces");
});

