/**
 * Zab rules a leader must keep, checked on the real ZabLeader fed by hand (no ensemble): each
 * learner is a list of the messages the leader sent it, and the test plays the learners' answers.
 * Each case is a rule whose breach a realistic slip causes (tests/mutation/catalogue.ts:
 * leader-discovery-without-quorum, leader-sync-without-round, leader-sync-before-commit,
 * leader-trunc-any-epoch) and that the ensemble tests reach rarely or never, because it takes a
 * partition, a crash or a slow disk at one exact moment.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage, Sid } from "../../src/core/peer_messages.ts";
import type { PersistRequest } from "../../src/core/persistence.ts";
import { staticMembership } from "../../src/core/membership.ts";
import { QuorumVerifier } from "../../src/core/quorum.ts";
import { Server } from "../../src/core/server.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import type { ZabContext } from "../../src/core/zab_context.ts";
import { CommittedLog } from "../../src/core/zab_committed_log.ts";
import { ZabLeader } from "../../src/core/zab_leader.ts";
import { ZabLearner } from "../../src/core/zab_learner.ts";
import { type Zxid, zxidHex, zxidOf } from "../../src/core/zxid.ts";

const LEADER = 1;

/** A txn that changes the tree visibly (a new session) and carries its zxid. */
function session(zxid: Zxid): TxnEntry {
  return {
    header: { sessionId: BigInt(zxid), cxid: 0, zxid, time: 1 },
    txn: { type: "createSession", timeoutMs: 10_000 },
  };
}

/** One member: its server and what it sent (by peer). Writes are durable at once. */
class Member {
  readonly server: Server;
  readonly committedLog = new CommittedLog(100);
  readonly outbox = new Map<Sid, PeerMessage[]>();
  readonly writes: PersistRequest[] = [];
  readonly stepDowns: string[] = [];
  readonly context: ZabContext;

  constructor(readonly sid: Sid, voters: readonly Sid[], history: readonly TxnEntry[]) {
    this.server = new Server(defaultServerConfig({ serverId: sid, tickTimeMs: 100 }), 1_000_000);
    for (const entry of history) {
      this.server.replay(entry);
      this.committedLog.push(entry);
    }
    this.server.finishRecovery();
    this.context = {
      myId: sid,
      ...staticMembership(new QuorumVerifier({ voters, observers: [] })),
      server: this.server,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      committed: (entry) => this.committedLog.push(entry),
      historyReset: () => this.committedLog.clear(),
      send: (to, message) => {
        const queue = this.outbox.get(to) ?? [];
        queue.push(structuredClone(message));
        this.outbox.set(to, queue);
      },
      persist: (request, durable) => {
        this.writes.push(request);
        durable?.();
      },
      stepDown: (reason) => this.stepDowns.push(reason),
      serving: () => {},
      log: () => {},
    };
  }

  /** Takes what was sent to `to` so far. */
  take(to: Sid): PeerMessage[] {
    const queue = this.outbox.get(to) ?? [];
    return queue.splice(0);
  }
}

const kinds = (messages: readonly PeerMessage[]) => messages.map((message) => message.kind);

const EPOCH1 = Array.from({ length: 7 }, (_, i) => session(zxidOf(1, i + 1)));

function followerInfo(acceptedEpoch: number, lastZxid: Zxid, attempt = 1): PeerMessage {
  return { kind: "followerInfo", acceptedEpoch, lastZxid, observer: false, attempt };
}

/**
 * Leader 1 of `voters` (1, 2, 3 unless given), all with EPOCH1, establishes epoch 2 with every
 * follower (discovery, empty DIFFs, NEWLEADER acks) and serves. Returns it with its outboxes emptied.
 */
