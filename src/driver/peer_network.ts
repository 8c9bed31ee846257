/**
 * The connections between ensemble members, over any Transport (TCP on Deno, Bun and Node, or a
 * MemoryNetwork). Election votes and Zab travel on one connection per pair of members, on one port
 * per member (zoo.cfg's quorum port; its election port is not used).
 *
 * Who dials: the member with the higher server id dials the lower one; the lower one only accepts.
 * So each pair has exactly one connection and no tie-breaking is needed when both start at once
 * (ZooKeeper keeps the connection the higher id initiated, for the same reason). Both sides start
 * with a `linkHello` frame naming themselves and whom they meant to reach; a connection is "up" once
 * the other side's hello checks out.
 *
 * Until then the other side is a stranger (src/driver/peer_handshake.ts): its first frame must be a
 * hello within `handshakeBytesMax` bytes (4 KiB) and `connectTimeoutMs` (5 s), from a member allowed
 * to use this connection; anything else closes the socket at once, with one rate-limited log line.
 * With quorum SASL (`sasl`, src/driver/peer_sasl.ts) the hellos are followed by a DIGEST-MD5
 * exchange within the same budget and deadline, and the connection is "up" only once it succeeded.
 * At most `handshakesMax` accepted connections wait for their handshake at a time (the oldest goes).
 * Only after the handshake are frames up to `maxFrameBytes` read, each length checked before a byte of
 * its body is kept; and each member has one connection, so a redial replaces the old one and frees
 * what it held (an impostor using a member's id could too, but never a connection that proved
 * nothing in place of one that proved who it is: by SASL, or by a verified certificate).
 *
 * What the core sees is TCP's promise per pair: messages arrive in order, and `onPeerLost(sid)`
 * marks every break after which some may have been lost. Messages sent while no connection is up
 * wait in a bounded queue and go out, in order, when one comes up (the first election votes, a new
 * learner's FOLLOWERINFO); when a connection breaks, what was written to it is gone. A peer that
 * does not read (its unsent bytes exceed `queueBytesMax`), a damaged stream, or silence longer than
 * `idleTimeoutMs` (heartbeats flow every `heartbeatMs`) drop the connection: the dialer reconnects
 * with exponential backoff between `reconnectDelayMinMs` and `reconnectDelayMaxMs`.
 *
 * Callbacks are never made from inside send(): onPeerLost for a connection dropped there is
 * delivered from a microtask, and the core is never re-entered.
 */
import type { PeerMessage, Sid } from "../core/peer_messages.ts";
import { concatBytes } from "../storage/record_framing.ts";
import type { Listener, Socket, SocketHandler, Transport } from "../transport/transport.ts";
import {
  DEFAULT_PEER_MAX_FRAME_BYTES,
  encodePeerFrame,
  PEER_PROTOCOL_VERSION,
  type PeerFrame,
  PeerFrameDecoder,
  type PeerHello,
  type PeerSasl,
} from "../wire/peer_codec.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { DEFAULT_HANDSHAKE_BYTES_MAX, DEFAULT_HANDSHAKES_MAX, helloRefusal, RateLimitedLog } from "./peer_handshake.ts";
import { certificateRefusal, PeerConnection, type PeerEndpoint, PeerLink } from "./peer_link.ts";
import { QuorumSaslAcceptor, QuorumSaslDialer, type QuorumSaslOptions } from "./peer_sasl.ts";

export type { PeerEndpoint } from "./peer_link.ts";

