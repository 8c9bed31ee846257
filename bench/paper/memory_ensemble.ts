/**
 * Corral's real replicas (src/core/replica.ts) in one process, wired by a zero-latency in-memory
 * network and storage that completes at once. Each member plays its own server process: the bytes
 * it would read from sockets are decoded inside its CPU meter (peer frames with the real peer codec,
 * client frames with the real jute codec), and so are the core's work and the encoding of what it
 * sends. Deliveries go through one FIFO queue, so every link keeps its order.
 *
 * Storage: a persist is acknowledged with persisted() as soon as the core asks, in order, as the
 * driver does without a durable log. Snapshots are switched off (snapCount 0), so log and snapshot
 * bytes are never encoded.
 */
import type { PeerMessage, Sid } from "../../src/core/peer_messages.ts";
import { Replica } from "../../src/core/replica.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import {
  decodeConnectRequest,
  decodeRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
} from "../../src/wire/client_protocol.ts";
import { FrameDecoder } from "../../src/wire/frame_decoder.ts";
import { encodePeerFrame, PeerFrameDecoder } from "../../src/wire/peer_codec.ts";
import { CpuMeter } from "./cpu_meter.ts";

const START_MS = 1_700_000_000_000;
const TICK_TIME_MS = 2000;
/** takeOutputs/persisted rounds per drain; each round is released by the previous one's writes. */
const DRAIN_ROUNDS_MAX = 64;
/** Queue slots consumed before the array is compacted. */
const QUEUE_COMPACT_AT = 4096;
const WARNINGS_KEPT = 20;
const COMMITTED_LOG_MAX = 500;

type Delivery =
  | { kind: "peer"; from: Sid; to: Sid; frames: Uint8Array[] }
  | { kind: "toServer"; connection: number; frames: Uint8Array[] };

interface ServerConnection {
  id: number;
  sid: Sid;
  decoder: FrameDecoder;
  handshaken: boolean;
}

interface Member {
  sid: Sid;
  replica: Replica;
  meter: CpuMeter;
  /** One stream decoder per sending peer, as one TCP connection per pair. */
  peerDecoders: Map<Sid, PeerFrameDecoder>;
  /** Frames produced by the current drain, per destination; handed to the queue when it ends. */
  outgoingPeers: Map<Sid, Uint8Array[]>;
  outgoingClients: Map<number, Uint8Array[]>;
}

/** Receives the frames a server wrote to a client connection (runs outside every meter). */
export type ClientSink = (connection: number, frames: Uint8Array[]) => void;

export class MemoryEnsemble {
  readonly voters: readonly Sid[];
  readonly #members = new Map<Sid, Member>();
  readonly #connections = new Map<number, ServerConnection>();
  #nextConnection = 1;
  #queue: Delivery[] = [];
  #queueHead = 0;
  #nowMs = START_MS;
  #sink: ClientSink;
  /** Connections a server closed (a benchmark run must end with none). */
  readonly closedConnections: string[] = [];
  /** The last warnings the replicas logged (elections, step-downs): for error messages. */
  readonly warnings: string[] = [];

