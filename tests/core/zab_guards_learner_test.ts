/**
 * Zab rules a follower must keep, checked on the real ZabLearner fed by hand (no ensemble): the
 * leader's side is a list of messages, the disk a queue of writes that complete only when the test
 * says so. Each case is a rule whose breach a realistic slip causes (tests/mutation/catalogue.ts:
 * learner-newleader-ack-before-durable, learner-epoch-check-wrong-field, learner-commit-unchecked)
 * and that the ensemble tests reach rarely or never, because it takes a crash or a reordering at
 * one exact moment.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage } from "../../src/core/peer_messages.ts";
import type { PersistRequest } from "../../src/core/persistence.ts";
import { staticMembership } from "../../src/core/membership.ts";
import { QuorumVerifier } from "../../src/core/quorum.ts";
import { Server } from "../../src/core/server.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import type { ZabContext } from "../../src/core/zab_context.ts";
import { ZabLearner } from "../../src/core/zab_learner.ts";
import { type Zxid, zxidHex, zxidOf } from "../../src/core/zxid.ts";

const LEADER = 1;
const ME = 2;
const ATTEMPT = 1;
const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [] });

/** A txn that changes the tree visibly (a new session) and carries its zxid. */
function session(zxid: Zxid): TxnEntry {
  return {
    header: { sessionId: BigInt(zxid), cxid: 0, zxid, time: 1 },
    txn: { type: "createSession", timeoutMs: 10_000 },
  };
}

interface Write {
  request: PersistRequest;
  durable?: () => void;
}

/** The follower's member: its server, what it sent the leader, and a disk the test completes by hand. */
class Follower {
  readonly server: Server;
  readonly sent: PeerMessage[] = [];
  readonly stepDowns: string[] = [];
  /** Writes issued and not yet durable, in issue order (they complete in that order). */
  readonly disk: Write[] = [];
  /** Every write ever issued. */
  readonly writes: PersistRequest[] = [];
  /** While false, writes become durable as soon as they are issued. */
  holdDisk = false;
  readonly context: ZabContext;

  constructor(history: readonly TxnEntry[]) {
    this.server = new Server(defaultServerConfig({ serverId: ME, tickTimeMs: 100 }), 1_000_000);
    for (const entry of history) this.server.replay(entry);
    this.server.finishRecovery();
    this.context = {
      myId: ME,
      ...staticMembership(quorum),
      server: this.server,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      committed: () => {},
      historyReset: () => {},
      send: (to, message) => {
        assert.equal(to, LEADER, "a learner talks only to its leader");
        this.sent.push(structuredClone(message));
      },
      persist: (request, durable) => {
        this.writes.push(request);
        this.disk.push({ request, durable });
        if (!this.holdDisk) this.completeWrites(this.disk.length);
      },
      stepDown: (reason) => this.stepDowns.push(reason),
      serving: () => {},
      log: () => {},
    };
  }

  /** The role under test: told after each storage completion, as the replica tells it. */
  role: ZabLearner | null = null;

  /** The disk finishes the oldest `count` pending writes, in order, running their callbacks. */
  completeWrites(count: number): void {
    assert.ok(count <= this.disk.length, `only ${this.disk.length} writes are pending`);
    for (const write of this.disk.splice(0, count)) write.durable?.();
    this.role?.flushAcks();
  }

  /** Takes what was sent to the leader so far. */
  take(): PeerMessage[] {
    return this.sent.splice(0);
  }
}

function learner(follower: Follower, epochs: { acceptedEpoch: number; currentEpoch: number }): ZabLearner {
  follower.role = new ZabLearner(follower.context, {
    leader: LEADER,
    attempt: ATTEMPT,
    observer: false,
    uncommitted: [],
    ...epochs,
  });
  return follower.role;
}

function deliver(role: ZabLearner, ...messages: PeerMessage[]): void {
  for (const message of messages) role.receive(LEADER, message);
}

const EPOCH1 = Array.from({ length: 7 }, (_, i) => session(zxidOf(1, i + 1)));

