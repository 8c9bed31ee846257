/**
 * A simulated ZooKeeper client session: connects to a random replica, keeps its session alive with
 * pings, pipelines requests from a workload, records everything in the history, and on a broken
 * connection (or a silent one) reconnects elsewhere with its session id, password and the last zxid
 * it saw. Requests in flight when a connection breaks have an unknown outcome, as in ZooKeeper
 * (CONNECTIONLOSS). Watches die with the connection (this client does not re-register them).
 * Auth requests (the source's `onConnect`) go first on every new connection, as ZooKeeper's client
 * re-sends its auth info; the server answers them at once, outside the request order.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { ConnectRequest, ConnectResponse, Reply, Request, RequestHeader, WatcherEvent } from "../core/records.ts";
import { OpCode, Xid } from "../core/records.ts";
import type { Scheduler } from "./event_queue.ts";
import type { History, OpRecord } from "./history.ts";
import type { Prng } from "./prng.ts";
import { between, pick } from "./sim_random.ts";

/** What a client needs from the simulator to reach replicas. */
export interface ClientWire {
  /** Every replica a client may connect to. */
  replicas(): readonly Sid[];
  /** Opens a connection to `sid` carrying `request`; returns the connection id. */
  connect(client: SimClient, sid: Sid, request: ConnectRequest): number;
  send(connection: number, header: RequestHeader, request: Request): void;
  /** The client closes its side. */
  close(connection: number): void;
}

export interface ClientOptions {
  sessionTimeoutMs: number;
  /** Requests in flight at once. */
  pipelineMax: number;
  /** Time between the client's steps (each may issue one request): uniform in [min, max). */
  thinkMsMin: number;
  thinkMsMax: number;
  /** Wait before reconnecting: uniform in [min, max). */
  reconnectMsMin: number;
  reconnectMsMax: number;
}

/** Where the next requests come from (a random workload, or a scripted probe). */
export interface RequestSource {
  next(): Request[];
  /** Requests every new connection sends first (auth). */
  onConnect?(): Request[];
}

const EMPTY_PASSWORD = new Uint8Array(16);

const OPCODES: Partial<Record<Request["kind"], number>> = OpCode;

type State = "idle" | "connecting" | "connected";

export class SimClient {
  readonly id: number;
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #wire: ClientWire;
  readonly #history: History;
  readonly #options: ClientOptions;
  #source: RequestSource;
  #state: State = "idle";
  #session: { id: bigint; passwd: Uint8Array } | null = null;
  #connection: number | null = null;
  #sid: Sid = 0;
  #lastZxidSeen = 0;
  #nextXid = 1;
  #pending: Array<{ xid: number; record: OpRecord | null }> = [];
  #queued: Request[] = [];
  #connectStartedMs = 0;
  #lastHeardMs = 0;
  #lastSentMs = 0;
  #reconnectAtMs = 0;
  #active = true;
  #stopped = false;

  constructor(options: {
    id: number;
    scheduler: Scheduler;
    prng: Prng;
    wire: ClientWire;
    history: History;
    client: ClientOptions;
    source: RequestSource;
  }) {
    this.id = options.id;
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#wire = options.wire;
    this.#history = options.history;
    this.#options = options.client;
    this.#source = options.source;
  }

  get connected(): boolean {
    return this.#state === "connected";
  }

  get connection(): number | null {
    return this.#connection;
  }

  get sessionId(): bigint | null {
    return this.#session?.id ?? null;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  start(): void {
    this.#scheduler.after(between(this.#prng, 0, this.#options.thinkMsMax), () => this.#step());
  }

  /** Stop or resume issuing new requests (pings and reconnects go on). */
  setActive(active: boolean): void {
    this.#active = active;
    if (!active) this.#queued = [];
  }

  setSource(source: RequestSource): void {
    this.#source = source;
  }

  /** Stops the client's loop for good (the end of a run). */
  stop(): void {
    this.#stopped = true;
  }

  /** Breaks the current connection from the client side (a connection fault). */
  dropConnection(): void {
    if (this.#connection === null) return;
    this.#wire.close(this.#connection);
    this.#lost();
  }

  #step(): void {
    if (this.#stopped) return;
    const now = this.#scheduler.nowMs;
    const timeoutMs = this.#options.sessionTimeoutMs;
    if (this.#state === "idle" && now >= this.#reconnectAtMs) {
      this.#connect();
    } else if (this.#state === "connecting" && now - this.#connectStartedMs > timeoutMs / 2) {
      this.dropConnection();
    } else if (this.#state === "connected") {
      if (now - this.#lastHeardMs > (timeoutMs * 2) / 3) {
        this.dropConnection(); // ZooKeeper's read timeout: the server went quiet
      } else {
        this.#issue();
        if (now - this.#lastSentMs >= timeoutMs / 3) this.#send({ kind: "ping" }, Xid.ping);
      }
    }
    this.#scheduler.after(between(this.#prng, this.#options.thinkMsMin, this.#options.thinkMsMax), () => this.#step());
  }

  #connect(): void {
    const replicas = this.#wire.replicas();
    const others = replicas.filter((sid) => sid !== this.#sid);
    this.#sid = pick(this.#prng, others.length > 0 ? others : replicas);
    this.#state = "connecting";
    this.#connectStartedMs = this.#scheduler.nowMs;
    this.#connection = this.#wire.connect(this, this.#sid, {
      protocolVersion: 0,
      lastZxidSeen: this.#lastZxidSeen,
      timeOut: this.#options.sessionTimeoutMs,
      sessionId: this.#session?.id ?? 0n,
      passwd: this.#session?.passwd ?? EMPTY_PASSWORD,
      readOnly: false,
    });
  }

