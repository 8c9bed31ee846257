/**
 * The standalone server core: a deterministic state machine that takes decoded client packets and
 * ticks, and produces replies, notifications and connection closes, in the exact order ZooKeeper's
 * pipeline (prep → sync → final) would. No I/O, clocks or randomness: the driver feeds time in.
 *
 * Writes are prepared into txns at once (against the pending view), committed, then applied one at a
 * time; applying queues every notification a txn triggers before the writer's reply (§6.6).
 */
import { isAllowed } from "./acl.ts";
import { answerAuth, type AuthAnswer, answerSasl, enforceAuth } from "./connection_auth.ts";
import { auditEventsOf, ephemeralDeletionEvents, isAudited } from "./audit.ts";
import { type AuditedRequest, Connection } from "./connection.ts";
import { type ApplyResult, CONFIG_NODE, DataTree, type TreeChange } from "./data_tree.ts";
import { Code } from "./errors.ts";
import { PendingChanges } from "./pending_changes.ts";
import { type PrepContext, prepareCloseSession, prepareDeleteContainer } from "./prep.ts";
import type { ReconfigSettings, ReconfigView } from "./reconfig_prep.ts";
import { executeRead } from "./reads.ts";
import { createsEphemeral, LocalSessions } from "./local_sessions.ts";
import { ReadOnlySessions, refusedWhenReadOnly } from "./read_only_mode.ts";
import {
  approximateTxnBytes,
  OP_ABBREVIATIONS,
  prepareForwarded,
  replyBody,
  VALID_OPCODES,
  WRITE_KINDS,
} from "./request_kinds.ts";
import type { ForwardedRequestMessage } from "./peer_messages.ts";
import type { SnapshotHeader, SnapshotNode, SnapshotSource } from "./persistence.ts";
import type { ACL, ConnectRequest, Reply, Request, RequestHeader } from "./records.ts";
import { KeeperState, OpCode, Perms, Xid } from "./records.ts";
import { PASSWORD_BYTES, passwordMatches, sessionPassword } from "./session_password.ts";
import { SessionTracker } from "./session_tracker.ts";
import {
  connectionStatuses,
  dataWatchSessions,
  serverStatus,
  type ServerState,
  sessionDumps,
} from "./server_status.ts";
import {
  type ConnectionId,
  type ConnectionInfo,
  type ConnectionStatus,
  type ServerConfig,
  type ServerOutput,
  type ServerStatus,
  type SessionDump,
} from "./server_io.ts";
import { nodeKindOf, ttlOf, type Txn, type TxnEntry } from "./txn.ts";
import { WatchManager } from "./watch_manager.ts";
import { type Zxid, zxidOf } from "./zxid.ts";

/**
 * What a server in an ensemble needs from its replica: the leader proposes the txns it prepares;
 * a learner forwards writes, new sessions and syncs to the leader.
 */
export interface Replication {
  readonly role: "leader" | "learner";
  /** The leader's view for a reconfig's prep (reconfig_prep.ts); null unless leading in broadcast. */
  reconfigView(): ReconfigView | null;
  propose(entry: TxnEntry): void;
  forward(message: ForwardedRequestMessage): void;
  /**
   * Asks for sync `requestId` (a learner sends it to the leader; the leader confirms it holds a
   * quorum): `syncAnswered(requestId)` follows once every commit before it has been applied here,
   * possibly before this returns.
   */
  sync(requestId: number): void;
}

const CONTAINER_DELETIONS_PER_CHECK_MAX = 10_000;

