/**
 * Local sessions (localSessionsEnabled, localSessionsUpgradingEnabled) in the core, on a
 * deterministic ensemble, by ZooKeeper 3.8's rules (LeaderSessionTracker, LearnerSessionTracker,
 * QuorumZooKeeperServer.checkUpgradeSession): a new session is its member's alone, with no txn; it
 * reads and writes, but may not own an ephemeral unless it is first upgraded to a session of the
 * ensemble; it expires, closes and ends with its member's serving period, all with no txn; the
 * other members do not know it. tests/compat/local_sessions_test.ts judges the same against
 * ZooKeeper over the wire.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import { prepareWrite } from "../../src/core/prep.ts";
import { PendingChanges } from "../../src/core/pending_changes.ts";
import { CreateFlags, type Request } from "../../src/core/records.ts";
import { DataTree } from "../../src/core/data_tree.ts";
import { SessionTracker } from "../../src/core/session_tracker.ts";
import { Ensemble, type EnsembleClient } from "./support/ensemble_harness.ts";

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const create = (path: string, flags: number = CreateFlags.PERSISTENT): Request => ({
  kind: "create",
  path,
  data: new TextEncoder().encode("x"),
  acl: OPEN,
  flags,
  ttl: 0n,
});

function setUp(upgrading: boolean): { ensemble: Ensemble; leader: number; follower: number; other: number } {
  const ensemble = new Ensemble({ voters: 3, localSessions: { upgrading } });
  const leader = ensemble.stabilize();
  const [follower, other] = [1, 2, 3].filter((sid) => sid !== leader) as [number, number];
  return { ensemble, leader, follower, other };
}

const lastZxid = (ensemble: Ensemble, sid: number) => ensemble.replicas.get(sid)!.server.tree.lastZxid;
const status = (ensemble: Ensemble, sid: number) => ensemble.replicas.get(sid)!.server.status();
const err = (client: EnsembleClient, request: Request) => client.call(request)?.header.err;
const ephemeralMulti: Request = { kind: "multi", ops: [{ kind: "create", path: "/m", data: null, acl: OPEN, flags: CreateFlags.EPHEMERAL, ttl: 0n }] };
/** A multi reply's per-op errors (the header says OK; each op says why it failed). */
function multiErrors(reply: ReturnType<EnsembleClient["call"]>): number[] {
  assert.equal(reply?.header.err, Code.OK);
  assert.equal(reply?.body?.kind, "multi");
  return reply!.body!.kind === "multi" ? reply!.body!.results.map((result) => result.type === "error" ? result.err : 0) : [];
}

