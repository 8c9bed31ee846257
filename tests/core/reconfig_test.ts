/**
 * Dynamic reconfiguration in the core (membership.ts, reconfig_prep.ts, the replica's part): what a
 * reconfig request answers, and what members do when the membership changes — removed members
 * stop, the leader leaves when it is no longer a voter, observers and voters swap roles, a removed
 * member named again comes back, and a restarted member finds the membership in its log.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code } from "../../src/core/errors.ts";
import { parseQuorumConfigText } from "../../src/core/member_spec.ts";
import type { Reply, Request } from "../../src/core/records.ts";
import { Ensemble, type EnsembleClient, memberSpec } from "./support/ensemble_harness.ts";

const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const SUPER: Request = { kind: "auth", type: 0, scheme: "digest", auth: new TextEncoder().encode("super:test") };

function reconfig(fields: { joining?: string; leaving?: string; members?: string; from?: bigint }): Request {
  return {
    kind: "reconfig",
    joiningServers: fields.joining ?? null,
    leavingServers: fields.leaving ?? null,
    newMembers: fields.members ?? null,
    curConfigId: fields.from ?? -1n,
  };
}

function superClient(ensemble: Ensemble, sid: number): EnsembleClient {
  const client = ensemble.client(sid);
  assert.equal(client.call(SUPER)?.header.err, Code.OK);
  return client;
}

function body(reply: Reply | null): { data: Uint8Array | null; stat: { version: number; mzxid: number } } {
  assert.ok(reply !== null, "no reply");
  assert.equal(reply.header.err, Code.OK, `reconfig failed with ${reply.header.err}`);
  return reply.body as { data: Uint8Array | null; stat: { version: number; mzxid: number } };
}

function votersOf(ensemble: Ensemble, sid: number): number[] {
  return [...ensemble.replicas.get(sid)!.configuration.committed.verifier.voters];
}

describe("reconfig: the request", () => {
  test("disabled by default: RECONFIGDISABLED", () => {
    const ensemble = new Ensemble({ voters: 3 });
    ensemble.stabilize();
    assert.equal(ensemble.client(1).call(reconfig({ leaving: "1" }))?.header.err, Code.RECONFIGDISABLED);
  });

  test("without WRITE on /zookeeper/config (only super has it): NOAUTH, but only for a request that would succeed", () => {
    const ensemble = new Ensemble({ voters: 3, reconfig: true });
    ensemble.stabilize();
    const client = ensemble.client(1);
    assert.equal(client.call(reconfig({ leaving: "1" }))?.header.err, Code.NOAUTH);
    // ZooKeeper checks the ACL last: the other refusals come first.
    assert.equal(client.call(reconfig({ leaving: "1", from: 0x77n }))?.header.err, Code.BADVERSION);
    assert.equal(client.call(reconfig({ leaving: "1,2" }))?.header.err, Code.BADARGUMENTS);
  });

  test("bad arguments, a stale version and fewer than two voters are refused; nothing changes", () => {
    const ensemble = new Ensemble({ voters: 3, reconfig: true });
    const leader = ensemble.stabilize();
    const client = superClient(ensemble, leader);
    const before = text(client.call({ kind: "getData", path: "/zookeeper/config", watch: false })?.body && (client.state.replies.at(-1)!.body as { data: Uint8Array }).data);
    const refused: Array<[Request, number]> = [
      [reconfig({ joining: "server.4=10.0.0.4:2888" }), Code.BADARGUMENTS],
      [reconfig({ joining: "10.0.0.4:2888:3888;2181" }), Code.BADARGUMENTS], // no "="
      [reconfig({ joining: "server.4=10.0.0.4:2888:3888:boss;2181" }), Code.BADARGUMENTS],
      [reconfig({ joining: "server.4=10.0.0.4:2888:2888;2181" }), Code.BADARGUMENTS], // one port twice
      [reconfig({ joining: "server.4=10.0.0.4:http:3888;2181" }), Code.BADARGUMENTS],
      [reconfig({ joining: "server.four=10.0.0.4:2888:3888;2181" }), Code.MARSHALLINGERROR], // Java's NumberFormatException
      [reconfig({ joining: "server.4=10.0.0.4:2888:99999;2181" }), Code.MARSHALLINGERROR], // InetSocketAddress refuses the port
      [reconfig({ joining: "server.4=10.0.0.4:2888:3888" }), Code.BADARGUMENTS], // no client port
      [reconfig({ joining: "server.4=10.0.0.1:2888:3888;2181" }), Code.BADARGUMENTS], // 1's address
      [reconfig({ leaving: "two" }), Code.MARSHALLINGERROR],
      [reconfig({ leaving: "1,2" }), Code.BADARGUMENTS], // one voter left
      [reconfig({ members: memberSpec(1) }), Code.BADARGUMENTS],
      [reconfig({ leaving: "1", from: 0x77n }), Code.BADVERSION],
    ];
    for (const [request, err] of refused) assert.equal(client.call(request)?.header.err, err, JSON.stringify({ ...request, curConfigId: String((request as { curConfigId: bigint }).curConfigId) }));
    const after = client.call({ kind: "getData", path: "/zookeeper/config", watch: false });
    assert.equal(text((after?.body as { data: Uint8Array }).data), before);
    for (const sid of [1, 2, 3]) assert.deepEqual(votersOf(ensemble, sid), [1, 2, 3]);
  });

  test("a new membership without a synced quorum is NEWCONFIGNOQUORUM", () => {
    const ensemble = new Ensemble({ voters: 3, observers: 2, reconfig: true });
    const leader = ensemble.stabilize();
    // Voters 4 and 5 would be observers now: they cannot ack, so {leader, 4, 5} has no synced quorum.
    const client = superClient(ensemble, leader);
    const members = [memberSpec(leader), memberSpec(4), memberSpec(5)].join(",");
    assert.equal(client.call(reconfig({ members }))?.header.err, Code.NEWCONFIGNOQUORUM);
  });

  test("success answers the new membership and /zookeeper/config's Stat; every member has it", () => {
    const ensemble = new Ensemble({ voters: 3, observers: 1, reconfig: true });
    const leader = ensemble.stabilize();
    const client = superClient(ensemble, leader);
    const watcher = ensemble.client(4);
    watcher.call({ kind: "getData", path: "/zookeeper/config", watch: true });
    const answer = body(client.call(reconfig({ joining: memberSpec(4, "participant") })));
    const version = answer.stat.mzxid;
    assert.equal(answer.stat.version, -1);
    assert.match(text(answer.data), new RegExp(`version=${version.toString(16)}$`));
    assert.match(text(answer.data), /server\.4=10\.0\.0\.4:2888:3888:participant;0\.0\.0\.0:2181/);
    ensemble.run(3_000);
    for (const sid of [1, 2, 3, 4]) {
      const read = ensemble.client(sid).call({ kind: "getData", path: "/zookeeper/config", watch: false });
      assert.equal(text((read?.body as { data: Uint8Array }).data), text(answer.data), `member ${sid}`);
      assert.deepEqual(votersOf(ensemble, sid), [1, 2, 3, 4], `member ${sid}`);
    }
    assert.deepEqual(watcher.state.events, ["3 /zookeeper/config"]);
    // The `-from` check takes the version just made.
    assert.equal(client.call(reconfig({ leaving: "4", from: BigInt(version) + 1n }))?.header.err, Code.BADVERSION);
  });
});

describe("reconfig: the membership's version", () => {
  test("a membership text whose version is no exact zxid is refused (one in a vote would outrank every real one)", () => {
    assert.throws(() => parseQuorumConfigText("server.1=10.0.0.1:2888:3888:participant;2181\nversion=ffffffffffffffff"), /larger than a zxid can be/);
    assert.equal(parseQuorumConfigText("server.1=10.0.0.1:2888:3888:participant;2181\nversion=1fffffffffffff").version, Number.MAX_SAFE_INTEGER);
  });

  const configOf = (ensemble: Ensemble, sid: number) => {
    const reply = ensemble.client(sid).call({ kind: "getData", path: "/zookeeper/config", watch: false });
    const got = reply?.body as { data: Uint8Array; stat: { mzxid: number; version: number } };
    return { text: text(got.data), mzxid: got.stat.mzxid };
  };

  test("with reconfigEnabled, the first epoch stamps zoo.cfg's membership with version epoch<<32 everywhere", () => {
    const ensemble = new Ensemble({ voters: 3, reconfig: true });
    const leader = ensemble.stabilize();
    const late = [1, 2, 3].find((sid) => sid !== leader)!;
    for (const sid of [1, 2, 3]) {
      const config = configOf(ensemble, sid);
      assert.match(config.text, /\nversion=100000000$/, `member ${sid}`);
      assert.equal(config.mzxid, 0x1_0000_0000);
    }
    // A member that comes back in a later epoch takes the leader's version, not its own epoch's.
    ensemble.crash(leader);
    ensemble.stabilizeAmong([1, 2, 3].filter((sid) => sid !== leader));
    ensemble.restart(leader);
    ensemble.stabilize();
    assert.match(configOf(ensemble, leader).text, /\nversion=100000000$/);
    assert.match(configOf(ensemble, late).text, /\nversion=100000000$/);
  });

  test("without it, the membership keeps version 0", () => {
    const ensemble = new Ensemble({ voters: 3 });
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(1)!.configuration.committed.config.version, 0);
  });
});

describe("reconfig: joint quorums", () => {
  test("a reconfig proposal commits only with a quorum of the old and of the new membership", () => {
    const ensemble = new Ensemble({ voters: 5, reconfig: true });
    const leader = ensemble.stabilize();
    const others = [1, 2, 3, 4, 5].filter((sid) => sid !== leader);
    const [keptA, keptB, goneA, goneB] = others as [number, number, number, number];
    const client = superClient(ensemble, leader);
    // The two members that stay besides the leader do not hear the proposal: the two leaving ones
    // and the leader are a quorum of the old five, but only the leader of the new three.
    ensemble.hold(leader, keptA);
    ensemble.hold(leader, keptB);
    const xid = client.state.replies.length;
    ensemble.send(leader, client.connection, 900, reconfig({ leaving: `${goneA},${goneB}` }));
    ensemble.run(300);
    assert.equal(client.state.replies.length, xid, "committed without a quorum of the new membership");
    assert.ok(ensemble.replicas.get(leader)!.configuration.lastSeen.config.version > 0, "the leader has not seen its proposal");
    ensemble.release(leader, keptA);
    ensemble.settle();
    assert.equal(client.state.replies.at(-1)?.header.err, Code.OK);
    assert.deepEqual(votersOf(ensemble, leader), [leader, keptA, keptB].sort((a, b) => a - b));
  });

  test("while a reconfig is under way, a second one is RECONFIGINPROGRESS", () => {
    const ensemble = new Ensemble({ voters: 3, reconfig: true });
    const leader = ensemble.stabilize();
    const client = superClient(ensemble, leader);
    // Another session: replies to one session come in request order, so its own would wait.
    const other = superClient(ensemble, leader);
    const followers = [1, 2, 3].filter((sid) => sid !== leader);
    for (const sid of followers) ensemble.hold(leader, sid);
    ensemble.send(leader, client.connection, 901, reconfig({ joining: memberSpec(4, "observer") }));
    ensemble.send(leader, other.connection, 902, reconfig({ joining: memberSpec(5, "observer") }));
    ensemble.settle();
    // Both wait for a quorum (a refusal is an error txn, as in ZooKeeper) ...
    for (const sid of followers) ensemble.release(leader, sid);
    ensemble.settle();
    assert.equal(client.state.replies.at(-1)?.header.err, Code.OK);
    // ... and the second was prepared while the first was proposed and not committed.
    assert.equal(other.state.replies.at(-1)?.header.err, Code.RECONFIGINPROGRESS);
  });
});

describe("reconfig: racing a leader change", () => {
  for (const logged of [0, 1]) {
    test(`the leader dies with its reconfig logged on ${logged} follower(s): it commits ${logged === 0 ? "nowhere" : "everywhere"}, once`, () => {
      const ensemble = new Ensemble({ voters: 5, reconfig: true });
      const leader = ensemble.stabilize();
      const followers = [1, 2, 3, 4, 5].filter((sid) => sid !== leader);
      const client = superClient(ensemble, leader);
      const removed = followers[3]!;
      // The followers that must not hear the proposal (all but `logged` of them).
      for (const sid of followers.slice(logged)) ensemble.hold(leader, sid);
      ensemble.send(leader, client.connection, 903, reconfig({ leaving: String(removed) }));
      ensemble.settle();
      ensemble.crash(leader);
      for (const sid of followers) ensemble.release(leader, sid);
      ensemble.stabilizeAmong(followers);
      const versions = new Set(followers.map((sid) => ensemble.replicas.get(sid)!.configuration.committed.config.version));
      assert.equal(versions.size, 1, "members disagree on the membership in force");
      const voters = followers.map((sid) => votersOf(ensemble, sid).join(","));
      const expected = logged === 0 ? [1, 2, 3, 4, 5] : [1, 2, 3, 4, 5].filter((sid) => sid !== removed);
      for (const got of voters) assert.equal(got, expected.join(","));
      // One reconfig txn at most in the history everyone holds.
      for (const sid of followers) {
        const log = ensemble.disks.get(sid)!.log.filter((entry) => entry.txn.type === "reconfig");
        assert.equal(log.length, logged, `member ${sid} logged ${log.length} reconfig txns`);
      }
    });
  }
});

describe("reconfig: a membership heard from a leader that never established its epoch", () => {
  test("is not put in force by a member that leads next without it in its log", () => {
    const ensemble = new Ensemble({ voters: 5, observers: 1, reconfig: true });
    const leader = ensemble.stabilize();
    const followers = [1, 2, 3, 4, 5].filter((sid) => sid !== leader);
    // `logged` alone logs the reconfig (removing observer 6: the voters, so the quorums, stay);
    // `next` (the highest sid left) will lead later without it.
    const [logged, , , next] = followers as [number, number, number, number];
    const rest = followers.filter((sid) => sid !== logged);
    const client = superClient(ensemble, leader);
    for (const sid of rest) ensemble.hold(leader, sid);
    ensemble.send(leader, client.connection, 905, reconfig({ leaving: "6" }));
    ensemble.settle();
    const before = ensemble.replicas.get(next)!.configuration.committed.config.version;
    ensemble.crash(leader);
    // `logged` wins the election (it has the newest zxid); only `next` hears its leaderInfo, and
    // nothing `next` answers reaches it before it dies.
    assert.ok(ensemble.runUntil(() => ensemble.replicas.get(logged)!.status().state === "leading", 10_000), "the member that logged it does not lead");
    for (const sid of rest) ensemble.hold(logged, sid);
    ensemble.runUntil(() => ensemble.heldKinds(logged, next).includes("leaderInfo"), 10_000);
    assert.ok(ensemble.heldKinds(logged, next).includes("leaderInfo"), "the leaderInfo was not sent");
    for (const sid of rest) ensemble.hold(sid, logged);
    ensemble.release(logged, next);
    ensemble.settle();
    ensemble.crash(logged);
    assert.equal(ensemble.stabilizeAmong(rest), next);
    for (const sid of rest) {
      const configuration = ensemble.replicas.get(sid)!.configuration;
      assert.equal(configuration.committed.config.version, before, `member ${sid} put a membership no quorum logged in force`);
      assert.equal(configuration.lastSeen.config.version, before, `member ${sid} still has a pending membership`);
      const read = ensemble.client(sid).call({ kind: "getData", path: "/zookeeper/config", watch: false });
      assert.match(text((read?.body as { data: Uint8Array }).data), /^server\.6=.*observer/m);
    }
  });
});

describe("reconfig: a pending membership that needs a non-voter", () => {
  test("the leader dies with 'promote observer 4, demote D' logged on one follower: the three left elect, with the observer's vote", () => {
    const ensemble = new Ensemble({ voters: 3, observers: 1, reconfig: true });
    const leader = ensemble.stabilize();
    const [logged, demoted] = [1, 2, 3].filter((sid) => sid !== leader) as [number, number];
    const client = superClient(ensemble, leader);
    ensemble.hold(leader, demoted); // the demoted voter never sees the proposal
    ensemble.hold(logged, leader); // its ack never returns: nothing commits
    ensemble.send(leader, client.connection, 904, reconfig({ joining: `${memberSpec(4)},${memberSpec(demoted, "observer")}` }));
    ensemble.settle();
    assert.ok(ensemble.replicas.get(logged)!.configuration.lastSeen.config.version > ensemble.replicas.get(logged)!.configuration.committed.config.version);
    ensemble.crash(leader);
    ensemble.release(logged, leader);
    ensemble.release(leader, demoted);
    // `logged` needs a quorum of both memberships: the old voters' and {logged, 4}; observer 4 must
    // send the vote it adopts to the voters, and count for the new epoch although it joins as one.
    const next = ensemble.stabilizeAmong([logged, demoted, 4]);
    assert.equal(next, logged);
    assert.deepEqual(votersOf(ensemble, logged), [logged, leader, 4].sort((a, b) => a - b));
    assert.equal(ensemble.replicas.get(4)!.status().state, "following");
    assert.equal(ensemble.replicas.get(demoted)!.status().state, "observing");
  });
});

describe("reconfig: members follow the membership", () => {
  test("a promoted observer rejoins as a follower and its ack counts", () => {
    const ensemble = new Ensemble({ voters: 3, observers: 1, reconfig: true });
    const leader = ensemble.stabilize();
    body(superClient(ensemble, leader).call(reconfig({ joining: memberSpec(4) })));
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(4)!.status().state, "following");
    // With 4 voters a write needs 3 acks: two voters down besides the leader leave it without a quorum.
    const others = [1, 2, 3].filter((sid) => sid !== leader);
    ensemble.crash(others[0]!);
    const write = ensemble.client(4).call({ kind: "create", path: "/after", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n });
    assert.equal(write?.header.err, Code.OK, "the leader, the other old voter and 4 make a quorum of four");
  });

  test("a server the ensemble did not have joins once a reconfig names it, and its ack counts", () => {
    const ensemble = new Ensemble({ voters: 3, joiners: 2, reconfig: true });
    const leader = ensemble.stabilizeAmong([1, 2, 3]);
    ensemble.run(1_000);
    assert.equal(ensemble.replicas.get(4)!.status().serving, false, "a stranger was let in");
    body(superClient(ensemble, leader).call(reconfig({ joining: `${memberSpec(4)},${memberSpec(5)}` })));
    ensemble.stabilize();
    for (const sid of [4, 5]) {
      assert.equal(ensemble.replicas.get(sid)!.status().state, "following");
      assert.deepEqual(votersOf(ensemble, sid), [1, 2, 3, 4, 5]);
    }
    // Five voters: the leader, 4 and 5 make a quorum without the two other old members.
    for (const sid of [1, 2, 3]) if (sid !== leader) ensemble.crash(sid);
    const write = ensemble.client(4).call({ kind: "create", path: "/five", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n });
    assert.equal(write?.header.err, Code.OK);
  });

  test("a demoted voter rejoins as an observer", () => {
    const ensemble = new Ensemble({ voters: 3, reconfig: true });
    const leader = ensemble.stabilize();
    const demoted = [1, 2, 3].find((sid) => sid !== leader)!;
    body(superClient(ensemble, leader).call(reconfig({ joining: memberSpec(demoted, "observer") })));
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(demoted)!.status().state, "observing");
    assert.deepEqual(votersOf(ensemble, leader), [1, 2, 3].filter((sid) => sid !== demoted));
  });

  test("removing the leader: it steps down, the rest elect a leader, and it follows as a non-voter", () => {
    const ensemble = new Ensemble({ voters: 5, reconfig: true });
    const leader = ensemble.stabilize();
    const client = superClient(ensemble, leader);
    body(client.call(reconfig({ leaving: String(leader) })));
    const rest = [1, 2, 3, 4, 5].filter((sid) => sid !== leader);
    const next = ensemble.stabilizeAmong(rest);
    assert.notEqual(next, leader);
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(leader)!.status().state, "following", "a removed server goes on as a non-voting follower, as ZooKeeper's");
    const write = ensemble.client(rest[0]!).call({ kind: "create", path: "/x", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n });
    assert.equal(write?.header.err, Code.OK);
    for (const sid of rest) assert.deepEqual(votersOf(ensemble, sid), rest);
  });

  test("removed members follow on, but their acks count for nothing", () => {
    const ensemble = new Ensemble({ voters: 5, reconfig: true });
    const leader = ensemble.stabilize();
    const [goneA, goneB, keptA, keptB] = [1, 2, 3, 4, 5].filter((sid) => sid !== leader) as [number, number, number, number];
    body(superClient(ensemble, leader).call(reconfig({ leaving: `${goneA},${goneB}` })));
    ensemble.run(1_000);
    for (const sid of [goneA, goneB]) {
      assert.equal(ensemble.replicas.get(sid)!.status().state, "following");
      assert.equal(ensemble.replicas.get(sid)!.status().leader, leader);
    }
    ensemble.crash(keptA);
    ensemble.crash(keptB);
    const write = ensemble.client(leader).call({ kind: "create", path: "/nope", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n });
    assert.equal(write, null, "committed with the acks of removed members");
  });

  test("a removed member named again becomes a voter without a restart", () => {
    const ensemble = new Ensemble({ voters: 4, reconfig: true });
    const leader = ensemble.stabilize();
    const removed = [1, 2, 3, 4].find((sid) => sid !== leader)!;
    const client = superClient(ensemble, leader);
    body(client.call(reconfig({ leaving: String(removed) })));
    ensemble.run(2_000);
    body(client.call(reconfig({ joining: memberSpec(removed) })));
    ensemble.run(5_000);
    ensemble.stabilize();
    assert.equal(ensemble.replicas.get(removed)!.status().leader, leader);
    assert.deepEqual(votersOf(ensemble, removed), [1, 2, 3, 4]);
  });

  test("a member removed while it was down learns it when it comes back, and follows as a non-voter", () => {
    const ensemble = new Ensemble({ voters: 4, reconfig: true });
    const leader = ensemble.stabilize();
    const removed = [1, 2, 3, 4].find((sid) => sid !== leader)!;
    ensemble.crash(removed);
    const answer = body(superClient(ensemble, leader).call(reconfig({ leaving: String(removed) })));
    ensemble.restart(removed);
    ensemble.run(3_000);
    const replica = ensemble.replicas.get(removed)!;
    assert.equal(replica.configuration.committed.config.version, answer.stat.mzxid, "it never heard of the reconfig");
    assert.equal(replica.status().state, "following");
    assert.equal(replica.status().leader, leader);
    assert.equal(ensemble.replicas.get(leader)!.status().state, "leading");
  });

  test("a member restarted from a dynamic file older than its peers' learns the membership from their votes", () => {
    const ensemble = new Ensemble({ voters: 5, reconfig: true });
    const leader = ensemble.stabilize();
    body(superClient(ensemble, leader).call(reconfig({ leaving: "1,2,3" })));
    ensemble.run(3_000);
    const inForce = ensemble.replicas.get(5)!.configuration.committed.config;
    const stamped = { ...ensemble.replicas.get(4)!.configuration.committed.config, members: [] as typeof inForce.members };
    for (const sid of [1, 2, 3, 4, 5]) ensemble.crash(sid);
    // 5 comes back from the file its new membership was written to; 4 crashed before it wrote
    // that file, so it starts from zoo.cfg's five members (stamped by the first epoch).
    ensemble.bootConfig.set(5, inForce);
    const five = [1, 2, 3, 4, 5].map((id) => ({ id, host: `10.0.0.${id}`, quorumPort: 2888, electionPort: 3888, role: "participant" as const, client: { host: "0.0.0.0", port: 2181 } }));
    ensemble.bootConfig.set(4, { ...stamped, members: five, version: 0x1_0000_0000 });
    ensemble.restart(5);
    ensemble.restart(4);
    const leaderNow = ensemble.stabilizeAmong([4, 5]);
    assert.ok(leaderNow === 4 || leaderNow === 5);
    assert.deepEqual(votersOf(ensemble, 4), [4, 5]);
  });

  test("a restarted member takes the membership from its log", () => {
    const ensemble = new Ensemble({ voters: 5, reconfig: true });
    const leader = ensemble.stabilize();
    body(superClient(ensemble, leader).call(reconfig({ leaving: String([1, 2].find((sid) => sid !== leader)) })));
    ensemble.run(2_000);
    const member = [3, 4, 5].find((sid) => sid !== leader)!;
    const expected = votersOf(ensemble, member);
    ensemble.crash(member);
    ensemble.restart(member);
    assert.deepEqual([...ensemble.replicas.get(member)!.configuration.lastSeen.verifier.voters], expected);
    ensemble.stabilizeAmong(expected);
    assert.deepEqual(votersOf(ensemble, member), expected);
  });
});