function established(voters: readonly Sid[] = [1, 2, 3]): { leader: Member; zab: ZabLeader } {
  const followers = voters.filter((sid) => sid !== LEADER);
  const leader = new Member(LEADER, voters, EPOCH1);
  const zab = new ZabLeader(leader.context, {
    acceptedEpoch: 1,
    currentEpoch: 1,
    committedLog: leader.committedLog,
  });
  const last = zxidOf(1, 7);
  for (const sid of followers) zab.receive(sid, followerInfo(1, last));
  for (const sid of followers) {
    zab.receive(sid, {
      kind: "ackEpoch",
      currentEpoch: 1,
      lastZxid: last,
      appliedZxid: last,
      attempt: 1,
      epoch: 2,
    });
  }
  for (const sid of followers) zab.receive(sid, { kind: "ack", zxid: zxidOf(2, 0) });
  assert.equal(zab.phase, "broadcast");
  assert.equal(zab.epoch, 2);
  for (const sid of followers) {
    assert.deepEqual(kinds(leader.take(sid)), ["leaderInfo", "diff", "newLeader", "upToDate"]);
  }
  return { leader, zab };
}

/** The round named by the last heartbeat the leader sent `to` (after taking its outbox). */
function lastHeartbeatRound(messages: readonly PeerMessage[]): number | undefined {
  const beats = messages.filter((message) => message.kind === "heartbeat");
  const last = beats[beats.length - 1];
  return last?.kind === "heartbeat" ? last.round : undefined;
}

describe("zab leader: discovery waits for a quorum", () => {
  test("no epoch is chosen, saved or announced before followerInfo from a quorum; then it tops every accepted epoch", () => {
    const voters = [1, 2, 3, 4, 5];
    const leader = new Member(LEADER, voters, EPOCH1);
    const zab = new ZabLeader(leader.context, {
      acceptedEpoch: 1,
      currentEpoch: 1,
      committedLog: leader.committedLog,
    });
    // Alone, and with one follower (2 of 5), the leader cannot know the highest epoch a quorum
    // accepted: member 3 accepted epoch 3 from a leader that never established it. Choosing now
    // would pick epoch 2 (or reuse 3), an epoch another leader may already have proposed.
    assert.equal(zab.epoch, -1, "alone: no epoch chosen");
    zab.receive(2, followerInfo(1, zxidOf(1, 7)));
    assert.equal(zab.epoch, -1, "2 of 5: no epoch chosen");
    assert.deepEqual(leader.writes, [], "no acceptedEpoch saved before a quorum reported");
    assert.deepEqual(leader.take(2), [], "no leaderInfo before a quorum reported");
    zab.receive(3, followerInfo(3, zxidOf(1, 7)));
    assert.deepEqual(leader.stepDowns, []);
    assert.equal(zab.epoch, 4, "one above the highest epoch the quorum accepted (3)");
    assert.deepEqual(leader.writes, [{ kind: "epochs", acceptedEpoch: 4 }]);
    for (const sid of [2, 3]) {
      assert.deepEqual(leader.take(sid), [{ kind: "leaderInfo", newEpoch: 4, attempt: 1 }]);
    }
  });

  test("a single voter is its own quorum and picks its epoch at once", () => {
    const leader = new Member(LEADER, [LEADER], EPOCH1);
    const zab = new ZabLeader(leader.context, {
      acceptedEpoch: 1,
      currentEpoch: 1,
      committedLog: leader.committedLog,
    });
    assert.equal(zab.epoch, 2);
  });
});

describe("zab leader: the new epoch is durable as currentEpoch before the leader serves", () => {
  test("once a quorum acked the epoch, the leader writes currentEpoch = the new epoch", () => {
    // ZooKeeper's leader sets currentEpoch (a file) after the epoch acks and before it waits for
    // NEWLEADER acks: a leader that restarts must vote, and compare followers, with the epoch it
    // established, not the one before it (tests/mutation: leader-current-epoch-not-persisted).
    const { leader, zab } = established();
    const epochWrites = leader.writes.filter((write) => write.kind === "epochs");
    assert.ok(
      epochWrites.some((write) => write.kind === "epochs" && write.currentEpoch === 2),
      `the leader's epoch writes: ${JSON.stringify(epochWrites)}`,
    );
    assert.equal(zab.phase, "broadcast");
  });
});

