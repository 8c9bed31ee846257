/**
 * One ensemble member: the server (tree, sessions, clients) plus fast leader election and Zab. A
 * deterministic state machine like Server: inputs are ticks, peer messages, client packets and
 * storage completions; outputs are peer messages, numbered writes to persist and client traffic.
 *
 * Roles are objects swapped on each transition (looking → leading/following/observing → looking);
 * the log is the truth across them: txns logged but not committed stay logged and are part of this
 * member's history in the next election.
 */
import { FastLeaderElection } from "./election.ts";
import type { PeerMessage, PeerState, Sid, VoteMessage } from "./peer_messages.ts";
import type { PersistRequest, SnapshotHeader, SnapshotNode } from "./persistence.ts";
import type { Configuration } from "./membership.ts";
import { readOnlyGraceMs } from "./read_only_mode.ts";
import { type QuorumConfig, quorumConfigText } from "./quorum_config.ts";
import { ReplicaMembership } from "./replica_membership.ts";
import type { ConnectRequest, Request, RequestHeader } from "./records.ts";
import { Server } from "./server.ts";
import type { ConnectionId, ConnectionInfo, ServerConfig, ServerOutput } from "./server_io.ts";
import type { TxnEntry } from "./txn.ts";
import { ZabLeader } from "./zab_leader.ts";
import { ZabLearner } from "./zab_learner.ts";
import { CommittedLog } from "./zab_committed_log.ts";
import type { ZabContext } from "./zab_context.ts";
import { type Zxid, zxidEpoch } from "./zxid.ts";

export interface ReplicaConfig {
  server: ServerConfig;
  voters: readonly Sid[];
  observers: readonly Sid[];
  /** initLimit and syncLimit, in ticks (tickTime each). */
  initLimitTicks: number;
  syncLimitTicks: number;
  /** Committed txns kept in memory for DIFF; default 10000. */
  committedLogMax?: number;
  /** Election notification finalize wait, in election ticks. */
  finalizeWaitTicks?: number;
  /**
   * The election's own tick (default 100 ms): its waits are ZooKeeper's fixed milliseconds
   * (200 ms finalize wait, up to 60 s between notifications), not multiples of tickTime.
   */
  electionTickMs?: number;
  /**
   * The membership as zoo.cfg's server.N lines give it, for /zookeeper/config (ZooKeeper keeps it
   * there even with reconfiguration disabled). Without it the node stays empty, as on a standalone
   * server.
   */
  quorumConfig?: QuorumConfig;
  /**
   * readonlymode.enabled: after looking for a leader for max(2 s, tickTime), serve reads to clients
   * that allow read-only (read_only_mode.ts). Off by default, as in ZooKeeper.
   */
  readOnlyMode?: boolean;
}

export type ReplicaOutput = ServerOutput | { kind: "send"; to: Sid; message: PeerMessage };

export interface ReplicaStatus {
  myId: Sid;
  state: PeerState;
  leader: Sid | null;
  acceptedEpoch: number;
  currentEpoch: number;
  lastZxid: Zxid;
  lastLoggedZxid: Zxid;
  serving: boolean;
}

export class Replica {
  readonly server: Server;
  readonly myId: Sid;
  readonly #config: ReplicaConfig;
  /** The membership(s) in force and the quorums they make (dynamic reconfiguration). */
  readonly #members: ReplicaMembership;
  /** A reconfiguration changed the quorum while this member held a role: check it fits (#afterInput). */
  #roleCheckDue = false;
  #membershipChanges = 0;
  /** What this member learns as: a follower ("voter"), an observer, or a guest (a non-voter no configuration names). */
  #learnerKind: "voter" | "observer" | "guest" = "voter";
  readonly #election: FastLeaderElection;
  readonly #context: ZabContext;
  #state: PeerState = "looking";
  /** When this member last started looking for a leader (read-only mode waits a grace from it). */
  #lookingSinceMs = 0;
  #leader: ZabLeader | null = null;
  #learner: ZabLearner | null = null;
  #leaderSid: Sid | null = null;
  #acceptedEpoch = 0;
  #currentEpoch = 0;
  /** Logged but not committed txns while no role holds them. */
  #uncommitted: TxnEntry[] = [];
  readonly #committedLog: CommittedLog;
  #outputs: ReplicaOutput[] = [];
  #writeSeq = 0;
  /** Callbacks for writes becoming durable, stamped with the role that asked (see #role). */
  readonly #durable: Array<{ writeSeq: number; role: number; then: () => void }> = [];
  /** Counts roles; callbacks of an ended role are dropped (its writes still count as durable). */
  #role = 0;
  #nowMs: number;
  #nextRoleTickMs: number;
  #nextElectionTickMs: number;
  /** Next half tick: a learner then reports its clients' activity (see tick). */
  #nextReportMs: number;
  readonly #electionTickMs: number;
  #started = false;

