/**
 * Fast leader election (ZooKeeper's FastLeaderElection) as a pure state machine: inputs are
 * `start`, `receive`, `tick` and `answerWhileNotLooking`; each returns the votes to send and, once,
 * the decision. No clocks, timers or threads: waits are counted in the replica's ticks.
 *
 * The rules, and where they differ from ZooKeeper (deliberately):
 * - Votes are ordered by (peerEpoch, zxid, sid) — `totalOrderPredicate`. A voter starts a round by
 *   voting for itself, adopts any better vote for a voter and tells every other member.
 * - A LOOKING vote from a higher round moves us to that round: the round's votes are dropped and we
 *   vote for the better of that vote and our own. Lower rounds are ignored, but a voter answers a
 *   lagging LOOKING sender with its own vote so that it catches up.
 * - When a quorum of this round's votes equals ours, we wait `finalizeWaitTicks` and then decide,
 *   unless a better vote arrives first (that cancels the wait). ZooKeeper waits for 200 ms of quiet
 *   instead; counting ticks from the moment the quorum formed keeps the wait bounded.
 * - FOLLOWING/LEADING votes (from servers already out of election) decide the election when a
 *   quorum of them name the same leader and epoch and that leader says it is LEADING (checkLeader);
 *   this is how a late or restarted server joins an established ensemble.
 * - Observers never propose themselves and never count. ZooKeeper sends notifications to voters only
 *   and answers observers on request; here voters also send their changes to observers (observers
 *   learn without waiting for a re-send), and observers never answer anything, which rules out
 *   answer-to-answer loops. Observers send their vote to voters only: their own, as a request to
 *   hear back, and each better one they adopt (a pending reconfig may make them voters there).
 * - Within one round a sender's vote only ever gets better, so a worse vote from the same sender and
 *   round is a stale, reordered message and is dropped (ZooKeeper relies on FIFO TCP links here).
 * - While still undecided, the vote is sent again after `notificationTimeoutTicksMin` ticks, then
 *   after twice as long, up to `notificationTimeoutTicksMax` (ZooKeeper's 200 ms … 60 s backoff).
 *
 * Election is about liveness and picking a good leader; safety comes from Zab's epochs, so a rare
 * split decision (possible with lost messages, as in ZooKeeper) is resolved by the next election.
 */
import type { PeerState, Sid, VoteMessage } from "./peer_messages.ts";
import type { Quorum } from "./quorum.ts";
import { type Zxid, zxidEpoch } from "./zxid.ts";

/** Vote.leader of an observer that has not yet heard of any candidate (no valid sid is 0). */
export const NO_LEADER: Sid = 0;

/** Defaults, in replica ticks; they assume a tick of about 100 ms (ZooKeeper: 200 ms and 60 s). */
export const FINALIZE_WAIT_TICKS_DEFAULT = 2;
export const NOTIFICATION_TIMEOUT_TICKS_MAX_DEFAULT = 600;

/** The part of a vote that `totalOrderPredicate` orders: a candidate with its epoch and last zxid. */
export interface VoteProposal {
  leader: Sid;
  zxid: Zxid;
  peerEpoch: number;
}

/** What this server brings to a new round (read from its store when it starts looking). */
export interface ElectionSelf {
  currentEpoch: number;
  lastZxid: Zxid;
}

/** The vote a server out of election stands by, as it answers LOOKING peers. */
export interface CurrentVote {
  leader: Sid;
  zxid: Zxid;
  electionEpoch: number;
  /** After Zab establishes a new epoch, pass that epoch here (ZooKeeper's updateElectionVote). */
  peerEpoch: number;
  state: "leading" | "following" | "observing";
}

export interface ElectionSend {
  kind: "send";
  to: Sid;
  message: VoteMessage;
}

export interface ElectionDecided {
  kind: "decided";
  leader: Sid;
  state: "leading" | "following" | "observing";
  electionEpoch: number;
  peerEpoch: number;
  zxid: Zxid;
}

export type ElectionOutput = ElectionSend | ElectionDecided;

