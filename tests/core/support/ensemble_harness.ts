/**
 * A small deterministic ensemble for core tests: replicas wired by an in-memory message queue (FIFO
 * per link, like TCP), disks that keep exactly what was persisted, virtual time, crashes, restarts
 * and partitions. Clients talk to a replica's core directly (records, no codec).
 */
import type { PeerMessage, Sid } from "../../../src/core/peer_messages.ts";
import type { SnapshotHeader, SnapshotNode } from "../../../src/core/persistence.ts";
import type { Reply, Request } from "../../../src/core/records.ts";
import { digestOf } from "../../../src/core/acl.ts";
import type { QuorumConfig } from "../../../src/core/quorum_config.ts";
import { Replica } from "../../../src/core/replica.ts";
import { defaultServerConfig } from "../../../src/core/server_io.ts";
import { sessionPassword } from "../../../src/core/session_password.ts";
import type { TxnEntry } from "../../../src/core/txn.ts";

interface Disk {
  log: TxnEntry[];
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: { header: SnapshotHeader; nodes: SnapshotNode[] } | null;
}

export interface EnsembleOptions {
  voters: number;
  observers?: number;
  tickTimeMs?: number;
  /** readonlymode.enabled on every member. */
  readOnlyMode?: boolean;
  /** localSessionsEnabled (with localSessionsUpgradingEnabled) on every member. */
  localSessions?: { upgrading: boolean };
  /**
   * reconfigEnabled on every member, with a membership text (addresses 10.0.0.<sid>) and the super
   * user `super:test` (reconfig needs WRITE on /zookeeper/config).
   */
  reconfig?: boolean;
  /**
   * Members the ensemble does not have yet (sids after the voters and observers), each started with
   * zoo.cfg's members plus itself as a voter, as an operator starts a server a reconfig will add.
   */
  joiners?: number;
}

/** The server.N spec the harness gives member `sid` (reconfig tests name members this way). */
export function memberSpec(sid: Sid, role: "participant" | "observer" = "participant"): string {
  return `server.${sid}=10.0.0.${sid}:2888:3888:${role};2181`;
}

let connectionIds = 1;

export class Ensemble {
  readonly replicas = new Map<Sid, Replica>();
  readonly disks = new Map<Sid, Disk>();
  readonly voters: Sid[];
  readonly observers: Sid[];
  readonly logs: string[] = [];
  now = 1_000_000;
  readonly #tickTimeMs: number;
  readonly #readOnlyMode: boolean;
  readonly #localSessions: { upgrading: boolean } | undefined;
  readonly #reconfig: boolean;
  readonly joiners: Sid[];
  /** The membership a member boots with instead of zoo.cfg's (a dynamic file; reconfig only). */
  readonly bootConfig = new Map<Sid, QuorumConfig>();
  #queue: Array<{ from: Sid; to: Sid; message: PeerMessage }> = [];
  /** Members whose clock stands still (a starved process): they handle messages but never tick. */
  readonly #frozen = new Set<Sid>();
  /** Directed links ("from-to") whose messages wait, in order, until released (a slow link). */
  readonly #holding = new Set<string>();
  #held: Array<{ from: Sid; to: Sid; message: PeerMessage }> = [];
  /** Pairs that cannot talk ("a-b", both directions). */
  readonly #cut = new Set<string>();
  readonly #clientReplies = new Map<number, ClientState>();

  constructor(options: EnsembleOptions) {
    this.#tickTimeMs = options.tickTimeMs ?? 100;
    this.#readOnlyMode = options.readOnlyMode ?? false;
    this.#localSessions = options.localSessions;
    this.#reconfig = options.reconfig ?? false;
    this.voters = Array.from({ length: options.voters }, (_, i) => i + 1);
    this.observers = Array.from({ length: options.observers ?? 0 }, (_, i) => options.voters + i + 1);
    this.joiners = Array.from({ length: options.joiners ?? 0 }, (_, i) => this.voters.length + this.observers.length + i + 1);
    for (const sid of [...this.voters, ...this.observers, ...this.joiners]) {
      this.disks.set(sid, { log: [], acceptedEpoch: 0, currentEpoch: 0, snapshot: null });
      this.#boot(sid);
    }
  }

