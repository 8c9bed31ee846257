/**
 * A Transport (src/transport/transport.ts) over the simulator, so that the real Client (src/client/)
 * and the recipes on top of it talk to simulated replicas: the client's bytes are framed and decoded
 * as the server driver does (src/driver/server_driver.ts: ConnectRequest first, then request
 * frames), fed to the replica through SimCluster's client connections (FIFO, with a small delay),
 * and the replica's outputs for that connection are encoded back into frames for the client.
 *
 * Faults, as TCP shows them:
 * - a crashed replica resets its connections (SimCluster tells the endpoint; the client sees a close),
 *   and refuses new ones;
 * - a cut client→server link (`cut`) loses every byte both ways on the sockets it carries: such a
 *   socket goes silent for good (its stream has a gap), neither end is told, and the client notices
 *   only through its read timeout; connecting over a cut link hangs until the connect timeout;
 * - `dropConnections` resets a client's sockets (both ends are told), like a NAT or proxy reset.
 * Host names are `s<sid>` (see `hostOf`), all on port 2181.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { ConnectResponse, Reply, WatcherEvent } from "../core/records.ts";
import type { ConnectOptions, Listener, Socket, SocketHandler, Transport } from "../transport/transport.ts";
import {
  decodeConnectRequest,
  decodeRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
} from "../wire/client_protocol.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder } from "../wire/frame_decoder.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import type { ClientEndpoint, SimCluster } from "./sim_cluster.ts";
import { between } from "./sim_random.ts";

export const SIM_CLIENT_PORT = 2181;

/** The host name of member `sid` in connect strings. */
export function hostOf(sid: Sid): string {
  return `s${sid}`;
}

/** A connect string naming every member, so that the client fails over between them. */
export function connectStringOf(members: readonly Sid[], chroot = ""): string {
  return members.map((sid) => `${hostOf(sid)}:${SIM_CLIENT_PORT}`).join(",") + chroot;
}

export interface SimClientNetworkStats {
  connects: number;
  refused: number;
  timedOut: number;
  blackholed: number;
  resets: number;
}

/** The client side of the simulated network: one Transport per client, and its faults. */
export class SimClientNetwork {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #cluster: SimCluster;
  readonly #report: (message: string) => void;
  readonly #cuts = new Set<string>();
  readonly #sockets = new Set<SimSocket>();
  readonly stats: SimClientNetworkStats = { connects: 0, refused: 0, timedOut: 0, blackholed: 0, resets: 0 };

  constructor(options: { scheduler: Scheduler; prng: Prng; cluster: SimCluster; report: (message: string) => void }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#cluster = options.cluster;
    this.#report = options.report;
  }

  /** The Transport of client `clientId` (the id names it in traces and in `cut`). */
  transport(clientId: number): Transport {
    return {
      name: "sim",
      listen: (): Promise<Listener> =>
        Promise.reject(new Error("the simulated client network only connects; replicas are simulated by SimCluster")),
      connect: (options, handler) => this.#connect(clientId, options, handler),
    };
  }

  /** Loses everything between client `clientId` and member `sid`, both ways, until `heal`. */
  cut(clientId: number, sid: Sid): void {
    this.#cuts.add(linkKey(clientId, sid));
    for (const socket of this.#sockets) {
      if (socket.clientId === clientId && socket.sid === sid) socket.blackhole();
    }
  }

  /** Every client link works again (sockets that lost bytes stay silent; new ones work). */
  heal(): void {
    this.#cuts.clear();
  }

  isCut(clientId: number, sid: Sid): boolean {
    return this.#cuts.has(linkKey(clientId, sid));
  }

