import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CurrentVote,
  type ElectionOutput,
  type ElectionSelf,
  FastLeaderElection,
  type FastLeaderElectionOptions,
  NO_LEADER,
  totalOrderPredicate,
} from "../../src/core/election.ts";
import type { Sid, VoteMessage } from "../../src/core/peer_messages.ts";
import { QuorumVerifier } from "../../src/core/quorum.ts";
import { zxidOf } from "../../src/core/zxid.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";

// ---------------------------------------------------------------------------------------------------
// Helpers

function vote(fields: Partial<VoteMessage> & { leader: Sid }): VoteMessage {
  return { kind: "vote", zxid: 0, electionEpoch: 1, peerEpoch: 0, state: "looking", ...fields };
}

function sends(outputs: ElectionOutput[]): Array<{ to: Sid; message: VoteMessage }> {
  return outputs.flatMap((output) =>
    output.kind === "send" ? [{ to: output.to, message: output.message }] : []
  );
}

function decisions(outputs: ElectionOutput[]) {
  return outputs.filter((output) => output.kind === "decided");
}

function election(
  myId: Sid,
  voters: Sid[],
  extra: Partial<FastLeaderElectionOptions> = {},
): FastLeaderElection {
  return new FastLeaderElection({
    myId,
    quorum: extra.quorum ?? new QuorumVerifier({ voters }),
    finalizeWaitTicks: extra.finalizeWaitTicks ?? 2,
    notificationTimeoutTicksMin: extra.notificationTimeoutTicksMin ?? 2,
    notificationTimeoutTicksMax: extra.notificationTimeoutTicksMax ?? 16,
  });
}

function ticks(target: FastLeaderElection, count: number): ElectionOutput[] {
  const outputs: ElectionOutput[] = [];
  for (let index = 0; index < count; index++) outputs.push(...target.tick());
  return outputs;
}

// ---------------------------------------------------------------------------------------------------
// Vote ordering