  #boot(sid: Sid): void {
    const reconfig = this.#reconfig ? { reconfigEnabled: true, superDigest: digestOf("super:test") } : {};
    const override = this.bootConfig.get(sid);
    const voters = override !== undefined
      ? override.members.filter((member) => member.role === "participant").map((member) => member.id)
      : this.joiners.includes(sid) ? [...this.voters, sid] : this.voters;
    const observers = override !== undefined ? override.members.filter((member) => member.role === "observer").map((member) => member.id) : this.observers;
    const replica = new Replica({
      server: defaultServerConfig({ serverId: sid, tickTimeMs: this.#tickTimeMs, sessionIdSeedMs: this.now, minSessionTimeoutMs: 2 * this.#tickTimeMs, maxSessionTimeoutMs: 200 * this.#tickTimeMs, ...(this.#localSessions === undefined ? {} : { localSessions: this.#localSessions }), ...reconfig }),
      voters,
      observers,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      readOnlyMode: this.#readOnlyMode,
      ...(this.#reconfig ? { quorumConfig: override ?? this.#quorumConfig(voters) } : {}),
    }, this.now);
    const disk = this.disks.get(sid)!;
    replica.restoreEpochs(disk);
    if (disk.snapshot) {
      replica.restoreSnapshot(disk.snapshot.header);
      for (const node of disk.snapshot.nodes) replica.restoreNode(structuredClone(node));
    }
    for (const entry of disk.log) replica.replay(structuredClone(entry));
    replica.start();
    this.replicas.set(sid, replica);
  }

  #quorumConfig(voters: readonly Sid[]): QuorumConfig {
    const member = (id: Sid, role: "participant" | "observer") => ({ id, host: `10.0.0.${id}`, quorumPort: 2888, electionPort: 3888, role, client: { host: "0.0.0.0", port: 2181 } });
    return { members: [...voters.map((id) => member(id, "participant")), ...this.observers.map((id) => member(id, "observer"))], version: 0 };
  }

  crash(sid: Sid): void {
    this.replicas.delete(sid);
    this.#queue = this.#queue.filter((m) => m.to !== sid && m.from !== sid);
    this.#held = this.#held.filter((m) => m.to !== sid && m.from !== sid);
    for (const [, client] of this.#clientReplies) if (client.replica === sid) client.closed = true;
    for (const other of this.replicas.values()) other.peerLost(sid);
  }

  restart(sid: Sid): void {
    this.#boot(sid);
  }

  partition(...groups: Sid[][]): void {
    this.#cut.clear();
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.#cut.add(`${x}-${y}`);
      }
    }
    for (const key of this.#cut) {
      const [x, y] = key.split("-").map(Number) as [number, number];
      this.replicas.get(x)?.peerLost(y);
    }
    this.#queue = this.#queue.filter((m) => !this.#cut.has(`${m.from}-${m.to}`));
  }

  /** Stops (or with false, restarts) `sid`'s clock: it notices no timeout while frozen. */
  freeze(sid: Sid, frozen = true): void {
    if (frozen) this.#frozen.add(sid);
    else this.#frozen.delete(sid);
  }

  /** Messages from `from` to `to` wait (in order, nothing lost, no break noticed) until release(). */
  hold(from: Sid, to: Sid): void {
    this.#holding.add(`${from}-${to}`);
  }

  /** Delivers what the link held, in order, after everything already queued; the link flows again. */
  release(from: Sid, to: Sid): void {
    this.#holding.delete(`${from}-${to}`);
    const released = this.#held.filter((m) => m.from === from && m.to === to);
    this.#held = this.#held.filter((m) => m.from !== from || m.to !== to);
    for (const message of released) this.#queue.push(message);
  }