  #issue(): void {
    if (!this.#active || this.#pending.length >= this.#options.pipelineMax) return;
    if (this.#queued.length === 0) this.#queued = this.#source.next();
    for (; this.#queued.length > 0 && this.#pending.length < this.#options.pipelineMax;) {
      this.#invoke(this.#queued.shift()!, this.#nextXid++);
    }
  }

  #invoke(request: Request, xid: number): void {
    const record = this.#history.invoke({
      client: this.id,
      sessionId: this.#session!.id,
      connection: this.#connection!,
      sid: this.#sid,
      xid,
      request,
      invokeMs: this.#scheduler.nowMs,
    });
    this.#send(request, xid, record);
  }

  #send(request: Request, xid: number, record: OpRecord | null = null): void {
    this.#pending.push({ xid, record });
    this.#lastSentMs = this.#scheduler.nowMs;
    this.#wire.send(this.#connection!, { xid, type: OPCODES[request.kind] ?? 0 }, request);
  }

  // ------------------------------------------------------------------------------------------------
  // From the replica (via the simulator)

  onConnectResponse(connection: number, response: ConnectResponse, serverZxid: number): void {
    if (connection !== this.#connection || this.#state !== "connecting") return;
    const now = this.#scheduler.nowMs;
    this.#lastHeardMs = now;
    if (response.sessionId === 0n) {
      // The session is gone: the replica closes the connection; the next one starts a new session.
      if (this.#session !== null) {
        this.#history.opened({ connection, client: this.id, sessionId: this.#session.id, sid: this.#sid, openedMs: now, serverZxid, toldExpired: true });
        this.#history.sessionEnded(this.#session.id, "expired", now);
      }
      this.#newSession();
      return;
    }
    if (this.#session === null) {
      this.#session = { id: response.sessionId, passwd: response.passwd };
      this.#history.sessionCreated(response.sessionId, this.id, now);
    } else if (response.sessionId !== this.#session.id) {
      this.#history.online.push(`client ${this.id}: resumed session 0x${this.#session.id.toString(16)} but got 0x${response.sessionId.toString(16)}`);
    }
    this.#history.opened({ connection, client: this.id, sessionId: this.#session.id, sid: this.#sid, openedMs: now, serverZxid });
    this.#state = "connected";
    this.#lastSentMs = now;
    for (const request of this.#source.onConnect?.() ?? []) this.#invoke(request, Xid.auth);
  }

  onReply(connection: number, reply: Reply): void {
    if (connection !== this.#connection || this.#state !== "connected") return;
    const now = this.#scheduler.nowMs;
    this.#lastHeardMs = now;
    // Auth is answered at once, maybe before earlier requests; everything else in order.
    const auth = reply.header.xid === Xid.auth;
    const at = this.#pending.findIndex((pending) => (pending.xid === Xid.auth) === auth);
    const head = at < 0 ? undefined : this.#pending.splice(at, 1)[0];
    if (head === undefined || head.xid !== reply.header.xid) {
      this.#history.online.push(
        `per-client FIFO order: client ${this.id} connection ${connection} got a reply for xid ${reply.header.xid} while waiting for ${head?.xid ?? "nothing"}`,
      );
      return;
    }
    if (reply.header.zxid > this.#lastZxidSeen) this.#lastZxidSeen = reply.header.zxid;
    if (head.record === null) return;
    this.#history.complete(head.record, reply, now);
    if (head.record.request.kind === "closeSession" && reply.header.err === 0) {
      this.#history.sessionEnded(head.record.sessionId, "closed", now);
      this.#newSession();
      this.dropConnection(); // the replica closes it too; the next connection starts a new session
    }
  }

  onNotification(connection: number, zxid: number, event: WatcherEvent): void {
    if (connection !== this.#connection || this.#state !== "connected") return;
    this.#lastHeardMs = this.#scheduler.nowMs;
    this.#history.event(connection, { type: event.type, path: event.path, zxid }, this.#scheduler.nowMs);
  }

  /** The connection closed (by the replica, a crash or the network). */
  onClosed(connection: number): void {
    if (connection !== this.#connection) return;
    this.#lost();
  }

  #lost(): void {
    this.#connection = null;
    this.#state = "idle";
    this.#pending = []; // outcome unknown: their records stay without a reply
    this.#queued = [];
    this.#reconnectAtMs = this.#scheduler.nowMs + between(this.#prng, this.#options.reconnectMsMin, this.#options.reconnectMsMax);
  }

  #newSession(): void {
    this.#session = null;
    this.#lastZxidSeen = 0;
    this.#nextXid = 1;
  }
}
