/**
 * Zab, learner side (follower or observer): tells the leader what it has, accepts the new epoch,
 * catches up (DIFF, TRUNC or SNAP), acknowledges NEWLEADER once that is durable, then logs and acks
 * proposals and applies commits in order. Client writes, new sessions and syncs go to the leader.
 */
import type { ForwardedRequestMessage, PeerMessage, Sid, SyncMessage } from "./peer_messages.ts";
import type { Replication, Server } from "./server.ts";
import type { TxnEntry } from "./txn.ts";
import type { ZabContext } from "./zab_context.ts";
import type { Zxid } from "./zxid.ts";

/** What only a leader sends; anything else does not prove the leader is alive. */
const LEADER_KINDS: ReadonlySet<PeerMessage["kind"]> = new Set([
  "leaderInfo",
  "diff",
  "trunc",
  "snap",
  "proposal",
  "commit",
  "inform",
  "newLeader",
  "upToDate",
  "syncReply",
  "heartbeat",
]);

export interface LearnerStart {
  leader: Sid;
  /** Counts this member's learner roles: tells the leader a resend from a new attempt. */
  attempt: number;
  observer: boolean;
  acceptedEpoch: number;
  currentEpoch: number;
  /** Logged but not yet committed txns (a previous role's proposals), oldest first. */
  uncommitted: TxnEntry[];
}

export class ZabLearner implements Replication {
  readonly role = "learner" as const;
  readonly leader: Sid;
  readonly #context: ZabContext;
  readonly #server: Server;
  readonly #observer: boolean;
  #phase: "discovery" | "sync" | "broadcast" = "discovery";
  #acceptedEpoch: number;
  #currentEpoch: number;
  /** Logged (or being logged) proposals waiting for their commit, in zxid order. */
  #uncommitted: TxnEntry[];
  #snapshotNodes: Array<Extract<SyncMessage, { kind: "snap" }>["nodes"][number]> = [];
  #ticksSinceHeard = 0;
  /** The newest proposal made durable and not yet acked: one ack per storage completion (flushAcks). */
  #ackDue: Zxid | null = null;
  /** The latest leadership round the leader asked us to confirm (see ZabLeader's read index). */
  #roundSeen = 0;
  readonly #attempt: number;

  constructor(context: ZabContext, start: LearnerStart) {
    this.#context = context;
    this.#server = context.server;
    this.leader = start.leader;
    this.#observer = start.observer;
    this.#acceptedEpoch = start.acceptedEpoch;
    this.#currentEpoch = start.currentEpoch;
    this.#uncommitted = start.uncommitted;
    this.#attempt = start.attempt;
    this.#sendFollowerInfo();
  }