export interface PeerNetworkOptions {
  myId: Sid;
  transport: Transport;
  /** Where this member accepts connections from members with higher ids (port 0: a free port). */
  listen: { host: string; port: number };
  /** The other members; an entry for myId is ignored. */
  peers: readonly PeerEndpoint[];
  /** Messages from `from` that arrived together, in order. */
  onMessages(from: Sid, messages: PeerMessage[]): void;
  /** The connection to `sid` broke: messages sent to it since it came up may be lost. */
  onPeerLost(sid: Sid): void;
  logger?: Logger;
  /** Largest frame sent or accepted once a connection's hello checked out; default 128 MiB. */
  maxFrameBytes?: number;
  /** Bytes read from a connection before its hello is whole; default 4096. */
  handshakeBytesMax?: number;
  /** Accepted connections waiting for their hello at once; past it the oldest is closed. Default 64. */
  handshakesMax?: number;
  /** Unsent bytes per peer (queued while down, or in the socket) before the connection is dropped; default 64 MiB. */
  queueBytesMax?: number;
  /** Backoff between connection attempts; defaults 50 ms doubling up to 2000 ms. */
  reconnectDelayMinMs?: number;
  reconnectDelayMaxMs?: number;
  /** Bound on connecting and on the hello exchange (checked at the heartbeat's pace); default 5000 ms. */
  connectTimeoutMs?: number;
  /** Heartbeat period on an idle-or-not connection; default 1000 ms. */
  heartbeatMs?: number;
  /** A connection that delivers nothing for this long is dropped; default 10000 ms. */
  idleTimeoutMs?: number;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
  /**
   * With TLS between members (sslQuorum): a connection is used only if the other side's verified
   * certificate names the host its member has in `peers` (ZooKeeper's ssl.quorum.hostnameVerification),
   * checked on accepted and dialed connections alike. A connection without one (plaintext, or TLS
   * without a certificate) is refused. Default false.
   */
  requireCertificateForHost?: boolean;
  /**
   * With requireCertificateForHost, a connection without a certificate (plaintext) is let in all
   * the same, while a TLS one is still checked: ZooKeeper's portUnification on the quorum port,
   * the middle steps of a rolling upgrade from plaintext to sslQuorum. Default false.
   */
  plaintextPeersAllowed?: boolean;
  /** SASL between members (quorum.auth.enableSasl); none when absent. */
  sasl?: QuorumSaslOptions;
}

export interface PeerLinkStatus {
  id: Sid;
  /** up: connected and greeted; down: not connected; dropping: closed, peerLost not yet delivered. */
  state: "up" | "down" | "dropping";
  queuedBytes: number;
  /** Connections that came up so far. */
  connects: number;
}

const HEARTBEAT: PeerFrame = { kind: "linkHeartbeat" };
/**
 * When gathered frames are written: after the event loop's current I/O pass (setImmediate, which
 * Deno, Bun and Node all have), so that everything the pass delivered (many clients' requests,
 * several followers' acks) leaves in one write per peer; a microtask, where there is no setImmediate.
 */
const nextTurn: (callback: () => void) => void = (globalThis as { setImmediate?: (callback: () => void) => void }).setImmediate ?? queueMicrotask;

export class PeerNetwork {
  readonly #options: PeerNetworkOptions;
  readonly #myId: Sid;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxFrameBytes: number;
  readonly #handshakeBytesMax: number;
  readonly #handshakesMax: number;
  /** Strangers are logged, but a flood of them is not. */
  readonly #rejections: RateLimitedLog;
  readonly #queueBytesMax: number;
  readonly #delayMinMs: number;
  readonly #delayMaxMs: number;
  readonly #connectTimeoutMs: number;
  readonly #heartbeatMs: number;
  readonly #idleTimeoutMs: number;
  readonly #links = new Map<Sid, PeerLink>();
  /** Accepted sockets whose hello has not arrived yet, oldest first. */
  readonly #greeting = new Set<PeerConnection>();
  readonly #heartbeatFrame: Uint8Array;
  #listener: Listener | null = null;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  #closed = false;
  /** Links with unflushed frames, and whether a flush is scheduled. */
  readonly #unflushed = new Set<PeerLink>();
  #flushScheduled = false;

