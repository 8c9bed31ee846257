/**
 * The client's connection and session logic as a pure state machine: no sockets, no timers, no
 * clock. The shell (client.ts) feeds it inputs (a socket opened, bytes arrived, a socket closed, the
 * time, a user request) and carries out the outputs it drains (open a socket, send bytes, close a
 * socket, settle a request, report a state, call watch listeners), in order.
 *
 * Behaviour follows the Java client (wire protocol §1.3, §2, §6.7, §6.8, §10.2):
 * - handshake first; nothing else is sent until the ConnectResponse arrives;
 * - with SASL configured, then the SASL exchange (opcode 102, ordinary xids, replies routed out of
 *   band as ZooKeeperSaslClient does), alone on the connection: no pings, no queued requests, until
 *   the server's rspauth checks out; it must finish within the read timeout, and a refusal ends the
 *   client (authFailed). It reruns on every reconnect;
 * - then auth packets, setWatches/setWatches2 (relativeZxid = lastZxidSeen), then queued requests;
 * - replies are matched FIFO against requests in flight; an unexpected xid drops the connection;
 * - ping when nothing was sent for readTimeout/2 (readTimeout = 2/3 of the negotiated timeout);
 *   connection lost when nothing arrived for readTimeout;
 * - on connection loss every request queued or in flight fails with CONNECTIONLOSS, watches are kept
 *   and the next host is tried with the same session id, password and lastZxidSeen;
 * - a ConnectResponse with timeOut <= 0 means the session expired: terminal.
 */
import { Code, codeName } from "../core/errors.ts";
import { type Request, type Response, Xid } from "../core/records.ts";
import {
  decodeConnectResponse,
  decodeNotification,
  decodeReplyHeader,
  decodeResponse,
  encodeConnectRequest,
  encodeRequest,
} from "../wire/client_protocol.ts";
import { FrameDecoder } from "../wire/frame_decoder.ts";
import { Chroot } from "./chroot.ts";
import { DigestMd5Client, type SaslCredentials } from "./sasl_digest_client.ts";
import type { HostPort } from "./connect_string.ts";
import type { Call, Credential, MachineOutput, SessionMachineConfig, WatchRemoval } from "./machine_io.ts";
import { PendingRequests, type StoredCredential } from "./pending_requests.ts";
import { PROBE_TIMEOUT_MS, ReadWriteProbe } from "./read_write_probe.ts";
import { setWatchesRequests } from "./set_watches.ts";
import { endKeeperState, type EndState, refusalOf } from "./session_end.ts";
import type { KeeperStateName, SessionState } from "./types.ts";
import { nodeEvent, removedEvent, stateEvent } from "./watch_events.ts";
import { watchListOf, WatchRegistry } from "./watch_registry.ts";

export type { Call, Credential, MachineOutput, SessionMachineConfig, WatchRemoval } from "./machine_io.ts";

type Phase = "idle" | "waiting" | "connecting" | "handshaking" | "authenticating" | "connected" | "closing" | "ended";

/** The Java client pings at least this often even with long session timeouts. */
const PING_INTERVAL_MS_MAX = 10_000;

export class SessionMachine {
  readonly #hosts: readonly HostPort[];
  readonly #chroot: Chroot;
  readonly #sessionTimeoutMs: number;
  readonly #connectTimeoutFixed: number | undefined;
  readonly #canBeReadOnly: boolean;
  readonly #maxFrameBytes: number;
  readonly #reconnectDelayMs: number;
  readonly #registry = new WatchRegistry();
  readonly #pending = new PendingRequests();
  #outputs: MachineOutput[] = [];

  #phase: Phase = "idle";
  #state: SessionState = "connecting";
  #attempt = 0;
  #hostIndex: number;
  #failuresInRow = 0;
  #lastFailure = "";
  #retryAt = 0;
  #attemptDeadline = 0;
  #closeDeadline = 0;
  #lastSendAt = 0;
  #lastReceiveAt = 0;
  #decoder: FrameDecoder | null = null;

  #sessionId: bigint;
  #password: Uint8Array;
  #negotiatedTimeoutMs = 0;
  #readTimeoutMs: number;
  #connectTimeoutMs: number;
  #lastZxidSeen = 0;