  /** The kinds of message the link from `from` to `to` holds, oldest first. */
  heldKinds(from: Sid, to: Sid): string[] {
    return this.#held.filter((m) => m.from === from && m.to === to).map((m) => m.message.kind);
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Delivers messages and storage completions until nothing is left (bounded). */
  settle(maxSteps = 100_000): void {
    for (let step = 0; step < maxSteps; step++) {
      if (!this.#drainOutputs() && this.#queue.length === 0) return;
      const next = this.#queue.shift();
      if (next) this.replicas.get(next.to)?.receive(next.from, structuredClone(next.message));
    }
    throw new Error("ensemble did not settle");
  }

  /** Delivers one event at a time until `done()` holds (true) or nothing is left (false); bounded. */
  settleUntil(done: () => boolean, maxSteps = 100_000): boolean {
    for (let step = 0; step < maxSteps; step++) {
      if (done()) return true;
      if (!this.#drainOutputs() && this.#queue.length === 0) return done();
      const next = this.#queue.shift();
      if (next) this.replicas.get(next.to)?.receive(next.from, structuredClone(next.message));
    }
    throw new Error("ensemble did not settle");
  }

  /** Advances virtual time tick by tick, settling in between. */
  run(ms: number): void {
    for (let elapsed = 0; elapsed < ms; elapsed += this.#tickTimeMs / 2) {
      this.now += this.#tickTimeMs / 2;
      for (const replica of this.replicas.values()) if (!this.#frozen.has(replica.myId)) replica.tick(this.now);
      this.settle();
    }
  }

  /**
   * Like run, but stops at the first event after which `done()` holds (true), before anything that
   * event made is sent; false if `maxMs` passes first.
   */
  runUntil(done: () => boolean, maxMs = 60_000): boolean {
    for (let elapsed = 0; elapsed < maxMs; elapsed += this.#tickTimeMs / 2) {
      if (done()) return true;
      this.now += this.#tickTimeMs / 2;
      for (const replica of this.replicas.values()) if (!this.#frozen.has(replica.myId)) replica.tick(this.now);
      if (this.settleUntil(done)) return true;
    }
    return done();
  }

  /** Runs until a leader serves and every live member follows it (bounded). */
  stabilize(maxMs = 60_000): Sid {
    for (let elapsed = 0; elapsed < maxMs; elapsed += this.#tickTimeMs) {
      this.run(this.#tickTimeMs);
      const leader = this.leader();
      if (leader !== null && [...this.replicas.values()].every((r) => r.status().serving && r.status().leader === leader)) {
        return leader;
      }
    }
    throw new Error(`no stable leader after ${maxMs} ms: ${JSON.stringify([...this.replicas.values()].map((r) => r.status()))}`);
  }

  /**
   * Like stabilize, among `members` only (the others may be cut off or down): runs until one of them
   * leads an established epoch and the rest of them serve under it (bounded).
   */
  stabilizeAmong(members: readonly Sid[], maxMs = 60_000): Sid {
    for (let elapsed = 0; elapsed < maxMs; elapsed += this.#tickTimeMs) {
      this.run(this.#tickTimeMs);
      const leader = members.find((sid) => this.replicas.get(sid)?.leaderEpoch !== null && this.replicas.has(sid));
      if (leader === undefined) continue;
      if (members.every((sid) => this.replicas.get(sid)?.status().serving && this.replicas.get(sid)?.status().leader === leader)) {
        return leader;
      }
    }
    throw new Error(`no stable leader among ${members.join(",")} after ${maxMs} ms`);
  }

  leader(): Sid | null {
    for (const replica of this.replicas.values()) if (replica.leaderEpoch !== null) return replica.myId;
    return null;
  }

  #drainOutputs(): boolean {
    let any = false;
    for (const [sid, replica] of this.replicas) {
      const outputs = replica.takeOutputs();
      if (outputs.length === 0) continue;
      any = true;
      let persistedUpTo = 0;
      for (const output of outputs) {
        if (output.kind === "send") {
          if (!this.#cut.has(`${sid}-${output.to}`) && this.replicas.has(output.to)) {
            const queue = this.#holding.has(`${sid}-${output.to}`) ? this.#held : this.#queue;
            queue.push({ from: sid, to: output.to, message: output.message });
          }
        } else if (output.kind === "persist") {
          this.#persist(sid, output.request);
          persistedUpTo = output.writeSeq;
        } else if (output.kind === "log") {
          this.logs.push(`${sid}: ${output.message}`);
        } else if (output.kind === "reply" || output.kind === "notification" || output.kind === "close" || output.kind === "connectResponse") {
          const client = this.#clientReplies.get(output.connection);
          if (!client) continue;
          if (output.kind === "reply") client.replies.push(output.reply);
          if (output.kind === "notification") client.events.push(`${output.event.type} ${output.event.path}`);
          if (output.kind === "close") client.closed = true;
          if (output.kind === "connectResponse") {
            client.sessionId = output.response.sessionId;
            client.readOnly = output.response.readOnly === true;
            client.answered = true;
          }
        }
      }
      if (persistedUpTo > 0) replica.persisted(persistedUpTo);
    }
    return any;
  }

  #persist(sid: Sid, request: import("../../../src/core/persistence.ts").PersistRequest): void {
    const disk = this.disks.get(sid)!;
    switch (request.kind) {
      case "append":
        for (const entry of request.entries) disk.log.push(structuredClone(entry));
        break;
      case "truncate":
        disk.log = disk.log.filter((entry) => entry.header.zxid <= request.zxid);
        break;
      case "epochs":
        if (request.acceptedEpoch !== undefined) disk.acceptedEpoch = request.acceptedEpoch;
        if (request.currentEpoch !== undefined) disk.currentEpoch = request.currentEpoch;
        break;
      case "installSnapshot":
        disk.snapshot = structuredClone({ header: request.header, nodes: request.nodes });
        disk.log = [];
        break;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Clients

  /** Opens a session on `sid` (allowing a read-only server with `canBeReadOnly`); returns a handle. */
  client(sid: Sid, options: { canBeReadOnly?: boolean } = {}): EnsembleClient {
    const connection = connectionIds++;
    const replica = this.replicas.get(sid)!;
    this.#clientReplies.set(connection, { replica: sid, replies: [], events: [], closed: false, sessionId: 0n, readOnly: false, answered: false });
    replica.open(connection, { remoteAddress: "127.0.0.1", remotePort: connection });
    const readOnly = options.canBeReadOnly ?? false;
    replica.connect(connection, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly });
    this.settle();
    return new EnsembleClient(this, sid, connection, this.#clientReplies.get(connection)!);
  }

  /** Reconnects `client`'s session on member `sid` (a new connection, its id and password). */
  resume(sid: Sid, client: EnsembleClient, options: { canBeReadOnly?: boolean } = {}): EnsembleClient {
    const connection = connectionIds++;
    const replica = this.replicas.get(sid)!;
    const sessionId = client.state.sessionId;
    this.#clientReplies.set(connection, { replica: sid, replies: [], events: [], closed: false, sessionId: 0n, readOnly: false, answered: false });
    replica.open(connection, { remoteAddress: "127.0.0.1", remotePort: connection });
    const readOnly = options.canBeReadOnly ?? false;
    replica.connect(connection, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10_000, sessionId, passwd: sessionPassword(sessionId), readOnly });
    this.settle();
    return new EnsembleClient(this, sid, connection, this.#clientReplies.get(connection)!);
  }

  /** The client's process dies: its connection closes, and it sends nothing more. */
  crashClient(client: EnsembleClient): void {
    client.state.closed = true;
    this.replicas.get(client.sid)?.closed(client.connection);
    this.settle();
  }

  send(sid: Sid, connection: number, xid: number, request: Request): void {
    this.replicas.get(sid)?.request(connection, { xid, type: 0 }, request);
  }
}

interface ClientState {
  replica: Sid;
  replies: Reply[];
  events: string[];
  closed: boolean;
  sessionId: bigint;
  /** Whether the connect response said the server is read-only. */
  readOnly: boolean;
  /** Whether a connect response came (a refused client gets none: its connection just closes). */
  answered: boolean;
}

export class EnsembleClient {
  #xid = 1;
  constructor(
    readonly ensemble: Ensemble,
    readonly sid: Sid,
    readonly connection: number,
    readonly state: ClientState,
  ) {}

  /** Sends and settles; returns the reply (or null if none came, e.g. no quorum). */
  call(request: Request): Reply | null {
    const before = this.state.replies.length;
    this.ensemble.send(this.sid, this.connection, this.#xid++, request);
    this.ensemble.settle();
    return this.state.replies[before] ?? null;
  }
}
