/**
 * Zab, leader side: discovery (agree on a new epoch with a quorum), synchronisation (bring each
 * learner to the leader's history with DIFF, TRUNC or SNAP, then NEWLEADER), and broadcast
 * (pipelined proposals, quorum acks, commits in zxid order). Pure: the replica feeds messages, ticks
 * and storage completions, and carries out what this asks for through ZabContext.
 */
import type {
  AckEpochMessage,
  FollowerInfoMessage,
  ForwardedRequestMessage,
  PeerMessage,
  PingMessage,
  Sid,
} from "./peer_messages.ts";
import type { ReconfigView } from "./reconfig_prep.ts";
import type { Replication, Server } from "./server.ts";
import type { TxnEntry } from "./txn.ts";
import { type Zxid, zxidEpoch, zxidOf } from "./zxid.ts";
import type { CommittedLog } from "./zab_committed_log.ts";
import type { ZabContext } from "./zab_context.ts";

type LearnerPhase = "info" | "epochAcked" | "syncing" | "synced";

interface LearnerHandle {
  sid: Sid;
  observer: boolean;
  phase: LearnerPhase;
  acceptedEpoch: number;
  lastZxid: Zxid;
  appliedZxid: Zxid;
  currentEpoch: number;
  lastHeardTick: number;
  attempt: number;
  /**
   * The sequence number of the last proposal this learner's acks reached. An ack covers every
   * proposal up to its zxid, so those up to here already hold it: the next ack starts after them
   * (without this, every ack rescanned all outstanding proposals).
   */
  ackedThroughSeq: number;
}

interface Proposal {
  entry: TxnEntry;
  acks: Set<Sid>;
  /** Counts proposals of this leader: consecutive in #proposals (appended at the end, committed from the front). */
  seq: number;
}

/** Sync messages stay well below the peer frame limit: at most this many nodes or txns ... */
const SYNC_ITEMS_PER_MESSAGE = 1000;
/** ... and roughly this many bytes of data each. */
const SYNC_BYTES_PER_MESSAGE = 4 * 1024 * 1024;