  readonly #saslCredentials: SaslCredentials | null;
  /** This connection's client nonce (from socketOpened), and its exchange while authenticating. */
  #saslCnonce: string | null = null;
  #sasl: DigestMd5Client | null = null;
  /** The xid of the SASL request awaiting its reply. */
  #saslXid = 0;
  #saslDeadline = 0;
  #connectedReadOnly = false;
  /** Asks other servers whether they are read-write while this one is read-only (read_write_probe.ts). */
  readonly #probe: ReadWriteProbe;
  /**
   * Whether a read-write server ever took this session (or the caller resumes one): until then the
   * session is a read-only server's own, unknown elsewhere, so a reconnect asks for a new one
   * (sessionId 0), as the Java client does (seenRwServerBefore).
   */
  #seenReadWrite: boolean;
  #saslAuthenticated = false;

  constructor(config: SessionMachineConfig) {
    if (config.hosts.length === 0) throw new RangeError("SessionMachine needs at least one host");
    if (!(config.sessionTimeoutMs > 0)) {
      throw new RangeError(`sessionTimeoutMs must be > 0, got ${config.sessionTimeoutMs}`);
    }
    this.#hosts = config.hosts;
    this.#chroot = new Chroot(config.chroot);
    this.#sessionTimeoutMs = config.sessionTimeoutMs;
    this.#connectTimeoutFixed = config.connectTimeoutMs;
    this.#canBeReadOnly = config.canBeReadOnly ?? false;
    this.#maxFrameBytes = config.maxFrameBytes ?? 0xfffff;
    this.#reconnectDelayMs = config.reconnectDelayMs ?? 1000;
    this.#hostIndex = Math.abs(Math.trunc(config.startIndex ?? 0)) % config.hosts.length;
    this.#sessionId = config.sessionId ?? 0n;
    this.#seenReadWrite = config.sessionId !== undefined;
    this.#probe = new ReadWriteProbe(config.hosts);
    this.#password = config.password ?? new Uint8Array(16);
    this.#readTimeoutMs = (config.sessionTimeoutMs * 2) / 3;
    this.#connectTimeoutMs = config.connectTimeoutMs ?? config.sessionTimeoutMs / config.hosts.length;
    for (const credential of config.auth ?? []) this.#pending.credential(credential);
    this.#saslCredentials = config.sasl === undefined ? null : { ...config.sasl };
  }

  // -------------------------------------------------------------------------------------------------
  // Observers

  get state(): SessionState {
    return this.#state;
  }
  /** 0n until the first handshake. */
  get sessionId(): bigint {
    return this.#sessionId;
  }
  get password(): Uint8Array {
    return this.#password.slice();
  }
  /** The timeout the server granted; 0 until the first handshake. */
  get negotiatedTimeoutMs(): number {
    return this.#negotiatedTimeoutMs;
  }
  get lastZxidSeen(): number {
    return this.#lastZxidSeen;
  }
  /** Requests queued or in flight (the client's own setWatches/closeSession excluded). */
  get outstanding(): number {
    return this.#pending.outstanding;
  }
  /** True once expired, authFailed or closed: every later request fails at once. */
  get ended(): boolean {
    return this.#phase === "ended";
  }
  /** True when SASL is configured and the current connection's exchange succeeded. */
  get saslAuthenticated(): boolean {
    return this.#saslAuthenticated;
  }
  /** Whether socketOpened() needs a client nonce (SASL is configured). */
  get wantsSaslNonce(): boolean {
    return this.#saslCredentials !== null;
  }
  /** Why the last connection attempt or connection failed, for error messages. */
  get lastFailure(): string {
    return this.#lastFailure;
  }
  /** Read-only use: which watches are registered. */
  get watches(): WatchRegistry {
    return this.#registry;
  }

  /** The outputs produced since the last call, oldest first. */
  drain(): MachineOutput[] {
    const outputs = this.#outputs;
    this.#outputs = [];
    return outputs;
  }