describe("zab leader: sync is answered only after a quorum confirms, after it arrived, that this member still leads", () => {
  test("a sync waits for a heartbeat round started after it, even when every proposal before it is committed", () => {
    const { leader, zab } = established();
    zab.receive(2, { kind: "sync", requestId: 7 });
    // A leader deposed by a newer epoch it has not heard of yet (up to syncLimit) would answer from
    // state that misses writes the newer epoch has completed: only voters confirming after the sync
    // arrived prove no newer epoch completed anything before it. Here no voter answers for a while,
    // as for such a leader: its own next write (logged here, acked by nobody) proves nothing either.
    const round = lastHeartbeatRound(leader.take(3));
    assert.ok(
      round !== undefined && round === lastHeartbeatRound(leader.take(2)),
      "a heartbeat round started for the sync",
    );
    zab.propose(session(zxidOf(2, 1)));
    zab.receive(3, { kind: "ping", sessions: [], round: round - 1 });
    assert.deepEqual(
      leader.take(2).filter((message) => message.kind === "syncReply"),
      [],
      "not answered before the round is confirmed",
    );
    zab.receive(3, { kind: "ping", sessions: [], round });
    assert.deepEqual(
      leader.take(2),
      [{ kind: "syncReply", requestId: 7 }],
      "answered once 3 (with 1, a quorum) echoed the round",
    );
  });

  test("a sync that arrives while a round is out waits for the next round", () => {
    const { leader, zab } = established();
    zab.receive(2, { kind: "sync", requestId: 1 });
    const first = lastHeartbeatRound(leader.take(3))!;
    leader.take(2);
    zab.receive(3, { kind: "sync", requestId: 2 });
    assert.deepEqual(leader.take(3), [], "no answer to the second sync, and no new round while one is out");
    zab.receive(2, { kind: "ping", sessions: [], round: first });
    // The first round was started before the second sync arrived: it proves nothing for it.
    assert.deepEqual(leader.take(2).filter((message) => message.kind === "syncReply"), [{
      kind: "syncReply",
      requestId: 1,
    }]);
    const to3 = leader.take(3);
    assert.deepEqual(to3.filter((message) => message.kind === "syncReply"), [], "the second sync waits");
    const second = lastHeartbeatRound(to3);
    assert.ok(second !== undefined && second > first, "the next round started");
    zab.receive(2, { kind: "ping", sessions: [], round: second });
    assert.deepEqual(leader.take(3).filter((message) => message.kind === "syncReply"), [{
      kind: "syncReply",
      requestId: 2,
    }]);
  });
});