  private constructor(options: PeerNetworkOptions) {
    this.#options = options;
    this.#myId = options.myId;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_PEER_MAX_FRAME_BYTES;
    this.#handshakeBytesMax = Math.min(options.handshakeBytesMax ?? DEFAULT_HANDSHAKE_BYTES_MAX, this.#maxFrameBytes);
    this.#handshakesMax = options.handshakesMax ?? DEFAULT_HANDSHAKES_MAX;
    if (!(Number.isInteger(this.#handshakesMax) && this.#handshakesMax >= 1)) {
      throw new RangeError(`handshakesMax must be a positive integer, got ${this.#handshakesMax}`);
    }
    this.#rejections = new RateLimitedLog(this.#logger, { what: "peer connections closed before their hello", now: this.#now });
    this.#queueBytesMax = options.queueBytesMax ?? 64 * 1024 * 1024;
    this.#delayMinMs = options.reconnectDelayMinMs ?? 50;
    this.#delayMaxMs = Math.max(this.#delayMinMs, options.reconnectDelayMaxMs ?? 2000);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.#heartbeatFrame = encodePeerFrame(HEARTBEAT);
    for (const endpoint of options.peers) {
      if (endpoint.id === this.#myId) continue;
      if (this.#links.has(endpoint.id)) throw new RangeError(`peer ${endpoint.id} is listed twice`);
      this.#links.set(endpoint.id, new PeerLink(endpoint, this.#myId > endpoint.id, this.#delayMinMs));
    }
    if (!(this.#idleTimeoutMs > this.#heartbeatMs)) {
      throw new RangeError(`idleTimeoutMs (${this.#idleTimeoutMs}) must exceed heartbeatMs (${this.#heartbeatMs})`);
    }
  }

  /** Listens, then starts dialing the members with lower ids. */
  static async start(options: PeerNetworkOptions): Promise<PeerNetwork> {
    const network = new PeerNetwork(options);
    await network.#start();
    return network;
  }

  async #start(): Promise<void> {
    const { host, port } = this.#options.listen;
    this.#listener = await this.#options.transport.listen({ host, port }, (socket) => this.#accept(socket));
    this.#logger.log("info", `server ${this.#myId}: accepting ensemble peers on ${host}:${this.#listener.port}`);
    // Heartbeats, idle connections and hello deadlines are all checked at the heartbeat's pace.
    this.#timer = setInterval(() => this.#onTimer(), this.#heartbeatMs);
    for (const link of this.#links.values()) if (link.dials) this.#dial(link);
  }

  /**
   * Members a reconfig named (dynamic reconfiguration): new ids get a link (dialed if ours is
   * higher), a known id at a new address is dialed there from its next attempt on. Links are never
   * removed: a member a reconfig left out follows on as a non-voter and may be named again (each
   * reconfig names at most 255 members, and only committed or logged memberships add links).
   */
  addPeers(endpoints: readonly PeerEndpoint[]): void {
    if (this.#closed) return;
    for (const endpoint of endpoints) {
      if (endpoint.id === this.#myId) continue;
      const known = this.#links.get(endpoint.id);
      if (known !== undefined) {
        if (known.endpoint.host !== endpoint.host || known.endpoint.port !== endpoint.port) {
          this.#logger.log("info", `server ${this.#myId}: peer ${endpoint.id} now at ${endpoint.host}:${endpoint.port}`);
          known.endpoint = { ...endpoint };
        }
        continue;
      }
      const link = new PeerLink({ ...endpoint }, this.#myId > endpoint.id, this.#delayMinMs);
      this.#links.set(endpoint.id, link);
      this.#logger.log("info", `server ${this.#myId}: peer ${endpoint.id} joins at ${endpoint.host}:${endpoint.port}`);
      if (link.dials && this.#listener !== null) this.#dial(link);
    }
  }

  /** The port peers connect to. */
  get port(): number {
    return this.#listener?.port ?? this.#options.listen.port;
  }

  /**
   * Queues `message` for `to` (dropped for an unknown id or after close). Never calls back.
   * Frames for a connection that is up are gathered and written together once the event loop's
   * current I/O pass is over (nextTurn): the core's outputs for every input of that pass (proposals
   * for many clients' writes, say) cost one write per peer, not one per message or per input.
   */
  send(to: Sid, message: PeerMessage): void {
    const link = this.#links.get(to);
    if (link === undefined || this.#closed || link.state === "dropping") return;
    let frame: Uint8Array;
    try {
      // The codec hands back the same bytes when the same message goes to several peers.
      frame = encodePeerFrame(message, this.#maxFrameBytes);
    } catch (error) {
      // The core expects this message to arrive; losing it silently would stall it, so the link breaks.
      this.#drop(link, `cannot send a ${message.kind} message: ${describe(error)}`, "error");
      return;
    }
    const connection = link.connection;
    if (link.state === "up" && connection !== null) {
      connection.unflushed.push(frame);
      this.#unflushed.add(link);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        nextTurn(this.#flushAll);
      }
      return;
    }
    link.queue.push(frame);
    link.queuedBytes += frame.length;
    if (link.queuedBytes > this.#queueBytesMax) {
      this.#drop(link, `${link.queuedBytes} bytes queued while it is unreachable (more than ${this.#queueBytesMax})`, "warn");
    }
  }

  readonly #flushAll = (): void => {
    this.#flushScheduled = false;
    if (this.#closed) {
      this.#unflushed.clear();
      return;
    }
    for (const link of this.#unflushed) {
      const connection = link.connection;
      if (link.state !== "up" || connection === null) continue; // dropped meanwhile: what was unsent is lost
      this.#flush(link, connection);
    }
    this.#unflushed.clear();
  };

  #flush(link: PeerLink, connection: PeerConnection): void {
    const frames = connection.unflushed;
    if (frames.length === 0) return;
    connection.unflushed = [];
    connection.socket.write(frames.length === 1 ? frames[0]! : concatBytes(frames));
    if (connection.socket.bufferedBytes > this.#queueBytesMax) {
      this.#drop(link, `${connection.socket.bufferedBytes} bytes are waiting to be sent (more than ${this.#queueBytesMax}): the peer is not reading`, "warn");
    }
  }

  /** Whether the connection to `sid` is up. */
  connected(sid: Sid): boolean {
    return this.#links.get(sid)?.state === "up";
  }

  links(): PeerLinkStatus[] {
    return [...this.#links.values()].map((link) => ({
      id: link.id,
      state: link.state,
      queuedBytes: link.queuedBytes + (link.connection?.socket.bufferedBytes ?? 0),
      connects: link.connects,
    }));
  }

  /** Stops listening and dialing and closes every connection (no onPeerLost after this). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const link of this.#links.values()) {
      clearTimeout(link.retryTimer);
      link.queue = [];
      link.queuedBytes = 0;
      for (const connection of [link.connection, link.attempt]) if (connection !== null) this.#closeSocket(connection);
    }
    for (const connection of this.#greeting) this.#closeSocket(connection);
    this.#greeting.clear();
    await this.#listener?.close();
  }

  // ------------------------------------------------------------------------------------------------
  // Dialing (to members with lower ids)

  #dial(link: PeerLink): void {
    if (this.#closed || link.dialing || link.state !== "down") return;
    link.dialing = true;
    const { host, port } = link.endpoint;
    let connection: PeerConnection | null = null;
    // Events that come before connect() resolves (an adapter may deliver them first) wait here.
    const early: Array<Uint8Array | null> = [];
    // The member we dial says nothing before our hello: more than a hello's budget here is not it.
    let earlyBytes = 0;
    const handler: SocketHandler = {
      onData: (chunk) => {
        if (connection !== null) {
          this.#onData(connection, chunk);
        } else if (earlyBytes <= this.#handshakeBytesMax) {
          earlyBytes += chunk.length;
          if (earlyBytes <= this.#handshakeBytesMax) early.push(chunk.slice());
          else early.length = 0;
        }
      },
      onClose: () => {
        if (connection !== null) this.#onClose(connection);
        else early.push(null);
      },
    };
    this.#options.transport.connect({ host, port, timeoutMs: this.#connectTimeoutMs }, handler).then(
      (socket) => {
        link.dialing = false;
        const opened = new PeerConnection(socket, link.id, this.#handshakeBytesMax, this.#now());
        connection = opened;
        if (this.#closed) {
          this.#closeSocket(opened);
          return;
        }
        link.attempt = opened;
        if (earlyBytes > this.#handshakeBytesMax) {
          this.#fail(opened, `more than ${this.#handshakeBytesMax} bytes arrived before our hello was sent`);
          return;
        }
        const learner = this.#options.sasl?.learner ?? null;
        const hello = encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: this.#myId, to: link.id, ...(learner === null ? {} : { sasl: true }) });
        if (learner === null) {
          socket.write(hello);
        } else {
          // ZooKeeper's learner: authenticate right after saying who we are, before anything else.
          const dialer = new QuorumSaslDialer(learner);
          opened.sasl = dialer;
          socket.write(concatBytes([hello, encodePeerFrame(dialer.start())]));
        }
        for (const event of early) {
          if (event === null) this.#onClose(opened);
          else this.#onData(opened, event);
        }
      },
      (error) => {
        link.dialing = false;
        this.#retryLater(link, describe(error));
      },
    );
  }

  #retryLater(link: PeerLink, why: string): void {
    if (this.#closed || !link.dials) return;
    link.failures++;
    // The first failure of a streak is worth a line; the retries that follow are not.
    this.#logger.log(link.failures === 1 ? "info" : "debug", `server ${this.#myId}: cannot reach peer ${link.id} (${why}); retrying in ${link.delayMs} ms`);
    clearTimeout(link.retryTimer);
    link.retryTimer = setTimeout(() => this.#dial(link), link.delayMs);
    link.delayMs = Math.min(link.delayMs * 2, this.#delayMaxMs);
  }

  // ------------------------------------------------------------------------------------------------
  // Accepting (from members with higher ids)

  #accept(socket: Socket): SocketHandler {
    const connection = new PeerConnection(socket, null, this.#handshakeBytesMax, this.#now());
    if (this.#closed) {
      this.#closeSocket(connection);
    } else {
      if (this.#greeting.size >= this.#handshakesMax) {
        // A member says hello as soon as it connects: the oldest connection still silent is the
        // likeliest stranger (one in its SASL exchange has at least named a member); else the oldest.
        let victim = this.#greeting.values().next().value!;
        for (const waiting of this.#greeting) {
          if (waiting.hello === null) {
            victim = waiting;
            break;
          }
        }
        this.#fail(victim, `${this.#greeting.size} connections are waiting to finish their handshake (handshakesMax ${this.#handshakesMax}); closing the oldest`);
      }
      this.#greeting.add(connection);
    }
    return {
      onData: (chunk) => this.#onData(connection, chunk),
      onClose: () => this.#onClose(connection),
    };
  }

  // ------------------------------------------------------------------------------------------------
  // Socket events

  #onData(connection: PeerConnection, chunk: Uint8Array): void {
    if (connection.closed || this.#closed) return;
    connection.lastHeardMs = this.#now();
    let bytes = chunk;
    if (connection.handshake !== null) {
      // A stranger until its handshake is over: at most handshakeBytesMax bytes are kept meanwhile.
      try {
        // Bounded by the budget: every handshake frame takes at least 8 of its bytes.
        while (connection.handshake !== null) {
          const read = connection.handshake.push(bytes);
          if (read === null) return;
          bytes = read.rest;
          this.#onHandshakeFrame(connection, read.frame);
          if (connection.closed || this.#closed) return;
        }
      } catch (error) {
        this.#fail(connection, describe(error));
        return;
      }
      connection.decoder = new PeerFrameDecoder({ maxFrameBytes: this.#maxFrameBytes });
      if (bytes.length === 0) return;
    }
    const decoder = connection.decoder;
    if (decoder === null) return;
    // Each frame's length is checked against maxFrameBytes before its body is buffered.
    decoder.push(bytes);
    const messages: PeerMessage[] = [];
    try {
      // Bounded by the chunk: every frame takes at least 8 of its bytes.
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
        if (frame.kind === "linkHeartbeat") continue;
        if (frame.kind === "linkHello") throw new Error("a second hello on one connection");
        if (frame.kind === "linkSasl") throw new Error("a SASL token after the handshake");
        messages.push(frame);
      }
    } catch (error) {
      this.#fail(connection, describe(error));
    }
    const from = connection.peer;
    if (messages.length > 0 && from !== null && this.#links.get(from)?.connection === connection) {
      this.#options.onMessages(from, messages);
    }
  }

  /** A frame of the handshake: the hello, then (with quorum SASL) the exchange's tokens. */
  #onHandshakeFrame(connection: PeerConnection, frame: PeerFrame): void {
    if (frame.kind === "linkHello") {
      if (connection.hello !== null) throw new Error("a second hello on one connection");
      this.#onHello(connection, frame);
    } else if (frame.kind === "linkSasl") {
      this.#onSasl(connection, frame);
    } else {
      throw new Error(`a ${frame.kind} message arrived before the SASL authentication finished`);
    }
  }

  #onHello(connection: PeerConnection, hello: PeerHello): void {
    const refusal = helloRefusal(hello, { myId: this.#myId, isMember: (sid) => this.#links.has(sid), dialed: connection.dialed });
    if (refusal !== null) throw new Error(refusal);
    const link = this.#links.get(hello.from)!;
    if (this.#options.requireCertificateForHost === true) {
      const mismatch = certificateRefusal(connection.socket, link.endpoint, this.#options.plaintextPeersAllowed === true);
      if (mismatch !== null) throw new Error(mismatch);
      connection.proven = connection.socket.checkPeerHost !== undefined;
    }
    connection.hello = hello;
    const sasl = this.#options.sasl;
    if (connection.dialed === null) {
      if (hello.sasl === true) {
        if (sasl === undefined) {
          throw new Error(`server ${hello.from} authenticates with SASL (its quorum.auth.learnerRequireSasl is true), but quorum.auth.enableSasl is false here`);
        }
        connection.sasl = new QuorumSaslAcceptor(sasl.users);
      } else if (sasl?.serverRequired === true) {
        throw new Error(`server ${hello.from} did not authenticate with SASL (its quorum.auth.learnerRequireSasl is false), but quorum.auth.serverRequireSasl is true here`);
      }
      connection.socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: this.#myId, to: hello.from }));
    }
    // With SASL the connection is the member's only once the exchange succeeds.
    if (connection.sasl === null) this.#admit(connection, link);
  }

  #onSasl(connection: PeerConnection, frame: PeerSasl): void {
    const sasl = connection.sasl;
    if (sasl === null || connection.hello === null) throw new Error("a SASL token on a connection that is not authenticating");
    const turn = sasl.receive(frame);
    if (turn.frame !== null) connection.socket.write(encodePeerFrame(turn.frame));
    if (turn.kind === "continue") return;
    if (turn.kind === "failed") throw new Error(turn.reason);
    connection.sasl = null;
    connection.proven = true;
    const link = this.#links.get(connection.hello.from)!;
    this.#logger.log("info", `server ${this.#myId}: peer ${link.id} ${connection.dialed === null ? "authenticated" : "accepted our authentication"} with SASL as user ${JSON.stringify(turn.username)}`);
    this.#admit(connection, link);
  }

  /** The handshake is over: `connection` becomes `link`'s, replacing any older one. */
  #admit(connection: PeerConnection, link: PeerLink): void {
    connection.handshake = null;
    if (connection.dialed !== null) {
      if (link.attempt !== connection) throw new Error(`unexpected hello from ${link.id}`);
      link.attempt = null;
      if (link.state === "dropping") {
        // A drop whose onPeerLost is still queued: the break is reported before the new connection.
        link.state = "down";
        this.#options.onPeerLost(link.id);
        if (connection.closed || this.#closed) return;
      }
    } else {
      const old = link.connection;
      if (old !== null && old.proven && !connection.proven) {
        // Without serverRequireSasl (or with plaintext peers allowed) anyone may connect unproven,
        // but must not displace the member's proven connection and speak in its name.
        throw new Error(`server ${link.id} is connected already, and proved who it is; a connection under its id that proves nothing does not replace that one`);
      }
      this.#greeting.delete(connection);
      if (old !== null || link.state === "dropping") {
        // The peer redialed before we noticed (or reported) its old connection break: that break comes first.
        if (old !== null) this.#closeSocket(old);
        link.connection = null;
        link.state = "down";
        this.#logger.log("info", `server ${this.#myId}: peer ${link.id} reconnected; its old connection is gone`);
        this.#options.onPeerLost(link.id);
        if (connection.closed || this.#closed) return;
      }
    }
    connection.peer = link.id;
    this.#up(link, connection);
  }

  #up(link: PeerLink, connection: PeerConnection): void {
    link.connection = connection;
    link.state = "up";
    link.connects++;
    link.failures = 0;
    link.delayMs = this.#delayMinMs;
    this.#logger.log("info", `server ${this.#myId}: connected to peer ${link.id}${link.queue.length > 0 ? ` (sending ${link.queue.length} queued messages)` : ""}`);
    if (link.queue.length > 0) {
      const queued = link.queue;
      link.queue = [];
      link.queuedBytes = 0;
      connection.socket.write(queued.length === 1 ? queued[0]! : concatBytes(queued));
    }
  }

  #onClose(connection: PeerConnection): void {
    const wasClosed = connection.closed;
    connection.release();
    this.#greeting.delete(connection);
    if (this.#closed) return;
    const link = connection.peer === null ? this.#attemptOwner(connection) : this.#links.get(connection.peer);
    if (link === undefined) return;
    if (link.attempt === connection) {
      link.attempt = null;
      this.#retryLater(link, "the connection closed during the hello");
      return;
    }
    if (link.connection !== connection) return;
    link.connection = null;
    link.state = "down";
    if (!wasClosed) this.#logger.log("info", `server ${this.#myId}: connection to peer ${link.id} closed by the other side`);
    this.#options.onPeerLost(link.id);
    if (link.dials) this.#retryLater(link, "connection lost");
  }

  #attemptOwner(connection: PeerConnection): PeerLink | undefined {
    for (const link of this.#links.values()) if (link.attempt === connection) return link;
    return undefined;
  }

  #onTimer(): void {
    if (this.#closed) return;
    this.#rejections.flush();
    const nowMs = this.#now();
    for (const link of this.#links.values()) {
      const connection = link.connection;
      if (link.state === "up" && connection !== null) {
        if (nowMs - connection.lastHeardMs > this.#idleTimeoutMs) {
          this.#drop(link, `nothing heard for ${nowMs - connection.lastHeardMs} ms`, "warn");
          continue;
        }
        connection.socket.write(this.#heartbeatFrame);
      }
      const attempt = link.attempt;
      if (attempt !== null && nowMs - attempt.openedAtMs > this.#connectTimeoutMs) this.#fail(attempt, this.#lateHandshake(attempt));
    }
    for (const connection of [...this.#greeting]) {
      if (nowMs - connection.openedAtMs > this.#connectTimeoutMs) this.#fail(connection, this.#lateHandshake(connection));
    }
  }

  #lateHandshake(connection: PeerConnection): string {
    return `no ${connection.hello === null ? "hello" : "SASL authentication"} within ${this.#connectTimeoutMs} ms`;
  }

  // ------------------------------------------------------------------------------------------------
  // Breaking connections

  /** A connection that is not up yet, or is up, misbehaved: close it (onClose does the rest). */
  #fail(connection: PeerConnection, why: string): void {
    if (connection.closed) return;
    const link = connection.peer === null ? undefined : this.#links.get(connection.peer);
    if (link !== undefined && link.connection === connection) {
      this.#drop(link, why, "warn");
      return;
    }
    this.#rejections.log("warn", `server ${this.#myId}: closing a peer connection from ${connection.socket.remoteAddress}:${connection.socket.remotePort}: ${why}`);
    this.#closeSocket(connection);
    this.#greeting.delete(connection);
    const owner = this.#attemptOwner(connection);
    if (owner !== undefined) {
      owner.attempt = null;
      this.#retryLater(owner, why);
    }
  }

  /**
   * Breaks the link on our side: everything queued or unsent is lost, so the core hears onPeerLost
   * (from a microtask: we may be inside the core's output drain); until then sends are dropped too.
   */
  #drop(link: PeerLink, why: string, level: "warn" | "error"): void {
    if (link.state === "dropping") return;
    this.#logger.log(level, `server ${this.#myId}: dropping the connection to peer ${link.id}: ${why}`);
    const connection = link.connection;
    link.connection = null;
    link.queue = [];
    link.queuedBytes = 0;
    link.state = "dropping";
    if (connection !== null) this.#closeSocket(connection);
    // A dial still in its handshake goes too: the retry below makes a new one, and the old one
    // would otherwise be nobody's (no deadline, not closed by close()).
    const attempt = link.attempt;
    link.attempt = null;
    if (attempt !== null) this.#closeSocket(attempt);
    queueMicrotask(() => {
      if (this.#closed || link.state !== "dropping") return;
      link.state = "down";
      this.#options.onPeerLost(link.id);
      if (link.dials) this.#retryLater(link, why);
    });
  }

  #closeSocket(connection: PeerConnection): void {
    if (connection.closed) return;
    connection.release();
    connection.socket.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