export class Server {
  readonly config: ServerConfig;
  tree: DataTree = new DataTree();
  #pending: PendingChanges;
  readonly #watches = new WatchManager();
  #sessions: SessionTracker;
  /**
   * The sessions the applied txns left open (id → timeout): the tracker also holds what prep did
   * ahead of them (sessions being created, closes prepared), and a new role starts from this.
   */
  #committedSessions = new Map<bigint, number>();
  readonly #connections = new Map<ConnectionId, Connection>();
  readonly #connectionOfSession = new Map<bigint, ConnectionId>();
  /** zxid → connection waiting for that txn's reply. */
  readonly #waiting = new Map<Zxid, ConnectionId>();
  /** Ids for sync requests to the replication, unique across roles (a role's late answer matches nothing). */
  #nextSyncId = 1;
  /** Sync requests to the replication not answered yet → the connection that asked. */
  readonly #syncRequests = new Map<number, ConnectionId>();
  /** Connections with a sync at the head of their queue. */
  readonly #syncWaiting = new Set<ConnectionId>();
  #outputs: ServerOutput[] = [];
  /** Watch events go only to connections with READ on the node; one function, not one per txn. */
  readonly #canRead = (connectionId: ConnectionId, acl: readonly ACL[]): boolean => {
    const connection = this.#connections.get(connectionId);
    return connection !== undefined && isAllowed(acl, Perms.READ, connection.identities);
  };
  #writeSeq = 0;
  /** Committed txns waiting for storage, in writeSeq order. */
  #unpersisted: Array<{ writeSeq: number; entry: TxnEntry }> = [];
  #txnsSinceSnapshot = 0;
  #bytesSinceSnapshot = 0;
  /** Why storage refuses writes, or null while it works. */
  #storageFailure: string | null = null;
  readonly #closesToRetry = new Set<bigint>();
  #replaying = false;
  #nowMs: number;
  #lastPreparedZxid: Zxid = 0;
  #nextContainerCheckMs: number;
  /** Null for a standalone server; in an ensemble, the replica running Zab. */
  #replication: Replication | null = null;
  /** False while an ensemble member is not synced with a leader: no clients then (but read-only ones). */
  #serving = true;
  /** While this member serves read-only clients (no leader for a while; read_only_mode.ts), their local sessions. */
  #readOnly: ReadOnlySessions | null = null;
  /** With localSessionsEnabled, while this member serves: the sessions it made (local_sessions.ts). */
  #local: LocalSessions | null = null;
  /** Leader: which member holds each session's client connection (SESSIONMOVED for the others). */
  readonly #sessionOwner = new Map<bigint, number>();
  /** Learner: reconnects of sessions not known here yet, waiting for a sync with the leader. */
  readonly #revalidations = new Map<
    number,
    { connection: ConnectionId; request: ConnectRequest; timeoutMs: number; readOnly: boolean | undefined }
  >();
  /** Learner: sessions with activity since the last ping to the leader. */
  #touched = new Map<bigint, number>();
  /** An ensemble's /zookeeper/config content (quorum_config.ts), put back after every recovery or SNAP. */
  #quorumConfig: { data: Uint8Array; version: Zxid } | null = null;
  /** What a reconfig's prep reads (one object: the leader's view is looked up only for a reconfig). */
  readonly #reconfig: ReconfigSettings;

  constructor(config: ServerConfig, nowMs = config.sessionIdSeedMs) {
    this.config = config;
    const leaderView = () => this.#replication?.reconfigView() ?? null;
    this.#reconfig = {
      enabled: config.reconfigEnabled === true,
      standaloneEnabled: config.standaloneEnabled !== false,
      get view() {
        return leaderView();
      },
    };
    this.#nowMs = nowMs;
    this.#pending = new PendingChanges(this.tree);
    this.#sessions = new SessionTracker({
      serverId: config.serverId,
      seedMs: config.sessionIdSeedMs,
      tickTimeMs: config.tickTimeMs,
      nowMs,
      sessionsMax: 1_000_000,
    });
    this.#nextContainerCheckMs = nowMs + config.containerCheckIntervalMs;
  }

  // ------------------------------------------------------------------------------------------------
  // Inputs

  /**
   * When `tick` next has a session to expire (null: nothing timed here, e.g. on a learner, whose
   * leader expires its sessions). ZooKeeper's expiry thread wakes exactly at each bucket's deadline,
   * so a driver that also ticks at this moment closes sessions when ZooKeeper would, not up to a
   * timer period later.
   */
  nextWakeMs(): number | null {
    if (this.#readOnly !== null) return this.#readOnly.nextDeadlineMs;
    const local = this.#local?.nextDeadlineMs ?? null;
    if (this.#replication?.role === "learner" || !this.#serving) return local;
    const global = this.#sessions.nextDeadlineMs;
    return local === null ? global : global === null ? local : Math.min(local, global);
  }

  /** Advances time: expires sessions whose deadline passed and reaps containers and TTL nodes. */
  tick(nowMs: number): void {
    if (nowMs < this.#nowMs) return; // time never runs backwards inside the core
    this.#nowMs = nowMs;
    if (this.#readOnly !== null) return this.#expireLocal(nowMs, this.#readOnly, "read-only session");
    if (this.#local !== null) this.#expireLocal(nowMs, this.#local, "local session");
    if (this.#replication?.role === "learner" || !this.#serving) return;
    for (const sessionId of this.#sessions.expire(nowMs)) {
      this.#log("info", `session 0x${BigInt.asUintN(64, sessionId).toString(16)} expired`);
      if (this.#storageFailure !== null) this.#closesToRetry.add(sessionId);
      else this.#submit(sessionId, 0, (context) => prepareCloseSession(context), null);
    }
    if (nowMs >= this.#nextContainerCheckMs && this.#storageFailure === null) {
      this.#nextContainerCheckMs = nowMs + this.config.containerCheckIntervalMs;
      this.#reapContainers(nowMs);
    }
  }

  open(connection: ConnectionId, info: ConnectionInfo): void {
    this.#connections.set(connection, new Connection(connection, info, this.config.x509SuperUser));
  }

  connect(connectionId: ConnectionId, request: ConnectRequest): void {
    const connection = this.#connections.get(connectionId);
    if (!connection || connection.closing) return;
    if (this.#readOnly !== null) return this.#connectReadOnly(connection, request, this.#readOnly);
    if (!this.#serving) {
      this.#close(connection, "this server is not currently serving requests (no leader)");
      return;
    }
    if (request.lastZxidSeen > this.tree.lastZxid) {
      this.#close(connection, `client has seen zxid 0x${request.lastZxidSeen.toString(16)}, newer than ours`);
      return;
    }
    const timeoutMs = Math.min(
      Math.max(request.timeOut, this.config.minSessionTimeoutMs),
      this.config.maxSessionTimeoutMs,
    );
    const readOnly = request.readOnly === undefined ? undefined : false;
    const local = this.#local;
    if (request.sessionId === 0n) {
      if (local !== null) this.#createLocalSession(connection, local, timeoutMs, readOnly);
      else this.#createSession(connection, timeoutMs, readOnly);
    } else if (local?.has(request.sessionId)) {
      this.#resumeLocalSession(connection, local, request, timeoutMs, readOnly);
    } else {
      this.#resumeSession(connection, request, timeoutMs, readOnly);
    }
  }

  /** A request after the handshake; `request` is null when its body did not parse. */
  request(connectionId: ConnectionId, header: RequestHeader, request: Request | null): void {
    const connection = this.#connections.get(connectionId);
    if (!connection || connection.closing) return;
    // The driver throttles at outstandingRequestsMax (it stops feeding the connection); this is the
    // backstop for a driver that does not.
    if (connection.outstanding + connection.held.length >= 2 * this.config.outstandingRequestsMax) {
      this.#close(connection, `more than ${2 * this.config.outstandingRequestsMax} outstanding requests`);
      return;
    }
    if (connection.peek()?.kind === "connect") {
      // Requests pipelined behind the handshake wait until the session is set up (ZooKeeper pauses
      // reading), so that auth and everything else act on an established session, in order.
      connection.held.push({ header, request });
      return;
    }
    if (header.xid >= 0) connection.lastCxid = header.xid;
    if (request === null) {
      this.#unparsable(connection, header);
    } else if (request.kind === "auth") {
      this.#answerAuth(connection, answerAuth(connection, header.xid, request.scheme, request.auth, this.config));
    } else if (request.kind === "sasl") {
      this.#answerAuth(connection, answerSasl(connection, header.xid, request.token, this.config));
    } else {
      const refusal = enforceAuth(connection, header.xid, this.config);
      if (refusal !== null) return this.#answerAuth(connection, refusal);
      connection.lastOperation = OP_ABBREVIATIONS[request.kind] ?? "NA";
      if (connection.sessionId !== null) this.#touch(connection.sessionId, connection.sessionTimeoutMs);
      this.#enqueue(connection, header, request);
    }
    this.#flush(connection);
  }

  /** The transport closed: forget the connection's watches (its session lives on until expiry). */
  closed(connectionId: ConnectionId): void {
    const connection = this.#connections.get(connectionId);
    if (!connection) return;
    this.#connections.delete(connectionId);
    this.#syncWaiting.delete(connectionId);
    this.#watches.removeConnection(connectionId);
    if (connection.sessionId !== null && this.#connectionOfSession.get(connection.sessionId) === connectionId) {
      this.#connectionOfSession.delete(connection.sessionId);
    }
  }

  takeOutputs(): ServerOutput[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  // ------------------------------------------------------------------------------------------------
  // Handshake

  #createSession(connection: Connection, timeoutMs: number, readOnly: boolean | undefined): void {
    const sessionId = this.#storageFailure === null ? this.#sessions.nextSessionId() : null;
    if (sessionId === null) {
      this.#close(connection, this.#storageFailure === null ? "too many sessions" : "storage failed: no new sessions");
      return;
    }
    this.#bindSession(connection, sessionId, timeoutMs);
    if (this.#replication?.role === "learner") {
      // The leader prepares the session; the reply waits for its createSession to be applied here.
      connection.push({ kind: "connect", zxid: 0, ready: false, response: { protocolVersion: 0, timeOut: timeoutMs, sessionId, passwd: sessionPassword(sessionId), readOnly } });
      this.#replication.forward({ kind: "request", sessionId, cxid: 0, request: { kind: "createSession", timeoutMs }, identities: [] });
      return;
    }
    this.#sessions.add(sessionId, timeoutMs, this.#nowMs);
    if (this.#replication?.role === "leader") this.#sessionOwner.set(sessionId, this.config.serverId);
    const zxid = ++this.#lastPreparedZxid;
    connection.push({
      kind: "connect",
      zxid,
      ready: false,
      response: { protocolVersion: 0, timeOut: timeoutMs, sessionId, passwd: sessionPassword(sessionId), readOnly },
    });
    this.#waiting.set(zxid, connection.id);
    this.#commit({ header: this.#header(sessionId, 0, zxid), txn: { type: "createSession", timeoutMs } });
  }

  #resumeSession(
    connection: Connection,
    request: ConnectRequest,
    timeoutMs: number,
    readOnly: boolean | undefined,
    caughtUp = false,
  ): void {
    const session = this.#sessions.get(request.sessionId);
    if (!caughtUp && this.#replication?.role === "learner") {
      // Claim the session at the leader, then catch up with it (a sync) before answering: the
      // leader knows this member holds the session before the client can send anything here
      // (so stale requests sent elsewhere get SESSIONMOVED), and a session created elsewhere is
      // known here. Requests behind the handshake wait meanwhile.
      this.#replication.forward({
        kind: "request",
        sessionId: request.sessionId,
        cxid: 0,
        request: { kind: "moveSession" },
        identities: [],
      });
      const requestId = this.#nextSyncId++;
      this.#revalidations.set(requestId, { connection: connection.id, request, timeoutMs, readOnly });
      connection.push({ kind: "connect", zxid: -1, ready: false, response: { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(PASSWORD_BYTES), readOnly } });
      this.#replication.sync(requestId);
      return;
    }
    const valid = session !== undefined && !session.closing && passwordMatches(request.sessionId, request.passwd);
    if (!valid && !caughtUp && this.#replication?.role === "leader") {
      // A deposed leader that has not noticed yet (it may lead on for syncLimit) does not know the
      // sessions of a newer epoch: before calling one expired, a quorum round (the sync's read
      // index) confirms this member still leads; if it does not, it steps down and the client goes
      // elsewhere (SIM-14, seed 1169469126 at 3 voters and 1 observer).
      const requestId = this.#nextSyncId++;
      this.#revalidations.set(requestId, { connection: connection.id, request, timeoutMs, readOnly });
      connection.push({ kind: "connect", zxid: -1, ready: false, response: { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(PASSWORD_BYTES), readOnly } });
      this.#replication.sync(requestId);
      return;
    }
    // Unlike ZooKeeper, the session's old connection is closed only once the password checks out, so
    // a client naming someone else's session id cannot disconnect it.
    const previous = this.#connectionOfSession.get(request.sessionId);
    if (valid && previous !== undefined && previous !== connection.id) {
      const old = this.#connections.get(previous);
      if (old) this.#close(old, "session re-established on another connection");
    }
    if (!valid) return this.#refuseExpired(connection, readOnly);
    this.#sessions.changeTimeout(request.sessionId, timeoutMs, this.#nowMs);
    this.#bindSession(connection, request.sessionId, timeoutMs);
    if (this.#replication?.role === "leader") this.#sessionOwner.set(request.sessionId, this.config.serverId);
    connection.push({
      kind: "connect",
      zxid: 0,
      ready: true,
      response: { protocolVersion: 0, timeOut: timeoutMs, sessionId: request.sessionId, passwd: sessionPassword(request.sessionId), readOnly },
    });
    this.#flush(connection);
  }

  /** The handshake's answer for a session that is gone (or a wrong password): timeout 0, then the close. */
  #refuseExpired(connection: Connection, readOnly: boolean | undefined): void {
    const passwd = new Uint8Array(PASSWORD_BYTES);
    connection.push({ kind: "connect", zxid: 0, ready: true, response: { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd, readOnly } });
    this.#flush(connection);
    this.#close(connection, "session expired or password wrong");
  }

  /** A new local session (local_sessions.ts): answered at once, no txn. */
  #createLocalSession(connection: Connection, local: LocalSessions, timeoutMs: number, readOnly: boolean | undefined): void {
    const sessionId = this.#sessions.nextSessionId();
    if (sessionId === null || !local.add(sessionId, timeoutMs, this.#nowMs)) return this.#close(connection, "too many sessions");
    this.#acceptSession(connection, sessionId, timeoutMs, readOnly);
  }

  #resumeLocalSession(connection: Connection, local: LocalSessions, request: ConnectRequest, timeoutMs: number, readOnly: boolean | undefined): void {
    if (!local.resumable(request.sessionId, request.passwd)) return this.#refuseExpired(connection, readOnly);
    const previous = this.#connections.get(this.#connectionOfSession.get(request.sessionId) ?? -1);
    if (previous !== undefined && previous !== connection) this.#close(previous, "session re-established on another connection");
    local.changeTimeout(request.sessionId, timeoutMs, this.#nowMs);
    this.#acceptSession(connection, request.sessionId, timeoutMs, readOnly);
  }

  /** Binds a session this member alone decides on (local or read-only) and answers the handshake now. */
  #acceptSession(connection: Connection, sessionId: bigint, timeoutMs: number, readOnly: boolean | undefined): void {
    this.#bindSession(connection, sessionId, timeoutMs);
    const response = { protocolVersion: 0, timeOut: timeoutMs, sessionId, passwd: sessionPassword(sessionId), readOnly };
    connection.push({ kind: "connect", zxid: 0, ready: true, response });
    this.#flush(connection);
  }

  #bindSession(connection: Connection, sessionId: bigint, timeoutMs: number): void {
    connection.sessionId = sessionId;
    connection.sessionTimeoutMs = timeoutMs;
    this.#connectionOfSession.set(sessionId, connection.id);
  }

  // ------------------------------------------------------------------------------------------------
  // Requests

  #enqueue(connection: Connection, header: RequestHeader, request: Request): void {
    if (this.#readOnly !== null) return this.#enqueueReadOnly(connection, header, request, this.#readOnly);
    if (request.kind === "sync") {
      // In an ensemble the replication answers (a learner asks the leader; the leader first makes
      // sure it still leads, see ZabLeader.sync); standalone, once the earlier writes are applied.
      const remote = this.#replication === null ? null : this.#nextSyncId++;
      connection.push({ kind: "sync", xid: header.xid, path: request.path, zxid: this.#lastPreparedZxid, remote });
      this.#syncWaiting.add(connection.id);
      if (remote !== null) {
        this.#syncRequests.set(remote, connection.id);
        this.#replication!.sync(remote);
      }
    } else if (WRITE_KINDS.has(request.kind) && this.#storageFailure !== null) {
      const reply: Reply = { header: { xid: header.xid, zxid: 0, err: Code.NOTREADONLY }, body: null };
      connection.push({ kind: "ready", reply, thenClose: request.kind === "closeSession" ? "session close refused: storage failed" : null, zxidAtSend: true });
    } else if (WRITE_KINDS.has(request.kind) && this.#local !== null && connection.sessionId !== null && this.#local.has(connection.sessionId)) {
      this.#localSessionWrite(connection, header, request, this.#local);
    } else if (WRITE_KINDS.has(request.kind)) {
      this.#submitWrite(connection, header, request);
    } else {
      connection.push({ kind: "read", header, request, identities: connection.identities });
    }
  }

  #submitWrite(connection: Connection, header: RequestHeader, request: Request): void {
    if (!this.#serving) return;
    if (this.#replication?.role === "learner") {
      const audit = this.#audited(connection, request);
      connection.push({ kind: "write", xid: header.xid, zxid: 0, reply: null, closesSession: request.kind === "closeSession", audit });
      const sessionId = connection.sessionId ?? 0n;
      this.#replication.forward({
        kind: "request",
        sessionId,
        cxid: header.xid,
        request,
        identities: [...connection.identities],
        ...(this.#local?.has(sessionId) ? { localSession: true as const } : {}),
      });
      return;
    }
    this.#submitPrepared(connection, header, request.kind === "closeSession", this.#audited(connection, request), (context) =>
      this.#replication === null ? prepareForwarded(request, context) : this.#prepareOwned(request, context, this.config.serverId));
  }

  /**
   * A write from a local session: its close ends it here with no txn; an ephemeral create first
   * makes it a session of the ensemble (localSessionsUpgradingEnabled) or is refused; anything else
   * goes to the leader as usual.
   */
  #localSessionWrite(connection: Connection, header: RequestHeader, request: Request, local: LocalSessions): void {
    const sessionId = connection.sessionId!;
    if (request.kind === "closeSession") {
      local.remove(sessionId);
      const reply: Reply = { header: { xid: header.xid, zxid: 0, err: Code.OK }, body: null };
      connection.push({ kind: "ready", reply, thenClose: "session closed by client", zxidAtSend: true });
      return;
    }
    if (createsEphemeral(request)) {
      if (this.config.localSessions?.upgrading === true) {
        this.#upgradeSession(sessionId, local);
      } else if (request.kind !== "multi") {
        const reply: Reply = { header: { xid: header.xid, zxid: 0, err: Code.EPHEMERALONLOCALSESSION }, body: null };
        connection.push({ kind: "ready", reply, thenClose: null, zxidAtSend: true });
        return;
      }
      // A multi goes to the leader as in ZooKeeper, where the ephemeral op fails inside the multi.
    }
    this.#submitWrite(connection, header, request);
  }

  /**
   * Makes a local session one of the ensemble (ZooKeeper's makeUpgradeRequest): a createSession txn
   * goes first, so the write behind it finds the session known everywhere.
   */
  #upgradeSession(sessionId: bigint, local: LocalSessions): void {
    const timeoutMs = local.timeoutOf(sessionId)!;
    local.remove(sessionId);
    this.#log("info", `upgrading local session 0x${BigInt.asUintN(64, sessionId).toString(16)} to a session of the ensemble`);
    if (this.#replication?.role === "learner") {
      this.#replication.forward({ kind: "request", sessionId, cxid: 0, request: { kind: "createSession", timeoutMs }, identities: [] });
      return;
    }
    this.#sessions.add(sessionId, timeoutMs, this.#nowMs);
    this.#sessionOwner.set(sessionId, this.config.serverId);
    const zxid = ++this.#lastPreparedZxid;
    this.#commit({ header: this.#header(sessionId, 0, zxid), txn: { type: "createSession", timeoutMs } });
  }

  /**
   * Leader: whether `sessionId` is its own local session (a learner's says so when it forwards:
   * ForwardedRequestMessage.localSession). Its requests pass the session check, but it may not own
   * an ephemeral.
   */
  #localSessionKind(sessionId: bigint): PrepContext["localSession"] {
    return this.#local?.has(sessionId) && this.#sessions.get(sessionId) === undefined ? "here" : undefined;
  }

  /** What the audit log keeps of a write until it is answered; null when the log is off or the kind is not audited. */
  #audited(connection: Connection, request: Request): AuditedRequest | null {
    return this.config.audit === true && isAudited(request.kind) ? { request, identities: connection.identities } : null;
  }

  #submitPrepared(
    connection: Connection,
    header: RequestHeader,
    closesSession: boolean,
    audit: AuditedRequest | null,
    prepare: (context: PrepContext) => Txn,
  ): void {
    const origin = { identities: connection.identities };
    const zxid = this.#submit(connection.sessionId ?? 0n, header.xid, prepare, origin);
    connection.push({ kind: "write", xid: header.xid, zxid, reply: null, closesSession, audit });
    this.#waiting.set(zxid, connection.id);
  }

  /** Prepares a txn with the next zxid and commits it. */
  #submit(
    sessionId: bigint,
    cxid: number,
    prepare: (context: PrepContext) => Txn,
    origin: { identities: PrepContext["identities"] } | null,
    localSession: PrepContext["localSession"] = this.#localSessionKind(sessionId),
  ): Zxid {
    const zxid = ++this.#lastPreparedZxid;
    const txn = prepare({
      zxid,
      sessionId,
      identities: origin?.identities ?? [],
      pending: this.#pending,
      sessions: this.#sessions,
      localSession,
      extendedTypesEnabled: this.config.extendedTypesEnabled,
      saslEnabled: this.config.sasl !== undefined,
      x509Enabled: this.config.x509 === true,
      reconfig: this.#reconfig,
    });
    this.#commit({ header: this.#header(sessionId, cxid, zxid), txn });
    return zxid;
  }

  #unparsable(connection: Connection, header: RequestHeader): void {
    if (header.type === OpCode.auth) {
      this.#close(connection, "an auth packet that does not parse");
      return;
    }
    if (!VALID_OPCODES.has(header.type)) {
      const reply: Reply = { header: { xid: header.xid, zxid: -1, err: Code.UNIMPLEMENTED }, body: null };
      connection.push({ kind: "ready", reply, thenClose: `unknown opcode ${header.type}` });
      return;
    }
    if (header.type === OpCode.multi) {
      // An unparsable multi still consumes a zxid in ZooKeeper.
      this.#submitPrepared(connection, header, false, null, () => ({ type: "error", err: Code.MARSHALLINGERROR }));
      return;
    }
    const reply: Reply = { header: { xid: header.xid, zxid: 0, err: Code.MARSHALLINGERROR }, body: null };
    connection.push({ kind: "ready", reply, thenClose: null, zxidAtSend: true });
  }

  /** Sends an auth decision (connection_auth.ts): the reply, a log line, and the close it asks for. */
  #answerAuth(connection: Connection, answer: AuthAnswer): void {
    if (answer.log !== undefined) this.#log(answer.log.level, answer.log.message);
    this.#reply(connection, answer.reply);
    if (answer.close !== null) this.#close(connection, answer.close);
  }

  // ------------------------------------------------------------------------------------------------
  // Commit and apply

  /**
   * Standalone: a prepared txn is committed once it is durable. It is handed to storage now and
   * applied when `persisted` reports its writeSeq. (Zab's proposal/ack/commit slots in here.)
   */
  #commit(entry: TxnEntry): void {
    if (this.#replication !== null) {
      this.#replication.propose(entry);
      return;
    }
    const writeSeq = ++this.#writeSeq;
    this.#unpersisted.push({ writeSeq, entry });
    this.#outputs.push({ kind: "persist", writeSeq, request: { kind: "append", entries: [entry] } });
  }

  /** Storage made every write up to `writeSeq` durable: apply their txns, in order, and reply. */
  persisted(writeSeq: number): void {
    let applied = 0;
    while (applied < this.#unpersisted.length && this.#unpersisted[applied]!.writeSeq <= writeSeq) {
      const entry = this.#unpersisted[applied]!.entry;
      this.#apply(entry);
      this.#bytesSinceSnapshot += approximateTxnBytes(entry.txn);
      applied++;
    }
    this.#unpersisted.splice(0, applied);
    this.#txnsSinceSnapshot += applied;
    this.#maybeSnapshot();
  }

  /** Applies a committed txn; `live` is false while recovery replays the log (nothing is audited then). */
  #apply(entry: TxnEntry, live = true): void {
    const { header, txn } = entry;
    const changes: TreeChange[] = [];
    if (txn.type === "closeSession" && this.config.audit === true && live) {
      const lost = txn.paths.filter((path) => this.tree.get(path) !== undefined);
      for (const event of ephemeralDeletionEvents(header.sessionId, lost)) this.#outputs.push({ kind: "audit", event });
    }
    const result = this.tree.apply(header, txn, changes);
    this.#pending.applied(header.zxid);
    for (const change of changes) {
      for (const delivery of this.#watches.trigger(change, this.#canRead)) {
        this.#outputs.push({
          kind: "notification",
          connection: delivery.connection,
          zxid: header.zxid,
          event: { type: delivery.type, state: KeeperState.SyncConnected, path: delivery.path },
        });
      }
    }
    if (txn.type === "createSession") {
      this.#committedSessions.set(header.sessionId, txn.timeoutMs);
      if (!this.#sessions.get(header.sessionId)) this.#sessions.add(header.sessionId, txn.timeoutMs, this.#nowMs);
    }
    // Answer before forgetting the session: a learner finds the closing client through it.
    this.#answer(header.zxid, header.sessionId, header.cxid, txn, result);
    if (txn.type === "closeSession") {
      this.#committedSessions.delete(header.sessionId);
      this.#sessionClosed(header.sessionId);
    }
    for (const connectionId of this.#syncWaiting) {
      const connection = this.#connections.get(connectionId);
      if (connection) this.#flush(connection);
    }
  }

  #answer(zxid: Zxid, sessionId: bigint, cxid: number, txn: Txn, result: ApplyResult): void {
    // Requests prepared here are found by zxid; a learner's forwarded ones by session and xid on
    // the connection that sent them (a reconnected client's old requests must not match new ones).
    const local = this.#waiting.get(zxid);
    if (local !== undefined) this.#waiting.delete(zxid);
    const connectionId = local ?? (this.#replication?.role === "learner" ? this.#connectionOfSession.get(sessionId) : undefined);
    if (connectionId === undefined) return;
    const connection = this.#connections.get(connectionId);
    if (!connection) return;
    const entry = local !== undefined
      ? connection.find((e) => (e.kind === "write" || e.kind === "connect") && e.zxid === zxid)
      : txn.type === "createSession"
      ? connection.find((e) => e.kind === "connect" && e.zxid === 0 && !e.ready)
      : connection.find((e) => e.kind === "write" && e.zxid === 0 && e.reply === null && e.xid === cxid);
    if (entry?.kind === "connect") entry.ready = true;
    if (entry?.kind === "write" && result.err === Code.SESSIONMOVED) {
      // ZooKeeper does not answer a moved session's request: it closes the connection.
      this.#close(connection, "session moved to another server");
      return;
    }
    if (entry?.kind === "write") {
      entry.reply = { header: { xid: cxid, zxid, err: result.err }, body: result.err === 0 ? replyBody(txn, result) : null };
    }
    this.#flush(connection);
  }

  #sessionClosed(sessionId: bigint): void {
    this.#sessions.remove(sessionId);
    this.#sessionOwner.delete(sessionId);
    const connectionId = this.#connectionOfSession.get(sessionId);
    if (connectionId === undefined) return;
    this.#connectionOfSession.delete(sessionId);
    const connection = this.#connections.get(connectionId);
    const byClient = connection?.find((e) => e.kind === "write" && e.closesSession && e.reply === null) !== undefined;
    // A client's own closeSession closes after its reply (see #flush); an expiry closes now.
    if (connection && !byClient) this.#close(connection, "session expired");
  }

  /** Sends every reply at the head of the connection's queue that is ready, in order. */
  #flush(connection: Connection): void {
    for (let entry = connection.peek(); entry !== undefined && !connection.closing; entry = connection.peek()) {
      if (entry.kind === "connect") {
        if (!entry.ready) return;
        this.#outputs.push({ kind: "connectResponse", connection: connection.id, response: entry.response });
        connection.shift();
        this.#releaseHeld(connection);
        continue;
      } else if (entry.kind === "write") {
        if (entry.reply === null) return;
        this.#reply(connection, entry.reply);
        if (entry.audit !== null) this.#audit(connection, entry.audit, entry.reply);
        if (entry.closesSession) {
          connection.shift();
          this.#close(connection, "session closed by client");
          return;
        }
      } else if (entry.kind === "sync") {
        if (entry.remote !== null || this.tree.lastZxid < entry.zxid) return;
        this.#syncWaiting.delete(connection.id);
        this.#reply(connection, { header: { xid: entry.xid, zxid: this.tree.lastZxid, err: 0 }, body: { kind: "sync", path: entry.path } });
      } else if (entry.kind === "ready") {
        const header = entry.zxidAtSend === true ? { ...entry.reply.header, zxid: this.tree.lastZxid } : entry.reply.header;
        this.#reply(connection, { ...entry.reply, header });
        if (entry.thenClose !== null) {
          connection.shift();
          this.#close(connection, entry.thenClose);
          return;
        }
      } else {
        this.#executeRead(connection, entry.header, entry.request, entry.identities);
      }
      connection.shift();
    }
  }

  /** Feeds the requests that arrived during the handshake, as if they arrived now. */
  #releaseHeld(connection: Connection): void {
    const held = connection.held.splice(0);
    for (const { header, request } of held) this.request(connection.id, header, request);
  }

  /** Requests of a connection not answered yet (the driver stops feeding it at outstandingRequestsMax). */
  outstanding(connectionId: ConnectionId): number {
    const connection = this.#connections.get(connectionId);
    return connection === undefined ? 0 : connection.outstanding + connection.held.length;
  }

  #executeRead(connection: Connection, header: RequestHeader, request: Request, identities: PrepContext["identities"]): void {
    const result = executeRead(request, {
      tree: this.tree,
      watches: this.#watches,
      connection: connection.id,
      sessionId: connection.sessionId ?? 0n,
      identities,
    });
    for (const { type, path } of result.events ?? []) {
      this.#outputs.push({
        kind: "notification",
        connection: connection.id,
        zxid: -1,
        event: { type, state: KeeperState.SyncConnected, path },
      });
    }
    const xid = request.kind === "ping" ? Xid.ping : header.xid;
    this.#reply(connection, { header: { xid, zxid: this.tree.lastZxid, err: result.err }, body: result.err === 0 ? result.body : null });
  }

  #reply(connection: Connection, reply: Reply): void {
    if (reply.header.zxid > 0) connection.lastZxid = reply.header.zxid;
    this.#outputs.push({ kind: "reply", connection: connection.id, reply });
  }

  #audit(connection: Connection, audited: AuditedRequest, reply: Reply): void {
    const who = { sessionId: connection.sessionId ?? 0n, identities: audited.identities, ip: connection.info.remoteAddress };
    for (const event of auditEventsOf(audited.request, reply, who)) this.#outputs.push({ kind: "audit", event });
  }

  #close(connection: Connection, reason: string): void {
    if (connection.closing) return;
    connection.closing = true;
    this.#outputs.push({ kind: "close", connection: connection.id, reason });
  }

  #log(level: "info" | "warn", message: string): void {
    this.#outputs.push({ kind: "log", level, message });
  }

  #header(sessionId: bigint, cxid: number, zxid: Zxid) {
    return { sessionId, cxid, zxid, time: this.#nowMs };
  }

  // ------------------------------------------------------------------------------------------------
  // Ensemble hooks: the replica (src/core/replica.ts) runs Zab and drives these.

  /**
   * Joins an ensemble in a new role (or leaves the old one with null): commits then come from Zab.
   * Whatever the ended role prepared and never saw committed is forgotten (see #forgetPrepared).
   */
  setReplication(replication: Replication | null): void {
    // A member that found a leader stops serving read-only clients (ZooKeeper shuts its read-only
    // server down when the election ends), before it syncs.
    if (replication !== null) this.setReadOnly(false);
    this.#replication = replication;
    this.#forgetPrepared();
  }

  /**
   * Prep-time state belongs to the role that prepared it. Its txns that did commit (or were logged
   * here and commit later) arrive through applyCommitted like any other; the rest were lost with the
   * role, so nothing prepared may outlive it, as in ZooKeeper (a new leadership builds its session
   * tracker from the database): closing marks (a lost closeSession left its session open, and a
   * stale mark made every later request of it SESSIONEXPIRED while it never expired, seed 10512 at
   * 3 voters), sessions whose createSession never committed, pending changes, the next zxid, the
   * replies waited for, session owners and a learner's revalidations.
   * Called while no client is served: the role change closed every connection.
   */
  #forgetPrepared(): void {
    this.#sessions.restart(this.#committedSessions, this.#nowMs);
    this.#pending.reset();
    this.#lastPreparedZxid = this.tree.lastZxid;
    this.#waiting.clear();
    this.#sessionOwner.clear();
    this.#revalidations.clear();
    this.#syncRequests.clear();
    this.#touched.clear();
  }

  /** Whether clients are served; turning it off closes every client connection (no leader). */
  setServing(serving: boolean): void {
    this.#serving = serving;
    if (serving) {
      if (this.config.localSessions !== undefined && this.#replication !== null) {
        this.#local ??= new LocalSessions(this.config.serverId, this.config.tickTimeMs, this.#nowMs);
      }
      return;
    }
    // Local sessions end with the period that made them (ZooKeeper's learner server is rebuilt for every leader).
    this.#local = null;
    for (const connection of this.#connections.values()) {
      this.#close(connection, "this server is not currently serving requests (no leader)");
    }
  }

  get serving(): boolean {
    return this.#serving;
  }

  /** Leader: a new epoch begins; its txns start at zxid epoch·2^32 + 1. */
  startEpoch(epoch: number): void {
    // Every session gets a full timeout from now: the leader cannot know when they were last seen.
    this.#forgetPrepared();
    this.#lastPreparedZxid = zxidOf(epoch, 0);
  }

  /** Leader: a learner forwarded a client request (or a new session) to prepare. */
  submitForwarded(message: ForwardedRequestMessage, from: number): void {
    const { sessionId, cxid, request } = message;
    if (request.kind === "moveSession") {
      if (this.#sessions.get(sessionId)) this.#sessionOwner.set(sessionId, from);
      return;
    }
    if (request.kind === "createSession") {
      this.#sessionOwner.set(sessionId, from);
      if (!this.#sessions.get(sessionId)) this.#sessions.add(sessionId, request.timeoutMs, this.#nowMs);
      const zxid = ++this.#lastPreparedZxid;
      this.#commit({ header: this.#header(sessionId, 0, zxid), txn: { type: "createSession", timeoutMs: request.timeoutMs } });
      return;
    }
    this.#touch(sessionId, this.#sessions.get(sessionId)?.timeoutMs ?? 0);
    this.#submit(sessionId, cxid, (context): Txn => this.#prepareOwned(request, context, from), {
      identities: message.identities,
    }, message.localSession === true && this.config.localSessions !== undefined ? "elsewhere" : undefined);
  }

  /**
   * Leader: a request from a member that no longer holds the session (the client reconnected
   * elsewhere) is stale: SESSIONMOVED, so it cannot land after the client's newer requests.
   */
  #prepareOwned(request: Request, context: PrepContext, from: number): Txn {
    const owner = this.#sessionOwner.get(context.sessionId);
    if (owner !== undefined && owner !== from) return { type: "error", err: Code.SESSIONMOVED };
    return prepareForwarded(request, context);
  }

  /** Leader: learners report session activity. */
  touchSessions(sessions: Array<{ sessionId: bigint; timeoutMs: number }>): void {
    for (const { sessionId } of sessions) this.#sessions.touch(sessionId, this.#nowMs);
  }

  /** Learner: sessions active since the last call, for the next ping to the leader. */
  takeTouchedSessions(): Array<{ sessionId: bigint; timeoutMs: number }> {
    const touched = [...this.#touched].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
    this.#touched.clear();
    return touched;
  }

  /** The replication answered sync `requestId`: every commit before it has been applied here. */
  syncAnswered(requestId: number): void {
    const revalidation = this.#revalidations.get(requestId);
    if (revalidation !== undefined) {
      this.#revalidations.delete(requestId);
      const connection = this.#connections.get(revalidation.connection);
      if (!connection || connection.closing) return;
      connection.shift(); // the placeholder handshake entry
      this.#resumeSession(connection, revalidation.request, revalidation.timeoutMs, revalidation.readOnly, true);
      return;
    }
    const connectionId = this.#syncRequests.get(requestId);
    if (connectionId === undefined) return;
    this.#syncRequests.delete(requestId);
    const connection = this.#connections.get(connectionId);
    const entry = connection?.find((e) => e.kind === "sync" && e.remote === requestId);
    if (connection === undefined || entry?.kind !== "sync") return;
    entry.remote = null;
    entry.zxid = 0;
    this.#flush(connection);
  }

  /** Zab: a committed txn, in zxid order. */
  applyCommitted(entry: TxnEntry): void {
    this.#apply(entry);
    this.#txnsSinceSnapshot++;
    this.#bytesSinceSnapshot += approximateTxnBytes(entry.txn);
    this.#maybeSnapshot();
  }

  /** Zab SNAP: forget all state before loading a leader's snapshot (restoreSnapshot and so on). */
  resetState(): void {
    this.setServing(false);
    this.tree = new DataTree();
    this.#committedSessions = new Map();
    this.#pending = new PendingChanges(this.tree);
    this.#sessions = new SessionTracker({
      serverId: this.config.serverId,
      seedMs: this.config.sessionIdSeedMs + this.#nowMs,
      after: this.#sessions.nextId,
      tickTimeMs: this.config.tickTimeMs,
      nowMs: this.#nowMs,
      sessionsMax: 1_000_000,
    });
    this.#replaying = false;
  }

  #touch(sessionId: bigint, timeoutMs: number): void {
    if (this.#readOnly !== null) return this.#readOnly.touch(sessionId, this.#nowMs);
    // A local session lives here alone: the leader never hears of it (no ping entry).
    if (this.#local?.has(sessionId)) return this.#local.touch(sessionId, this.#nowMs);
    this.#sessions.touch(sessionId, this.#nowMs);
    if (this.#replication?.role === "learner") this.#touched.set(sessionId, timeoutMs);
  }

  // ------------------------------------------------------------------------------------------------
  // Read-only mode (read_only_mode.ts): the replica turns it on after looking for a leader a while.

  /**
   * Starts or ends serving read-only clients. Only a member that serves nothing else can start;
   * ending it closes every client connection (ZooKeeper shuts its read-only server down), and the
   * local sessions are gone.
   */
  setReadOnly(on: boolean): void {
    if (on === (this.#readOnly !== null)) return;
    if (on) {
      if (this.#serving || this.#replication !== null) return;
      this.#readOnly = new ReadOnlySessions(this.config.serverId, this.config.tickTimeMs, this.#nowMs);
      this.#log("info", "read-only mode: no leader; serving reads to clients that allow read-only");
      return;
    }
    this.#readOnly = null;
    for (const connection of this.#connections.values()) {
      this.#close(connection, "read-only mode ended: this server rejoins the ensemble");
    }
    this.#log("info", "read-only mode ended");
  }

  get readOnly(): boolean {
    return this.#readOnly !== null;
  }

  #connectReadOnly(connection: Connection, request: ConnectRequest, local: ReadOnlySessions): void {
    const admission = local.admit(request, (sessionId) => this.#committedSessions.has(sessionId));
    if (admission.kind === "refuse") return this.#close(connection, admission.reason);
    if (request.lastZxidSeen > this.tree.lastZxid) {
      return this.#close(connection, `client has seen zxid 0x${request.lastZxidSeen.toString(16)}, newer than ours`);
    }
    const timeoutMs = Math.min(Math.max(request.timeOut, this.config.minSessionTimeoutMs), this.config.maxSessionTimeoutMs);
    if (admission.kind === "create") return this.#createLocalSession(connection, local, timeoutMs, true);
    if (admission.kind === "expired") return this.#refuseExpired(connection, true);
    this.#resumeLocalSession(connection, local, request, timeoutMs, true);
  }

  /** Reads as usual; writes and sync NOTREADONLY; closeSession ends the local session here. */
  #enqueueReadOnly(connection: Connection, header: RequestHeader, request: Request, local: ReadOnlySessions): void {
    if (refusedWhenReadOnly(request.kind)) {
      const reply: Reply = { header: { xid: header.xid, zxid: this.tree.lastZxid, err: Code.NOTREADONLY }, body: null };
      connection.push({ kind: "ready", reply, thenClose: null });
    } else if (request.kind === "closeSession") {
      if (connection.sessionId !== null) local.remove(connection.sessionId);
      const reply: Reply = { header: { xid: header.xid, zxid: this.tree.lastZxid, err: Code.OK }, body: null };
      connection.push({ kind: "ready", reply, thenClose: "session closed by client" });
    } else {
      connection.push({ kind: "read", header, request, identities: connection.identities });
    }
  }

  /** Local (or read-only) sessions whose clients fell silent end here, with no txn (nobody else knew them). */
  #expireLocal(nowMs: number, local: LocalSessions, what: string): void {
    for (const sessionId of local.expire(nowMs)) {
      this.#log("info", `${what} 0x${BigInt.asUintN(64, sessionId).toString(16)} expired`);
      const connection = this.#connections.get(this.#connectionOfSession.get(sessionId) ?? -1);
      if (connection !== undefined) this.#close(connection, "session expired");
    }
  }


  // ------------------------------------------------------------------------------------------------
  // Storage: snapshots, failures and recovery

  #maybeSnapshot(): void {
    const { snapshotTxnCount, snapshotBytesMax } = this.config;
    const dueByCount = snapshotTxnCount > 0 && this.#txnsSinceSnapshot >= snapshotTxnCount;
    const dueBySize = snapshotBytesMax > 0 && this.#bytesSinceSnapshot >= snapshotBytesMax;
    if (!dueByCount && !dueBySize) return;
    this.#txnsSinceSnapshot = 0;
    this.#bytesSinceSnapshot = 0;
    this.#outputs.push({ kind: "snapshot", source: this.snapshotSource() });
  }

  /** A fuzzy snapshot of the applied state, starting now (sessions prepared but not applied are not in it). */
  snapshotSource(): SnapshotSource {
    const sessions = [...this.#committedSessions].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
    return { header: { zxid: this.tree.lastZxid, sessions }, nodes: this.tree.snapshotNodes() };
  }

  /**
   * Storage could not make writes from `writeSeq` on durable (disk full, I/O error). Nothing after
   * the last durable write is applied or acknowledged: those writes fail with NOTREADONLY, and the
   * server answers reads but refuses writes until `storageRecovered()`.
   */
  persistFailed(writeSeq: number, reason: string): void {
    if (this.#storageFailure === null) this.#log("warn", `storage failed, refusing writes until it recovers: ${reason}`);
    this.#storageFailure = reason;
    const discarded = this.#unpersisted.filter((item) => item.writeSeq >= writeSeq);
    this.#unpersisted = this.#unpersisted.filter((item) => item.writeSeq < writeSeq);
    for (const { entry } of discarded) this.#discard(entry);
    this.#pending.reset();
    this.#lastPreparedZxid = this.tree.lastZxid;
  }

  /** Storage works again: accept writes, and retry the session closes that were lost. */
  storageRecovered(): void {
    if (this.#storageFailure === null) return;
    this.#storageFailure = null;
    this.#log("info", "storage recovered; accepting writes again");
    for (const sessionId of this.#closesToRetry) {
      this.#submit(sessionId, 0, (context) => prepareCloseSession(context), null);
    }
    this.#closesToRetry.clear();
  }

  #discard(entry: TxnEntry): void {
    const { header, txn } = entry;
    if (txn.type === "closeSession") this.#closesToRetry.add(header.sessionId);
    if (txn.type === "createSession") this.#sessions.remove(header.sessionId);
    const connectionId = this.#waiting.get(header.zxid);
    this.#waiting.delete(header.zxid);
    const connection = connectionId === undefined ? undefined : this.#connections.get(connectionId);
    if (!connection) return;
    const waiting = connection.find((e) => (e.kind === "write" || e.kind === "connect") && e.zxid === header.zxid);
    if (waiting?.kind === "write") {
      waiting.reply = { header: { xid: header.cxid, zxid: this.tree.lastZxid, err: Code.NOTREADONLY }, body: null };
      this.#flush(connection);
    } else if (waiting?.kind === "connect") {
      this.#close(connection, "could not create the session: storage failed");
    }
  }

  /** Recovery, before serving: the snapshot header (sessions) … */
  restoreSnapshot(header: SnapshotHeader): void {
    for (const { sessionId, timeoutMs } of header.sessions) {
      this.#sessions.add(sessionId, timeoutMs, this.#nowMs);
      this.#committedSessions.set(sessionId, timeoutMs);
    }
    this.tree.lastZxid = header.zxid;
  }

  /** … each snapshot node … */
  restoreNode(node: SnapshotNode): void {
    this.tree.loadNode(node);
  }

  /** … then every logged txn after the snapshot, in order (replayed idempotently) … */
  replay(entry: TxnEntry): void {
    if (this.#replaying === false) {
      this.tree.linkLoadedNodes();
      this.#replaying = true;
    }
    this.#apply(entry, false);
  }

  /**
   * An ensemble member's membership, for /zookeeper/config: written into the tree now and again
   * after every recovery (a snapshot may hold an older one) and every SNAP from a leader, as
   * ZooKeeper's learners re-initialise it after each sync (ZOOKEEPER-2819).
   */
  setQuorumConfig(data: Uint8Array, version: Zxid): void {
    this.#quorumConfig = { data, version };
    this.tree.setQuorumConfig(data, version, this.#nowMs);
  }

  /** … and done: prep continues after the last recovered zxid. */
  finishRecovery(): void {
    if (this.#replaying === false) this.tree.linkLoadedNodes();
    // A reconfig's membership in the recovered state (its mzxid is its version) is newer than zoo.cfg's.
    const config = this.#quorumConfig;
    if (config !== null && (this.tree.get(CONFIG_NODE)?.mzxid ?? 0) <= config.version) this.tree.setQuorumConfig(config.data, config.version, this.#nowMs);
    this.#replaying = true;
    this.#pending.reset();
    this.#lastPreparedZxid = this.tree.lastZxid;
    this.#log("info", `recovered ${this.tree.nodeCount - 1} znodes and ${this.#sessions.size} sessions up to zxid 0x${this.tree.lastZxid.toString(16)}`);
  }

  // ------------------------------------------------------------------------------------------------
  // Containers and TTL nodes

  #reapContainers(nowMs: number): void {
    const candidates: string[] = [];
    for (const path of this.tree.reapableNodes()) {
      if (candidates.length >= CONTAINER_DELETIONS_PER_CHECK_MAX) break;
      const node = this.tree.get(path);
      if (!node || node.children.size > 0) continue;
      const kind = nodeKindOf(node.ephemeralOwner);
      if (kind === "container" && node.cversion > 0) candidates.push(path);
      if (kind === "ttl" && nowMs - node.mtime > ttlOf(node.ephemeralOwner)) candidates.push(path);
    }
    for (const path of candidates) {
      this.#submit(0n, 0, (context) => prepareDeleteContainer(path, context), null);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Status for four-letter words and metrics

  status(): ServerStatus {
    return serverStatus(this.#state());
  }

  connections(): ConnectionStatus[] {
    return connectionStatuses(this.#state());
  }

  sessions(): SessionDump[] {
    return sessionDumps(this.#state());
  }

  /** Data-table watches as path → session ids (connections without a session are left out). */
  dataWatches(): Map<string, bigint[]> {
    return dataWatchSessions(this.#state());
  }

  #state(): ServerState {
    const localSessionCount = this.#local?.size ?? this.#readOnly?.size ?? 0;
    return { tree: this.tree, watches: this.#watches, sessions: this.#sessions, localSessionCount, connections: this.#connections };
  }
}