describe("zab leader: sync is answered only after every proposal made before it is committed", () => {
  test("a follower's sync reply comes after the COMMIT of the proposal outstanding when the sync arrived", () => {
    // ZooKeeper's sync contract (the leader queues a sync behind its last proposal): after sync the
    // asker has everything the leader had proposed when the sync reached it. Corral leans on it: a
    // follower revalidating a reconnecting session sends moveSession then sync, and must see a
    // closeSession the leader already proposed (an expiry) before it tells the client its session
    // is still valid.
    const { leader, zab } = established();
    const proposal = session(zxidOf(2, 1));
    zab.propose(proposal);
    assert.deepEqual(kinds(leader.take(2)), ["proposal"]);
    leader.take(3);
    zab.receive(2, { kind: "sync", requestId: 9 });
    const round = lastHeartbeatRound(leader.take(3))!;
    leader.take(2);
    // The round is confirmed (3 echoes before its ack, e.g. its disk is slow), the proposal is not.
    zab.receive(3, { kind: "ping", sessions: [], round });
    assert.deepEqual(leader.take(2), [], "no answer while the proposal made before the sync is uncommitted");
    zab.receive(3, { kind: "ack", zxid: proposal.header.zxid });
    assert.deepEqual(leader.take(2), [
      { kind: "commit", zxid: proposal.header.zxid },
      { kind: "syncReply", requestId: 9 },
    ], "the COMMIT, then the answer");
  });

  test("one COMMIT covers a batch that one ack made durable", () => {
    const { leader, zab } = established();
    const [p1, p2] = [session(zxidOf(2, 1)), session(zxidOf(2, 2))];
    zab.propose(p1);
    zab.propose(p2);
    leader.take(2);
    leader.take(3);
    zab.receive(3, { kind: "ack", zxid: p2.header.zxid });
    for (const sid of [2, 3]) assert.deepEqual(leader.take(sid), [{ kind: "commit", zxid: p2.header.zxid }]);
    assert.equal(leader.server.tree.lastZxid, p2.header.zxid);
  });

  test("a sync reply inside a batch splits its COMMIT: the asker sees nothing proposed after its sync", () => {
    const { leader, zab } = established();
    const [p1, p2] = [session(zxidOf(2, 1)), session(zxidOf(2, 2))];
    zab.propose(p1);
    zab.receive(2, { kind: "sync", requestId: 9 });
    zab.propose(p2);
    const round = lastHeartbeatRound(leader.take(3))!;
    leader.take(2);
    zab.receive(3, { kind: "ping", sessions: [], round });
    zab.receive(3, { kind: "ack", zxid: p2.header.zxid });
    assert.deepEqual(leader.take(2), [
      { kind: "commit", zxid: p1.header.zxid },
      { kind: "syncReply", requestId: 9 },
      { kind: "commit", zxid: p2.header.zxid },
    ]);
  });

  test("the leader's own client's sync waits for the same commit", () => {
    const { leader, zab } = established();
    const answered: number[] = [];
    const original = leader.server.syncAnswered.bind(leader.server);
    leader.server.syncAnswered = (requestId: number) => {
      answered.push(requestId);
      original(requestId);
    };
    zab.propose(session(zxidOf(2, 1)));
    zab.sync(5);
    const round = lastHeartbeatRound(leader.take(2))!;
    zab.receive(2, { kind: "ping", sessions: [], round });
    assert.deepEqual(answered, [], "the round is confirmed, the proposal is not committed: no answer");
    zab.receive(2, { kind: "ack", zxid: zxidOf(2, 1) });
    assert.deepEqual(answered, [5]);
    assert.equal(leader.server.tree.lastZxid, zxidOf(2, 1), "answered after the commit was applied here");
  });
});

describe("zab leader: TRUNC only a learner whose extra txns are of the leader's last epoch", () => {
  test("a learner ahead with txns of another epoch is sent a SNAP and ends with exactly the leader's history", () => {
    // The leader's log ends at 0x100000007 (epoch 1); the learner's at 0x200000001, a proposal of an
    // epoch-2 leader logged on top of 0x100000005 (it crashed before saving NEWLEADER's
    // currentEpoch, so it reports currentEpoch 1). Its log does not contain 0x100000006..7: TRUNC
    // to 0x100000007 would leave it at 0x100000005 believing it is synced. Only when the extra txns
    // are of the leader's own last epoch (one leader per epoch, histories are prefixes) does the
    // learner's log hold everything up to the leader's last zxid.
    const voters = [1, 2, 3];
    const leader = new Member(LEADER, voters, EPOCH1);
    const zab = new ZabLeader(leader.context, {
      acceptedEpoch: 2,
      currentEpoch: 2,
      committedLog: leader.committedLog,
    });
    const follower = new Member(2, voters, EPOCH1.slice(0, 5));
    const stray = session(zxidOf(2, 1));
    const role = new ZabLearner(follower.context, {
      leader: LEADER,
      attempt: 1,
      observer: false,
      acceptedEpoch: 2,
      currentEpoch: 1,
      uncommitted: [stray],
    });
    // Plays the link both ways until it is quiet (bounded).
    for (let round = 0; round < 10; round++) {
      const up = follower.take(LEADER);
      for (const message of up) zab.receive(2, message);
      const down = leader.take(2);
      for (const message of down) role.receive(LEADER, message);
      if (up.length === 0 && down.length === 0) break;
    }
    assert.deepEqual(leader.stepDowns, []);
    assert.deepEqual(follower.stepDowns, []);
    assert.equal(zab.epoch, 3);
    assert.ok(
      !follower.writes.some((write) => write.kind === "truncate"),
      "not TRUNCed: its log does not extend the leader's",
    );
    assert.ok(follower.writes.some((write) => write.kind === "installSnapshot"), "a SNAP replaced its state");
    assert.equal(
      follower.server.tree.lastZxid,
      zxidOf(1, 7),
      `synced to the leader's history (at ${zxidHex(follower.server.tree.lastZxid)}, leader at 0x100000007)`,
    );
    for (const entry of EPOCH1) {
      const sessionId = entry.header.sessionId;
      assert.ok(
        follower.server.snapshotSource().header.sessions.some((s) => s.sessionId === sessionId),
        `has ${zxidHex(entry.header.zxid)}`,
      );
    }
  });

  test("a learner ahead with txns of the leader's last epoch is TRUNCed to the leader's last zxid", () => {
    const voters = [1, 2, 3];
    const leader = new Member(LEADER, voters, EPOCH1.slice(0, 5));
    const zab = new ZabLeader(leader.context, {
      acceptedEpoch: 1,
      currentEpoch: 1,
      committedLog: leader.committedLog,
    });
    zab.receive(2, followerInfo(1, zxidOf(1, 7)));
    zab.receive(2, {
      kind: "ackEpoch",
      currentEpoch: 1,
      lastZxid: zxidOf(1, 7),
      appliedZxid: zxidOf(1, 5),
      attempt: 1,
      epoch: 2,
    });
    assert.deepEqual(
      leader.take(2).filter((message) =>
        message.kind === "trunc" || message.kind === "snap" || message.kind === "diff"
      ),
      [
        { kind: "trunc", zxid: zxidOf(1, 5), entries: [] },
      ],
    );
  });
});