export interface FastLeaderElectionOptions {
  myId: Sid;
  quorum: Quorum;
  /** Ticks between a quorum agreeing with our vote and deciding; 0 decides at once. Default 2. */
  finalizeWaitTicks?: number;
  /** Ticks before the first re-send of an undecided vote. Defaults to finalizeWaitTicks (at least 1). */
  notificationTimeoutTicksMin?: number;
  /** The re-send interval doubles up to this many ticks. Default 600. */
  notificationTimeoutTicksMax?: number;
}

/** A snapshot for status pages and tests. */
export interface ElectionStatus {
  looking: boolean;
  logicalClock: number;
  proposal: VoteProposal | null;
  /** Ticks until deciding, or null when no quorum agrees with us yet. */
  finalizeTicksLeft: number | null;
  notificationTimeoutTicks: number;
  votesThisRound: number;
  votesOutOfElection: number;
  decision: ElectionDecided | null;
}

type RecordedVote = Omit<VoteMessage, "kind">;

/**
 * Whether `candidate` beats `current`: a higher peerEpoch, then a higher zxid, then a higher sid.
 * (ZooKeeper also rejects candidates with no voting weight; callers here check `isVoter` first.)
 */
export function totalOrderPredicate(candidate: VoteProposal, current: VoteProposal): boolean {
  if (candidate.peerEpoch !== current.peerEpoch) return candidate.peerEpoch > current.peerEpoch;
  if (candidate.zxid !== current.zxid) return candidate.zxid > current.zxid;
  return candidate.leader > current.leader;
}

/**
 * Whether two recorded votes count as the same vote. If either sender is LOOKING, everything must
 * match; between servers out of election only the leader and its epoch do, because their zxids and
 * rounds legitimately differ (they joined at different times; ZOOKEEPER-1805).
 */