  /** Resets every open socket of client `clientId`; both ends notice. */
  dropConnections(clientId: number): void {
    for (const socket of [...this.#sockets]) {
      if (socket.clientId !== clientId) continue;
      this.stats.resets++;
      socket.reset();
    }
  }

  /** The members client `clientId` has open sockets to (usually one). */
  serversOf(clientId: number): Sid[] {
    return [...this.#sockets].filter((socket) => socket.clientId === clientId).map((socket) => socket.sid);
  }

  #delay(): number {
    return between(this.#prng, 0.2, 3);
  }

  #connect(clientId: number, options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
    const sid = sidOf(options.host, this.#cluster.members);
    if (sid === null || options.port !== SIM_CLIENT_PORT) {
      return Promise.reject(new Error(`cannot connect to ${options.host}:${options.port}: no such member in the simulation (hosts are s1:${SIM_CLIENT_PORT}, s2:${SIM_CLIENT_PORT}, ...)`));
    }
    this.stats.connects++;
    const scheduler = this.#scheduler;
    return new Promise((resolve, reject) => {
      if (this.isCut(clientId, sid)) {
        // The SYN is lost: the attempt hangs until the connect timeout.
        this.stats.timedOut++;
        const timeoutMs = options.timeoutMs ?? 30_000;
        scheduler.after(timeoutMs, () => reject(new Error(`connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms (simulated partition)`)));
        return;
      }
      scheduler.after(this.#delay(), () => {
        if (this.#cluster.isDown(sid)) {
          this.stats.refused++;
          reject(new Error(`cannot connect to ${options.host}:${options.port}: connection refused (member ${sid} is down)`));
          return;
        }
        const socket = new SimSocket({
          clientId,
          sid,
          host: options.host,
          handler,
          scheduler,
          cluster: this.#cluster,
          report: this.#report,
          forget: (closed) => this.#sockets.delete(closed),
          onBlackhole: () => this.stats.blackholed++,
        });
        this.#sockets.add(socket);
        resolve(socket);
      });
    });
  }
}

function linkKey(clientId: number, sid: Sid): string {
  return `${clientId}>${sid}`;
}

function sidOf(host: string, members: readonly Sid[]): Sid | null {
  const match = /^s(\d+)$/.exec(host);
  if (match === null) return null;
  const sid = Number(match[1]);
  return members.includes(sid) ? sid : null;
}

/** One client socket: the client's Socket and, towards SimCluster, the connection's client end. */
class SimSocket implements Socket, ClientEndpoint {
  readonly clientId: number;
  readonly sid: Sid;
  readonly remoteAddress: string;
  readonly remotePort = SIM_CLIENT_PORT;
  readonly bufferedBytes = 0;
  readonly #handler: SocketHandler;
  readonly #scheduler: Scheduler;
  readonly #cluster: SimCluster;
  readonly #report: (message: string) => void;
  readonly #forget: (socket: SimSocket) => void;
  readonly #onBlackhole: () => void;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
  /** SimCluster's connection id, once the ConnectRequest went out. */
  #connection: number | null = null;
  /** The client side is closed (close() or a reset); onClose was or will be called once. */
  #closed = false;
  /** Bytes were lost in a partition: nothing more gets through, either way. */
  #blackholed = false;

  constructor(options: {
    clientId: number;
    sid: Sid;
    host: string;
    handler: SocketHandler;
    scheduler: Scheduler;
    cluster: SimCluster;
    report: (message: string) => void;
    forget: (socket: SimSocket) => void;
    onBlackhole: () => void;
  }) {
    this.clientId = options.clientId;
    this.sid = options.sid;
    this.remoteAddress = options.host;
    this.#handler = options.handler;
    this.#scheduler = options.scheduler;
    this.#cluster = options.cluster;
    this.#report = options.report;
    this.#forget = options.forget;
    this.#onBlackhole = options.onBlackhole;
  }

  /** SimCluster names the client end by this id in its traces. */
  get id(): number {
    return this.clientId;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || this.#blackholed || bytes.length === 0) return;
    this.#decoder.push(bytes.slice());
    for (let frame = this.#decoder.next(); frame !== null; frame = this.#decoder.next()) {
      if (this.#connection === null) {
        this.#connection = this.#cluster.connectClient(this, this.sid, decodeConnectRequest(frame));
        continue;
      }
      const decoded = decodeRequest(frame);
      if (decoded.request === null) {
        this.#report(`client ${this.clientId} sent a request the server cannot decode: ${decoded.error}`);
        continue;
      }
      this.#cluster.sendClient(this.#connection, decoded.header, decoded.request);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget(this);
    // Over a cut link the FIN is lost too: the replica keeps the connection until it gives up on it.
    if (!this.#blackholed && this.#connection !== null) this.#cluster.closeClient(this.#connection);
    this.#scheduler.after(0, () => this.#handler.onClose());
  }

  /** The link was cut: from now on every byte is lost (silently, as in a partition). */
  blackhole(): void {
    if (this.#blackholed || this.#closed) return;
    this.#blackholed = true;
    this.#onBlackhole();
  }

  /** A connection reset: the replica and the client both see the connection close. */
  reset(): void {
    if (this.#closed) return;
    if (!this.#blackholed && this.#connection !== null) this.#cluster.closeClient(this.#connection);
    this.#blackholed = true;
    this.#closed = true;
    this.#forget(this);
    this.#scheduler.after(0, () => this.#handler.onClose(new Error("connection reset (simulated)")));
  }

  // ---------------------------------------------------------------------------------------------
  // From the replica, via SimCluster (already delayed, in order)

  onConnectResponse(_connection: number, response: ConnectResponse, _serverZxid: number): void {
    this.#deliver(encodeConnectResponse(response));
  }

  onReply(_connection: number, reply: Reply): void {
    this.#deliver(encodeReply(reply));
  }

  onNotification(_connection: number, zxid: number, event: WatcherEvent): void {
    this.#deliver(encodeNotification(zxid, event));
  }

  /** The replica closed the connection, or crashed (the OS resets the socket). */
  onClosed(_connection: number): void {
    if (this.#closed || this.#blackholed) return;
    this.#closed = true;
    this.#forget(this);
    this.#handler.onClose();
  }

  #deliver(frame: Uint8Array): void {
    if (this.#closed || this.#blackholed) return;
    // Encoders return views of a shared slab: hand the client its own copy.
    this.#handler.onData(frame.slice());
  }
}
