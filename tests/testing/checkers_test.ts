/**
 * Each checker, fed a history that breaks its invariant, must fail (and pass on a good one): a checker
 * that cannot fail proves nothing.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { Reply, Request } from "../../src/core/records.ts";
import type { Txn, TxnEntry } from "../../src/core/txn.ts";
import { zxidOf } from "../../src/core/zxid.ts";
import { CommitChecker } from "../../src/testing/checkers/commit_checker.ts";
import { checkHistory } from "../../src/testing/checkers/history_checker.ts";
import { replayReference } from "../../src/testing/checkers/reference_replay.ts";
import { checkSessions } from "../../src/testing/checkers/session_checker.ts";
import { collectViolations } from "../../src/testing/checkers/violation.ts";
import { checkWatches } from "../../src/testing/checkers/watch_checker.ts";
import { History, type OpRecord } from "../../src/testing/history.ts";
import { runSimulation } from "../../src/testing/simulator.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const S1 = 0x100n;
const S2 = 0x200n;
const z = (counter: number) => zxidOf(1, counter);

function txn(counter: number, body: Txn, sessionId = S1, cxid = counter): TxnEntry {
  return { header: { sessionId, cxid, zxid: z(counter), time: 1000 + counter }, txn: body };
}

const create = (path: string, parentCVersion = 1, ephemeralOwner = 0n): Txn => ({
  type: "create",
  path,
  data: new TextEncoder().encode(path),
  acl: OPEN,
  ephemeralOwner,
  parentCVersion,
  replyKind: "create",
});

/** createSession S1 (1), createSession S2 (2), create /a (3, S1 xid 3), setData /a (4, S2 xid 4), delete /a (5, S1 xid 5). */
function goodHistory(): TxnEntry[] {
  return [
    txn(1, { type: "createSession", timeoutMs: 5000 }, S1, 0),
    txn(2, { type: "createSession", timeoutMs: 5000 }, S2, 0),
    txn(3, create("/a")),
    txn(4, { type: "setData", path: "/a", data: null, version: 1 }, S2),
    txn(5, { type: "delete", path: "/a" }),
  ];
}

function op(history: History, fields: { client?: number; sessionId?: bigint; connection?: number; xid: number; request: Request; invokeMs: number; completeMs: number | null; reply: Reply | null }): OpRecord {
  const record = history.invoke({
    client: fields.client ?? 1,
    sessionId: fields.sessionId ?? S1,
    connection: fields.connection ?? 1,
    sid: 1,
    xid: fields.xid,
    request: fields.request,
    invokeMs: fields.invokeMs,
  });
  if (fields.reply !== null && fields.completeMs !== null) history.complete(record, fields.reply, fields.completeMs);
  return record;
}

const ok = (xid: number, zxid: number, body: Reply["body"] = null): Reply => ({ header: { xid, zxid, err: 0 }, body });
const createReq = (path: string): Request => ({ kind: "create", path, data: null, acl: OPEN, flags: 0, ttl: 0n });

