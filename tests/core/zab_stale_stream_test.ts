/**
 * Issue 10 item 4: "append: zxid 0x20000000d does not follow 0x200000014 ... a bug in the caller".
 *
 * A follower that gives up on its leader and re-follows it keeps the connection, so what the leader
 * sent to its earlier role is still on the way to the new one. The leader answers every followerInfo
 * (re)sent by a role with a leaderInfo; if the new role takes such an answer meant for the earlier
 * role as its own, it reports its lastZxid, then logs the sync stream the leader sends the earlier
 * role (which acked its epoch before giving up), and finally gets its own DIFF, computed from the
 * lastZxid it reported: txns it has just logged, again. The real log refuses the step back and the
 * member stops itself.
 *
 * Here the leader and each learner role are the real ZabLeader and ZabLearner, the links are FIFO
 * queues delivered by hand in the order that produced it (found by tests/core/support/random_walk.ts),
 * and the learner's log is checked as the real one is (tests/core/zab_random_walk_test.ts walks many
 * interleavings the same way).
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
import { type Zxid, zxidEpoch, zxidHex, zxidOf } from "../../src/core/zxid.ts";

const LEADER = 1;
const FOLLOWER = 2;
const OTHER = 3;
const quorum = new QuorumVerifier({ voters: [LEADER, FOLLOWER, OTHER], observers: [] });

function followsDirectly(previous: Zxid, next: Zxid): boolean {
  return next === previous + 1 || (next > previous && zxidEpoch(next) > zxidEpoch(previous));
}

function session(zxid: Zxid): TxnEntry {
  return { header: { sessionId: BigInt(zxid), cxid: 0, zxid, time: 1 }, txn: { type: "createSession", timeoutMs: 10_000 } };
}

/** One member's side: its server, what it sent (by peer), and its log as the real store checks it. */
class Member {
  readonly server: Server;
  readonly outbox = new Map<Sid, PeerMessage[]>();
  readonly persisted: PersistRequest[] = [];
  readonly logFailures: string[] = [];
  logLast: Zxid;
  stepDowns: string[] = [];
  readonly context: ZabContext;

  constructor(readonly sid: Sid, history: readonly TxnEntry[], readonly committedLog = new CommittedLog(100)) {
    this.server = new Server(defaultServerConfig({ serverId: sid, tickTimeMs: 100 }), 1_000_000);
    for (const entry of history) {
      this.server.replay(entry);
      committedLog.push(entry);
    }
    this.server.finishRecovery();
    this.logLast = this.server.tree.lastZxid;
    this.context = {
      myId: sid,
      ...staticMembership(quorum),
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
      // Durable at once: the interleaving lies in the messages, not in the disk.
      persist: (request, durable) => {
        this.persisted.push(request);
        if (request.kind === "append") {
          for (const entry of request.entries) {
            if (!followsDirectly(this.logLast, entry.header.zxid)) {
              this.logFailures.push(`append: zxid ${zxidHex(entry.header.zxid)} does not follow ${zxidHex(this.logLast)}`);
            }
            this.logLast = entry.header.zxid;
          }
        } else if (request.kind === "truncate") {
          this.logLast = Math.min(this.logLast, request.zxid);
        } else if (request.kind === "installSnapshot") {
          this.logLast = request.header.zxid;
        }
        durable?.();
      },
      stepDown: (reason) => this.stepDowns.push(reason),
      serving: () => {},
      log: () => {},
    };
  }

  /** Takes the next `count` messages sent to `to` (all of them without a count). */
  take(to: Sid, count?: number): PeerMessage[] {
    const queue = this.outbox.get(to) ?? [];
    return queue.splice(0, count ?? queue.length);
  }
}

/** Epoch 1 history: the follower has the first five txns, the leader and the other member ten. */
const EPOCH1 = Array.from({ length: 10 }, (_, i) => session(zxidOf(1, i + 1)));

