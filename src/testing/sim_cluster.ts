/**
 * The simulated world: every replica (with its disk and drifting clock), the network between them,
 * and the connections of simulated clients, all driven by one event queue. It plays the driver's
 * part for each replica — feeds inputs, carries out the outputs of each input in order (sends,
 * persists, client traffic, snapshots) — and reports every apply, log write and leadership to the
 * commit checker. Crash and restart rebuild a replica from its disk alone.
 */
import type { PeerMessage, Sid } from "../core/peer_messages.ts";
import type { ConnectRequest, ConnectResponse, Reply, Request, RequestHeader, WatcherEvent } from "../core/records.ts";
import { Replica, type ReplicaOutput } from "../core/replica.ts";
import { defaultServerConfig } from "../core/server_io.ts";
import type { TxnEntry } from "../core/txn.ts";
import { treeDigest } from "../core/tree_digest.ts";
import { zxidHex } from "../core/zxid.ts";
import type { CommitChecker } from "./checkers/commit_checker.ts";
import type { EventQueue } from "./event_queue.ts";
import type { FaultTarget } from "./nemesis.ts";
import type { Prng } from "./prng.ts";
import type { SimClient } from "./sim_client.ts";
import { DriftingClock } from "./sim_clock.ts";
import { SimDisk } from "./sim_disk.ts";
import { type PeerCodec, SimNetwork } from "./sim_network.ts";
import { type FaultPlan, TICK_TIME_MS } from "./sim_options.ts";
import { between, forkPrng } from "./sim_random.ts";
import { describeClientOutput, describeMessage, describePersist } from "./sim_trace.ts";

/** Wall-clock-like start of every replica clock (before its offset). */
const EPOCH_MS = 1_700_000_000_000;
const DRIVER_TICK_MS = TICK_TIME_MS / 2;
const LOG_LINES_KEPT = 400;

interface Host {
  sid: Sid;
  disk: SimDisk;
  clock: DriftingClock;
  replica: Replica | null;
  /** Bumped at each crash: events of an earlier life are ignored. */
  life: number;
  connections: Set<number>;
}

/**
 * The client end of a simulated client connection: a model SimClient, or the byte-level bridge of
 * SimTransport that lets the real Client (src/client/) talk to the replicas.
 */
export interface ClientEndpoint {
  readonly id: number;
  onConnectResponse(connection: number, response: ConnectResponse, serverZxid: number): void;
  onReply(connection: number, reply: Reply): void;
  onNotification(connection: number, zxid: number, event: WatcherEvent): void;
  onClosed(connection: number): void;
}

interface ClientConnection {
  id: number;
  client: ClientEndpoint;
  sid: Sid;
  life: number;
  /** The client closed its side, or the replica crashed: nothing more reaches the client. */
  clientGone: boolean;
  /** The replica closed it (or crashed): nothing more reaches the replica. */
  serverGone: boolean;
  toServerMs: number;
  toClientMs: number;
}

export class SimCluster {
  readonly queue: EventQueue;
  readonly voters: readonly Sid[];
  readonly observers: readonly Sid[];
  readonly members: readonly Sid[];
  readonly network: SimNetwork;
  readonly #plan: FaultPlan;
  readonly #prng: Prng;
  readonly #checker: CommitChecker;
  readonly #hosts = new Map<Sid, Host>();
  readonly #connections = new Map<number, ClientConnection>();
  #nextConnection = 1;
  readonly #logs: string[] = [];
  readonly #trace: string[] = [];
  readonly #violation: (invariant: string, message: string) => void;
  readonly #verbose: ((line: string) => void) | null;
  readonly #integerClocks: boolean;