describe("CommitChecker", () => {
  test("accepts replicas applying one history, in order, each zxid after the same one", () => {
    const { report, violations } = collectViolations();
    const checker = new CommitChecker(report);
    const entries = goodHistory();
    for (const sid of [1, 2]) {
      let before = 0;
      for (const entry of entries) {
        checker.applied(sid, structuredClone(entry), before, { kind: "commit", serving: true });
        before = entry.header.zxid;
      }
    }
    checker.leading(1, 1);
    checker.leading(1, 1);
    assert.deepEqual(violations, []);
    const history = checker.historyTo(z(5));
    assert.ok("entries" in history && history.entries.length === 5);
  });

  test("fails on two different txns at one zxid", () => {
    const { report, violations } = collectViolations();
    const checker = new CommitChecker(report);
    checker.seen(1, txn(3, create("/a")), "logged");
    checker.seen(2, txn(3, create("/b")), "logged");
    assert.equal(violations[0]?.invariant, "one txn per zxid");
  });

  test("fails when a replica skips a txn (a different predecessor)", () => {
    const { report, violations } = collectViolations();
    const checker = new CommitChecker(report);
    checker.applied(1, txn(1, create("/a")), 0, { kind: "commit", serving: true });
    checker.applied(1, txn(2, create("/b")), z(1), { kind: "commit", serving: true });
    checker.applied(2, txn(2, create("/b")), 0, { kind: "replay", serving: false });
    assert.equal(violations[0]?.invariant, "one history (same predecessor)");
  });

  test("fails when serving replicas commit different successors of one zxid", () => {
    const { report, violations } = collectViolations();
    const checker = new CommitChecker(report);
    checker.applied(1, txn(1, create("/a")), 0, { kind: "commit", serving: true });
    checker.applied(2, { ...txn(2, create("/b")), header: { ...txn(2, create("/b")).header, zxid: zxidOf(2, 1) } }, 0, { kind: "commit", serving: true });
    assert.ok(violations.some((v) => v.invariant === "committed histories are prefixes of one another"), JSON.stringify(violations));
  });

  test("fails on applies out of zxid order, two leaders in one epoch, different trees at one zxid", () => {
    const { report, violations } = collectViolations();
    const checker = new CommitChecker(report);
    checker.applied(1, txn(2, create("/a")), z(3), { kind: "commit", serving: false });
    checker.leading(1, 4);
    checker.leading(2, 4);
    checker.state(1, z(3), 10n, "recovery");
    checker.state(2, z(3), 11n, "SNAP");
    assert.deepEqual(violations.map((v) => v.invariant), ["applied in zxid order", "at most one leader per epoch", "equal trees at equal zxids"]);
  });

  test("reports a history that cannot be rebuilt", () => {
    const checker = new CommitChecker(() => {});
    checker.applied(1, txn(3, create("/a")), z(2), { kind: "commit", serving: true });
    assert.ok("broken" in checker.historyTo(z(3)));
  });
});