/** A leader established in epoch 2 with OTHER, and a follower role `attempt` that has sent followerInfo. */
function setup() {
  const leader = new Member(LEADER, EPOCH1);
  const other = new Member(OTHER, EPOCH1);
  const follower = new Member(FOLLOWER, EPOCH1.slice(0, 5));
  const zab = new ZabLeader(leader.context, { acceptedEpoch: 1, currentEpoch: 1, committedLog: leader.committedLog });
  // OTHER joins: followerInfo, leaderInfo, ackEpoch, DIFF (empty), NEWLEADER, its ack: epoch 2 is established.
  zab.receive(OTHER, { kind: "followerInfo", acceptedEpoch: 1, lastZxid: zxidOf(1, 10), observer: false, attempt: 1 });
  const info = leader.take(OTHER).find((message) => message.kind === "leaderInfo");
  assert.ok(info !== undefined && info.kind === "leaderInfo");
  zab.receive(OTHER, { kind: "ackEpoch", currentEpoch: 1, lastZxid: zxidOf(1, 10), appliedZxid: zxidOf(1, 10), attempt: info.attempt, epoch: info.newEpoch });
  zab.receive(OTHER, { kind: "ack", zxid: zxidOf(2, 0) });
  assert.equal(zab.phase, "broadcast");
  leader.take(OTHER);
  return { leader, other, follower, zab };
}

function learnerRole(follower: Member, attempt: number): ZabLearner {
  return new ZabLearner(follower.context, {
    leader: LEADER,
    attempt,
    observer: false,
    acceptedEpoch: 1,
    currentEpoch: 1,
    uncommitted: [],
  });
}

function deliver(to: ZabLearner | ZabLeader, from: Sid, messages: readonly PeerMessage[]): void {
  for (const message of messages) to.receive(from, message);
}