  constructor(config: ReplicaConfig, nowMs: number) {
    this.#config = config;
    this.myId = config.server.serverId;
    this.#members = new ReplicaMembership({
      voters: config.voters,
      observers: config.observers,
      ...(config.quorumConfig === undefined ? {} : { quorumConfig: config.quorumConfig }),
      reconfigEnabled: config.server.reconfigEnabled === true,
      log: (level, message) => this.#log(level, `server ${this.myId}: ${message}`),
    });
    this.#committedLog = new CommittedLog(config.committedLogMax ?? 10_000);
    this.server = new Server(config.server, nowMs);
    this.server.setServing(false);
    if (config.quorumConfig !== undefined) {
      this.server.setQuorumConfig(new TextEncoder().encode(quorumConfigText(config.quorumConfig)), config.quorumConfig.version);
    }
    this.#nowMs = nowMs;
    this.#nextRoleTickMs = nowMs + config.server.tickTimeMs;
    this.#nextReportMs = nowMs + config.server.tickTimeMs / 2;
    this.#electionTickMs = config.electionTickMs ?? 100;
    this.#nextElectionTickMs = nowMs + this.#electionTickMs;
    this.#election = new FastLeaderElection({
      myId: this.myId,
      quorum: this.#members.quorum,
      ...(config.finalizeWaitTicks === undefined ? {} : { finalizeWaitTicks: config.finalizeWaitTicks }),
    });
    const members = this.#members;
    this.#context = {
      myId: this.myId,
      get quorum() {
        return members.quorum;
      },
      membership: members.membership,
      server: this.server,
      initLimitTicks: config.initLimitTicks,
      syncLimitTicks: config.syncLimitTicks,
      committed: (entry) => this.#onCommitted(entry),
      historyReset: () => this.#committedLog.clear(),
      send: (to, message) => this.#outputs.push({ kind: "send", to, message }),
      persist: (request, then) => this.#persist(request, then),
      stepDown: (reason) => this.#stepDown(reason),
      serving: (on) => this.#setServing(on),
      leaderConfig: (epoch) => this.#leaderConfig(epoch),
      log: (level, message) => this.#outputs.push({ kind: "log", level, message }),
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Recovery (before start)

  restoreEpochs(epochs: { acceptedEpoch: number; currentEpoch: number }): void {
    this.#acceptedEpoch = epochs.acceptedEpoch;
    this.#currentEpoch = epochs.currentEpoch;
  }

  restoreSnapshot(header: SnapshotHeader): void {
    this.server.restoreSnapshot(header);
  }

  restoreNode(node: SnapshotNode): void {
    this.server.restoreNode(node);
  }

  /** A logged txn. Like ZooKeeper's loadDataBase, everything logged is applied at start. */
  replay(entry: TxnEntry): void {
    this.server.replay(entry);
    this.#remember(entry);
  }

  /** Recovery is over: join the ensemble by starting an election. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.server.finishRecovery();
    // A reconfig recovered from the log or a snapshot is not known committed: both configurations
    // count until an established epoch, a commit or a member's vote says which one is in force.
    this.#members.recovered(this.server.tree);
    this.#members.refresh();
    this.#lookForLeader();
  }

  // ------------------------------------------------------------------------------------------------
  // Inputs

  tick(nowMs: number): void {
    if (nowMs < this.#nowMs) return;
    this.#nowMs = nowMs;
    this.server.tick(nowMs);
    // Zab roles count in ticks of tickTime, the election in its own; a late call catches up at most
    // a few ticks (bounded).
    for (let catchUp = 0; catchUp < 4 && nowMs >= this.#nextElectionTickMs; catchUp++) {
      this.#nextElectionTickMs += this.#electionTickMs;
      if (this.#state !== "looking") continue;
      for (const output of this.#election.tick()) this.#onElectionOutput(output);
    }
    if (nowMs >= this.#nextElectionTickMs) this.#nextElectionTickMs = nowMs + this.#electionTickMs;
    for (let catchUp = 0; catchUp < 4 && nowMs >= this.#nextRoleTickMs; catchUp++) {
      this.#nextRoleTickMs += this.#config.server.tickTimeMs;
      this.#roleTick();
    }
    if (nowMs >= this.#nextRoleTickMs) this.#nextRoleTickMs = nowMs + this.#config.server.tickTimeMs;
    // ZooKeeper's leader pings every learner each half tick and each answers with the sessions its
    // clients touched, so a client's activity reaches the leader's expiry queue within half a tick.
    // A learner here reports on its own half ticks instead (after the role tick, whose ping may
    // already carry them): the same delay, without more leader traffic.
    const halfTickMs = this.#config.server.tickTimeMs / 2;
    for (let catchUp = 0; catchUp < 4 && nowMs >= this.#nextReportMs; catchUp++) {
      this.#nextReportMs += halfTickMs;
      this.#learner?.reportActivity();
    }
    if (nowMs >= this.#nextReportMs) this.#nextReportMs = nowMs + halfTickMs;
    if (this.#readOnlyDueMs() <= nowMs) this.server.setReadOnly(true);
    this.#afterInput();
  }

  /** When this member starts serving read-only clients, if it is looking with read-only mode on. */
  #readOnlyDueMs(): number {
    if (this.#config.readOnlyMode !== true || this.#state !== "looking" || this.server.readOnly) return Infinity;
    return this.#lookingSinceMs + readOnlyGraceMs(this.#config.server.tickTimeMs);
  }

  /**
   * The next moment `tick` has timed work: a session deadline (leader or standalone), a Zab tick or
   * a learner's activity report. Election ticks are left out (a looking member has nothing urgent
   * that a coarser timer would spoil). A driver that sleeps until then acts on ZooKeeper's instants.
   */
  nextWakeMs(): number {
    const session = this.server.nextWakeMs();
    const role = Math.min(this.#nextRoleTickMs, this.#learner === null ? Infinity : this.#nextReportMs);
    return Math.min(session ?? Infinity, role, this.#readOnlyDueMs());
  }

  receive(from: Sid, message: PeerMessage): void {
    if (!this.#started || from === this.myId) return;
    if (message.kind === "vote" && this.#members.vote(from, message.config)) this.#membershipChanged();
    if (!this.#members.quorum.isMember(from)) return;
    if (message.kind === "vote") this.#onVote(from, message);
    else if (this.#leader !== null) this.#leader.receive(from, message);
    else if (this.#learner !== null) this.#learner.receive(from, message);
    // Taken only when the learner took the NEWLEADER (not one meant for an earlier role of ours).
    const carried = message.kind === "newLeader" && this.#learner?.leader === from && this.#learner.phase === "sync";
    if (carried && message.config instanceof Uint8Array && this.#members.newLeader(message.config)) this.#membershipChanged();
    this.#afterInput();
  }

  /** The connection to a peer broke; its role state with us starts over. */
  peerLost(sid: Sid): void {
    this.#leader?.learnerLost(sid);
    if (this.#learner !== null && this.#learner.leader === sid) this.#stepDown(`lost the connection to leader ${sid}`);
  }

  /** Storage made every write up to `writeSeq` durable. */
  persisted(writeSeq: number): void {
    // Bounded by the writes issued; callbacks may issue more writes, which wait for a later call.
    const due = [];
    while (this.#durable.length > 0 && this.#durable[0]!.writeSeq <= writeSeq) due.push(this.#durable.shift()!);
    for (const { role, then } of due) if (role === this.#role) then();
    this.#learner?.flushAcks();
    this.#afterInput();
  }

  open(connection: ConnectionId, info: ConnectionInfo): void {
    this.server.open(connection, info);
  }

  connect(connection: ConnectionId, request: ConnectRequest): void {
    this.server.connect(connection, request);
  }

  request(connection: ConnectionId, header: RequestHeader, request: Request | null): void {
    this.server.request(connection, header, request);
  }

  closed(connection: ConnectionId): void {
    this.server.closed(connection);
  }

  takeOutputs(): ReplicaOutput[] {
    const serverOutputs = this.server.takeOutputs();
    if (this.#outputs.length === 0) return serverOutputs;
    const outputs = this.#outputs;
    this.#outputs = [];
    for (const output of serverOutputs) outputs.push(output);
    return outputs;
  }

  status(): ReplicaStatus {
    return {
      myId: this.myId,
      state: this.#state,
      leader: this.#leaderSid,
      acceptedEpoch: this.#learner?.acceptedEpoch ?? this.#acceptedEpoch,
      currentEpoch: this.#learner?.currentEpoch ?? this.#currentEpoch,
      lastZxid: this.server.tree.lastZxid,
      lastLoggedZxid: this.#lastLoggedZxid(),
      serving: this.server.serving,
    };
  }

  /** Counts membership changes: `configuration` is worth reading again when this moved. */
  get membershipChanges(): number {
    return this.#membershipChanges;
  }

  /** The configuration this member knows committed and the newest it has seen (equal when no reconfig is under way). */
  get configuration(): { committed: Configuration; lastSeen: Configuration } {
    const membership = this.#members.membership;
    return { committed: membership.committed, lastSeen: membership.lastSeen };
  }

  /** Whether this member leads an established epoch (and which). */
  get leaderEpoch(): number | null {
    return this.#leader?.phase === "broadcast" ? this.#leader.epoch : null;
  }

  // ------------------------------------------------------------------------------------------------
  // Election

  #lookForLeader(): void {
    this.#state = "looking";
    this.#lookingSinceMs = this.#nowMs;
    this.#leaderSid = null;
    if (this.#election.quorum !== this.#members.quorum) this.#election.setQuorum(this.#members.quorum, this.#members.joinQuorum);
    for (const output of this.#election.start(this.#electionSelf())) this.#onElectionOutput(output);
  }

  /**
   * Our vote: currentEpoch and the last logged zxid, as ZooKeeper's (getPeerEpoch,
   * getLastLoggedZxid). The same currentEpoch goes to the roles: a leader compares it with its
   * followers' (ZooKeeper's waitForEpochAck), so the vote and that check must use one number.
   */
  #electionSelf() {
    const lastZxid = this.#lastLoggedZxid();
    // Sync data may be logged before NEWLEADER raises currentEpoch (a crash or a lost leader in
    // between leaves the log's epoch ahead). That history is ours (this member may have acked its
    // proposals), so take the log's epoch as currentEpoch, durably, as ZooKeeper does when it finds
    // this at load (ZOOKEEPER-1653). Voting with the log's epoch but leading with the older stored
    // one made a leader step down for a follower of that very epoch, and win again: SIM-12.
    const logEpoch = zxidEpoch(lastZxid);
    if (logEpoch > this.#currentEpoch) {
      this.#log("info", `server ${this.myId}: currentEpoch ${this.#currentEpoch} is behind the log's epoch ${logEpoch}; taking ${logEpoch}`);
      this.#currentEpoch = logEpoch;
      this.#persist({ kind: "epochs", currentEpoch: logEpoch });
    }
    return { currentEpoch: this.#currentEpoch, lastZxid };
  }

  #onVote(from: Sid, vote: VoteMessage): void {
    const state = this.#state;
    const outputs = state === "looking"
      ? this.#election.receive(from, vote)
      : this.#answerVote(from, vote, state);
    for (const output of outputs) this.#onElectionOutput(output);
  }

  /**
   * A looking peer hears whom this member follows: every member of the epoch answers with the same
   * (leader, peerEpoch), so the late joiner can count them as a quorum.
   */
  #answerVote(from: Sid, vote: VoteMessage, state: Exclude<PeerState, "looking">) {
    const decision = this.#election.decision;
    // Only voters answer (observers and guests never do), and only for a leader that is still a
    // voter: a reconfig may have made either a non-voter, until the role check moves it on.
    const leader = this.#leaderSid ?? decision?.leader ?? this.myId;
    const quorum = this.#members.quorum;
    if (!quorum.isVoter(this.myId) || !quorum.isVoter(leader) || state === "observing") return [];
    // Once the epoch is established every member reports it (ZOOKEEPER-1732); before, the decided vote.
    const established = this.#leader?.phase === "broadcast"
      ? this.#leader.epoch
      : this.#learner?.phase === "broadcast"
      ? this.#learner.currentEpoch
      : null;
    return this.#election.answerWhileNotLooking(from, vote, {
      leader,
      zxid: decision?.zxid ?? this.#lastLoggedZxid(),
      electionEpoch: decision?.electionEpoch ?? this.#election.logicalClock,
      peerEpoch: established ?? decision?.peerEpoch ?? this.#currentEpoch,
      state,
    });
  }

  #onElectionOutput(output: ReturnType<FastLeaderElection["tick"]>[number]): void {
    if (output.kind === "send") {
      this.#outputs.push({ kind: "send", to: output.to, message: this.#members.withConfig(output.message) });
      return;
    }
    if (this.#state !== "looking") return;
    this.#leaderSid = output.leader;
    if (output.state === "leading") this.#becomeLeader();
    else this.#becomeLearner(output.leader, output.state === "observing");
  }

  #becomeLeader(): void {
    this.#role++;
    this.#state = "leading";
    // Everything in our log is our history: as leader it will be committed with NEWLEADER.
    for (const entry of this.#uncommitted) {
      this.server.applyCommitted(entry);
      this.#remember(entry);
    }
    this.#uncommitted = [];
    this.#leader = new ZabLeader(this.#context, {
      acceptedEpoch: this.#acceptedEpoch,
      currentEpoch: this.#currentEpoch,
      committedLog: this.#committedLog,
    });
    this.server.setReplication(this.#leader);
    this.#log("info", `server ${this.myId}: leading`);
  }

  #becomeLearner(leader: Sid, observer: boolean): void {
    this.#role++;
    this.#members.newRole();
    // A guest learns as an observer does, but calls itself a follower: ZooKeeper's removed servers
    // are non-voting participants (srvr says follower).
    this.#learnerKind = !observer ? "voter" : this.#members.quorum.isGuest(this.myId) ? "guest" : "observer";
    this.#state = this.#learnerKind === "observer" ? "observing" : "following";
    this.#learner = new ZabLearner(this.#context, {
      leader,
      attempt: this.#role,
      observer,
      acceptedEpoch: this.#acceptedEpoch,
      currentEpoch: this.#currentEpoch,
      uncommitted: this.#uncommitted,
    });
    this.#uncommitted = [];
    this.server.setReplication(this.#learner);
    this.#log("info", `server ${this.myId}: ${this.#state} ${leader}`);
  }

  #stepDown(reason: string): void {
    if (this.#state === "looking") return;
    this.#log("warn", `server ${this.myId}: leaving ${this.#state}: ${reason}`);
    if (this.#learner !== null) {
      this.#acceptedEpoch = this.#learner.acceptedEpoch;
      this.#currentEpoch = this.#learner.currentEpoch;
      this.#uncommitted = this.#learner.uncommitted;
    }
    if (this.#leader !== null) {
      this.#acceptedEpoch = Math.max(this.#acceptedEpoch, this.#leader.epoch, this.#leader.maxAcceptedEpochSeen);
      if (this.#leader.phase !== "discovery") this.#currentEpoch = Math.max(this.#currentEpoch, this.#leader.epoch);
      this.#uncommitted = this.#leader.uncommitted;
    }
    this.#leader = null;
    this.#learner = null;
    this.#role++;
    this.server.setServing(false);
    this.server.setReplication(null);
    this.#lookForLeader();
  }

  #roleTick(): void {
    if (this.#leader !== null) {
      this.#leader.tick();
    } else if (this.#learner !== null) {
      this.#learner.tick();
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Storage

  #persist(request: PersistRequest, then?: () => void): void {
    const writeSeq = ++this.#writeSeq;
    this.#outputs.push({ kind: "persist", writeSeq, request });
    if (this.#members.persisting(request, this.server.tree)) this.#membershipChanged();
    if (then !== undefined) this.#durable.push({ writeSeq, role: this.#role, then });
  }

  #lastLoggedZxid(): Zxid {
    const pending = this.#learner?.uncommitted ?? this.#leader?.uncommitted ?? this.#uncommitted;
    const last = pending[pending.length - 1];
    return last === undefined ? this.server.tree.lastZxid : last.header.zxid;
  }

  // ------------------------------------------------------------------------------------------------
  // Dynamic reconfiguration (replica_membership.ts)

  /** A txn was committed and applied by the role: a reconfig in it is in force once the epoch is. */
  #onCommitted(entry: TxnEntry): void {
    this.#remember(entry);
    const established = this.#leader?.phase === "broadcast" || this.#learner?.phase === "broadcast";
    if (this.#members.committed(entry, established)) this.#membershipChanged();
  }

  /** Serving starts once the epoch is established: the membership it holds is in force. */
  #setServing(on: boolean): void {
    this.server.setServing(on);
    if (!on) return;
    const { changed, show } = this.#members.established(this.#leader?.epoch ?? null, this.server.tree, this.#learner?.uncommitted ?? []);
    if (changed) this.#membershipChanged();
    if (show !== null) this.server.setQuorumConfig(new TextEncoder().encode(quorumConfigText(show)), show.version);
  }

  /** ZabContext.leaderConfig: see ReplicaMembership.leaderConfig. */
  #leaderConfig(epoch: number): Uint8Array | null {
    const { bytes, changed } = this.#members.leaderConfig(epoch, this.#leader?.phase === "broadcast");
    if (changed) this.#membershipChanged();
    return bytes;
  }

  /** Deferred role check (see #membershipChanged): after an input, when no role is mid-loop. */
  #afterInput(): void {
    if (!this.#roleCheckDue) return;
    this.#roleCheckDue = false;
    if (this.#state === "looking") return;
    const quorum = this.#members.quorum;
    const me = this.myId;
    // A leader must be a voter. A follower may also be a guest: a member no configuration names
    // goes on following as a non-voter (as ZooKeeper's removed servers do). An observer, or a
    // guest that joined as one, must still be what it joined as.
    const kind = quorum.isVoter(me) ? "voter" : quorum.isGuest(me) ? "guest" : "observer";
    const fits = this.#state === "leading"
      ? kind === "voter"
      : this.#learnerKind === "voter"
      ? kind !== "observer"
      : kind === this.#learnerKind;
    if (!fits) {
      const version = this.#members.membership.lastSeen.config.version;
      this.#stepDown(`configuration 0x${version.toString(16)} makes this member ${kind === "guest" ? "no member" : `a ${kind}`}`);
    }
  }

  /**
   * The membership changed: the quorums follow it; a looking member starts a round under it; a
   * member whose role no longer fits (a leader no longer a voter, an observer made a voter, ...)
   * leaves it once the current input is handled, and rejoins in the right one.
   */
  #membershipChanged(): void {
    this.#membershipChanges++;
    this.#members.refresh();
    // Also while in a role: the election answers looking members (new ones too) under it.
    this.#election.setQuorum(this.#members.quorum, this.#members.joinQuorum);
    // The simulator's membership checker reads this line (src/testing/checkers/membership_checker.ts).
    this.#log("info", `server ${this.myId}: configuration now ${this.#members.describe()}`);
    if (this.#state === "looking") {
      if (this.#started) this.#lookForLeader();
      return;
    }
    // A role may be in the middle of a loop (a leader committing several proposals): leave the
    // role once this input is handled, not from inside it.
    this.#roleCheckDue = true;
  }

  #remember(entry: TxnEntry): void {
    this.#committedLog.push(entry);
  }

  #log(level: "info" | "warn", message: string): void {
    this.#outputs.push({ kind: "log", level, message });
  }
}