describe("checkHistory", () => {
  test("passes a good history", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    op(history, { xid: 3, request: createReq("/a"), invokeMs: 10, completeMs: 20, reply: ok(3, z(3), { kind: "create", path: "/a" }) });
    op(history, { sessionId: S2, client: 2, xid: 4, request: { kind: "setData", path: "/a", data: null, version: -1 }, invokeMs: 21, completeMs: 30, reply: ok(4, z(4)) });
    op(history, { sessionId: S2, client: 2, xid: 6, request: { kind: "sync", path: "/" }, invokeMs: 31, completeMs: 35, reply: ok(6, z(4), { kind: "sync", path: "/" }) });
    checkHistory(goodHistory(), history.ops, report);
    assert.deepEqual(violations, []);
  });

  test("fails when an acknowledged write is not in the history, or is someone else's txn", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    op(history, { xid: 9, request: createReq("/lost"), invokeMs: 10, completeMs: 20, reply: ok(9, z(9)) });
    op(history, { sessionId: S2, client: 2, xid: 7, request: createReq("/x"), invokeMs: 10, completeMs: 20, reply: ok(7, z(4)) });
    checkHistory(goodHistory(), history.ops, report);
    assert.deepEqual(violations.map((v) => v.invariant), ["no acknowledged write lost", "no acknowledged write lost"]);
  });

  test("a local session's close has no txn and is not ordered among writes; a session of the history's is still checked", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    const LOCAL = 0x300n; // never created in the history: a member's local session
    op(history, { sessionId: LOCAL, client: 3, xid: 1, request: { kind: "closeSession" }, invokeMs: 40, completeMs: 41, reply: ok(1, z(5)) });
    checkHistory(goodHistory(), history.ops, report);
    assert.deepEqual(violations, [], "its reply carries the member's last zxid, another session's txn");
    const global = collectViolations();
    const withGlobal = new History();
    op(withGlobal, { sessionId: S2, client: 2, xid: 9, request: { kind: "closeSession" }, invokeMs: 40, completeMs: 41, reply: ok(9, z(5)) });
    checkHistory(goodHistory(), withGlobal.ops, global.report);
    assert.deepEqual(global.violations.map((v) => v.invariant), ["no acknowledged write lost"]);
  });

  test("fails on a request committed twice, and on a session's txns out of order", () => {
    const twice = collectViolations();
    checkHistory([txn(3, create("/a"), S1, 3), txn(4, create("/b"), S1, 3)], [], twice.report);
    assert.equal(twice.violations[0]?.invariant, "at most once");
    const reordered = collectViolations();
    checkHistory([txn(3, create("/a"), S1, 8), txn(4, create("/b"), S1, 7)], [], reordered.report);
    assert.equal(reordered.violations[0]?.invariant, "per-client FIFO order");
  });

  test("exempts from FIFO exactly the SESSIONMOVED no-ops of a connection the client abandoned (seed 1970)", () => {
    // xid 1 went out on connection 1, which the client gave up on; xids 2 and 3 went out on
    // connection 2; the leader refused the stale xid 1 with SESSIONMOVED after committing them.
    const late = (txnBody: Txn) => [txn(3, create("/a"), S1, 2), txn(4, create("/b"), S1, 3), txn(5, txnBody, S1, 1)];
    const moved: Txn = { type: "error", err: Code.SESSIONMOVED };
    const build = (options: { reconnected: boolean; replied: boolean }) => {
      const history = new History();
      history.opened({ connection: 1, client: 1, sessionId: S1, sid: 1, openedMs: 0 });
      if (options.reconnected) history.opened({ connection: 2, client: 1, sessionId: S1, sid: 2, openedMs: 50 });
      op(history, { xid: 1, connection: 1, request: createReq("/stale"), invokeMs: 10, completeMs: options.replied ? 100 : null, reply: options.replied ? { header: { xid: 1, zxid: z(5), err: Code.SESSIONMOVED }, body: null } : null });
      return history;
    };
    const fifo = (entries: TxnEntry[], history: History) => {
      const { report, violations } = collectViolations();
      checkHistory(entries, history.ops, report, history.connections.values());
      return violations.map((v) => v.invariant);
    };
    assert.deepEqual(fifo(late(moved), build({ reconnected: true, replied: false })), []);
    // Not exempt: another error, a connection the client never left, a reply the client saw, no connections known.
    assert.deepEqual(fifo(late({ type: "error", err: Code.NODEEXISTS }), build({ reconnected: true, replied: false })), ["per-client FIFO order"]);
    assert.deepEqual(fifo(late(moved), build({ reconnected: false, replied: false })), ["per-client FIFO order"]);
    assert.deepEqual(fifo(late(moved), build({ reconnected: true, replied: true })), ["per-client FIFO order"]);
    const { report, violations } = collectViolations();
    checkHistory(late(moved), build({ reconnected: true, replied: false }).ops, report);
    assert.deepEqual(violations.map((v) => v.invariant), ["per-client FIFO order"]);
    // A multi refused for its session is a multi of error results (seed 198941862 at 5 voters):
    // exempt likewise; a multi that failed for another reason is not.
    const expiredMulti: Txn = { type: "multiError", codes: [Code.SESSIONEXPIRED, Code.RUNTIMEINCONSISTENCY] };
    assert.deepEqual(fifo(late(expiredMulti), build({ reconnected: true, replied: false })), []);
    const badVersionMulti: Txn = { type: "multiError", codes: [Code.OK, Code.BADVERSION] };
    assert.deepEqual(fifo(late(badVersionMulti), build({ reconnected: true, replied: false })), ["per-client FIFO order"]);
    // A SESSIONMOVED no-op still counts for at-most-once.
    assert.deepEqual(fifo([txn(3, create("/a"), S1, 1), txn(4, moved, S1, 1)], build({ reconnected: true, replied: false })), ["at most once"]);
  });

  test("regression: seed 1970 at 3 voters (stale SESSIONMOVED no-ops after newer requests) passes", { timeout: 120_000 }, async () => {
    const result = await runSimulation({ seed: 1970, voters: 3 });
    assert.equal(result.failure, null, result.failure === null ? "" : `${result.failure.invariant}: ${result.failure.message}`);
  });

  test("fails when a session sees a zxid older than one it saw before", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    op(history, { xid: 1, request: { kind: "exists", path: "/a", watch: false }, invokeMs: 1, completeMs: 2, reply: ok(1, z(4)) });
    op(history, { xid: 2, request: { kind: "exists", path: "/a", watch: false }, invokeMs: 3, completeMs: 4, reply: ok(2, z(3)) });
    checkHistory(goodHistory(), history.ops, report);
    assert.equal(violations[0]?.invariant, "a client never sees older state after newer");
  });

  test("fails when a write invoked after another completed gets a smaller zxid", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    op(history, { sessionId: S2, client: 2, xid: 4, request: { kind: "setData", path: "/a", data: null, version: -1 }, invokeMs: 1, completeMs: 5, reply: ok(4, z(4)) });
    op(history, { xid: 3, request: createReq("/a"), invokeMs: 6, completeMs: 9, reply: ok(3, z(3)) });
    checkHistory(goodHistory(), history.ops, report);
    assert.ok(violations.some((v) => v.invariant === "writes are linearizable"), JSON.stringify(violations));
  });

  test("fails when a sync returns before a write completed earlier", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    op(history, { sessionId: S2, client: 2, xid: 4, request: { kind: "setData", path: "/a", data: null, version: -1 }, invokeMs: 1, completeMs: 5, reply: ok(4, z(4)) });
    op(history, { xid: 8, request: { kind: "sync", path: "/" }, invokeMs: 6, completeMs: 9, reply: ok(8, z(3)) });
    checkHistory(goodHistory(), history.ops, report);
    assert.deepEqual(violations.map((v) => v.invariant), ["sync sees every earlier write"]);
  });
});