describe("totalOrderPredicate", () => {
  const base = { leader: 2, zxid: zxidOf(3, 10), peerEpoch: 3 };

  test("orders by peerEpoch first, then zxid, then sid", () => {
    assert.ok(totalOrderPredicate({ ...base, peerEpoch: 4, zxid: 0, leader: 1 }, base), "higher epoch wins");
    assert.ok(!totalOrderPredicate({ ...base, peerEpoch: 2, zxid: zxidOf(9, 9), leader: 9 }, base));
    assert.ok(totalOrderPredicate({ ...base, zxid: zxidOf(3, 11), leader: 1 }, base), "then higher zxid");
    assert.ok(!totalOrderPredicate({ ...base, zxid: zxidOf(3, 9), leader: 9 }, base));
    assert.ok(totalOrderPredicate({ ...base, leader: 3 }, base), "then higher sid");
    assert.ok(!totalOrderPredicate({ ...base, leader: 1 }, base));
  });

  test("is a strict total order: irreflexive, asymmetric, and sorting agrees with it", () => {
    assert.ok(!totalOrderPredicate(base, { ...base }), "a vote does not beat itself");
    const prng = createPrng(7);
    const proposals = Array.from({ length: 40 }, (_, index) => ({
      leader: 1 + prng.int(5),
      zxid: zxidOf(prng.int(3), prng.int(3)),
      peerEpoch: prng.int(3),
      index,
    }));
    for (const a of proposals) {
      for (const b of proposals) {
        const same = a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
        const ab = totalOrderPredicate(a, b);
        const ba = totalOrderPredicate(b, a);
        assert.ok(!(ab && ba), "asymmetric");
        assert.equal(ab || ba, !same, "total: distinct votes are comparable");
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// One election, message by message

describe("FastLeaderElection rules", () => {
  const self = { currentEpoch: 1, lastZxid: zxidOf(1, 5) };

  test("start: round + 1, votes for itself and tells every other member, observers included", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4] });
    const fle = election(2, [], { quorum });
    assert.equal(fle.logicalClock, 0);
    const outputs = fle.start(self);
    assert.equal(fle.logicalClock, 1);
    assert.ok(fle.looking);
    assert.deepEqual(sends(outputs).map((send) => send.to), [1, 3, 4]);
    for (const { message } of sends(outputs)) {
      assert.deepEqual(message, vote({ leader: 2, zxid: self.lastZxid, peerEpoch: 1, electionEpoch: 1 }));
    }
    assert.notEqual(sends(outputs)[0]!.message, sends(outputs)[1]!.message, "no shared message objects");
    fle.start(self);
    assert.equal(fle.logicalClock, 2, "every start is a new round");
  });

  test("an observer asks the voters only and proposes nobody", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4, 5] });
    const fle = election(4, [], { quorum });
    const outputs = fle.start(self);
    assert.deepEqual(sends(outputs).map((send) => send.to), [1, 2, 3]);
    assert.equal(sends(outputs)[0]!.message.leader, NO_LEADER);
    assert.equal(fle.status().proposal, null);
  });

  test("adopts a better vote of the same round and re-broadcasts; ignores a worse one", () => {
    const fle = election(1, [1, 2, 3]);
    fle.start(self);
    assert.deepEqual(fle.receive(2, vote({ leader: 2, zxid: zxidOf(1, 4), peerEpoch: 1 })), []);
    const better = fle.receive(3, vote({ leader: 3, zxid: zxidOf(1, 5), peerEpoch: 1 }));
    assert.deepEqual(sends(better).map((send) => [send.to, send.message.leader]), [[2, 3], [3, 3]]);
    assert.deepEqual(fle.status().proposal, { leader: 3, zxid: zxidOf(1, 5), peerEpoch: 1 });
  });

  test("a higher round resets the round; the new vote is the better of it and our own", () => {
    const fle = election(1, [1, 2, 3]);
    fle.start(self);
    fle.receive(2, vote({ leader: 2, zxid: zxidOf(1, 4), peerEpoch: 1 })); // recorded in round 1
    const outputs = fle.receive(3, vote({ leader: 3, zxid: zxidOf(1, 1), peerEpoch: 1, electionEpoch: 5 }));
    assert.equal(fle.logicalClock, 5);
    assert.deepEqual(
      fle.status().proposal,
      { leader: 1, zxid: self.lastZxid, peerEpoch: 1 },
      "ours is better",
    );
    assert.deepEqual(sends(outputs).map((send) => [send.to, send.message.electionEpoch]), [[2, 5], [3, 5]]);
    assert.equal(fle.status().votesThisRound, 2, "round 1's vote from 2 was dropped: ours and 3's remain");
  });

  test("a lower round is ignored, but a lagging LOOKING voter is answered with our vote", () => {
    const fle = election(1, [1, 2, 3]);
    fle.start(self);
    fle.receive(3, vote({ leader: 3, electionEpoch: 3 }));
    const outputs = fle.receive(2, vote({ leader: 2, zxid: zxidOf(1, 99), peerEpoch: 1, electionEpoch: 2 }));
    assert.deepEqual(sends(outputs), [{
      to: 2,
      message: vote({ leader: 1, zxid: self.lastZxid, peerEpoch: 1, electionEpoch: 3 }),
    }]);
    assert.equal(fle.status().proposal!.leader, 1, "the better vote from an old round is not adopted");
  });

  test("votes from non-members, for non-voters, from itself, or malformed are ignored", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4] });
    const fle = election(1, [], { quorum });
    fle.start(self);
    const strong = { zxid: zxidOf(9, 9), peerEpoch: 9 };
    assert.deepEqual(fle.receive(9, vote({ leader: 2, ...strong })), [], "sender not a member");
    assert.deepEqual(fle.receive(2, vote({ leader: 4, ...strong })), [], "candidate is an observer");
    assert.deepEqual(fle.receive(2, vote({ leader: 77, ...strong })), [], "candidate not a member");
    assert.deepEqual(fle.receive(1, vote({ leader: 1, ...strong })), [], "our own vote");
    assert.deepEqual(fle.receive(2, { ...vote({ leader: 2, ...strong }), state: "bogus" as "looking" }), []);
    assert.deepEqual(fle.receive(2, vote({ leader: 2, ...strong, zxid: -1 })), []);
    assert.equal(fle.status().proposal!.leader, 1);
  });

  test("a voter answers an observer's vote with its own and does not count it", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4] });
    const fle = election(1, [], { quorum });
    fle.start(self);
    const outputs = fle.receive(4, vote({ leader: 3, zxid: zxidOf(9, 9), peerEpoch: 9, electionEpoch: 7 }));
    assert.deepEqual(
      sends(outputs).map((send) => [send.to, send.message.leader, send.message.electionEpoch]),
      [[4, 1, 1]],
    );
    assert.equal(fle.logicalClock, 1);
    assert.equal(fle.status().votesThisRound, 1);
  });

  test("a quorum agreeing starts the finalize wait; it decides after finalizeWaitTicks", () => {
    const fle = election(3, [1, 2, 3, 4, 5], { finalizeWaitTicks: 3 });
    fle.start({ currentEpoch: 1, lastZxid: zxidOf(1, 9) });
    const mine = { leader: 3, zxid: zxidOf(1, 9), peerEpoch: 1 };
    fle.receive(1, vote(mine));
    assert.equal(fle.status().finalizeTicksLeft, null, "2 of 5 is no quorum");
    fle.receive(2, vote(mine));
    assert.equal(fle.status().finalizeTicksLeft, 3);
    assert.deepEqual(ticks(fle, 2), []);
    assert.ok(fle.looking);
    assert.deepEqual(decisions(fle.tick()), [
      { kind: "decided", leader: 3, state: "leading", electionEpoch: 1, peerEpoch: 1, zxid: zxidOf(1, 9) },
    ]);
    assert.ok(!fle.looking);
    assert.equal(fle.decision!.leader, 3);
    assert.deepEqual(fle.tick(), [], "tick does nothing once decided");
    assert.throws(() => fle.receive(1, vote(mine)), /not looking; pass votes to answerWhileNotLooking/);
  });

  test("a better vote during the finalize wait cancels it; a stale reordered vote does not", () => {
    const fle = election(1, [1, 2, 3, 4, 5], { finalizeWaitTicks: 2 });
    fle.start(self);
    const two = { leader: 2, zxid: zxidOf(1, 6), peerEpoch: 1 };
    fle.receive(2, vote(two));
    fle.receive(3, vote(two));
    assert.equal(fle.status().finalizeTicksLeft, 2, "1, 2 and 3 vote for 2");
    fle.receive(2, vote({ leader: 2, zxid: zxidOf(1, 1), peerEpoch: 1 })); // 2's older vote, reordered
    assert.equal(fle.status().finalizeTicksLeft, 2, "the stale vote neither cancels nor replaces");
    fle.tick();
    const four = { leader: 4, zxid: zxidOf(1, 7), peerEpoch: 1 };
    const outputs = fle.receive(4, vote(four));
    assert.equal(fle.status().finalizeTicksLeft, null, "cancelled by the better vote");
    assert.equal(decisions([...outputs, ...ticks(fle, 5)]).length, 0, "only 1 and 4 vote for 4");
    fle.receive(2, vote(four));
    assert.equal(fle.status().finalizeTicksLeft, 2, "a quorum for 4: a fresh wait");
    assert.deepEqual(decisions(ticks(fle, 2)).map((decided) => [decided.leader, decided.state]), [[
      4,
      "following",
    ]]);
  });

  test("a better vote that completes a quorum restarts the finalize wait for the new vote", () => {
    const fle = election(1, [1, 2, 3], { finalizeWaitTicks: 3 });
    fle.start(self);
    fle.receive(2, vote({ leader: 2, zxid: zxidOf(1, 6), peerEpoch: 1 }));
    fle.tick();
    assert.equal(fle.status().finalizeTicksLeft, 2);
    fle.receive(3, vote({ leader: 3, zxid: zxidOf(1, 7), peerEpoch: 1 }));
    assert.equal(fle.status().finalizeTicksLeft, 3, "1 and 3 now agree on 3: waiting again, in full");
    assert.deepEqual(decisions(ticks(fle, 3)).map((decided) => decided.leader), [3]);
  });

  test("finalizeWaitTicks 0 decides at once; a lone voter elects itself", () => {
    const lone = election(1, [1], { finalizeWaitTicks: 0 });
    assert.deepEqual(decisions(lone.start(self)).map((decided) => decided.state), ["leading"]);
    const waits = election(1, [1], { finalizeWaitTicks: 1 });
    assert.deepEqual(decisions(waits.start(self)), []);
    assert.deepEqual(decisions(waits.tick()).map((decided) => decided.state), ["leading"]);
  });

  test("undecided votes are re-sent with exponential backoff up to the maximum", () => {
    const fle = election(1, [1, 2, 3], { notificationTimeoutTicksMin: 2, notificationTimeoutTicksMax: 9 });
    fle.start(self);
    const resentAt: number[] = [];
    for (let tick = 1; tick <= 60; tick++) {
      const out = sends(fle.tick());
      if (out.length > 0) {
        assert.deepEqual(out.map((send) => send.to), [2, 3]);
        resentAt.push(tick);
      }
    }
    assert.deepEqual(resentAt, [2, 6, 14, 23, 32, 41, 50, 59], "waits 2, 4, 8, then 9 (the cap)");
    fle.start(self);
    assert.equal(fle.status().notificationTimeoutTicks, 2, "a new round starts from the minimum again");
  });

  test("servers out of election decide it: a quorum names the leader and the leader says it leads", () => {
    const fle = election(5, [1, 2, 3, 4, 5]);
    fle.start({ currentEpoch: 9, lastZxid: zxidOf(9, 9) }); // better than the ensemble's: no matter
    const established = { leader: 2, zxid: zxidOf(2, 0), peerEpoch: 3, electionEpoch: 4 };
    assert.deepEqual(fle.receive(1, vote({ ...established, state: "following", zxid: zxidOf(2, 7) })), []);
    assert.deepEqual(fle.receive(3, vote({ ...established, state: "following", electionEpoch: 2 })), []);
    assert.deepEqual(
      fle.receive(4, vote({ ...established, state: "following" })),
      [],
      "3 of 5, but 2 has not said it leads",
    );
    const outputs = fle.receive(2, vote({ ...established, state: "leading" }));
    assert.deepEqual(
      decisions(outputs).map((decided) => [decided.leader, decided.state, decided.electionEpoch]),
      [[2, "following", 4]],
    );
    assert.equal(fle.logicalClock, 4, "joins the ensemble's round");
  });

  test("followers of a crashed leader cannot make a looking server elect it", () => {
    const fle = election(5, [1, 2, 3, 4, 5]);
    fle.start(self);
    for (const sid of [1, 2, 3, 4]) {
      assert.deepEqual(
        fle.receive(sid, vote({ leader: 4, peerEpoch: 2, electionEpoch: 1, state: "following" })),
        [],
      );
    }
    assert.ok(fle.looking, "4 never said it leads");
  });

  test("answerWhileNotLooking answers LOOKING votes with the current vote; observers answer nothing", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4] });
    const follower = election(1, [], { quorum, finalizeWaitTicks: 0 });
    follower.start(self);
    follower.receive(3, vote({ leader: 3, zxid: zxidOf(1, 8), peerEpoch: 1 }));
    assert.equal(follower.decision!.leader, 3);
    const current: CurrentVote = {
      leader: 3,
      zxid: zxidOf(1, 8),
      electionEpoch: 1,
      peerEpoch: 2,
      state: "following",
    };
    assert.deepEqual(
      sends(follower.answerWhileNotLooking(2, vote({ leader: 2, electionEpoch: 6 }), current)),
      [
        { to: 2, message: { kind: "vote", ...current } },
      ],
    );
    assert.equal(sends(follower.answerWhileNotLooking(4, vote({ leader: NO_LEADER }), current)).length, 1);
    assert.deepEqual(follower.answerWhileNotLooking(2, vote({ leader: 3, state: "following" }), current), []);
    assert.deepEqual(follower.answerWhileNotLooking(8, vote({ leader: 2 }), current), [], "not a member");
    assert.throws(
      () => follower.answerWhileNotLooking(2, vote({ leader: 2 }), { ...current, state: "leading" }),
      /cannot be leading with leader 3/,
    );
    assert.throws(
      () => follower.answerWhileNotLooking(2, vote({ leader: 2 }), { ...current, leader: 4 }),
      /not a voter/,
    );

    const observer = election(4, [], { quorum, finalizeWaitTicks: 0 });
    assert.deepEqual(
      observer.answerWhileNotLooking(1, vote({ leader: 1 }), { ...current, state: "observing" }),
      [],
    );
    observer.start(self);
    assert.throws(
      () => observer.answerWhileNotLooking(1, vote({ leader: 1 }), { ...current, state: "observing" }),
      /is looking/,
    );
  });

  test("constructor and start validate their input", () => {
    const quorum = new QuorumVerifier({ voters: [1, 2, 3] });
    assert.throws(
      () => new FastLeaderElection({ myId: 7, quorum }),
      /myId 7 is neither a voter nor an observer/,
    );
    assert.throws(
      () => new FastLeaderElection({ myId: 1, quorum, finalizeWaitTicks: -1 }),
      /finalizeWaitTicks/,
    );
    assert.throws(() => new FastLeaderElection({ myId: 1, quorum, notificationTimeoutTicksMin: 0 }), /Min/);
    assert.throws(
      () =>
        new FastLeaderElection({
          myId: 1,
          quorum,
          notificationTimeoutTicksMin: 8,
          notificationTimeoutTicksMax: 4,
        }),
      /exceeds/,
    );
    const defaults = new FastLeaderElection({ myId: 1, quorum });
    assert.deepEqual(
      [
        defaults.finalizeWaitTicks,
        defaults.notificationTimeoutTicksMin,
        defaults.notificationTimeoutTicksMax,
      ],
      [2, 2, 600],
    );
    assert.throws(
      () => defaults.start({ currentEpoch: 1, lastZxid: zxidOf(2, 0) }),
      /ahead of currentEpoch 1/,
    );
    assert.throws(() => defaults.start({ currentEpoch: -1, lastZxid: 0 }), /non-negative integer/);
  });
});