  constructor(options: { voters: number; sink: ClientSink }) {
    if (!(Number.isInteger(options.voters) && options.voters >= 1 && options.voters <= 255)) {
      throw new RangeError(`an ensemble needs 1 to 255 voters, got ${options.voters}`);
    }
    this.#sink = options.sink;
    this.voters = Array.from({ length: options.voters }, (_, index) => index + 1);
    for (const sid of this.voters) {
      const replica = new Replica({
        server: defaultServerConfig({
          serverId: sid,
          tickTimeMs: TICK_TIME_MS,
          minSessionTimeoutMs: 2 * TICK_TIME_MS,
          maxSessionTimeoutMs: 20 * TICK_TIME_MS,
          sessionIdSeedMs: START_MS,
          snapshotTxnCount: 0,
          snapshotBytesMax: 0,
        }),
        voters: this.voters,
        observers: [],
        initLimitTicks: 10,
        syncLimitTicks: 5,
        // ZooKeeper's zookeeper.commitLogCount default. All members share one heap here, so a larger
        // window (Corral's default keeps 10,000) would make every GC pause 13 servers' worth of txns.
        committedLogMax: COMMITTED_LOG_MAX,
      }, START_MS);
      this.#members.set(sid, {
        sid,
        replica,
        meter: new CpuMeter(),
        peerDecoders: new Map(this.voters.filter((peer) => peer !== sid).map((peer) => [peer, new PeerFrameDecoder()])),
        outgoingPeers: new Map(),
        outgoingClients: new Map(),
      });
    }
  }

  set sink(sink: ClientSink) {
    this.#sink = sink;
  }

  /** Starts every replica's election. */
  start(): void {
    for (const member of this.#members.values()) this.#input(member, () => member.replica.start());
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  /** Deliveries waiting in the network. */
  get queued(): number {
    return this.#queue.length - this.#queueHead;
  }

  /** Moves the clock on and ticks every replica (each inside its own meter). */
  advance(ms: number): void {
    this.#nowMs += ms;
    for (const member of this.#members.values()) this.#input(member, () => {});
  }

  /** Carries out up to `count` deliveries; returns how many there were. */
  deliver(count: number): number {
    let done = 0;
    while (done < count && this.#queueHead < this.#queue.length) {
      const delivery = this.#queue[this.#queueHead]!;
      this.#queue[this.#queueHead++] = undefined as unknown as Delivery;
      if (this.#queueHead >= QUEUE_COMPACT_AT && this.#queueHead * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      if (delivery.kind === "peer") this.#deliverPeer(delivery.from, this.#member(delivery.to), delivery.frames);
      else this.#deliverClient(delivery.connection, delivery.frames);
      done++;
    }
    return done;
  }

  // ------------------------------------------------------------------------------------------------
  // Clients

  /** A new client connection to `sid`; the client then sends its ConnectRequest frame. */
  openConnection(sid: Sid): number {
    const member = this.#member(sid);
    const id = this.#nextConnection++;
    this.#connections.set(id, { id, sid, decoder: new FrameDecoder(), handshaken: false });
    this.#input(member, () => member.replica.open(id, { remoteAddress: "127.0.0.1", remotePort: 40_000 + id }));
    return id;
  }

  /** Bytes a client wrote to its connection (whole frames, length prefix included). */
  sendToServer(connection: number, frames: Uint8Array[]): void {
    if (frames.length > 0) this.#queue.push({ kind: "toServer", connection, frames });
  }

  // ------------------------------------------------------------------------------------------------
  // Views

  /** The member leading an established epoch, or null. */
  leader(): Sid | null {
    for (const member of this.#members.values()) if (member.replica.leaderEpoch !== null) return member.sid;
    return null;
  }

  /** A leader is established and every member serves clients (followers synced). */
  allServing(): boolean {
    if (this.leader() === null) return false;
    for (const member of this.#members.values()) if (!member.replica.server.serving) return false;
    return true;
  }

  /** Milliseconds each member's meter has charged, by sid. */
  cpuMs(): Map<Sid, number> {
    return new Map([...this.#members.values()].map((member) => [member.sid, member.meter.totalMs]));
  }

  resetMeters(): void {
    for (const member of this.#members.values()) member.meter.reset();
  }

  replica(sid: Sid): Replica {
    return this.#member(sid).replica;
  }

  // ------------------------------------------------------------------------------------------------
  // Inside a server process

  #deliverPeer(from: Sid, member: Member, frames: Uint8Array[]): void {
    const decoder = member.peerDecoders.get(from)!;
    this.#input(member, () => {
      const replica = member.replica;
      for (const frame of frames) {
        decoder.push(frame);
        for (let decoded = decoder.next(); decoded !== null; decoded = decoder.next()) {
          if (decoded.kind === "linkHello" || decoded.kind === "linkHeartbeat") continue;
          replica.receive(from, decoded as PeerMessage);
        }
      }
    });
  }

  #deliverClient(id: number, frames: Uint8Array[]): void {
    const connection = this.#connections.get(id);
    if (connection === undefined) return; // closed by the server meanwhile
    const member = this.#member(connection.sid);
    this.#input(member, () => {
      const replica = member.replica;
      const decoder = connection.decoder;
      for (const frame of frames) {
        decoder.push(frame);
        for (let payload = decoder.next(); payload !== null; payload = decoder.next()) {
          if (!connection.handshaken) {
            connection.handshaken = true;
            replica.connect(id, decodeConnectRequest(payload));
          } else {
            const decoded = decodeRequest(payload);
            replica.request(id, decoded.header, decoded.request);
          }
        }
      }
    });
  }

  /** One input to a member, as its driver does it: tick, the input, then carry out the outputs. */
  #input(member: Member, call: () => void): void {
    member.meter.charge(() => {
      member.replica.tick(this.#nowMs);
      call();
      this.#drain(member);
    });
    // What the sockets would carry: not the server's CPU (the kernel's), so outside the meter.
    for (const [to, frames] of member.outgoingPeers) {
      if (frames.length > 0) this.#queue.push({ kind: "peer", from: member.sid, to, frames });
    }
    member.outgoingPeers.clear();
    for (const [connection, frames] of member.outgoingClients) this.#sink(connection, frames);
    member.outgoingClients.clear();
  }

  #drain(member: Member): void {
    const replica = member.replica;
    for (let round = 0; round < DRAIN_ROUNDS_MAX; round++) {
      const outputs = replica.takeOutputs();
      let persistedUpTo = 0;
      for (const output of outputs) {
        switch (output.kind) {
          case "send":
            this.#toPeer(member, output.to, encodePeerFrame(output.message));
            break;
          case "persist":
            persistedUpTo = output.writeSeq;
            break;
          case "reply":
            this.#toClient(member, output.connection, encodeReply(output.reply));
            break;
          case "connectResponse":
            this.#toClient(member, output.connection, encodeConnectResponse(output.response));
            break;
          case "notification":
            this.#toClient(member, output.connection, encodeNotification(output.zxid, output.event));
            break;
          case "close":
            this.#connections.delete(output.connection);
            this.closedConnections.push(`server ${member.sid} closed connection ${output.connection}: ${output.reason}`);
            break;
          case "log":
            if (output.level === "warn") this.#warn(`server ${member.sid}: ${output.message}`);
            break;
          case "snapshot":
            break; // snapCount is 0: never asked for
        }
      }
      if (persistedUpTo === 0) return;
      replica.persisted(persistedUpTo);
    }
    throw new Error(`server ${member.sid} still had writes to acknowledge after ${DRAIN_ROUNDS_MAX} rounds`);
  }

  #toPeer(member: Member, to: Sid, frame: Uint8Array): void {
    const frames = member.outgoingPeers.get(to);
    if (frames === undefined) member.outgoingPeers.set(to, [frame]);
    else frames.push(frame);
  }

  #toClient(member: Member, connection: number, frame: Uint8Array): void {
    const frames = member.outgoingClients.get(connection);
    if (frames === undefined) member.outgoingClients.set(connection, [frame]);
    else frames.push(frame);
  }

  #warn(line: string): void {
    this.warnings.push(line);
    if (this.warnings.length > WARNINGS_KEPT) this.warnings.shift();
  }

  #member(sid: Sid): Member {
    const member = this.#members.get(sid);
    if (member === undefined) throw new Error(`no member ${sid} in this ensemble (members are 1..${this.voters.length})`);
    return member;
  }
}