describe("replayReference", () => {
  test("checks reads against the committed state at their zxid", () => {
    const { report, violations } = collectViolations();
    const history = new History();
    // At z(3) /a exists with version 0; at z(5) it is gone.
    op(history, { xid: 1, request: { kind: "exists", path: "/a", watch: false }, invokeMs: 1, completeMs: 2, reply: { header: { xid: 1, zxid: z(5), err: -101 }, body: null } });
    op(history, { xid: 2, request: { kind: "exists", path: "/a", watch: false }, invokeMs: 1, completeMs: 2, reply: { header: { xid: 2, zxid: z(2), err: -101 }, body: null } });
    replayReference(goodHistory(), { ops: history.ops, digestAt: new Set(), report });
    assert.equal(violations.length, 0, JSON.stringify(violations));
    // A read claiming /a is missing at z(3), and one at a zxid outside the history.
    op(history, { xid: 3, request: { kind: "exists", path: "/a", watch: false }, invokeMs: 1, completeMs: 2, reply: { header: { xid: 3, zxid: z(3), err: -101 }, body: null } });
    op(history, { xid: 4, request: { kind: "getData", path: "/a", watch: false }, invokeMs: 1, completeMs: 2, reply: { header: { xid: 4, zxid: z(77), err: -101 }, body: null } });
    replayReference(goodHistory(), { ops: history.ops, digestAt: new Set(), report });
    assert.deepEqual(violations.map((v) => v.invariant).sort(), ["reads come from the committed history", "reads match the committed state at their zxid"]);
  });

  test("fails on an ephemeral created for a closed session, and on a close that leaves ephemerals", () => {
    const { report, violations } = collectViolations();
    replayReference([
      txn(1, { type: "createSession", timeoutMs: 5000 }, S1, 0),
      txn(2, create("/e", 1, S1)),
      txn(3, { type: "closeSession", paths: [] }, S1, 0),
      txn(4, create("/f", 2, S1)),
    ], { ops: [], digestAt: new Set(), report });
    assert.deepEqual(violations.map((v) => v.invariant), ["ephemerals die with their session", "ephemerals die with their session"]);
  });
});