// ---------------------------------------------------------------------------------------------------
// A small deterministic network of elections

interface Faults {
  /** Deliver queued messages in random order. */
  reorder?: boolean;
  dropPercent?: number;
  duplicatePercent?: number;
  /** Hold a message over to after the next tick. */
  delayPercent?: number;
}

interface Node {
  sid: Sid;
  election: FastLeaderElection;
  self: ElectionSelf;
  up: boolean;
  /** Set when the election decided; null while looking or before starting. */
  current: CurrentVote | null;
  /** Ticks the Zab stand-in has seen this node without a working leader or quorum. */
  unhealthyTicks: number;
  /** Leaders only: the epoch established with a quorum, or null. */
  establishedEpoch: number | null;
}

interface Envelope {
  from: Sid;
  to: Sid;
  message: VoteMessage;
  copy: boolean;
}

interface NetOptions {
  voters: Sid[];
  observers?: Sid[];
  selves?: Map<Sid, ElectionSelf>;
  seed?: number;
  faults?: Faults;
  /** Model Zab after election: establish epochs, step down without a quorum, re-elect. */
  zab?: boolean;
}

const MESSAGES_PER_PHASE_MAX = 200_000;
const SYNC_LIMIT_TICKS = 4;

class ElectionNet {
  readonly quorum: QuorumVerifier;
  readonly nodes = new Map<Sid, Node>();
  readonly decidedLog: Array<{ tick: number; sid: Sid; leader: Sid; state: string }> = [];
  /** Every epoch established, with who established it: a checker for "one leader per epoch". */
  readonly leadersByEpoch = new Map<number, Set<Sid>>();
  faults: Faults;
  partition: Sid[][] | null = null;
  now = 0;
  #queue: Envelope[] = [];
  #delayed: Envelope[] = [];
  readonly #prng: Prng;
  readonly #zab: boolean;