describe("local sessions", () => {
  test("a new session is its member's alone: no txn, reads and writes work, an ephemeral is refused, other members do not know it", () => {
    const { ensemble, leader, follower, other } = setUp(false);
    const before = lastZxid(ensemble, leader);
    const client = ensemble.client(follower);
    assert.equal(client.state.closed, false);
    assert.equal(lastZxid(ensemble, leader), before, "connecting wrote nothing");
    assert.equal(status(ensemble, follower).localSessionCount, 1);
    assert.equal(status(ensemble, leader).sessionCount, status(ensemble, other).sessionCount, "no member tracks it as the ensemble's");
    assert.equal(err(client, create("/p")), Code.OK, "its writes go through the leader");
    assert.equal(err(client, { kind: "setData", path: "/p", data: null, version: -1 }), Code.OK);
    assert.equal(err(client, { kind: "getData", path: "/p", watch: false }), Code.OK);
    assert.equal(err(client, { kind: "sync", path: "/" }), Code.OK);
    const written = lastZxid(ensemble, leader);
    assert.equal(err(client, create("/e", CreateFlags.EPHEMERAL)), Code.EPHEMERALONLOCALSESSION);
    assert.equal(err(client, create("/s-", CreateFlags.EPHEMERAL_SEQUENTIAL)), Code.EPHEMERALONLOCALSESSION);
    assert.equal(lastZxid(ensemble, leader), written, "the refusals wrote nothing");
    // A multi goes to the leader, as in ZooKeeper, whose checkGlobalSession fails the op inside it.
    assert.deepEqual(multiErrors(client.call(ephemeralMulti)), [Code.SESSIONEXPIRED]);
    assert.equal(ensemble.replicas.get(leader)!.server.tree.get("/m"), undefined);
    assert.equal(client.state.closed, false, "a refusal keeps the connection");

    // Elsewhere the session is unknown (expired); at its member it resumes.
    const elsewhere = ensemble.resume(other, client);
    assert.equal(elsewhere.state.closed, true, "another member says the session expired");
    assert.equal(elsewhere.state.sessionId, 0n);
    const again = ensemble.resume(follower, client);
    assert.equal(again.state.sessionId, client.state.sessionId);
    assert.equal(client.state.closed, true, "its old connection is closed");
    // closeSession ends it here, with no txn.
    const beforeClose = lastZxid(ensemble, leader);
    assert.equal(err(again, { kind: "closeSession" }), Code.OK);
    assert.equal(again.state.closed, true);
    assert.equal(lastZxid(ensemble, leader), beforeClose);
    assert.equal(status(ensemble, follower).localSessionCount, 0);
    assert.equal(ensemble.resume(follower, again).state.closed, true, "a closed local session is gone");
  });

  test("the leader's own new sessions are local too", () => {
    const { ensemble, leader } = setUp(false);
    const before = lastZxid(ensemble, leader);
    const client = ensemble.client(leader);
    assert.equal(lastZxid(ensemble, leader), before);
    assert.equal(status(ensemble, leader).localSessionCount, 1);
    assert.equal(err(client, create("/p")), Code.OK);
    assert.equal(err(client, create("/e", CreateFlags.EPHEMERAL)), Code.EPHEMERALONLOCALSESSION);
    assert.deepEqual(multiErrors(client.call(ephemeralMulti)), [Code.EPHEMERALONLOCALSESSION], "the leader's own: its upgrade check's error");
  });

  test("with upgrading, an ephemeral create first makes the session the ensemble's; it then owns the node and moves between members", () => {
    const { ensemble, leader, follower, other } = setUp(true);
    const client = ensemble.client(follower);
    const sessionsBefore = status(ensemble, leader).sessionCount;
    const reply = client.call(create("/e", CreateFlags.EPHEMERAL));
    assert.equal(reply?.header.err, Code.OK);
    assert.equal(status(ensemble, follower).localSessionCount, 0, "no longer local");
    assert.equal(status(ensemble, leader).sessionCount, sessionsBefore + 1, "a session of the ensemble now");
    const node = ensemble.replicas.get(other)!.server.tree.get("/e");
    assert.equal(node?.ephemeralOwner, client.state.sessionId, "the ephemeral belongs to the session");
    // Global now: it resumes on another member, and its ephemeral stays.
    const moved = ensemble.resume(other, client);
    assert.equal(moved.state.closed, false, "another member resumes it");
    assert.equal(moved.state.sessionId, client.state.sessionId);
    assert.equal(err(moved, { kind: "exists", path: "/e", watch: false }), Code.OK);
    assert.equal(err(moved, { kind: "closeSession" }), Code.OK);
    ensemble.run(500);
    assert.equal(ensemble.replicas.get(leader)!.server.tree.get("/e"), undefined, "closing it deleted its ephemeral");
  });

  test("a silent local session expires at its member, with no txn", () => {
    const { ensemble, leader, follower } = setUp(false);
    const client = ensemble.client(follower);
    assert.equal(err(client, create("/p")), Code.OK);
    const before = lastZxid(ensemble, leader);
    ensemble.run(12_000); // the session's 10 s timeout, no pings
    assert.equal(client.state.closed, true, "its connection is closed");
    assert.equal(status(ensemble, follower).localSessionCount, 0);
    assert.equal(lastZxid(ensemble, leader), before, "expiring it wrote nothing");
    assert.ok(ensemble.logs.some((line) => line.includes("local session 0x") && line.includes("expired")), "its member says so");
  });

  test("pings keep a local session alive without telling the leader", () => {
    const { ensemble, follower } = setUp(false);
    const client = ensemble.client(follower);
    for (let i = 0; i < 6; i++) {
      ensemble.run(3000);
      assert.equal(err(client, { kind: "ping" }), Code.OK);
    }
    assert.equal(client.state.closed, false, "alive after 18 s of pings with a 10 s timeout");
    assert.equal(status(ensemble, follower).localSessionCount, 1);
  });

  test("a new leader ends the local sessions (its members' serving periods end)", () => {
    const { ensemble, leader, follower } = setUp(false);
    const client = ensemble.client(follower);
    assert.equal(err(client, create("/p")), Code.OK);
    ensemble.crash(leader);
    ensemble.stabilizeAmong([1, 2, 3].filter((sid) => sid !== leader));
    assert.equal(client.state.closed, true, "its connection closed when the member stopped serving");
    assert.equal(ensemble.resume(follower, client).state.closed, true, "and the session is gone");
  });

  test("the leader's prep: a local session's request passes the session check but may not create an ephemeral", () => {
    const tree = new DataTree();
    const context = (localSession: "here" | "elsewhere" | undefined) => ({
      zxid: tree.lastZxid + 1,
      sessionId: 0x0200_0000_0000_0001n, // member 2's session, unknown here
      identities: [],
      pending: new PendingChanges(tree),
      sessions: new SessionTracker({ serverId: 1, seedMs: 0, tickTimeMs: 2000, nowMs: 0, sessionsMax: 10 }),
      extendedTypesEnabled: false,
      localSession,
    });
    const persistent = create("/p") as Parameters<typeof prepareWrite>[0];
    const ephemeral = create("/e", CreateFlags.EPHEMERAL) as Parameters<typeof prepareWrite>[0];
    assert.deepEqual(prepareWrite(persistent, context(undefined)), { type: "error", err: Code.SESSIONEXPIRED });
    assert.equal(prepareWrite(persistent, context("elsewhere")).type, "create");
    assert.deepEqual(prepareWrite(ephemeral, context("elsewhere")), { type: "error", err: Code.SESSIONEXPIRED }, "ZooKeeper's checkGlobalSession");
    assert.deepEqual(prepareWrite(ephemeral, context("here")), { type: "error", err: Code.EPHEMERALONLOCALSESSION });
  });
});