/** A follower with EPOCH1's first five txns that took leaderInfo for epoch 2 and acked it. */
function joined(): { follower: Follower; role: ZabLearner } {
  const follower = new Follower(EPOCH1.slice(0, 5));
  const role = learner(follower, { acceptedEpoch: 1, currentEpoch: 1 });
  deliver(role, { kind: "leaderInfo", newEpoch: 2, attempt: ATTEMPT });
  assert.deepEqual(follower.take().map((message) => message.kind), ["followerInfo", "ackEpoch"]);
  return { follower, role };
}

/** A follower serving epoch 2 (synced, NEWLEADER acked, UPTODATE) with nothing outstanding. */
function broadcasting(): { follower: Follower; role: ZabLearner } {
  const { follower, role } = joined();
  deliver(role, { kind: "diff", entries: EPOCH1.slice(5) }, {
    kind: "newLeader",
    epoch: 2,
    zxid: zxidOf(2, 0),
  }, { kind: "upToDate" });
  assert.equal(role.phase, "broadcast");
  assert.equal(follower.server.tree.lastZxid, zxidOf(1, 7));
  follower.take();
  return { follower, role };
}

describe("zab follower: NEWLEADER is acked only once it is durable", () => {
  test("no ack of NEWLEADER leaves before the currentEpoch write (and the sync data before it) is on disk", () => {
    const { follower, role } = joined();
    // The disk is slow from here: the DIFF's txns and the NEWLEADER epochs write stay pending.
    follower.holdDisk = true;
    deliver(role, { kind: "diff", entries: EPOCH1.slice(5) }, {
      kind: "newLeader",
      epoch: 2,
      zxid: zxidOf(2, 0),
    });
    assert.deepEqual(
      follower.disk.map((write) =>
        write.request.kind === "epochs" ? `epochs current=${write.request.currentEpoch}` : write.request.kind
      ),
      ["append", "epochs current=2"],
      "the DIFF's txns, then currentEpoch 2, are being written",
    );
    // The leader counts this ack towards a quorum that holds the new epoch's history durably: if it
    // went out now and this member crashed, the epoch could be established on a quorum one of whose
    // members forgets it (restarting with currentEpoch 1 and without the DIFF's txns).
    assert.deepEqual(follower.take(), [], "nothing may be acked while the writes are pending");
    follower.completeWrites(1);
    assert.deepEqual(
      follower.take(),
      [],
      "the sync data is durable, but currentEpoch 2 is not yet: still no ack",
    );
    follower.completeWrites(1);
    assert.deepEqual(
      follower.take(),
      [{ kind: "ack", zxid: zxidOf(2, 0) }],
      "acked once currentEpoch 2 is durable",
    );
    assert.equal(role.currentEpoch, 2);
  });
});

describe("zab follower: a leaderInfo for an epoch below the one it accepted is refused", () => {
  test("acceptedEpoch 5 and currentEpoch 3: leaderInfo proposing epoch 4 is refused, not saved, not acked", () => {
    // Having accepted epoch 5 (ackEpoch sent, saved), this member promised the leader of epoch 5 not
    // to join any older epoch: that promise is what lets the leader of 5 count on it. Its
    // currentEpoch (3, the last epoch it followed to NEWLEADER) says nothing of that promise.
    const follower = new Follower(EPOCH1.slice(0, 5));
    const role = learner(follower, { acceptedEpoch: 5, currentEpoch: 3 });
    follower.take();
    deliver(role, { kind: "leaderInfo", newEpoch: 4, attempt: ATTEMPT });
    assert.equal(
      follower.stepDowns.length,
      1,
      "the member gives up on this leader (and starts a new election)",
    );
    assert.match(follower.stepDowns[0]!, /epoch 4/);
    assert.deepEqual(
      follower.take().filter((message) => message.kind === "ackEpoch"),
      [],
      "epoch 4 is not acked",
    );
    assert.deepEqual(
      follower.writes,
      [],
      "nothing is written: in particular acceptedEpoch does not go back to 4",
    );
    assert.equal(role.acceptedEpoch, 5);
  });

  test("the epoch it accepted, or a later one, is taken and acked once saved", () => {
    for (const newEpoch of [5, 6]) {
      const follower = new Follower(EPOCH1.slice(0, 5));
      const role = learner(follower, { acceptedEpoch: 5, currentEpoch: 3 });
      follower.take();
      deliver(role, { kind: "leaderInfo", newEpoch, attempt: ATTEMPT });
      assert.deepEqual(follower.stepDowns, [], `epoch ${newEpoch}`);
      assert.deepEqual(follower.writes, [{ kind: "epochs", acceptedEpoch: newEpoch }]);
      const acks = follower.take().filter((message) => message.kind === "ackEpoch");
      assert.equal(acks.length, 1, `epoch ${newEpoch} acked`);
      assert.ok(acks[0]!.kind === "ackEpoch" && acks[0]!.epoch === newEpoch && acks[0]!.currentEpoch === 3);
    }
  });
});