describe("zab: a learner role never takes what the leader sent an earlier role of it", () => {
  test("the interleaving of issue 10 item 4 logs every txn once, in order", () => {
    const { leader, follower, zab } = setup();
    // Role 13: followerInfo, then a resend at its next tick (no answer yet: the link to the leader is slow).
    const role13 = learnerRole(follower, 13);
    role13.tick();
    const fromRole13 = follower.take(LEADER).filter((message) => message.kind === "followerInfo");
    assert.equal(fromRole13.length, 2);
    // The leader answers the first; role 13 accepts epoch 2 and acks it (lastZxid 0x100000005).
    deliver(zab, FOLLOWER, fromRole13.slice(0, 1));
    deliver(role13, LEADER, leader.take(FOLLOWER));
    assert.equal(role13.phase, "sync");
    const ackOf13 = follower.take(LEADER);
    assert.deepEqual(ackOf13.map((message) => message.kind), ["ackEpoch"]);
    // Its sync data does not come for initLimit ticks (the leader has not read the ack yet): role 13
    // gives up, and the member follows the same leader again as role 15, on the same connection.
    for (let tick = 0; tick <= 10; tick++) role13.tick();
    assert.match(follower.stepDowns.join("\n"), /nothing from leader 1/);
    follower.take(LEADER); // role 13's pings
    const role15 = learnerRole(follower, 15);
    const fromRole15 = follower.take(LEADER);
    // The leader reads on: role 13's resend (answered with a second leaderInfo for role 13) ...
    deliver(zab, FOLLOWER, fromRole13.slice(1));
    deliver(role15, LEADER, leader.take(FOLLOWER));
    follower.take(LEADER).forEach((message) => fromRole15.push(message)); // (an ackEpoch, before the fix)
    // ... role 13's ackEpoch: the leader syncs role 13 (DIFF 0x100000006..0x10000000a, NEWLEADER) ...
    deliver(zab, FOLLOWER, ackOf13);
    deliver(role15, LEADER, leader.take(FOLLOWER));
    follower.take(LEADER).forEach((message) => fromRole15.push(message));
    // ... then role 15's followerInfo and, once role 15 has its own leaderInfo, its ackEpoch.
    for (let round = 0; round < 4 && fromRole15.length > 0; round++) {
      deliver(zab, FOLLOWER, fromRole15.splice(0));
      deliver(role15, LEADER, leader.take(FOLLOWER));
      follower.take(LEADER).forEach((message) => fromRole15.push(message));
    }
    assert.deepEqual(follower.logFailures, [], "the follower's log must grow in order (the real store stops the member otherwise)");
    assert.equal(follower.server.tree.lastZxid, zxidOf(1, 10), "role 15 is synced with the leader");
    assert.equal(follower.logLast, zxidOf(1, 10));
    const appended = follower.persisted.flatMap((request) => request.kind === "append" ? request.entries.map((entry) => entry.header.zxid) : []);
    assert.deepEqual(appended, EPOCH1.slice(5).map((entry) => entry.header.zxid), "each missing txn logged exactly once");
  });

  test("a learner ignores a leaderInfo answering another attempt, and everything after it", () => {
    const { follower } = setup();
    const role = learnerRole(follower, 7);
    follower.take(LEADER);
    role.receive(LEADER, { kind: "leaderInfo", newEpoch: 2, attempt: 6 });
    role.receive(LEADER, { kind: "diff", entries: EPOCH1.slice(5) });
    assert.equal(role.phase, "discovery");
    assert.deepEqual(follower.persisted, []);
    assert.deepEqual(follower.take(LEADER), []);
    role.receive(LEADER, { kind: "leaderInfo", newEpoch: 2, attempt: 7 });
    assert.equal(role.phase, "sync");
    const ack = follower.take(LEADER);
    assert.equal(ack.length, 1);
    assert.ok(ack[0]!.kind === "ackEpoch" && ack[0]!.attempt === 7, "ackEpoch names the attempt");
  });

  test("a leader's leaderInfo names the attempt it answers, and an ackEpoch of another attempt or another epoch is ignored", () => {
    const { leader, zab } = setup();
    zab.receive(FOLLOWER, { kind: "followerInfo", acceptedEpoch: 1, lastZxid: zxidOf(1, 5), observer: false, attempt: 4 });
    zab.receive(FOLLOWER, { kind: "followerInfo", acceptedEpoch: 1, lastZxid: zxidOf(1, 5), observer: false, attempt: 4 });
    const answers = leader.take(FOLLOWER);
    assert.deepEqual(answers.map((message) => message.kind === "leaderInfo" ? message.attempt : message.kind), [4, 4]);
    zab.receive(FOLLOWER, { kind: "followerInfo", acceptedEpoch: 1, lastZxid: zxidOf(1, 5), observer: false, attempt: 5 });
    leader.take(FOLLOWER);
    zab.receive(FOLLOWER, { kind: "ackEpoch", currentEpoch: 1, lastZxid: zxidOf(1, 5), appliedZxid: zxidOf(1, 5), attempt: 4, epoch: 2 });
    assert.deepEqual(leader.take(FOLLOWER), [], "an earlier role's ackEpoch starts no sync");
    zab.receive(FOLLOWER, { kind: "ackEpoch", currentEpoch: 1, lastZxid: zxidOf(1, 5), appliedZxid: zxidOf(1, 5), attempt: 5, epoch: 1 });
    assert.deepEqual(leader.take(FOLLOWER), [], "an ackEpoch of another epoch (a late answer to an earlier role of the leader) starts no sync");
    zab.receive(FOLLOWER, { kind: "ackEpoch", currentEpoch: 1, lastZxid: zxidOf(1, 5), appliedZxid: zxidOf(1, 5), attempt: 5, epoch: 2 });
    assert.deepEqual(leader.take(FOLLOWER).map((message) => message.kind), ["diff", "newLeader"]);
  });
});