  constructor(options: {
    queue: EventQueue;
    prng: Prng;
    plan: FaultPlan;
    voters: number;
    observers: number;
    checker: CommitChecker;
    codec?: PeerCodec;
    violation: (invariant: string, message: string) => void;
    /** Every peer message, persist and connection loss, as it happens (debugging a seed). */
    verbose?: (line: string) => void;
    /**
     * Replica clocks read whole milliseconds, as a real server's wall clock does (znode ctime and
     * mtime then fit the wire's long; needed when replies are encoded for a real client). Default false.
     */
    integerClocks?: boolean;
  }) {
    this.#verbose = options.verbose ?? null;
    this.#integerClocks = options.integerClocks ?? false;
    this.queue = options.queue;
    this.#prng = options.prng;
    this.#plan = options.plan;
    this.#checker = options.checker;
    this.#violation = options.violation;
    this.voters = Array.from({ length: options.voters }, (_, i) => i + 1);
    this.observers = Array.from({ length: options.observers }, (_, i) => options.voters + i + 1);
    this.members = [...this.voters, ...this.observers];
    this.network = new SimNetwork({
      scheduler: this.queue,
      prng: forkPrng(this.#prng),
      members: this.members,
      faults: this.#plan.network,
      ...(options.codec === undefined ? {} : { codec: options.codec }),
      callbacks: {
        deliver: (to, from, message) => this.#deliver(to, from, message),
        lost: (at, peer) => {
          this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${at}: lost connection to ${peer}`);
          this.#input(at, (replica) => replica.peerLost(peer));
        },
      },
    });
    for (const sid of this.members) {
      const drift = this.#plan.clockDrift;
      const host: Host = {
        sid,
        disk: new SimDisk({
          scheduler: this.queue,
          prng: forkPrng(this.#prng),
          faults: this.#plan.disk,
          violation: (message) => this.#violation("storage contract", `server ${sid}: ${message}`),
        }),
        clock: new DriftingClock({ offsetMs: EPOCH_MS + between(this.#prng, -500, 500), rate: 1 + between(this.#prng, -drift, drift) }),
        replica: null,
        life: 0,
        connections: new Set(),
      };
      this.#hosts.set(sid, host);
    }
  }

  /** Boots every member from its (empty) disk. */
  start(): void {
    for (const sid of this.members) this.#boot(this.#host(sid));
  }

  // ------------------------------------------------------------------------------------------------
  // Members

  replica(sid: Sid): Replica | null {
    return this.#host(sid).replica;
  }

  /** What a Nemesis may act on: this cluster, with `clients` and `trace` given by its owner. */
  faultTarget(clients: () => readonly SimClient[], trace: (message: string) => void): FaultTarget {
    return {
      members: this.members,
      voters: this.voters,
      network: this.network,
      isDown: (sid) => this.isDown(sid),
      crash: (sid) => this.crash(sid),
      restart: (sid) => this.restart(sid),
      leader: () => this.leader(),
      disk: (sid) => this.disk(sid),
      clock: (sid) => this.clock(sid),
      clients,
      trace,
    };
  }

  isDown(sid: Sid): boolean {
    return this.#host(sid).replica === null;
  }

  disk(sid: Sid): SimDisk {
    return this.#host(sid).disk;
  }

  clock(sid: Sid): DriftingClock {
    return this.#host(sid).clock;
  }

  /** The member leading an established epoch (the one with the highest epoch if several think so). */
  leader(): Sid | null {
    let best: { sid: Sid; epoch: number } | null = null;
    for (const host of this.#hosts.values()) {
      const epoch = host.replica?.leaderEpoch ?? null;
      if (epoch !== null && (best === null || epoch > best.epoch)) best = { sid: host.sid, epoch };
    }
    return best?.sid ?? null;
  }

  crash(sid: Sid): void {
    const host = this.#host(sid);
    if (host.replica === null) return;
    this.trace(`crash ${sid}`);
    host.replica = null;
    host.life++;
    host.disk.crash();
    this.network.crash(sid);
    for (const id of host.connections) {
      const connection = this.#connections.get(id)!;
      connection.serverGone = true;
      if (connection.clientGone) continue;
      connection.clientGone = true;
      this.queue.after(this.#clientDelay(), () => connection.client.onClosed(id));
    }
    host.connections.clear();
  }

  restart(sid: Sid): void {
    const host = this.#host(sid);
    if (host.replica !== null) return;
    this.trace(`restart ${sid}`);
    this.network.restart(sid);
    this.#boot(host);
  }

  #boot(host: Host): void {
    const sid = host.sid;
    const nowMs = this.#localMs(host);
    const replica = new Replica({
      server: defaultServerConfig({
        serverId: sid,
        tickTimeMs: TICK_TIME_MS,
        minSessionTimeoutMs: 2 * TICK_TIME_MS,
        maxSessionTimeoutMs: 200 * TICK_TIME_MS,
        sessionIdSeedMs: Math.floor(nowMs),
        snapshotTxnCount: this.#plan.snapshotTxnCount,
        snapshotBytesMax: 0,
      }),
      voters: this.voters,
      observers: this.observers,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      committedLogMax: this.#plan.committedLogMax,
    }, nowMs);
    this.#observe(sid, replica);
    const recovered = host.disk.recover();
    replica.restoreEpochs(recovered);
    if (recovered.snapshot !== null) {
      replica.restoreSnapshot(recovered.snapshot.header);
      for (const node of recovered.snapshot.nodes) replica.restoreNode(node);
    }
    for (const entry of recovered.entries) replica.replay(entry);
    host.replica = replica;
    replica.start();
    this.#drain(host);
    this.#scheduleTick(host, host.life);
  }

  /** Reports applies, replays and recovered states to the checker, by wrapping the server's hooks. */
  #observe(sid: Sid, replica: Replica): void {
    const server = replica.server;
    const checker = this.#checker;
    const applyCommitted = server.applyCommitted.bind(server);
    server.applyCommitted = (entry: TxnEntry) => {
      const before = server.tree.lastZxid;
      const serving = server.serving;
      applyCommitted(entry);
      checker.applied(sid, entry, before, { kind: "commit", serving });
    };
    const replay = server.replay.bind(server);
    server.replay = (entry: TxnEntry) => {
      const before = server.tree.lastZxid;
      replay(entry);
      checker.applied(sid, entry, before, { kind: "replay", serving: false });
    };
    const finishRecovery = server.finishRecovery.bind(server);
    server.finishRecovery = () => {
      finishRecovery();
      checker.state(sid, server.tree.lastZxid, treeDigest(server.tree), "after recovery or SNAP");
    };
  }

  /** The replica's local time now. */
  #localMs(host: Host): number {
    const localMs = host.clock.localMs(this.queue.nowMs);
    return this.#integerClocks ? Math.floor(localMs) : localMs;
  }

  #scheduleTick(host: Host, life: number): void {
    const delayMs = host.clock.virtualDelayMs(DRIVER_TICK_MS) * between(this.#prng, 0.9, 1.1);
    this.queue.after(delayMs, () => {
      if (host.life !== life || host.replica === null) return;
      host.replica.tick(this.#localMs(host));
      this.#drain(host);
      this.#scheduleTick(host, life);
    });
  }

  #deliver(to: Sid, from: Sid, message: PeerMessage): void {
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${to} <- ${from}: ${describeMessage(message)}`);
    this.#input(to, (replica) => replica.receive(from, message));
  }

  /** Feeds one input to a live replica and carries out its outputs. */
  #input(sid: Sid, input: (replica: Replica) => void): void {
    const host = this.#host(sid);
    if (host.replica === null) return;
    input(host.replica);
    this.#drain(host);
  }

  #drain(host: Host): void {
    const replica = host.replica;
    if (replica === null) return;
    const outputs = replica.takeOutputs();
    const writes: Array<{ writeSeq: number; request: Extract<ReplicaOutput, { kind: "persist" }>["request"] }> = [];
    for (const output of outputs) {
      switch (output.kind) {
        case "send":
          this.network.send(host.sid, output.to, output.message);
          break;
        case "persist":
          if (output.request.kind === "append") {
            for (const entry of output.request.entries) this.#checker.seen(host.sid, entry, "logged");
          }
          writes.push({ writeSeq: output.writeSeq, request: output.request });
          this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${host.sid} persist #${output.writeSeq} ${describePersist(output.request)}`);
          break;
        case "snapshot":
          // Outputs are carried out in order: the writes before the snapshot go to the disk first.
          this.#write(host, writes.splice(0));
          host.disk.snapshot(output.source);
          break;
        case "log":
          this.#log(`${host.sid} ${output.level}: ${output.message}`);
          this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${host.sid} ${output.level}: ${output.message}`);
          break;
        default:
          this.#toClient(host, output);
      }
    }
    this.#write(host, writes);
    const epoch = replica.leaderEpoch;
    if (epoch !== null) this.#checker.leading(host.sid, epoch);
  }

  #write(host: Host, writes: Array<{ writeSeq: number; request: Extract<ReplicaOutput, { kind: "persist" }>["request"] }>): void {
    if (writes.length === 0) return;
    const life = host.life;
    host.disk.writeBatch(writes, (writeSeq) => {
      if (host.life !== life) return;
      this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${host.sid} persisted #${writeSeq}`);
      this.#input(host.sid, (live) => live.persisted(writeSeq));
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Client connections (FIFO both ways, with a small delay)

  #clientDelay(): number {
    return between(this.#prng, 0.2, 3);
  }

  connectClient(client: ClientEndpoint, sid: Sid, request: ConnectRequest): number {
    const host = this.#host(sid);
    const id = this.#nextConnection++;
    const connection: ClientConnection = {
      id,
      client,
      sid,
      life: host.life,
      clientGone: false,
      serverGone: host.replica === null,
      toServerMs: 0,
      toClientMs: 0,
    };
    this.#connections.set(id, connection);
    if (connection.serverGone) {
      connection.clientGone = true;
      this.queue.after(this.#clientDelay(), () => client.onClosed(id)); // connection refused
      return id;
    }
    host.connections.add(id);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${client.id} c${id} -> ${sid}: connect session 0x${BigInt.asUintN(64, request.sessionId).toString(16)} lastZxidSeen ${zxidHex(request.lastZxidSeen)}`);
    const copy = structuredClone(request);
    this.#toServer(connection, (replica) => {
      replica.open(id, { remoteAddress: "10.0.0.1", remotePort: id });
      replica.connect(id, copy);
    });
    return id;
  }

  sendClient(id: number, header: RequestHeader, request: Request): void {
    const connection = this.#connections.get(id);
    if (!connection || connection.clientGone) return;
    const copy = structuredClone(request);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${connection.client.id} c${id} -> ${connection.sid}: xid ${header.xid} ${request.kind}${"path" in request ? ` ${request.path}` : ""}`);
    this.#toServer(connection, (replica) => replica.request(id, { ...header }, copy));
  }

  closeClient(id: number): void {
    const connection = this.#connections.get(id);
    if (!connection || connection.clientGone) return;
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${connection.client.id} c${id} closes`);
    connection.clientGone = true;
    this.#toServer(connection, (replica) => replica.closed(id));
    connection.serverGone = true;
    this.#host(connection.sid).connections.delete(id);
  }

  #toServer(connection: ClientConnection, input: (replica: Replica) => void): void {
    if (connection.serverGone) return;
    const host = this.#host(connection.sid);
    const atMs = Math.max(this.queue.nowMs + this.#clientDelay(), connection.toServerMs);
    connection.toServerMs = atMs;
    const life = connection.life;
    this.queue.at(atMs, () => {
      if (host.life !== life || host.replica === null) return;
      this.#input(host.sid, input);
    });
  }

  #toClient(host: Host, output: ReplicaOutput): void {
    if (output.kind !== "reply" && output.kind !== "notification" && output.kind !== "close" && output.kind !== "connectResponse") return;
    const connection = this.#connections.get(output.connection);
    if (!connection || connection.clientGone) return;
    const atMs = Math.max(this.queue.nowMs + this.#clientDelay(), connection.toClientMs);
    connection.toClientMs = atMs;
    const client = connection.client;
    const id = connection.id;
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${client.id} c${id} <- ${host.sid}: ${describeClientOutput(output)}`);
    switch (output.kind) {
      case "close": {
        connection.serverGone = true;
        connection.clientGone = true;
        host.connections.delete(id);
        const life = host.life;
        this.queue.after(0, () => {
          if (host.life === life) this.#input(host.sid, (replica) => replica.closed(id));
        });
        this.queue.at(atMs, () => client.onClosed(id));
        return;
      }
      case "reply": {
        const reply = structuredClone(output.reply);
        this.queue.at(atMs, () => client.onReply(id, reply));
        return;
      }
      case "notification": {
        const event = structuredClone(output.event);
        const zxid = output.zxid;
        this.queue.at(atMs, () => client.onNotification(id, zxid, event));
        return;
      }
      case "connectResponse": {
        const response = structuredClone(output.response);
        const serverZxid = host.replica?.server.tree.lastZxid ?? 0;
        this.queue.at(atMs, () => client.onConnectResponse(id, response, serverZxid));
        return;
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Diagnostics

  trace(message: string): void {
    this.#trace.push(`${this.queue.nowMs.toFixed(1)} ${message}`);
  }

  #log(line: string): void {
    this.#logs.push(`${this.queue.nowMs.toFixed(1)} ${line}`);
    if (this.#logs.length > LOG_LINES_KEPT * 2) this.#logs.splice(0, this.#logs.length - LOG_LINES_KEPT);
  }

  /** The fault trace, the last replica log lines and each member's state now. */
  diagnostics(): { trace: readonly string[]; logs: readonly string[]; members: readonly string[] } {
    const members = this.members.map((sid) => {
      const status = this.#host(sid).replica?.status();
      if (status === undefined) return `${sid}: down`;
      return `${sid}: ${status.state}, leader ${status.leader}, serving ${status.serving}, applied ${zxidHex(status.lastZxid)}, logged ${zxidHex(status.lastLoggedZxid)}, epochs ${status.acceptedEpoch}/${status.currentEpoch}`;
    });
    return { trace: this.#trace, logs: this.#logs.slice(-LOG_LINES_KEPT), members };
  }

  #host(sid: Sid): Host {
    const host = this.#hosts.get(sid);
    if (!host) throw new Error(`no member ${sid} in this simulation`);
    return host;
  }
}