describe("zab follower: a COMMIT commits the proposal it names and every one before it", () => {
  const P1 = session(zxidOf(2, 1));
  const P2 = session(zxidOf(2, 2));

  test("the COMMIT of the next proposal applies it (and only it)", () => {
    const { follower, role } = broadcasting();
    deliver(role, { kind: "proposal", entry: P1 }, { kind: "proposal", entry: P2 });
    assert.deepEqual(follower.take(), [{ kind: "ack", zxid: P1.header.zxid }, {
      kind: "ack",
      zxid: P2.header.zxid,
    }]);
    deliver(role, { kind: "commit", zxid: P1.header.zxid });
    assert.equal(follower.server.tree.lastZxid, P1.header.zxid);
    deliver(role, { kind: "commit", zxid: P2.header.zxid });
    assert.equal(follower.server.tree.lastZxid, P2.header.zxid);
    assert.deepEqual(follower.stepDowns, []);
  });

  test("a COMMIT of a later proposal applies the earlier ones too, in order (the leader commits in zxid order)", () => {
    const { follower, role } = broadcasting();
    deliver(role, { kind: "proposal", entry: P1 }, { kind: "proposal", entry: P2 });
    deliver(role, { kind: "commit", zxid: P2.header.zxid });
    assert.equal(follower.server.tree.lastZxid, P2.header.zxid);
    assert.equal(follower.server.sessions().length, 7 + 2, "both proposals applied");
    assert.deepEqual(follower.stepDowns, []);
  });

  test("proposals made durable by one storage completion get one ack, of the last", () => {
    const { follower, role } = broadcasting();
    follower.holdDisk = true;
    deliver(role, { kind: "proposal", entry: P1 }, { kind: "proposal", entry: P2 });
    assert.deepEqual(follower.take(), [], "nothing acked before it is durable");
    follower.completeWrites(2);
    assert.deepEqual(follower.take(), [{ kind: "ack", zxid: P2.header.zxid }]);
  });

  test("a repeated COMMIT does not commit the proposal after it", () => {
    const { follower, role } = broadcasting();
    deliver(role, { kind: "proposal", entry: P1 }, { kind: "proposal", entry: P2 }, {
      kind: "commit",
      zxid: P1.header.zxid,
    });
    assert.equal(follower.server.tree.lastZxid, P1.header.zxid);
    deliver(role, { kind: "commit", zxid: P1.header.zxid });
    assert.equal(
      follower.server.tree.lastZxid,
      P1.header.zxid,
      `P2 is not committed by P1's duplicate (got ${zxidHex(follower.server.tree.lastZxid)})`,
    );
    assert.equal(follower.stepDowns.length, 1);
  });

  test("a COMMIT for a proposal it never received applies nothing", () => {
    const { follower, role } = broadcasting();
    deliver(role, { kind: "proposal", entry: P1 });
    deliver(role, { kind: "commit", zxid: zxidOf(2, 5) });
    assert.equal(follower.server.tree.lastZxid, zxidOf(1, 7));
    assert.equal(follower.stepDowns.length, 1);
  });
});