  /** When tick() next has work to do (absolute ms, same clock as the inputs); null for never. */
  nextDeadline(): number | null {
    switch (this.#phase) {
      case "waiting":
        return this.#retryAt;
      case "connecting":
      case "handshaking":
        return this.#attemptDeadline;
      case "authenticating":
        return this.#saslDeadline;
      case "connected":
        return Math.min(this.#lastReceiveAt + this.#readTimeoutMs, this.#lastSendAt + this.#pingIntervalMs(), this.#probe.dueAt);
      case "closing":
        return Math.min(this.#closeDeadline, this.#lastReceiveAt + this.#readTimeoutMs);
      default:
        return null;
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Inputs: lifecycle and time

  /** Begins connecting to the first host. */
  start(nowMs: number): void {
    if (this.#phase === "idle") this.#beginAttempt(nowMs);
  }

  /** Does whatever time makes due: retry, connect timeout, ping, read timeout, close timeout. */
  tick(nowMs: number): void {
    switch (this.#phase) {
      case "waiting":
        if (nowMs >= this.#retryAt) this.#beginAttempt(nowMs);
        return;
      case "connecting":
      case "handshaking":
        if (nowMs >= this.#attemptDeadline) {
          this.#lose(nowMs, `no connection within ${this.#connectTimeoutMs} ms`);
        }
        return;
      case "authenticating":
        if (nowMs >= this.#saslDeadline) {
          this.#lose(nowMs, `the SASL exchange did not finish within ${Math.round(this.#readTimeoutMs)} ms (the read timeout)`);
        }
        return;
      case "connected":
      case "closing":
        if (nowMs - this.#lastReceiveAt >= this.#readTimeoutMs) {
          this.#lose(nowMs, `nothing received for ${Math.round(nowMs - this.#lastReceiveAt)} ms`);
        } else if (this.#phase === "closing" && nowMs >= this.#closeDeadline) {
          this.#end("closed");
        } else if (this.#phase === "connected" && nowMs - this.#lastSendAt >= this.#pingIntervalMs()) {
          this.#send(nowMs, encodeRequest(Xid.ping, { kind: "ping" }));
        }
        if (this.#phase === "connected") this.#probeIfDue(nowMs);
        return;
      default:
        return;
    }
  }

  /**
   * The socket of `attempt` is open. Returns false when the machine no longer wants it (a stale
   * attempt); the shell then closes it. `saslCnonce`: fresh randomness for this connection's SASL
   * exchange, needed when wantsSaslNonce (without it a SASL client cannot authenticate).
   */
  socketOpened(attempt: number, nowMs: number, saslCnonce?: string): boolean {
    if (attempt !== this.#attempt || this.#phase !== "connecting") return false;
    this.#phase = "handshaking";
    this.#saslCnonce = saslCnonce ?? null;
    this.#lastReceiveAt = nowMs;
    this.#send(
      nowMs,
      encodeConnectRequest({
        protocolVersion: 0,
        lastZxidSeen: this.#lastZxidSeen,
        timeOut: this.#sessionTimeoutMs,
        sessionId: this.#seenReadWrite ? this.#sessionId : 0n,
        passwd: this.#password,
        readOnly: this.#canBeReadOnly,
      }),
    );
    return true;
  }

  /** Bytes arrived on the socket of `attempt`. */
  socketData(attempt: number, chunk: Uint8Array, nowMs: number): void {
    const decoder = this.#decoder;
    if (attempt !== this.#attempt || decoder === null) return;
    this.#lastReceiveAt = nowMs;
    decoder.push(chunk);
    // Each frame consumes bytes of a finite chunk, so this ends; it stops early when the connection drops.
    while (this.#decoder === decoder) {
      let payload: Uint8Array | null;
      try {
        payload = decoder.next();
      } catch (error) {
        this.#lose(nowMs, `bad frame from the server: ${messageOf(error)}`);
        return;
      }
      if (payload === null) return;
      if (this.#phase === "handshaking") this.#handshake(nowMs, payload);
      else if (this.#phase === "authenticating") this.#saslReply(nowMs, payload);
      else this.#reply(nowMs, payload);
    }
  }

  /** The socket of `attempt` closed, or could not be opened. */
  socketClosed(attempt: number, nowMs: number, reason?: string): void {
    if (attempt !== this.#attempt || !this.#hasSocket()) return;
    this.#lose(nowMs, reason ?? "the server closed the connection");
  }

  /**
   * Sends closeSession and ends once it is answered (or after the read timeout). When not connected,
   * ends at once: the session is then left to expire on the servers.
   */
  close(nowMs: number): void {
    if (this.#phase === "ended" || this.#phase === "closing") return;
    if (this.#phase !== "connected") {
      this.#end("closed");
      return;
    }
    this.#phase = "closing";
    this.#closeDeadline = nowMs + this.#readTimeoutMs;
    this.#sendRequest(nowMs, { kind: "closeSession" }, null);
  }

  // -------------------------------------------------------------------------------------------------
  // Inputs: requests

  /** Queues a request, or sends it at once when connected. */
  submit(call: Call, nowMs: number): void {
    if (this.#phase === "ended" || this.#phase === "closing") {
      this.#refuse(call.id);
    } else if (call.request.kind === "check") {
      // Opcode 13 is valid only inside multi; servers before 3.8.5 hang the connection on it (§2.5).
      this.#settle(call.id, Code.BADARGUMENTS, null, "check is only allowed inside multi(); use op.check()");
    } else if (this.#phase === "connected") {
      this.#sendRequest(nowMs, call.request, call);
    } else {
      this.#pending.queue(call);
    }
  }

  /**
   * The caller gave up on request `id` (its AbortSignal fired). A queued request is dropped unsent;
   * one in flight may still be applied by the server, and its reply is ignored.
   */
  abandon(id: number): void {
    this.#pending.abandon(id);
  }

  /**
   * Adds a credential, sent now when connected and again on every reconnect. Request `id` settles
   * when a server accepts it (possibly after a reconnect) or rejects it (AUTHFAILED ends the client).
   */
  addAuth(id: number, credential: Credential, nowMs: number): void {
    if (this.#phase === "ended" || this.#phase === "closing") {
      this.#refuse(id);
      return;
    }
    const stored = this.#pending.credential(credential);
    if (this.#phase === "connected") this.#sendAuth(nowMs, stored, [id]);
    else stored.waiters.push(id);
  }

  /**
   * Removes local watches now (no server round trip) and reports *WatchRemoved events to the removed
   * listeners. Returns how many registrations were removed.
   */
  removeWatches(removal: WatchRemoval): number {
    const removed = this.#registry.removeMatching(removal.path, removal.lists, removal.listener);
    for (const { listener, list } of removed.first) {
      this.#emit({ type: "event", listeners: [listener], event: removedEvent(list, removal.path) });
    }
    return removed.count;
  }

  // -------------------------------------------------------------------------------------------------
  // Connection lifecycle

  #hasSocket(): boolean {
    return this.#phase === "connecting" || this.#phase === "handshaking" || this.#phase === "authenticating" ||
      this.#phase === "connected" || this.#phase === "closing";
  }

  #beginAttempt(nowMs: number): void {
    const host = this.#hosts[this.#hostIndex]!;
    this.#hostIndex = (this.#hostIndex + 1) % this.#hosts.length;
    this.#attempt++;
    this.#phase = "connecting";
    this.#attemptDeadline = nowMs + this.#connectTimeoutMs;
    this.#decoder = new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes });
    this.#pending.resetXid();
    this.#emit({
      type: "connect",
      attempt: this.#attempt,
      host: host.host,
      port: host.port,
      timeoutMs: this.#connectTimeoutMs,
    });
  }

  #handshake(nowMs: number, payload: Uint8Array): void {
    let response;
    try {
      response = decodeConnectResponse(payload);
    } catch (error) {
      this.#lose(nowMs, `the ConnectResponse does not parse: ${messageOf(error)}`);
      return;
    }
    if (response.timeOut <= 0) {
      this.#end("expired");
      return;
    }
    this.#sessionId = response.sessionId;
    this.#password = response.passwd;
    this.#negotiatedTimeoutMs = response.timeOut;
    this.#readTimeoutMs = (response.timeOut * 2) / 3;
    this.#connectTimeoutMs = this.#connectTimeoutFixed ?? response.timeOut / this.#hosts.length;
    this.#connectedReadOnly = response.readOnly === true;
    if (this.#saslCredentials !== null) {
      this.#startSasl(nowMs, this.#saslCredentials);
      return;
    }
    this.#ready(nowMs);
  }

  /** The connection is usable: send what waited for it and report the state. */
  #ready(nowMs: number): void {
    this.#phase = "connected";
    this.#failuresInRow = 0;
    this.#lastFailure = "";
    // The Java client's order: credentials, then watches, then the user's requests.
    for (const credential of this.#pending.credentials) {
      this.#sendAuth(nowMs, credential, credential.waiters.splice(0));
    }
    this.#sendSetWatches(nowMs);
    for (const call of this.#pending.takeQueued()) this.#sendRequest(nowMs, call.request, call);
    const readOnly = this.#connectedReadOnly;
    if (readOnly) this.#probe.start(nowMs, this.#hostIndex);
    else this.#seenReadWrite = true;
    this.#setState(
      readOnly ? "connectedReadOnly" : "connected",
      readOnly ? "ConnectedReadOnly" : "SyncConnected",
    );
    // As ZooKeeper's Java client: SaslAuthenticated follows the connection event.
    if (this.#saslAuthenticated) this.#emitStateEvent("SaslAuthenticated");
  }

  // -------------------------------------------------------------------------------------------------
  // SASL (DIGEST-MD5)

  #startSasl(nowMs: number, credentials: SaslCredentials): void {
    this.#phase = "authenticating";
    this.#saslAuthenticated = false;
    // One deadline for the whole exchange: a server that answers slowly, or not at all, cannot hold
    // the connection (and the requests queued behind it) longer than the read timeout.
    this.#saslDeadline = nowMs + this.#readTimeoutMs;
    const cnonce = this.#saslCnonce;
    if (cnonce === null) {
      this.#saslFailed("SASL is configured but no client nonce was supplied for this connection (a shell bug)");
      return;
    }
    this.#sasl = new DigestMd5Client(credentials, cnonce);
    this.#sendSasl(nowMs, this.#sasl.start());
  }

  #sendSasl(nowMs: number, token: Uint8Array): void {
    // An ordinary xid from the connection's sequence, as the Java client's sendPacket; the reply is
    // routed by phase, not through the FIFO of requests in flight.
    this.#saslXid = this.#pending.nextXid();
    this.#send(nowMs, encodeRequest(this.#saslXid, { kind: "sasl", token }));
  }

  #saslReply(nowMs: number, payload: Uint8Array): void {
    const sasl = this.#sasl;
    if (sasl === null) return;
    let header;
    try {
      header = decodeReplyHeader(payload);
    } catch (error) {
      this.#lose(nowMs, `a SASL reply header does not parse: ${messageOf(error)}`);
      return;
    }
    if (header.xid !== this.#saslXid) {
      // Nothing else was sent on this connection, so nothing else may answer.
      this.#lose(nowMs, `xid ${header.xid} arrived during the SASL exchange (expected the SASL reply, xid ${this.#saslXid})`);
      return;
    }
    if (header.err !== 0) {
      // ZooKeeper: AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH when SASL is mandatory), then it closes.
      this.#saslFailed(
        `the server refused the SASL credentials of user ${JSON.stringify(this.#saslCredentials?.username)} ` +
          `(${codeName(header.err)}): wrong user name or password?`,
      );
      return;
    }
    let response;
    try {
      response = decodeResponse("sasl", payload);
    } catch (error) {
      this.#lose(nowMs, `a SASL reply does not parse: ${messageOf(error)}`);
      return;
    }
    const token = response !== null && response.kind === "sasl" ? response.token : null;
    const step = sasl.step(token);
    if (step.kind === "failure") this.#saslFailed(step.reason);
    else if (step.kind === "send") this.#sendSasl(nowMs, step.token);
    else {
      this.#sasl = null;
      this.#saslAuthenticated = true;
      this.#ready(nowMs);
    }
  }

  /** As ZooKeeper's Java client: a failed SASL exchange raises AuthFailed and the session is unusable. */
  #saslFailed(reason: string): void {
    this.#sasl = null;
    this.#lastFailure = `SASL authentication failed: ${reason}`;
    this.#end("authFailed");
  }

  #sendSetWatches(nowMs: number): void {
    const packets = setWatchesRequests(
      this.#registry.serverPaths((path) => this.#chroot.toServer(path)),
      this.#lastZxidSeen,
    );
    for (const packet of packets) this.#sendRequest(nowMs, packet, null);
  }

  /** The connection is gone: fail what was pending, keep the session, try the next host. */
  #lose(nowMs: number, reason: string): void {
    const wasConnected = this.#phase === "connected" || this.#phase === "closing";
    this.#probe.stop();
    this.#emit({ type: "close", attempt: this.#attempt });
    this.#decoder = null;
    this.#lastFailure = reason;
    this.#sasl = null;
    this.#saslAuthenticated = false;
    const dropped = this.#pending.dropAll();
    const detail = `connection lost (${reason}); the request may or may not have been applied`;
    for (const id of dropped.ids) this.#settle(id, Code.CONNECTIONLOSS, null, detail);
    if (this.#phase === "closing" || dropped.closeSessionPending) {
      this.#phase = "waiting";
      this.#end("closed");
      return;
    }
    if (wasConnected) {
      this.#failuresInRow = 0;
      this.#setState("disconnected", "Disconnected");
    } else {
      this.#failuresInRow++;
    }
    this.#phase = "waiting";
    const pause = this.#failuresInRow >= this.#hosts.length ? this.#reconnectDelayMs : 0;
    this.#retryAt = nowMs + pause;
    if (pause === 0) this.#beginAttempt(nowMs);
  }

  /** Terminal: expired, authFailed or closed. Everything pending fails; watches get the last event. */
  #end(state: EndState): void {
    if (this.#hasSocket()) this.#emit({ type: "close", attempt: this.#attempt });
    this.#probe.stop();
    this.#phase = "ended";
    this.#state = state;
    this.#decoder = null;
    const { code, detail } = refusalOf(state);
    for (const id of this.#pending.dropAll().ids) this.#settle(id, code, null, detail);
    for (const id of this.#pending.takeAuthWaiters()) this.#settle(id, code, null, detail);
    this.#setState(state, endKeeperState(state));
    this.#registry.clear();
  }

  #setState(state: SessionState, keeperState: KeeperStateName): void {
    this.#state = state;
    this.#emit({ type: "state", state });
    this.#emitStateEvent(keeperState);
  }

  /** A state event for every watch listener. */
  #emitStateEvent(keeperState: KeeperStateName): void {
    const listeners = this.#registry.listeners();
    if (listeners.length > 0) this.#emit({ type: "event", listeners, event: stateEvent(keeperState) });
  }

  /** The code a request gets when the client can no longer send it. */
  /** Settles request `id` as refused: the client has ended or is closing. */
  #refuse(id: number): void {
    const { code, detail } = refusalOf(this.#state);
    this.#settle(id, code, null, detail);
  }

  // -------------------------------------------------------------------------------------------------
  // Read-only servers: looking for a read-write one

  #probeIfDue(nowMs: number): void {
    const probe = this.#probe.take(nowMs);
    if (probe === null) return;
    this.#emit({ type: "probe", probe: probe.id, host: probe.host.host, port: probe.host.port, timeoutMs: PROBE_TIMEOUT_MS });
  }