describe("checkWatches", () => {
  function watched(events: Array<{ after: number; type: number; zxid: number }>, replyZxids: number[]) {
    const { report, violations } = collectViolations();
    const history = new History();
    history.opened({ connection: 1, client: 1, sessionId: S2, sid: 1, openedMs: 0 });
    op(history, { sessionId: S2, xid: 1, request: { kind: "getData", path: "/a", watch: true }, invokeMs: 1, completeMs: 2, reply: ok(1, z(3)) });
    const items = history.connections.get(1)!.items;
    replyZxids.forEach((zxid, i) => {
      for (const event of events.filter((e) => e.after === i)) history.event(1, { type: event.type, path: "/a", zxid: event.zxid }, 3);
      op(history, { sessionId: S2, xid: 2 + i, request: { kind: "exists", path: "/b", watch: false }, invokeMs: 3, completeMs: 4, reply: { header: { xid: 2 + i, zxid, err: -101 }, body: null } });
    });
    for (const event of events.filter((e) => e.after === replyZxids.length)) history.event(1, { type: event.type, path: "/a", zxid: event.zxid }, 5);
    assert.ok(items.length > 0);
    const reference = replayReference(goodHistory(), { ops: [], digestAt: new Set(), report: () => {} });
    checkWatches(history.connections.values(), history.ops, reference, report);
    return violations.map((v) => v.invariant);
  }

  test("passes when the watch fires once, before any reply at or past its change", () => {
    assert.deepEqual(watched([{ after: 0, type: 3, zxid: z(4) }], [z(4), z(5)]), []);
  });

  test("fails when a reply reveals the change before the event", () => {
    assert.deepEqual(watched([{ after: 1, type: 3, zxid: z(4) }], [z(4), z(5)]), ["a watch fires before a reply that reveals its change"]);
  });

  test("fails when the watch fires twice", () => {
    assert.deepEqual(watched([{ after: 0, type: 3, zxid: z(4) }, { after: 1, type: 2, zxid: z(5) }], [z(4), z(5)]), ["a watch fires at most once"]);
  });

  test("fails when the event is not the first change after the watch was set", () => {
    assert.deepEqual(watched([{ after: 0, type: 2, zxid: z(5) }], [z(3)]), ["a watch fires for the first change after it was set"]);
  });
});

describe("checkSessions", () => {
  test("fails when a replica declares a session expired before it learned of it, or the leader lost an open session", () => {
    const { report, violations } = collectViolations();
    const reference = replayReference(goodHistory(), { ops: [], digestAt: new Set(), report: () => {} });
    const history = new History();
    history.opened({ connection: 9, client: 2, sessionId: S2, sid: 3, openedMs: 0, serverZxid: z(1), toldExpired: true });
    checkSessions(reference, { leaderSessions: new Set([S1]), connections: history.connections.values(), report });
    assert.deepEqual(violations.map((v) => v.invariant).sort(), ["a live session is never declared expired", "ephemerals die with their session"]);
  });

  test("passes when the leader tracks exactly the open sessions", () => {
    const { report, violations } = collectViolations();
    const reference = replayReference(goodHistory(), { ops: [], digestAt: new Set(), report: () => {} });
    checkSessions(reference, { leaderSessions: new Set([S1, S2]), connections: [], report });
    assert.deepEqual(violations, []);
  });
});