describe("zab leader: a learner's acks count only for what its current log holds", () => {
  test("a follower that rejoins and is TRUNCed no longer counts for the proposals it acked before", () => {
    // Seed 593044350 at 5 voters (a fresh CI seed): follower 3 acked proposals, lost its connection
    // and rejoined the same leader, whose slow disk had committed nothing of them yet. The leader
    // TRUNCed 3 to its last committed zxid, resent the proposals, and still counted 3's old acks:
    // a proposal committed (and its client was told so) with 3's ack while 3's log no longer held
    // it, and the next epoch, chosen by a quorum with 3 in it, lost the acknowledged write.
    const { leader, zab } = established([1, 2, 3, 4, 5]);
    const committed = session(zxidOf(2, 1));
    zab.propose(committed);
    for (const sid of [2, 3]) zab.receive(sid, { kind: "ack", zxid: committed.header.zxid });
    assert.equal(leader.server.tree.lastZxid, committed.header.zxid);
    const proposal = session(zxidOf(2, 2));
    zab.propose(proposal);
    zab.receive(3, { kind: "ack", zxid: proposal.header.zxid });
    for (const sid of [2, 3, 4, 5]) leader.take(sid);
    // 3 rejoins (a new attempt) reporting the proposal in its log, but not applied.
    zab.receive(3, followerInfo(2, proposal.header.zxid, 2));
    zab.receive(3, {
      kind: "ackEpoch",
      currentEpoch: 2,
      lastZxid: proposal.header.zxid,
      appliedZxid: committed.header.zxid,
      attempt: 2,
      epoch: 2,
    });
    assert.deepEqual(leader.take(3).filter((message) => message.kind !== "heartbeat"), [
      { kind: "leaderInfo", newEpoch: 2, attempt: 2 },
      { kind: "trunc", zxid: committed.header.zxid, entries: [] },
      { kind: "proposal", entry: proposal },
      { kind: "newLeader", epoch: 2, zxid: zxidOf(2, 0) },
    ], "TRUNCed to the committed history, then the proposal again");
    // 1 and 2 hold the proposal; 3's log, cut back, does not (yet): 2 of 5 is no quorum.
    zab.receive(2, { kind: "ack", zxid: proposal.header.zxid });
    assert.deepEqual(leader.take(2).filter((message) => message.kind === "commit"), [], "not committed on 3's old ack");
    // 3 logs the resent proposal and acks it again: now a quorum holds it.
    zab.receive(3, { kind: "ack", zxid: proposal.header.zxid });
    assert.deepEqual(leader.take(2).filter((message) => message.kind === "commit"), [
      { kind: "commit", zxid: proposal.header.zxid },
    ]);
  });
});