  constructor(options: NetOptions) {
    this.quorum = new QuorumVerifier({ voters: options.voters, observers: options.observers ?? [] });
    this.faults = options.faults ?? {};
    this.#prng = createPrng(options.seed ?? 1);
    this.#zab = options.zab ?? false;
    for (const sid of this.quorum.members) {
      this.nodes.set(sid, {
        sid,
        election: new FastLeaderElection({
          myId: sid,
          quorum: this.quorum,
          finalizeWaitTicks: 2,
          notificationTimeoutTicksMin: 2,
          notificationTimeoutTicksMax: 16,
        }),
        self: options.selves?.get(sid) ?? { currentEpoch: 0, lastZxid: 0 },
        up: true,
        current: null,
        unhealthyTicks: 0,
        establishedEpoch: null,
      });
    }
  }

  node(sid: Sid): Node {
    const node = this.nodes.get(sid);
    assert.ok(node, `no node ${sid}`);
    return node;
  }

  start(...sids: Sid[]): void {
    for (const sid of sids) {
      const node = this.node(sid);
      node.up = true;
      node.current = null;
      node.establishedEpoch = null;
      node.unhealthyTicks = 0;
      this.#apply(node, node.election.start({ ...node.self }));
    }
  }

  crash(sid: Sid): void {
    const node = this.node(sid);
    node.up = false;
    node.current = null;
    node.establishedEpoch = null;
  }