/** Splits items into chunks bounded by count and (approximate) bytes, keeping order. */
function chunked<T>(items: Iterable<T>, bytesOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (chunk.length > 0 && (chunk.length >= SYNC_ITEMS_PER_MESSAGE || bytes + size > SYNC_BYTES_PER_MESSAGE)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  chunks.push(chunk);
  return chunks;
}

function entryBytes(entry: TxnEntry): number {
  const txn = entry.txn;
  return 128 + ("path" in txn ? txn.path.length : 0) + ("data" in txn ? txn.data?.length ?? 0 : 0) +
    (txn.type === "multi" ? txn.txns.length * 256 : 0);
}

export interface LeaderStart {
  acceptedEpoch: number;
  currentEpoch: number;
  /** Committed txns the replica remembers (oldest first, bounded), for DIFF. */
  committedLog: CommittedLog;
}

export class ZabLeader implements Replication {
  readonly role = "leader" as const;
  readonly #context: ZabContext;
  readonly #server: Server;
  readonly #myId: Sid;
  #phase: "discovery" | "sync" | "broadcast" = "discovery";
  #acceptedEpoch: number;
  #currentEpoch: number;
  #epoch = -1;
  #selfEpochAcked = false;
  #selfNewLeaderAcked = false;
  readonly #learners = new Map<Sid, LearnerHandle>();
  readonly #proposals: Proposal[] = [];
  #proposalSeq = 0;
  readonly #committedLog: CommittedLog;
  /**
   * Syncs waiting, in arrival order (zxid and round never decrease along it): each is answered once
   * every proposal up to `zxid` is committed and leadership round `round` is confirmed.
   */
  readonly #pendingSyncs: Array<{ to: Sid; requestId: number; zxid: Zxid; round: number }> = [];
  /** Leadership rounds (read index): the last one started, and the last one a quorum confirmed. */
  #roundStarted = 0;
  #roundConfirmed = 0;
  /** Voters that echoed round #roundStarted (this member included). */
  #roundEchoes = new Set<Sid>();
  #lastProposedZxid: Zxid;
  /** The newest proposal committed whose commit the followers have not been sent (#sendCommit). */
  #commitDue: Zxid | null = null;
  #maxAcceptedEpochSeen = 0;
  #tick = 0;
  readonly #startedTick: number;

  constructor(context: ZabContext, start: LeaderStart) {
    this.#context = context;
    this.#server = context.server;
    this.#myId = context.myId;
    this.#acceptedEpoch = start.acceptedEpoch;
    this.#currentEpoch = start.currentEpoch;
    this.#committedLog = start.committedLog;
    this.#lastProposedZxid = this.#server.tree.lastZxid;
    this.#startedTick = 0;
    this.#tryDiscovery();
  }

  get phase(): "discovery" | "sync" | "broadcast" {
    return this.#phase;
  }

  get epoch(): number {
    return this.#epoch;
  }

  // ------------------------------------------------------------------------------------------------
  // Messages

  receive(from: Sid, message: PeerMessage): void {
    const learner = this.#learners.get(from);
    if (learner) learner.lastHeardTick = this.#tick;
    switch (message.kind) {
      case "followerInfo":
        return this.#onFollowerInfo(from, message);
      case "ackEpoch":
        return this.#onAckEpoch(from, message);
      case "ack":
        return this.#onAck(from, message.zxid);
      case "request":
        return this.#onRequest(from, message);
      case "ping":
        return this.#onPing(from, message);
      case "sync":
        return this.#onSync(from, message.requestId);
      default:
        this.#context.log("warn", `leader ${this.#myId} ignores ${message.kind} from ${from}`);
    }
  }

  #onFollowerInfo(from: Sid, message: FollowerInfoMessage): void {
    const known = this.#learners.get(from);
    if (known !== undefined && known.attempt === message.attempt) {
      // A resend (the learner sends followerInfo every tick until it hears leaderInfo).
      if (known.phase === "info" && this.#epoch >= 0) this.#sendLeaderInfo(known);
      return;
    }
    this.#maxAcceptedEpochSeen = Math.max(this.#maxAcceptedEpochSeen, message.acceptedEpoch);
    if (this.#epoch >= 0 && message.acceptedEpoch > this.#epoch) {
      // The learner accepted a later epoch from a leader that never established it; it can never
      // follow ours. Re-elect: the next epoch will be above everything seen (liveness, not safety).
      this.#context.stepDown(`learner ${from} accepted epoch ${message.acceptedEpoch}, later than ours (${this.#epoch})`);
      return;
    }
    const observer = message.observer || !this.#context.quorum.isVoter(from);
    const learner: LearnerHandle = {
      sid: from,
      observer,
      phase: "info",
      acceptedEpoch: message.acceptedEpoch,
      lastZxid: message.lastZxid,
      appliedZxid: message.lastZxid,
      currentEpoch: 0,
      lastHeardTick: this.#tick,
      attempt: message.attempt,
      ackedThroughSeq: 0,
    };
    this.#learners.set(from, learner);
    if (this.#epoch >= 0) this.#sendLeaderInfo(learner);
    else this.#tryDiscovery();
  }

  /** leaderInfo names the attempt it answers: only that role of the learner may take it as its own. */
  #sendLeaderInfo(learner: LearnerHandle): void {
    this.#context.send(learner.sid, { kind: "leaderInfo", newEpoch: this.#epoch, attempt: learner.attempt });
  }

  /** With followerInfo from a quorum (the leader included), the new epoch is max(accepted) + 1. */
  #tryDiscovery(): void {
    if (this.#epoch >= 0) return;
    const voters = [this.#myId, ...[...this.#learners.values()].filter((l) => this.#countsForEpoch(l)).map((l) => l.sid)];
    if (!this.#context.quorum.containsQuorum(voters)) return;
    let maxAccepted = this.#acceptedEpoch;
    for (const learner of this.#learners.values()) maxAccepted = Math.max(maxAccepted, learner.acceptedEpoch);
    this.#epoch = maxAccepted + 1;
    this.#acceptedEpoch = this.#epoch;
    this.#context.persist({ kind: "epochs", acceptedEpoch: this.#epoch }, () => {
      this.#selfEpochAcked = true;
      this.#tryStartSync();
    });
    for (const learner of this.#learners.values()) this.#sendLeaderInfo(learner);
  }

  #onAckEpoch(from: Sid, message: AckEpochMessage): void {
    const learner = this.#learners.get(from);
    if (!learner || learner.phase !== "info") return;
    // From an earlier role of this learner: its lastZxid says nothing of the current role's log.
    if (message.attempt !== learner.attempt) return;
    // An ack of another epoch: an earlier role of ours answered the same followerInfo, and the
    // learner saved that epoch, not ours. Counting it would let a quorum that never saved this
    // epoch establish it. The learner steps down when our leaderInfo reaches it and starts over.
    if (message.epoch !== this.#epoch) return;
    const myLast = this.#server.tree.lastZxid;
    if (
      this.#countsForEpoch(learner) &&
      (message.currentEpoch > this.#currentEpoch ||
        (message.currentEpoch === this.#currentEpoch && message.appliedZxid > myLast && zxidEpoch(message.appliedZxid) > zxidEpoch(myLast)))
    ) {
      // A follower knows a later epoch than this leader: the election picked the wrong leader.
      this.#context.stepDown(`follower ${from} has epoch ${message.currentEpoch} > ${this.#currentEpoch}`);
      return;
    }
    learner.phase = "epochAcked";
    learner.currentEpoch = message.currentEpoch;
    learner.lastZxid = message.lastZxid;
    learner.appliedZxid = message.appliedZxid;
    if (this.#phase === "discovery") this.#tryStartSync();
    else this.#syncLearner(learner);
  }

  #tryStartSync(): void {
    if (this.#phase !== "discovery" || !this.#selfEpochAcked) return;
    const acked = [this.#myId, ...[...this.#learners.values()].filter((l) => this.#countsForEpoch(l) && l.phase !== "info").map((l) => l.sid)];
    if (!this.#context.quorum.containsQuorum(acked)) return;
    this.#phase = "sync";
    this.#currentEpoch = this.#epoch;
    this.#context.persist({ kind: "epochs", currentEpoch: this.#epoch }, () => {
      this.#selfNewLeaderAcked = true;
      this.#tryBroadcast();
    });
    for (const learner of this.#learners.values()) {
      if (learner.phase === "epochAcked") this.#syncLearner(learner);
    }
  }

  /** DIFF when the learner's history is a prefix of ours within the log window, TRUNC when it has
   * more of our epoch than we do, SNAP otherwise. Then outstanding proposals, then NEWLEADER. */
  #syncLearner(learner: LearnerHandle): void {
    const myLast = this.#server.tree.lastZxid;
    const log = this.#committedLog;
    const oldest = log.first();
    const base = oldest === undefined ? myLast : oldest.header.zxid - 1;
    const inWindow = (zxid: Zxid) => zxid === base || log.hasZxid(zxid);
    const sameEpoch = zxidEpoch(learner.lastZxid) === zxidEpoch(myLast);
    // Equal zxids mean equal histories (one leader per epoch, and each history is a prefix).
    if (learner.lastZxid === myLast) {
      this.#context.send(learner.sid, { kind: "diff", entries: [] });
    } else if (learner.lastZxid < myLast && inWindow(learner.lastZxid)) {
      const missing = log.after(learner.lastZxid);
      for (const entries of chunked(missing, entryBytes)) this.#context.send(learner.sid, { kind: "diff", entries });
    } else if (learner.lastZxid > myLast && sameEpoch && learner.appliedZxid <= myLast) {
      this.#context.send(learner.sid, { kind: "trunc", zxid: myLast, entries: [] });
    } else {
      this.#sendSnapshot(learner.sid);
    }
    learner.phase = "syncing";
    // Proposals not yet committed follow the sync data, so the learner misses nothing. Acks an
    // earlier role of this learner gave them no longer count: a TRUNC or SNAP just cut them from its
    // log, and they count again once it logs them anew and acks (seed 593044350 at 5 voters: a
    // proposal committed on such an ack, and the next epoch lost it).
    for (const proposal of this.#proposals) {
      proposal.acks.delete(learner.sid);
      if (learner.observer) continue;
      this.#context.send(learner.sid, { kind: "proposal", entry: proposal.entry });
    }
    const config = this.#context.leaderConfig(this.#epoch);
    this.#context.send(learner.sid, { kind: "newLeader", epoch: this.#epoch, zxid: zxidOf(this.#epoch, 0), ...(config === null ? {} : { config }) });
  }

  #sendSnapshot(to: Sid): void {
    const source = this.#server.snapshotSource();
    const nodes = { [Symbol.iterator]: () => source.nodes };
    const chunks = chunked(nodes, (node) => 128 + node.path.length + (node.data?.length ?? 0));
    chunks.forEach((batch, index) => {
      this.#context.send(to, { kind: "snap", header: source.header, nodes: batch, done: index === chunks.length - 1 });
    });
  }

  #onAck(from: Sid, zxid: Zxid): void {
    const learner = this.#learners.get(from);
    if (!learner) return;
    if (this.#epoch >= 0 && zxid === zxidOf(this.#epoch, 0)) {
      if (learner.phase !== "syncing") return;
      learner.phase = "synced";
      if (this.#phase === "broadcast") this.#context.send(from, { kind: "upToDate" });
      else this.#tryBroadcast();
      return;
    }
    if (learner.observer) return;
    const proposals = this.#proposals;
    if (proposals.length === 0) return this.#tryCommit();
    // Proposals up to ackedThroughSeq got this learner's ack from an earlier one; seqs are consecutive.
    let index = Math.max(0, learner.ackedThroughSeq + 1 - proposals[0]!.seq);
    for (; index < proposals.length; index++) {
      const proposal = proposals[index]!;
      if (proposal.entry.header.zxid > zxid) break;
      proposal.acks.add(from);
      learner.ackedThroughSeq = proposal.seq;
    }
    this.#tryCommit();
  }

  /** A quorum acked NEWLEADER (its history is durable there): start serving. */
  #tryBroadcast(): void {
    if (this.#phase !== "sync" || !this.#selfNewLeaderAcked) return;
    const synced = [this.#myId, ...[...this.#learners.values()].filter((l) => this.#countsForEpoch(l) && l.phase === "synced").map((l) => l.sid)];
    if (!this.#context.quorum.containsQuorum(synced)) return;
    this.#phase = "broadcast";
    this.#server.startEpoch(this.#epoch);
    this.#lastProposedZxid = zxidOf(this.#epoch, 0);
    for (const learner of this.#learners.values()) {
      if (learner.phase === "synced") this.#context.send(learner.sid, { kind: "upToDate" });
    }
    this.#context.log("info", `leader ${this.#myId}: epoch ${this.#epoch} established; serving`);
    this.#context.serving(true);
  }

  /**
   * Whether `from` is a learner synced with this role. Members keep one connection per pair across
   * roles, so a member that missed this member's step-down (a starved clock, no break seen) can still
   * follow its ended role and send it client work. That member has none of this epoch's commits:
   * answering its sync lets it serve its stale state as synced (seeds 189, 637 at 5 voters), and a
   * write it forwards would commit without it ever hearing. It gets nothing, so it times out and
   * rejoins (ZooKeeper closes its learners' sockets when a leadership ends).
   */
  #isSyncedLearner(from: Sid): boolean {
    return this.#learners.get(from)?.phase === "synced";
  }

  #onRequest(from: Sid, message: ForwardedRequestMessage): void {
    if (this.#phase !== "broadcast") return; // the learner's client times out and retries elsewhere
    if (!this.#isSyncedLearner(from)) return;
    this.#server.submitForwarded(message, from);
  }

  #onPing(from: Sid, message: PingMessage): void {
    const learner = this.#learners.get(from);
    if (learner === undefined) return; // a follower of an ended role: its sessions say nothing now
    this.#server.touchSessions(message.sessions);
    if (message.round !== undefined && message.round === this.#roundStarted && this.#countsForRounds(learner)) {
      this.#roundEchoes.add(from);
      this.#checkRound();
    }
  }

  #onSync(from: Sid, requestId: number): void {
    if (!this.#isSyncedLearner(from)) return;
    this.#queueSync(from, requestId);
  }

  // ------------------------------------------------------------------------------------------------
  // Sync: linearizable, with a read index

  /**
   * A sync is answered once (1) every proposal made before it arrived is committed (so the asker,
   * having applied the commits that precede our answer on the link, has seen every write that
   * completed through us) and (2) a quorum confirmed, after it arrived, that we still lead: a
   * heartbeat round started after it, echoed by a quorum of voters, or a quorum's acks of a
   * proposal made after it (then the answer goes out before that proposal's commit, so the asker
   * sees nothing prepared after its sync; see #tryCommit). Without (2), a leader deposed by a newer
   * epoch that has not noticed yet (up to syncLimit; ZooKeeper's gap) answers from state that
   * misses writes the new epoch has completed. (2) costs one network round trip (no disk write) per
   * batch of syncs: the syncs that arrive while a round is out wait for the next one, started when
   * it completes. Any quorum that elects a newer leader holds a voter that confirmed us after the
   * sync arrived and left our epoch only later, so that epoch completes nothing before the sync.
   */
  #queueSync(to: Sid, requestId: number): void {
    this.#pendingSyncs.push({ to, requestId, zxid: this.#lastProposedZxid, round: this.#roundStarted + 1 });
    if (this.#roundConfirmed === this.#roundStarted) this.#startRound();
  }

  #startRound(): void {
    this.#roundStarted++;
    this.#roundEchoes = new Set([this.#myId]);
    const heartbeat: PeerMessage = { kind: "heartbeat", round: this.#roundStarted };
    for (const learner of this.#learners.values()) {
      if (this.#countsForRounds(learner)) this.#context.send(learner.sid, heartbeat);
    }
    this.#checkRound();
  }

  /**
   * Whether a learner counts towards establishing the epoch (followerInfo, ackEpoch, NEWLEADER's
   * ack): a voter of this leader's membership, whatever it joined as. Observers persist the epoch
   * and the sync data before they answer just as followers do, and a pending reconfig may make a
   * member that joined as an observer (or a non-voter) a voter here before it knows (ZooKeeper's
   * leader, too, counts learners by id). Broadcast acks still come from followers only.
   */
  #countsForEpoch(learner: LearnerHandle): boolean {
    return this.#context.quorum.isVoter(learner.sid);
  }

  /** Voters that have taken our epoch (they leave it before they can take a newer one). */
  #countsForRounds(learner: LearnerHandle): boolean {
    return !learner.observer && (learner.phase === "syncing" || learner.phase === "synced");
  }

  #checkRound(): void {
    if (this.#roundConfirmed === this.#roundStarted || !this.#context.quorum.containsQuorumOf(this.#roundEchoes)) return;
    this.#roundConfirmed = this.#roundStarted;
    // Syncs that arrived during this round need the next one (bounded: one more round, and it
    // completes at once only when this member alone is a quorum, which leaves nothing waiting).
    const newest = this.#pendingSyncs[this.#pendingSyncs.length - 1];
    if (newest !== undefined && newest.round > this.#roundConfirmed) this.#startRound();
    this.#answerSyncs();
  }

  /** Replication: the server's own client asked for sync. */
  sync(requestId: number): void {
    this.#queueSync(this.#myId, requestId);
  }

  // ------------------------------------------------------------------------------------------------
  // Broadcast

  /** Replication: the server prepared a txn; log it here and send it to the followers. */
  propose(entry: TxnEntry): void {
    const proposal: Proposal = { entry, acks: new Set(), seq: ++this.#proposalSeq };
    this.#proposals.push(proposal);
    this.#lastProposedZxid = entry.header.zxid;
    this.#context.persist({ kind: "append", entries: [entry] }, () => {
      proposal.acks.add(this.#myId);
      this.#tryCommit();
    });
    // One message object for every follower: the peer codec encodes it once (see encodePeerFrame).
    const message: PeerMessage = { kind: "proposal", entry };
    for (const learner of this.#learners.values()) {
      if (!learner.observer && (learner.phase === "syncing" || learner.phase === "synced")) {
        this.#context.send(learner.sid, message);
      }
    }
  }

  forward(_message: ForwardedRequestMessage): void {
    throw new Error("the leader prepares requests itself; forward() is for learners");
  }

  /** Replication: what a reconfig's prep checks against (only once this epoch is established). */
  reconfigView(): ReconfigView | null {
    if (this.#phase !== "broadcast") return null;
    const membership = this.#context.membership;
    return {
      committed: membership.committed,
      lastSeen: membership.lastSeen,
      isQuorumSynced: (verifier) => verifier.containsQuorum(this.#syncedVoters()),
    };
  }

  /**
   * This member and the followers synced with it and heard within syncLimit (ZooKeeper's
   * isQuorumSynced counts its forwarding followers that are synced()): who could ack a proposal now.
   */
  #syncedVoters(): Sid[] {
    const sids = [this.#myId];
    for (const learner of this.#learners.values()) {
      if (!learner.observer && learner.phase === "synced" && this.#tick - learner.lastHeardTick <= this.#context.syncLimitTicks) {
        sids.push(learner.sid);
      }
    }
    return sids;
  }

  #tryCommit(): void {
    // Bounded by the outstanding proposals; commits go strictly in zxid order.
    while (this.#proposals.length > 0 && this.#context.quorum.containsQuorumOf(this.#proposals[0]!.acks)) {
      // Its acks were sent after it, so after every waiting sync with a lower zxid arrived: they
      // confirm our leadership for those syncs, whose earlier proposals are all committed. Answer
      // them before this commit goes out, so their askers see nothing prepared after their sync.
      this.#answerSyncs(this.#proposals[0]!.entry.header.zxid);
      const { entry } = this.#proposals.shift()!;
      this.#server.applyCommitted(entry);
      this.#context.committed(entry);
      this.#commitDue = entry.header.zxid;
      // Observers get each txn itself (one shared message object, encoded once).
      let inform: PeerMessage | null = null;
      for (const learner of this.#learners.values()) {
        if (learner.observer && (learner.phase === "syncing" || learner.phase === "synced")) {
          this.#context.send(learner.sid, inform ??= { kind: "inform", entry });
        }
      }
    }
    this.#answerSyncs();
    this.#sendCommit();
  }

  /**
   * One commit for every proposal committed since the last (followers take a commit as covering
   * all earlier proposals), shared by the followers and encoded once.
   */
  #sendCommit(): void {
    if (this.#commitDue === null) return;
    const commit: PeerMessage = { kind: "commit", zxid: this.#commitDue };
    this.#commitDue = null;
    for (const learner of this.#learners.values()) {
      if (!learner.observer && (learner.phase === "syncing" || learner.phase === "synced")) this.#context.send(learner.sid, commit);
    }
  }

  /**
   * Answers, in order, the syncs whose proposals are all committed and whose leadership round is
   * confirmed, or that arrived before a proposal a quorum has acked (`ackedZxid`). A follower's
   * answer goes after the commits of the proposals before it.
   */
  #answerSyncs(ackedZxid: Zxid = 0): void {
    const committedThrough = this.#proposals.length === 0 ? Number.POSITIVE_INFINITY : this.#proposals[0]!.entry.header.zxid - 1;
    while (this.#pendingSyncs.length > 0) {
      const { to, requestId, zxid, round } = this.#pendingSyncs[0]!;
      if (zxid > committedThrough || (round > this.#roundConfirmed && zxid >= ackedZxid)) return;
      this.#pendingSyncs.shift();
      if (to === this.#myId) {
        this.#server.syncAnswered(requestId);
      } else {
        this.#sendCommit();
        this.#context.send(to, { kind: "syncReply", requestId });
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Time

  /** Heartbeats; steps down without a quorum in touch (syncLimit) or not established (initLimit). */
  tick(): void {
    this.#tick++;
    // Repeats the round in progress, so a round whose heartbeat or echo was lost still completes.
    const heartbeat: PeerMessage = { kind: "heartbeat", round: this.#roundStarted };
    for (const learner of this.#learners.values()) {
      if (learner.phase === "syncing" || learner.phase === "synced") {
        this.#context.send(learner.sid, heartbeat);
      }
    }
    if (this.#phase !== "broadcast") {
      if (this.#tick - this.#startedTick > this.#context.initLimitTicks) {
        this.#context.stepDown(`no quorum synced within initLimit (${this.#context.initLimitTicks} ticks)`);
      }
      return;
    }
    if (!this.#context.quorum.containsQuorum(this.#syncedVoters())) {
      this.#context.stepDown(`lost touch with a quorum for syncLimit (${this.#context.syncLimitTicks} ticks)`);
    }
  }

  /** The highest acceptedEpoch any learner reported: the next epoch must exceed it. */
  get maxAcceptedEpochSeen(): number {
    return this.#maxAcceptedEpochSeen;
  }

  /** Proposals logged here but not committed: they stay in the log when this role ends. */
  get uncommitted(): TxnEntry[] {
    return this.#proposals.map((proposal) => proposal.entry);
  }

  /** A learner's connection went away: it must start over with followerInfo. */
  learnerLost(sid: Sid): void {
    this.#learners.delete(sid);
  }
}