  /** Sent again every tick until leaderInfo comes: the leader may not have decided yet. */
  #sendFollowerInfo(): void {
    this.#context.send(this.leader, {
      kind: "followerInfo",
      acceptedEpoch: this.#acceptedEpoch,
      lastZxid: this.lastLoggedZxid,
      observer: this.#observer,
      attempt: this.#attempt,
    });
  }

  get phase(): "discovery" | "sync" | "broadcast" {
    return this.#phase;
  }

  get lastLoggedZxid(): Zxid {
    const last = this.#uncommitted[this.#uncommitted.length - 1];
    return last === undefined ? this.#server.tree.lastZxid : last.header.zxid;
  }

  /** Proposals logged but not committed: they stay in the log when this role ends. */
  get uncommitted(): TxnEntry[] {
    return this.#uncommitted;
  }

  get acceptedEpoch(): number {
    return this.#acceptedEpoch;
  }

  get currentEpoch(): number {
    return this.#currentEpoch;
  }

  receive(from: Sid, message: PeerMessage): void {
    if (from !== this.leader) return;
    // Until the leaderInfo answering this role's own followerInfo, everything from this leader was
    // meant for a previous role of ours on the same connection: the sync data, proposals and commits
    // it streamed to that role, and its answers to that role's followerInfo resends. Ignore it all.
    // The leader replaces its state for us when our first followerInfo reaches it, and only then
    // sends our leaderInfo, so (the stream being FIFO) that leaderInfo marks where ours begins.
    // Taking an earlier role's leaderInfo instead lets that role's sync stream in after we reported
    // our lastZxid, and our own DIFF then repeats txns we already logged.
    if (this.#phase === "discovery" && (message.kind !== "leaderInfo" || message.attempt !== this.#attempt)) return;
    if (!LEADER_KINDS.has(message.kind)) return; // e.g. the ping of a peer that thinks we lead
    this.#ticksSinceHeard = 0;
    switch (message.kind) {
      case "leaderInfo":
        if (this.#phase !== "discovery") return this.#onLaterLeaderInfo(message.newEpoch);
        return this.#onLeaderInfo(message.newEpoch);
      case "diff":
      case "trunc":
      case "snap":
        return this.#onSync(message);
      case "proposal":
        return this.#onProposal(message.entry);
      case "commit":
        return this.#onCommit(message.zxid);
      case "inform":
        this.#context.persist({ kind: "append", entries: [message.entry] });
        this.#apply(message.entry);
        return;
      case "newLeader":
        return this.#onNewLeader(message.epoch, message.zxid);
      case "upToDate":
        this.#phase = "broadcast";
        this.#context.serving(true);
        return;
      case "syncReply":
        this.#server.syncAnswered(message.requestId);
        return;
      case "heartbeat":
        return this.#onHeartbeat(message.round ?? 0);
      default:
        this.#context.log("warn", `learner ${this.#context.myId} ignores ${message.kind} from the leader`);
    }
  }

  /**
   * Another leaderInfo for our attempt after we took one. The leader answers each followerInfo we
   * resent while starting up, so a repeat of the epoch we took is normal. Another epoch means the
   * leader stepped down and leads again, and the answer of its earlier role reached us first: the
   * epoch we saved and acked is not the one it leads now. Start over with a new attempt (the new
   * role ignores our ack of the other epoch).
   */
  #onLaterLeaderInfo(newEpoch: number): void {
    if (newEpoch === this.#acceptedEpoch) return;
    this.#context.stepDown(`leader ${this.leader} now leads epoch ${newEpoch}, not the epoch ${this.#acceptedEpoch} we accepted from it`);
  }

  #onLeaderInfo(newEpoch: number): void {
    if (newEpoch < this.#acceptedEpoch) {
      this.#context.stepDown(`leader ${this.leader} proposed epoch ${newEpoch}, older than accepted ${this.#acceptedEpoch}`);
      return;
    }
    this.#phase = "sync";
    const ack = () =>
      this.#context.send(this.leader, {
        kind: "ackEpoch",
        currentEpoch: this.#currentEpoch,
        lastZxid: this.lastLoggedZxid,
        appliedZxid: this.#server.tree.lastZxid,
        attempt: this.#attempt,
        epoch: newEpoch,
      });
    // Persisted even when equal: our in-memory acceptedEpoch may be a hint never written down.
    this.#acceptedEpoch = newEpoch;
    this.#context.persist({ kind: "epochs", acceptedEpoch: newEpoch }, ack);
  }

  #onSync(message: SyncMessage): void {
    if (message.kind === "snap") {
      for (const node of message.nodes) this.#snapshotNodes.push(node);
      if (!message.done) return;
      const nodes = this.#snapshotNodes;
      this.#snapshotNodes = [];
      this.#uncommitted = [];
      this.#server.resetState();
      this.#server.restoreSnapshot(message.header);
      for (const node of nodes) this.#server.restoreNode(node);
      this.#server.finishRecovery();
      this.#context.historyReset();
      this.#context.persist({ kind: "installSnapshot", header: message.header, nodes });
      return;
    }
    if (message.kind === "trunc") {
      this.#context.persist({ kind: "truncate", zxid: message.zxid });
      this.#uncommitted = this.#uncommitted.filter((entry) => entry.header.zxid <= message.zxid);
    }
    // What we logged before is in the leader's history up to here: it is committed now.
    for (const entry of this.#uncommitted) this.#apply(entry);
    this.#uncommitted = [];
    if (message.entries.length > 0) this.#context.persist({ kind: "append", entries: message.entries });
    for (const entry of message.entries) this.#apply(entry);
  }

  #onProposal(entry: TxnEntry): void {
    if (this.#observer) return;
    this.#uncommitted.push(entry);
    const zxid = entry.header.zxid;
    this.#context.persist({ kind: "append", entries: [entry] }, () => {
      this.#ackDue = zxid;
    });
  }

  /**
   * After a storage completion's callbacks: one ack for every proposal it made durable (the leader
   * takes an ack as covering all earlier proposals). A group commit of many proposals costs the
   * leader one ack to decode per follower, not one per proposal.
   */
  flushAcks(): void {
    if (this.#ackDue === null) return;
    this.#context.send(this.leader, { kind: "ack", zxid: this.#ackDue });
    this.#ackDue = null;
  }

  /** Commits every proposal up to `zxid`; it must be one we hold (the stream is FIFO). */
  #onCommit(zxid: Zxid): void {
    const through = this.#uncommitted.findIndex((entry) => entry.header.zxid >= zxid);
    if (through === -1 || this.#uncommitted[through]!.header.zxid !== zxid) {
      this.#context.stepDown(`commit of 0x${zxid.toString(16)} does not match a proposal we hold`);
      return;
    }
    const committed = this.#uncommitted.splice(0, through + 1);
    for (const entry of committed) this.#apply(entry);
  }

  #apply(entry: TxnEntry): void {
    this.#server.applyCommitted(entry);
    this.#context.committed(entry);
  }

  #onNewLeader(epoch: number, zxid: Zxid): void {
    this.#currentEpoch = epoch;
    // Acked only once everything received so far is durable (writes complete in order).
    this.#context.persist({ kind: "epochs", currentEpoch: epoch }, () => {
      this.flushAcks();
      this.#context.send(this.leader, { kind: "ack", zxid });
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Replication (the server calls these for its clients)

  propose(_entry: TxnEntry): void {
    throw new Error("a learner does not prepare txns; its server forwards requests");
  }

  /** Replication: only a leader prepares a reconfig. */
  reconfigView(): null {
    return null;
  }

  forward(message: ForwardedRequestMessage): void {
    this.#context.send(this.leader, message);
  }

  sync(requestId: number): void {
    this.#context.send(this.leader, { kind: "sync", requestId });
  }

  /**
   * A heartbeat naming a new round: the leader waits for a quorum of us to confirm it still leads
   * before answering a sync, so echo the round at once (in a ping, with the session activity).
   */
  #onHeartbeat(round: number): void {
    if (round <= this.#roundSeen) return;
    this.#roundSeen = round;
    this.#context.send(this.leader, { kind: "ping", sessions: this.#server.takeTouchedSessions(), round });
  }

  /**
   * Between ticks (the replica calls this each half tick): sends the sessions this member's clients
   * touched, if any, so the leader pushes their deadlines on within half a tick as ZooKeeper's does.
   * Sent only while following an established leader (before that no client is served here).
   */
  reportActivity(): void {
    if (this.#phase !== "broadcast") return;
    const sessions = this.#server.takeTouchedSessions();
    if (sessions.length === 0) return;
    this.#context.send(this.leader, { kind: "ping", sessions, round: this.#roundSeen });
  }

  /** Pings the leader with session activity; gives up on a silent leader. */
  tick(): void {
    this.#ticksSinceHeard++;
    const limit = this.#phase === "broadcast" ? this.#context.syncLimitTicks : this.#context.initLimitTicks;
    if (this.#ticksSinceHeard > limit) {
      this.#context.stepDown(`nothing from leader ${this.leader} for ${this.#ticksSinceHeard} ticks`);
      return;
    }
    if (this.#phase === "discovery") this.#sendFollowerInfo();
    this.#context.send(this.leader, { kind: "ping", sessions: this.#server.takeTouchedSessions(), round: this.#roundSeen });
  }
}