  /**
   * Probe `probe` got `answer` to isro (null: none). A server that answers "rw" serves the
   * ensemble: leave the read-only server for it (the session moves, or a new one starts there).
   */
  probeAnswered(probe: number, answer: string | null, nowMs: number): void {
    const host = this.#probe.answered(probe, answer, nowMs);
    if (host === null || this.#phase !== "connected" || !this.#connectedReadOnly) return;
    this.#hostIndex = Math.max(0, this.#hosts.indexOf(host));
    this.#lose(nowMs, `${host.host}:${host.port} serves the ensemble again: leaving the read-only server for it`);
  }

  #pingIntervalMs(): number {
    return Math.min(this.#readTimeoutMs / 2, PING_INTERVAL_MS_MAX);
  }

  // -------------------------------------------------------------------------------------------------
  // Sending

  #send(nowMs: number, bytes: Uint8Array): void {
    this.#lastSendAt = nowMs;
    this.#emit({ type: "send", attempt: this.#attempt, bytes });
  }

  #sendRequest(nowMs: number, request: Request, call: Call | null): void {
    const xid = this.#pending.nextXid();
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest(xid, request);
    } catch (error) {
      this.#pending.returnXid();
      if (call !== null) {
        this.#settle(call.id, Code.MARSHALLINGERROR, null, `cannot encode the request: ${messageOf(error)}`);
      }
      return;
    }
    if (bytes.length - 4 > this.#maxFrameBytes) {
      this.#pending.returnXid();
      const detail = `the request is ${
        bytes.length - 4
      } bytes, above jute.maxbuffer (${this.#maxFrameBytes})`;
      if (call !== null) this.#settle(call.id, Code.MARSHALLINGERROR, null, detail);
      return;
    }
    this.#pending.sent(xid, request.kind, call);
    this.#send(nowMs, bytes);
  }

  #sendAuth(nowMs: number, credential: StoredCredential, ids: number[]): void {
    this.#pending.authSent(credential, ids);
    this.#send(
      nowMs,
      encodeRequest(Xid.auth, { kind: "auth", type: 0, scheme: credential.scheme, auth: credential.auth }),
    );
  }

  // -------------------------------------------------------------------------------------------------
  // Receiving

  #reply(nowMs: number, payload: Uint8Array): void {
    let header;
    try {
      header = decodeReplyHeader(payload);
    } catch (error) {
      this.#lose(nowMs, `a reply header does not parse: ${messageOf(error)}`);
      return;
    }
    if (header.xid === Xid.ping) return;
    if (header.xid === Xid.notification) return this.#notification(nowMs, payload);
    if (header.xid === Xid.auth) return this.#authReply(header.err);
    const entry = this.#pending.answer(header.xid);
    if (typeof entry === "string") return this.#lose(nowMs, entry);
    if (header.zxid > 0) this.#lastZxidSeen = header.zxid;
    if (entry.call === null) {
      // A failed setWatches is not fatal: those watches just stay unregistered on this server.
      if (entry.kind === "closeSession") this.#end("closed");
      return;
    }
    if (!entry.abandoned) this.#callReply(nowMs, entry.call, header.err, payload);
  }

  #callReply(nowMs: number, call: Call, err: number, payload: Uint8Array): void {
    const kind = call.request.kind;
    if (err !== 0) {
      // exists on a missing node still leaves a watch on the server (§6.2): track it as an exist watch.
      if (kind === "exists" && err === Code.NONODE && call.watch !== undefined) {
        this.#registry.add("exist", call.watch.path, call.watch.listener);
      }
      this.#settle(call.id, err, null);
      return;
    }
    let response: Response | null;
    try {
      response = decodeResponse(kind, payload);
    } catch (error) {
      this.#lose(nowMs, `the reply to ${kind} does not parse: ${messageOf(error)}`);
      return;
    }
    if (call.watch !== undefined) {
      const list = watchListOf(call.request);
      if (list !== null) this.#registry.add(list, call.watch.path, call.watch.listener);
    }
    if (call.removeOnSuccess !== undefined) this.removeWatches(call.removeOnSuccess);
    this.#settle(call.id, 0, response === null ? null : this.#chroot.stripResponse(response));
  }

  #notification(nowMs: number, payload: Uint8Array): void {
    let notification;
    try {
      notification = decodeNotification(payload);
    } catch (error) {
      this.#lose(nowMs, `a notification does not parse: ${messageOf(error)}`);
      return;
    }
    const path = this.#chroot.toClient(notification.event.path);
    const event = nodeEvent(notification.event.type, path, notification.zxid);
    if (event === null) return;
    const listeners = this.#registry.take(notification.event.type, path);
    if (listeners.length > 0) this.#emit({ type: "event", listeners, event });
  }

  #authReply(err: number): void {
    const entry = this.#pending.authAnswered();
    const ids = entry?.ids ?? [];
    if (err === Code.AUTHFAILED) {
      const detail = `the server rejected the ${
        entry?.credential.scheme ?? "?"
      } credential; the client is closed`;
      for (const id of ids) this.#settle(id, err, null, detail);
      this.#end("authFailed");
      return;
    }
    for (const id of ids) this.#settle(id, err, null);
  }

  #settle(id: number, err: number, response: Response | null, detail?: string): void {
    if (detail === undefined) this.#emit({ type: "reply", id, err, response });
    else this.#emit({ type: "reply", id, err, response, detail });
  }

  #emit(output: MachineOutput): void {
    this.#outputs.push(output);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