  connected(a: Sid, b: Sid): boolean {
    if (!this.node(a).up || !this.node(b).up) return false;
    return this.partition === null || this.partition.some((group) => group.includes(a) && group.includes(b));
  }

  /** Delivers until the queue is empty (bounded: a livelock between elections fails here). */
  deliverAll(): void {
    let delivered = 0;
    while (this.#queue.length > 0) {
      delivered += 1;
      assert.ok(delivered <= MESSAGES_PER_PHASE_MAX, `messages did not settle: ${delivered} in one phase`);
      const index = this.faults.reorder ? this.#prng.int(this.#queue.length) : 0;
      const [envelope] = this.#queue.splice(index, 1);
      this.#deliver(envelope!);
    }
  }

  tickAll(): void {
    this.now += 1;
    this.#queue.push(...this.#delayed);
    this.#delayed = [];
    for (const node of this.nodes.values()) {
      if (node.up) this.#apply(node, node.election.tick());
    }
    if (this.#zab) this.#zabStandIn();
  }

  /** Runs phases of delivery and ticks until `until` holds; returns the ticks it took, or -1. */
  run(ticksMax: number, until: () => boolean = () => false): number {
    for (let tick = 0; tick < ticksMax; tick++) {
      this.deliverAll();
      if (until()) return tick;
      this.tickAll();
    }
    this.deliverAll();
    return until() ? ticksMax : -1;
  }

  /** The up members of `sids` all decided, agree on one leader, and that leader leads. */
  agreed(sids: Sid[]): Sid | null {
    const leaders = new Set(sids.map((sid) => this.node(sid).current?.leader ?? null));
    if (leaders.size !== 1) return null;
    const [leader] = leaders;
    if (leader === null || leader === undefined) return null;
    return this.node(leader).current?.state === "leading" ? leader : null;
  }

  /** Every up member follows (or observes) one leader that leads an established quorum. */
  converged(): Sid | null {
    const up = [...this.nodes.values()].filter((node) => node.up).map((node) => node.sid);
    const leader = this.agreed(up);
    if (leader === null || (this.#zab && this.node(leader).establishedEpoch === null)) return null;
    return leader;
  }

  #deliver(envelope: Envelope): void {
    if (!this.connected(envelope.from, envelope.to)) return;
    if (percent(this.#prng, this.faults.dropPercent)) return;
    if (!envelope.copy && percent(this.#prng, this.faults.duplicatePercent)) {
      this.#queue.push({ ...envelope, message: { ...envelope.message }, copy: true });
    }
    if (percent(this.#prng, this.faults.delayPercent)) {
      this.#delayed.push(envelope);
      return;
    }
    const node = this.node(envelope.to);
    const message = { ...envelope.message }; // never share objects between servers
    if (node.election.looking) this.#apply(node, node.election.receive(envelope.from, message));
    else if (node.current !== null) {
      this.#apply(node, node.election.answerWhileNotLooking(envelope.from, message, node.current));
    }
  }

  #apply(node: Node, outputs: ElectionOutput[]): void {
    for (const output of outputs) {
      if (output.kind === "send") {
        assert.notEqual(output.to, node.sid, "an election never sends to itself");
        this.#queue.push({ from: node.sid, to: output.to, message: { ...output.message }, copy: false });
      } else {
        const { leader, zxid, electionEpoch, peerEpoch, state } = output;
        node.current = { leader, zxid, electionEpoch, peerEpoch, state };
        node.unhealthyTicks = 0;
        node.establishedEpoch = null;
        this.decidedLog.push({ tick: this.now, sid: node.sid, leader, state });
      }
    }
  }

  /**
   * What Zab does after an election, reduced to its effect on election: a leader establishes a new
   * epoch once a quorum follows it (everyone then reports that epoch: updateElectionVote); a learner
   * whose leader does not lead, or a leader without a quorum, goes back to looking after a while.
   */
  #zabStandIn(): void {
    for (const node of this.nodes.values()) {
      if (!node.up || node.current === null) continue;
      const healthy = node.current.state === "leading" ? this.#lead(node) : this.#learn(node);
      node.unhealthyTicks = healthy ? 0 : node.unhealthyTicks + 1;
      if (node.unhealthyTicks > SYNC_LIMIT_TICKS) this.start(node.sid);
    }
  }

  #lead(leader: Node): boolean {
    const supporters = [...this.nodes.values()].filter((node) =>
      node.sid === leader.sid ||
      (this.connected(node.sid, leader.sid) && node.current?.leader === leader.sid &&
        node.current.state !== "leading")
    );
    if (!this.quorum.containsQuorum(supporters.map((node) => node.sid))) return false;
    if (leader.establishedEpoch === null) {
      const voters = supporters.filter((node) => this.quorum.isVoter(node.sid));
      leader.establishedEpoch = Math.max(...voters.map((node) => node.self.currentEpoch)) + 1;
      const leaders = this.leadersByEpoch.get(leader.establishedEpoch) ?? new Set<Sid>();
      this.leadersByEpoch.set(leader.establishedEpoch, leaders.add(leader.sid));
    }
    for (const node of supporters) {
      node.self.currentEpoch = leader.establishedEpoch;
      node.current!.peerEpoch = leader.establishedEpoch;
    }
    return true;
  }

  #learn(learner: Node): boolean {
    const leader = this.node(learner.current!.leader);
    return this.connected(learner.sid, leader.sid) && leader.current?.state === "leading";
  }
}

function percent(prng: Prng, value: number | undefined): boolean {
  return value !== undefined && value > 0 && prng.int(100) < value;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** The best of `sids` by (epoch, zxid, sid): the leader FLE should pick among them. */
function best(net: ElectionNet, sids: Sid[]): Sid {
  let winner = sids[0]!;
  for (const sid of sids) {
    const a = net.node(sid).self;
    const b = net.node(winner).self;
    const candidate = { leader: sid, zxid: a.lastZxid, peerEpoch: a.currentEpoch };
    if (totalOrderPredicate(candidate, { leader: winner, zxid: b.lastZxid, peerEpoch: b.currentEpoch })) {
      winner = sid;
    }
  }
  return winner;
}

function shuffled(prng: Prng, sids: Sid[]): Sid[] {
  const out = [...sids];
  for (let index = out.length - 1; index > 0; index--) {
    const other = prng.int(index + 1);
    [out[index], out[other]] = [out[other]!, out[index]!];
  }
  return out;
}

function randomSelves(prng: Prng, sids: Sid[]): Map<Sid, ElectionSelf> {
  return new Map(sids.map((sid) => {
    const currentEpoch = 1 + prng.int(3);
    return [sid, { currentEpoch, lastZxid: zxidOf(currentEpoch - prng.int(2), prng.int(4)) }];
  }));
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

describe("fast leader election between servers", () => {
  for (const size of [3, 5, 7]) {
    test(`${size} voters: all decide the same leader, the best by (epoch, zxid, sid)`, () => {
      for (let seed = 1; seed <= 10; seed++) {
        const voters = range(1, size);
        const net = new ElectionNet({ voters, selves: randomSelves(createPrng(seed), voters), seed });
        net.start(...voters);
        assert.ok(net.run(30, () => net.agreed(voters) !== null) >= 0, `seed ${seed}: no agreement`);
        const leader = net.agreed(voters)!;
        assert.equal(leader, best(net, voters), `seed ${seed}`);
        for (const sid of voters) {
          const current = net.node(sid).current!;
          assert.equal(current.state, sid === leader ? "leading" : "following");
          assert.deepEqual([current.zxid, current.peerEpoch], [
            net.node(leader).self.lastZxid,
            net.node(leader).self.currentEpoch,
          ]);
        }
        assert.equal(net.decidedLog.length, size, "each decides exactly once");
      }
    });
  }

  test("equal histories: the highest sid leads", () => {
    const net = new ElectionNet({ voters: [1, 2, 3, 4, 5] });
    net.start(3, 1, 5, 2, 4);
    assert.ok(net.run(30, () => net.agreed([1, 2, 3, 4, 5]) === 5) >= 0);
  });

  test("a minority partition never decides while the majority does; after healing it joins", () => {
    const voters = [1, 2, 3, 4, 5];
    const selves = new Map(voters.map((sid) => [sid, { currentEpoch: 1, lastZxid: zxidOf(1, 10 - sid) }]));
    const net = new ElectionNet({ voters, selves, zab: true });
    net.partition = [[1, 2], [3, 4, 5]];
    net.start(...voters);
    net.run(200);
    assert.equal(net.agreed([3, 4, 5]), 3, "3 has the best zxid of the majority");
    assert.ok(net.decidedLog.every((entry) => entry.sid >= 3), "1 and 2 never decided");
    assert.ok(net.node(1).election.looking && net.node(2).election.looking);
    assert.equal(net.node(3).establishedEpoch, 2);
    net.partition = null;
    assert.ok(
      net.run(60, () => net.converged() !== null) >= 0,
      "the minority learns the leader after healing",
    );
    assert.equal(net.converged(), 3, "1 has the best zxid but joins the established leader");
    assert.equal(net.node(1).current!.state, "following");
  });

  test("servers starting late learn the existing leader from servers out of election", () => {
    const voters = [1, 2, 3, 4, 5];
    const selves = new Map(voters.map((sid) => [sid, { currentEpoch: 1, lastZxid: zxidOf(1, sid) }]));
    const net = new ElectionNet({ voters, selves, zab: true });
    net.crash(4);
    net.crash(5);
    net.start(1, 2, 3);
    assert.ok(net.run(40, () => net.converged() === 3) >= 0);
    net.start(4);
    assert.ok(net.run(40, () => net.converged() === 3) >= 0, "4 joins without an election of its own");
    net.tickAll();
    net.start(5);
    assert.ok(net.run(40, () => net.converged() === 3) >= 0, "5 has the best zxid but follows 3");
    assert.equal(net.node(5).current!.state, "following");
    assert.equal(net.node(5).current!.peerEpoch, 2, "the established epoch, agreed by all");
    assert.ok(net.decidedLog.every((entry) => entry.leader === 3));
  });

  test("observers learn the leader, never count and never lead", () => {
    const voters = [1, 2, 3];
    const observers = [4, 5];
    const selves = new Map(
      [...voters, ...observers].map((sid) => [sid, { currentEpoch: sid, lastZxid: zxidOf(sid, 9) }]),
    );
    const net = new ElectionNet({ voters, observers, selves, zab: true });
    net.crash(5);
    net.start(4); // an observer alone decides nothing
    net.run(20);
    assert.ok(net.node(4).election.looking);
    net.start(1, 2, 3);
    assert.ok(net.run(40, () => net.converged() !== null) >= 0, "the looking observer hears the voters");
    assert.equal(net.converged(), 3);
    net.start(5); // and a late observer asks
    assert.ok(net.run(40, () => net.converged() === 3) >= 0);
    for (const sid of observers) assert.equal(net.node(sid).current!.state, "observing");
    assert.ok(net.decidedLog.every((entry) => entry.leader === 3));
  });

  test("an observer cannot help a minority of voters elect a leader", () => {
    const net = new ElectionNet({ voters: [1, 2, 3], observers: [4, 5], zab: true });
    net.partition = [[1, 4, 5], [2], [3]];
    net.start(1, 2, 3, 4, 5);
    net.run(100);
    assert.deepEqual(net.decidedLog, []);
  });

  test("re-election after the leader is removed: the best remaining server leads", () => {
    const voters = [1, 2, 3, 4, 5];
    const net = new ElectionNet({ voters, zab: true });
    net.start(...voters);
    assert.ok(net.run(40, () => net.converged() === 5) >= 0);
    const epoch = net.node(5).establishedEpoch!;
    // Proposals reached some followers before the leader crashed.
    net.node(2).self.lastZxid = zxidOf(epoch, 3);
    net.node(3).self.lastZxid = zxidOf(epoch, 2);
    net.crash(5);
    const decidedBefore = net.decidedLog.length;
    assert.ok(net.run(80, () => net.converged() !== null) >= 0);
    assert.equal(net.converged(), 2, "2 saw the most txns");
    assert.ok(
      net.decidedLog.slice(decidedBefore).every((entry) => entry.leader === 2),
      "nobody picked the dead leader",
    );
    assert.equal(net.node(2).establishedEpoch, epoch + 1);
    // The old leader comes back and follows.
    net.start(5);
    assert.ok(net.run(40, () => net.converged() === 2) >= 0);
  });

  test("3 voters survive the loss of one, not of two", () => {
    const net = new ElectionNet({ voters: [1, 2, 3], zab: true });
    net.start(1, 2, 3);
    assert.ok(net.run(40, () => net.converged() === 3) >= 0);
    net.crash(3);
    assert.ok(net.run(60, () => net.converged() === 2) >= 0);
    net.crash(2);
    net.run(100);
    assert.ok(net.node(1).election.looking, "a lone voter of three stays looking");
  });

  test("many seeds: reordering and duplication still converge on the best server", () => {
    for (const size of [3, 5, 7]) {
      for (let seed = 1; seed <= 25; seed++) {
        const voters = range(1, size);
        const observers = range(size + 1, size + 1 + (seed % 3));
        const selves = randomSelves(createPrng(seed * 31 + size), [...voters, ...observers]);
        const net = new ElectionNet({
          voters,
          observers,
          selves,
          seed,
          faults: { reorder: true, duplicatePercent: 20 },
        });
        net.start(...shuffled(createPrng(seed), [...voters, ...observers]));
        const replay = `size ${size} seed ${seed}`;
        assert.ok(
          net.run(60, () => net.agreed([...voters, ...observers]) !== null) >= 0,
          `${replay}: no agreement`,
        );
        assert.equal(net.agreed([...voters, ...observers]), best(net, voters), replay);
      }
    }
  });

  test("many seeds: drops, delays and duplication, then a quiet phase: the ensemble converges", () => {
    for (const size of [3, 5, 7]) {
      for (let seed = 1; seed <= 20; seed++) {
        const voters = range(1, size);
        const observers = seed % 2 === 0 ? [size + 1] : [];
        const all = [...voters, ...observers];
        const prng = createPrng(seed * 7919 + size);
        const faults = {
          reorder: true,
          dropPercent: 5 + prng.int(30),
          duplicatePercent: prng.int(20),
          delayPercent: prng.int(30),
        };
        const net = new ElectionNet({
          voters,
          observers,
          selves: randomSelves(prng, all),
          seed,
          faults,
          zab: true,
        });
        const replay = `size ${size} seed ${seed} faults ${JSON.stringify(faults)}`;
        const order = shuffled(prng, all);
        for (const sid of order) {
          net.start(sid);
          net.run(prng.int(3));
        }
        net.run(40);
        if (prng.int(2) === 0) net.crash(order[0]!); // sometimes lose a server, at most a minority
        net.faults = {};
        assert.ok(net.run(400, () => net.converged() !== null) >= 0, `${replay}: did not converge`);
        const leader = net.converged()!;
        assert.ok(net.quorum.isVoter(leader), replay);
        for (const [epoch, leaders] of net.leadersByEpoch) {
          assert.equal(leaders.size, 1, `${replay}: leaders ${[...leaders]} in epoch ${epoch}`);
        }
      }
    }
  });
});