function sameVote(a: RecordedVote, b: RecordedVote): boolean {
  if (a.state === "looking" || b.state === "looking") {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch &&
      a.peerEpoch === b.peerEpoch;
  }
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

/**
 * One server's fast leader election. Create it once per replica (the logical clock lives as long as
 * it does), call `start` whenever the replica begins looking, feed it every vote with `receive`
 * while looking and with `answerWhileNotLooking` otherwise, and `tick` it on every replica tick.
 *
 * @throws RangeError for bad options (myId not a member, negative or fractional tick counts).
 * @example
 * const election = new FastLeaderElection({ myId: 1, quorum: new QuorumVerifier({ voters: [1, 2, 3] }) });
 * const outputs = election.start({ currentEpoch: 0, lastZxid: 0 }); // two "send" outputs
 */
export class FastLeaderElection {
  readonly myId: Sid;
  #quorum: Quorum;
  /** What following another member that says it leads takes (see setQuorum); `#quorum` unless set. */
  #joinQuorum: Quorum;
  readonly finalizeWaitTicks: number;
  readonly notificationTimeoutTicksMin: number;
  readonly notificationTimeoutTicksMax: number;
  #isVoter: boolean;
  #looking = false;
  #logicalClock = 0;
  /** Our own vote at the start of a round; null for an observer. */
  #initial: VoteProposal | null = null;
  #proposal: VoteProposal | null = null;
  /** LOOKING (and same-round) votes of the current round, by sender. Bounded by the voters. */
  readonly #recvset = new Map<Sid, RecordedVote>();
  /** FOLLOWING/LEADING votes of any round, by sender. Bounded by the voters. */
  readonly #outOfElection = new Map<Sid, RecordedVote>();
  #finalizeTicksLeft: number | null = null;
  #notificationTimeoutTicks: number;
  #resendTicksLeft = 0;
  #decision: ElectionDecided | null = null;

  constructor(options: FastLeaderElectionOptions) {
    const { myId, quorum } = options;
    if (!quorum.isMember(myId)) {
      throw new RangeError(
        `myId ${myId} is neither a voter nor an observer of [${
          quorum.members.join(", ")
        }]; check myid and server.N`,
      );
    }
    const finalizeWaitTicks = options.finalizeWaitTicks ?? FINALIZE_WAIT_TICKS_DEFAULT;
    checkTicks("finalizeWaitTicks", finalizeWaitTicks, 0);
    const min = options.notificationTimeoutTicksMin ?? Math.max(1, finalizeWaitTicks);
    const max = options.notificationTimeoutTicksMax ?? Math.max(min, NOTIFICATION_TIMEOUT_TICKS_MAX_DEFAULT);
    checkTicks("notificationTimeoutTicksMin", min, 1);
    checkTicks("notificationTimeoutTicksMax", max, 1);
    if (min > max) {
      throw new RangeError(`notificationTimeoutTicksMin ${min} exceeds notificationTimeoutTicksMax ${max}`);
    }
    this.myId = myId;
    this.#quorum = quorum;
    this.#joinQuorum = quorum;
    this.finalizeWaitTicks = finalizeWaitTicks;
    this.notificationTimeoutTicksMin = min;
    this.notificationTimeoutTicksMax = max;
    this.#isVoter = quorum.isVoter(myId);
    this.#notificationTimeoutTicks = min;
  }

  get quorum(): Quorum {
    return this.#quorum;
  }

  /**
   * A reconfiguration changed the membership: rounds and answers count with `quorum` from now on.
   * While looking, the replica then `start`s a new round, so no vote of one membership is counted
   * in another. `joinQuorum` is what following another member that says it leads takes (the
   * replica passes the committed membership: see ReplicaMembership.joinQuorum).
   * @throws RangeError when this server is no member of `quorum`.
   */
  setQuorum(quorum: Quorum, joinQuorum: Quorum = quorum): void {
    if (!quorum.isMember(this.myId)) throw new RangeError(`myId ${this.myId} is not a member of [${quorum.members.join(", ")}]`);
    this.#quorum = quorum;
    this.#joinQuorum = joinQuorum;
    this.#isVoter = quorum.isVoter(this.myId);
  }

  get looking(): boolean {
    return this.#looking;
  }

  /** The current round (ZooKeeper's logicalclock); 0 before the first `start`. */
  get logicalClock(): number {
    return this.#logicalClock;
  }

  /** The last decision, or null while looking or before the first one. */
  get decision(): ElectionDecided | null {
    return this.#decision === null ? null : { ...this.#decision };
  }

  status(): ElectionStatus {
    return {
      looking: this.#looking,
      logicalClock: this.#logicalClock,
      proposal: this.#proposal === null ? null : { ...this.#proposal },
      finalizeTicksLeft: this.#finalizeTicksLeft,
      notificationTimeoutTicks: this.#notificationTimeoutTicks,
      votesThisRound: this.#recvset.size,
      votesOutOfElection: this.#outOfElection.size,
      decision: this.decision,
    };
  }

  /**
   * Begins a new round: the logical clock goes up by one, a voter votes for itself and every other
   * member hears of it (an observer asks the voters instead). Callable at any time, also mid-round.
   *
   * @throws RangeError when `self` is not a valid epoch and zxid, or the zxid's epoch is ahead of
   * currentEpoch (a corrupt store: ZooKeeper refuses to start then too).
   */
  start(self: ElectionSelf): ElectionOutput[] {
    checkSelf(self);
    this.#logicalClock += 1;
    assert(Number.isSafeInteger(this.#logicalClock), "the logical clock overflowed");
    this.#looking = true;
    this.#decision = null;
    this.#recvset.clear();
    this.#outOfElection.clear();
    this.#finalizeTicksLeft = null;
    this.#initial = this.#isVoter
      ? { leader: this.myId, zxid: self.lastZxid, peerEpoch: self.currentEpoch }
      : null;
    this.#proposal = this.#initial;
    this.#notificationTimeoutTicks = this.notificationTimeoutTicksMin;
    const outputs: ElectionOutput[] = [];
    this.#broadcast(outputs);
    this.#checkTermPredicate(outputs);
    return outputs;
  }

  /**
   * Handles a vote from `from` while looking. Votes from non-members, malformed votes and votes for
   * a non-voter are ignored (a non-member or malformed vote is a peer's problem, not ours).
   *
   * @throws Error when not looking: once decided, votes go to `answerWhileNotLooking`.
   */
  receive(from: Sid, vote: VoteMessage): ElectionOutput[] {
    assert(
      this.#looking,
      `server ${this.myId} is not looking; pass votes to answerWhileNotLooking() or start() a new round`,
    );
    const outputs: ElectionOutput[] = [];
    if (!this.#accepts(from, vote)) return outputs;
    if (!this.#quorum.isVoter(from)) {
      // An observer asking where we stand: voters tell it; observers ignore each other.
      if (this.#isVoter) outputs.push(this.#sendProposal(from));
      return outputs;
    }
    if (vote.state === "observing") return outputs; // a voter that observes has another config than ours
    if (vote.state === "looking" && vote.electionEpoch < this.#logicalClock && this.#isVoter) {
      outputs.push(this.#sendProposal(from)); // it lags a round behind: bring it up to date
    }
    if (!this.#quorum.isVoter(vote.leader)) return outputs;
    if (this.#finalizeTicksLeft !== null && this.#isBetter(vote)) this.#finalizeTicksLeft = null;
    if (vote.state === "looking") this.#receiveLooking(from, vote, outputs);
    else this.#receiveOutOfElection(from, vote, outputs);
    return outputs;
  }

  /**
   * Advances time by one tick: ends a finalize wait (deciding if a quorum still agrees), or re-sends
   * an undecided vote when its timeout has passed, doubling the timeout up to the maximum.
   * Does nothing when not looking.
   */
  tick(): ElectionOutput[] {
    const outputs: ElectionOutput[] = [];
    if (!this.#looking) return outputs;
    if (this.#finalizeTicksLeft !== null) {
      this.#finalizeTicksLeft -= 1;
      if (this.#finalizeTicksLeft > 0) return outputs;
      this.#finalizeTicksLeft = null;
      const proposal = this.#proposal;
      if (proposal !== null && this.#termPredicate(proposal)) {
        this.#decide(proposal, this.#logicalClock, outputs);
      }
      return outputs;
    }
    assert(this.#resendTicksLeft > 0, "an undecided round must have a re-send scheduled");
    this.#resendTicksLeft -= 1;
    if (this.#resendTicksLeft > 0) return outputs;
    this.#notificationTimeoutTicks = Math.min(
      2 * this.#notificationTimeoutTicks,
      this.notificationTimeoutTicksMax,
    );
    this.#broadcast(outputs);
    return outputs;
  }

  /**
   * Answers a vote received while this server is out of election (following, leading or observing):
   * a LOOKING voter or observer gets `current` back so that it learns the leader. Votes from
   * servers out of election are not answered, and observers answer nothing (voters ignore them).
   *
   * @throws Error when called while looking, or when `current` is inconsistent with this server
   * (leading someone else, observing as a voter, following a non-voter).
   */
  answerWhileNotLooking(from: Sid, vote: VoteMessage, current: CurrentVote): ElectionOutput[] {
    assert(!this.#looking, `server ${this.myId} is looking; pass votes to receive() instead`);
    this.#checkCurrent(current);
    const outputs: ElectionOutput[] = [];
    if (!this.#isVoter || !this.#accepts(from, vote) || vote.state !== "looking") return outputs;
    const { leader, zxid, electionEpoch, peerEpoch, state } = current;
    outputs.push({
      kind: "send",
      to: from,
      message: { kind: "vote", leader, zxid, electionEpoch, peerEpoch, state },
    });
    return outputs;
  }

  #receiveLooking(from: Sid, vote: VoteMessage, outputs: ElectionOutput[]): void {
    if (vote.electionEpoch < this.#logicalClock) return;
    let changed = false;
    if (vote.electionEpoch > this.#logicalClock) {
      // A newer round: start over in it with the better of that vote and our own.
      this.#logicalClock = vote.electionEpoch;
      this.#recvset.clear();
      const initial = this.#initial;
      this.#proposal = initial === null || totalOrderPredicate(vote, initial) ? proposalOf(vote) : initial;
      changed = true;
    } else if (this.#isBetter(vote)) {
      this.#proposal = proposalOf(vote);
      changed = true;
    }
    if (changed) {
      this.#finalizeTicksLeft = null;
      // An observer tells the voters too (#broadcast sends it to them only): a pending reconfig may
      // make it a voter in their eyes, and they need its vote (ZooKeeper's non-voters do the same).
      // Votes only get better within a round, so this ends.
      this.#broadcast(outputs);
    }
    this.#recordLooking(from, vote);
    this.#checkTermPredicate(outputs);
  }

  #receiveOutOfElection(from: Sid, vote: VoteMessage, outputs: ElectionOutput[]): void {
    const recorded = recordOf(vote);
    if (vote.electionEpoch === this.#logicalClock) {
      this.#recvset.set(from, recorded);
      if (this.#supportsLeader(this.#recvset, recorded)) {
        this.#decide(recorded, recorded.electionEpoch, outputs);
        return;
      }
      // This may have replaced the sender's LOOKING vote; the finalize wait re-checks the quorum at its end.
    }
    this.#outOfElection.set(from, recorded);
    if (this.#supportsLeader(this.#outOfElection, recorded)) {
      this.#logicalClock = recorded.electionEpoch; // join the established ensemble's round
      this.#decide(recorded, recorded.electionEpoch, outputs);
    }
  }

  /** Keeps the better of two LOOKING votes from one sender in one round: the worse one is stale. */
  #recordLooking(from: Sid, vote: VoteMessage): void {
    const existing = this.#recvset.get(from);
    const stale = existing !== undefined && existing.state === "looking" &&
      existing.electionEpoch === vote.electionEpoch && totalOrderPredicate(existing, vote);
    if (!stale) this.#recvset.set(from, recordOf(vote));
  }

  /** Starts the finalize wait when a quorum agrees with us, and cancels it when one no longer does. */
  #checkTermPredicate(outputs: ElectionOutput[]): void {
    const proposal = this.#proposal;
    if (!this.#looking || proposal === null) return;
    if (!this.#termPredicate(proposal)) {
      this.#finalizeTicksLeft = null;
      return;
    }
    if (this.#finalizeTicksLeft !== null) return; // already waiting; a wait is never extended
    if (this.finalizeWaitTicks === 0) this.#decide(proposal, this.#logicalClock, outputs);
    else this.#finalizeTicksLeft = this.finalizeWaitTicks;
  }

  #termPredicate(proposal: VoteProposal): boolean {
    const ours: RecordedVote = { ...proposal, electionEpoch: this.#logicalClock, state: "looking" };
    return this.#quorum.containsQuorum(agreeingSids(this.#recvset, ours));
  }

  /**
   * A quorum names this leader and epoch, and the leader itself says it leads (checkLeader). To
   * follow another member, a quorum of the join quorum is enough (see setQuorum).
   */
  #supportsLeader(votes: ReadonlyMap<Sid, RecordedVote>, vote: RecordedVote): boolean {
    const quorum = vote.leader === this.myId ? this.#quorum : this.#joinQuorum;
    if (!quorum.containsQuorum(agreeingSids(votes, vote))) return false;
    if (vote.leader === this.myId) return this.#logicalClock === vote.electionEpoch;
    return votes.get(vote.leader)?.state === "leading";
  }

  #decide(vote: VoteProposal, electionEpoch: number, outputs: ElectionOutput[]): void {
    assert(this.#quorum.isVoter(vote.leader), `server ${this.myId} is deciding for non-voter ${vote.leader}`);
    const state = vote.leader === this.myId ? "leading" : this.#isVoter ? "following" : "observing";
    const decision: ElectionDecided = {
      kind: "decided",
      leader: vote.leader,
      state,
      electionEpoch,
      peerEpoch: vote.peerEpoch,
      zxid: vote.zxid,
    };
    this.#decision = decision;
    this.#looking = false;
    this.#finalizeTicksLeft = null;
    this.#recvset.clear();
    this.#outOfElection.clear();
    outputs.push({ ...decision });
  }

  /** Sends our vote to every other member (an observer: to the voters) and schedules the re-send. */
  #broadcast(outputs: ElectionOutput[]): void {
    const targets = this.#isVoter ? this.#quorum.members : this.#quorum.voters;
    for (const sid of targets) {
      if (sid !== this.myId) outputs.push(this.#sendProposal(sid));
    }
    const proposal = this.#proposal;
    if (this.#isVoter && proposal !== null) {
      this.#recvset.set(this.myId, { ...proposal, electionEpoch: this.#logicalClock, state: "looking" });
    }
    this.#resendTicksLeft = this.#notificationTimeoutTicks;
  }

  #sendProposal(to: Sid): ElectionSend {
    const proposal = this.#proposal;
    return {
      kind: "send",
      to,
      message: {
        kind: "vote",
        leader: proposal?.leader ?? NO_LEADER,
        zxid: proposal?.zxid ?? 0,
        electionEpoch: this.#logicalClock,
        peerEpoch: proposal?.peerEpoch ?? 0,
        state: "looking",
      },
    };
  }

  #isBetter(vote: VoteProposal): boolean {
    return this.#proposal === null || totalOrderPredicate(vote, this.#proposal);
  }

  #accepts(from: Sid, vote: VoteMessage): boolean {
    return from !== this.myId && this.#quorum.isMember(from) && isWellFormed(vote);
  }

  #checkCurrent(current: CurrentVote): void {
    assert(
      isWellFormed({ kind: "vote", ...current }),
      `current vote ${JSON.stringify(current)} is malformed`,
    );
    assert(this.#quorum.isVoter(current.leader), `current vote names ${current.leader}, which is not a voter`);
    assert(
      (current.state === "leading") === (current.leader === this.myId),
      `server ${this.myId} cannot be ${current.state} with leader ${current.leader}`,
    );
    assert(
      (current.state === "observing") === !this.#isVoter,
      `server ${this.myId} is ${this.#isVoter ? "a voter" : "an observer"} and cannot be ${current.state}`,
    );
  }
}

function proposalOf(vote: VoteProposal): VoteProposal {
  return { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch };
}

function recordOf(vote: VoteMessage): RecordedVote {
  const { leader, zxid, electionEpoch, peerEpoch, state } = vote;
  return { leader, zxid, electionEpoch, peerEpoch, state };
}

function agreeingSids(votes: ReadonlyMap<Sid, RecordedVote>, vote: RecordedVote): Sid[] {
  const sids: Sid[] = [];
  for (const [sid, recorded] of votes) {
    if (sameVote(recorded, vote)) sids.push(sid);
  }
  return sids;
}

const PEER_STATES: ReadonlySet<PeerState> = new Set(["looking", "following", "leading", "observing"]);

function isWellFormed(vote: VoteMessage): boolean {
  return typeof vote === "object" && vote !== null && vote.kind === "vote" &&
    Number.isSafeInteger(vote.leader) &&
    isCount(vote.zxid) && isCount(vote.electionEpoch) && isCount(vote.peerEpoch) &&
    PEER_STATES.has(vote.state);
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function checkTicks(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min} (ticks), got ${String(value)}`);
  }
}

function checkSelf(self: ElectionSelf): void {
  if (!isCount(self.currentEpoch) || !isCount(self.lastZxid)) {
    throw new RangeError(
      `start() needs a non-negative integer currentEpoch and lastZxid, got ${self.currentEpoch} and ${self.lastZxid}`,
    );
  }
  if (zxidEpoch(self.lastZxid) > self.currentEpoch) {
    throw new RangeError(
      `last zxid 0x${self.lastZxid.toString(16)} is from epoch ${zxidEpoch(self.lastZxid)}, ahead of ` +
        `currentEpoch ${self.currentEpoch}; the store is inconsistent`,
    );
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`fast leader election: ${message}`);
}
