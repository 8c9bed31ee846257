/**
 * The imperative shell around the server core: accepts client sockets from a Transport, frames and
 * decodes their bytes, feeds the core (ticking it with the clock first), and carries out the core's
 * outputs in order. It also answers four-letter words and enforces the per-connection limits that
 * keep one bad or slow client from hurting the others (maxClientCnxns, jute.maxbuffer, the output
 * buffer bound, the sessionless-connection timeout).
 */
import type { ConnectRequest } from "../core/records.ts";
import { Server } from "../core/server.ts";
import type { ConnectionId, ServerOutput } from "../core/server_io.ts";
import type { Listener, Socket, SocketHandler } from "../transport/transport.ts";
import {
  decodeConnectRequest,
  decodeRequest,
  encodeConnectResponse,
  encodeNotification,
  WireError,
} from "../wire/client_protocol.ts";
import { DEFAULT_MAX_FRAME_BYTES, FrameError } from "../wire/frame_decoder.ts";
import { ClientConnection } from "./client_connection.ts";
import { Persister } from "./persister.ts";
import { saslNonce } from "./sasl/sasl_nonce.ts";
import { MemoryReleaser } from "./release_memory.ts";
import { encodeReplyPieces } from "./reply_frames.ts";
import { DriverStats, fourLetterSource } from "./driver_stats.ts";
import {
  DEFAULT_FOUR_LETTER_WHITELIST,
  type FourLetterWord,
  fourLetterWordOf,
  runFourLetterWord,
} from "./four_letter_words.ts";
import { type Logger, type LogLevel, silentLogger } from "./logger.ts";
import {
  heldInputBytesMax,
  mayReadMore,
  type OutputLimits,
  overHardBound,
  resolveOutputLimits,
  type ResolvedOutputLimits,
} from "./output_budget.ts";
import {
  type Clock,
  DEFAULT_MAX_CLIENT_CNXNS,
  DEFAULT_OUTPUT_BUFFER_BYTES_MAX,
  DEFAULT_SESSIONLESS_TIMEOUT_MS,
  type ServeOptions,
  type ServerCore,
  type ServerHandle,
  systemClock,
} from "./serve_options.ts";

export {
  type Clock,
  DEFAULT_MAX_CLIENT_CNXNS,
  DEFAULT_OUTPUT_BUFFER_BYTES_MAX,
  DEFAULT_SESSIONLESS_TIMEOUT_MS,
  type ServeOptions,
  type ServerCore,
  type ServerHandle,
  systemClock,
} from "./serve_options.ts";

export {
  DEFAULT_OUTPUT_BYTES_MAX_PER_CONNECTION,
  DEFAULT_OUTPUT_BYTES_MAX_TOTAL,
  type OutputLimits,
} from "./output_budget.ts";

/** What serve/serveCore take: ServeOptions and the output limits (output_budget.ts). */
export type ServerDriverOptions = ServeOptions & OutputLimits;

/**
 * Below this much unsent output a connection is never closed for the server-wide budget: the fair
 * share shrinks with every connection that has output, and a client that reads must not be cut off.
 */
const GLOBAL_CLOSE_FLOOR_BYTES = 64 * 1024;
/** Writes of chunks smaller than this are joined (one system call for many small replies). */
const JOIN_CHUNK_BYTES_MAX = 64 * 1024;
/** Largest buffer built by joining small chunks. */
const JOINED_BYTES_MAX = 256 * 1024;

/** How long close() waits for sockets to report closed (they linger at most 2 s flushing). */
const SHUTDOWN_WAIT_MS = 3000;

/** Starts a standalone server core (src/core/server.ts) on `options.transport`. */
export function serve(options: ServerDriverOptions): Promise<ServerHandle<Server>> {
  const clock = options.clock ?? systemClock;
  return serveCore(new Server(options.config, clock.now()), options);
}

/** Runs `core` behind a listener on `options.transport`. */
export async function serveCore<C extends ServerCore>(core: C, options: ServerDriverOptions): Promise<ServerHandle<C>> {
  const driver = new ServerDriver(core, options);
  await driver.start();
  return {
    host: driver.host,
    port: driver.port,
    securePort: driver.securePort,
    server: core,
    fourLetterWord: (word) => driver.fourLetterWord(word),
    close: () => driver.close(),
  };
}

const IGNORE_SOCKET: SocketHandler = { onData() {}, onClose() {} };
const textEncoder = new TextEncoder();

/**
 * The client side of a server: listener, connections, framing, four-letter words, the timer and the
 * persister around one core. `serve` and `serveCore` run a standalone Server with it; the replica
 * driver (replica_driver.ts) runs a Replica with it and feeds peer input through `input`.
 */
export class ServerDriver<C extends ServerCore> {
  readonly #core: C;
  readonly #options: ServerDriverOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxClientCnxns: number;
  readonly #maxFrameBytes: number;
  readonly #whitelist: ReadonlySet<string>;
  readonly #limits: ResolvedOutputLimits;
  readonly #heldInputBytesMax: number;
  readonly #sessionlessTimeoutMs: number;
  readonly #connections = new Map<ConnectionId, ClientConnection>();
  readonly #connectionsPerAddress = new Map<string, number>();
  readonly #stats: DriverStats;
  #nextConnectionId = 1;
  #listener: Listener | null = null;
  #secureListener: Listener | null = null;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  /** A one-shot timer for the core's next timed work (nextWakeMs), and when it fires. */
  #wakeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #wakeAtMs = Infinity;
  #stopping: Promise<void> | null = null;
  #onAllClosed: (() => void) | null = null;
  /** Connections holding request frames not fed to the core yet (their reading is paused). */
  readonly #throttledConnections = new Set<ClientConnection>();
  /** Connections with unsent output (encoded, or queued in the transport); pruned when looked at. */
  readonly #backlogged = new Set<ClientConnection>();
  /** Connections with encoded output not yet written to the socket. */
  readonly #unflushed = new Set<ClientConnection>();
  readonly #releaser: MemoryReleaser;
  #resuming = false;
  readonly #persister: Persister | null;

  constructor(core: C, options: ServerDriverOptions) {
    this.#core = core;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#maxClientCnxns = options.maxClientCnxns ?? DEFAULT_MAX_CLIENT_CNXNS;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#whitelist = options.fourLetterWhitelist ?? DEFAULT_FOUR_LETTER_WHITELIST;
    this.#limits = resolveOutputLimits(options, DEFAULT_OUTPUT_BUFFER_BYTES_MAX);
    this.#heldInputBytesMax = heldInputBytesMax(this.#maxFrameBytes);
    this.#sessionlessTimeoutMs = options.sessionlessTimeoutMs ?? DEFAULT_SESSIONLESS_TIMEOUT_MS;
    this.#stats = new DriverStats(this.#clock.now(), options.metrics);
    this.#releaser = new MemoryReleaser(() => Date.now(), (message) => this.#logger.log("debug", message));
    this.#persister = options.durableLog === undefined ? null : new Persister(options.durableLog, {
      persisted: (writeSeq) => {
        this.#callCore("persisted", () => this.#core.persisted(writeSeq));
        this.#drain();
      },
      failed: (writeSeq, reason) => {
        this.#callCore("persistFailed", () => this.#core.persistFailed(writeSeq, reason));
        this.#drain();
      },
      retry: () => {
        this.#callCore("storageRecovered", () => this.#core.storageRecovered());
        this.#drain();
      },
      log: (level, message) => this.#logger.log(level, message),
    });
    if (!(this.#maxClientCnxns >= 0)) throw new RangeError(`maxClientCnxns must be >= 0, got ${this.#maxClientCnxns}`);
  }

  get host(): string {
    return this.#listener?.host ?? this.#options.host ?? "0.0.0.0";
  }

  get port(): number {
    return this.#listener?.port ?? this.#options.port;
  }

  /** The secureListen listener's port, or null. */
  get securePort(): number | null {
    return this.#secureListener?.port ?? null;
  }

  async start(): Promise<void> {
    const host = this.#options.host ?? "0.0.0.0";
    this.#listener = await this.#options.transport.listen({ host, port: this.#options.port }, (socket) => this.#accept(socket));
    const secure = this.#options.secureListen;
    if (secure !== undefined) {
      try {
        this.#secureListener = await secure.transport.listen({ host: secure.host ?? host, port: secure.port }, (socket) => this.#accept(socket));
      } catch (error) {
        await this.#listener.close();
        throw error;
      }
      this.#logger.log("info", `serving ZooKeeper clients on ${secure.host ?? host}:${this.#secureListener.port} (${secure.transport.name} transport)`);
    }
    // Session expiry needs time to pass even when no bytes arrive; half a tick keeps it within a tick.
    const periodMs = Math.max(10, Math.min(1000, Math.floor(this.#options.config.tickTimeMs / 2)));
    this.#timer = setInterval(() => this.#onTimer(), periodMs);
    this.#stats.metrics.attach(() => this.#fourLetterSource(this.#clock.now()));
    this.#logger.log("info", `serving ZooKeeper clients on ${host}:${this.#listener.port} (${this.#options.transport.name} transport)`);
  }

  close(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Feeds the core an input that does not come from a client socket (a peer's messages, a lost
   * peer, the start of an election): ticks it, runs `call`, and carries out the outputs.
   */
  input(what: string, call: () => void): void {
    if (this.#stopping !== null) return;
    this.#callCore(what, () => {
      this.#core.tick(this.#clock.now());
      call();
    });
    this.#drain();
  }

  async #stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    this.#releaser.stop();
    await this.#listener?.close();
    await this.#secureListener?.close();
    await this.#persister?.close();
    for (const connection of [...this.#connections.values()]) this.#close(connection, "server shutting down", "debug");
    this.#drain();
    if (this.#connections.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#onAllClosed = resolve;
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
    });
    clearTimeout(timer);
    if (this.#connections.size > 0) {
      this.#logger.log("warn", `${this.#connections.size} connection(s) did not report closed within ${SHUTDOWN_WAIT_MS} ms of shutdown`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Socket events

  #accept(socket: Socket): SocketHandler {
    const address = socket.remoteAddress;
    if (this.#stopping !== null) {
      socket.close();
      return IGNORE_SOCKET;
    }
    const count = this.#connectionsPerAddress.get(address) ?? 0;
    if (this.#maxClientCnxns > 0 && count >= this.#maxClientCnxns) {
      this.#logger.log("warn", `Too many connections from /${address} - max is ${this.#maxClientCnxns}; closing the new connection`);
      this.#stats.connectionRejected();
      socket.close();
      return IGNORE_SOCKET;
    }
    this.#connectionsPerAddress.set(address, count + 1);
    const nowMs = this.#clock.now();
    const connection = new ClientConnection({
      id: this.#nextConnectionId++,
      socket,
      nowMs,
      maxFrameBytes: this.#maxFrameBytes,
      handshakeTimeoutMs: this.#sessionlessTimeoutMs,
    });
    this.#connections.set(connection.id, connection);
    try {
      this.#core.tick(nowMs);
      // A SASL nonce only when SASL is configured: the core has no randomness of its own.
      const sasl = this.#options.config.sasl === undefined ? {} : { saslNonce: saslNonce() };
      const x509 = socket.peerSubject === undefined ? {} : { x509Subject: socket.peerSubject };
      this.#core.open(connection.id, { remoteAddress: address, remotePort: socket.remotePort, ...sasl, ...x509 });
    } catch (error) {
      this.#fail(connection, error);
    }
    this.#drain();
    return {
      onData: (chunk) => this.#onData(connection, chunk),
      onClose: () => this.#onClose(connection),
      onDrain: () => this.#onDrain(connection),
    };
  }

  #onData(connection: ClientConnection, chunk: Uint8Array): void {
    if (connection.closing) return;
    const nowMs = this.#clock.now();
    try {
      this.#core.tick(nowMs);
      this.#feed(connection, chunk, nowMs);
    } catch (error) {
      this.#fail(connection, error);
    }
    this.#drain();
  }

  #onClose(connection: ClientConnection): void {
    if (connection.socketClosed) return;
    connection.socketClosed = true;
    if (!connection.closing) {
      connection.closing = true;
      this.#logger.log("debug", `connection ${connection.name} closed by the client`);
    }
    this.#coreClosed(connection);
    this.#forget(connection);
    this.#stats.connectionClosed(connection.id);
    this.#releaser.released(connection.outputPeak);
    this.#connections.delete(connection.id);
    const count = (this.#connectionsPerAddress.get(connection.remoteAddress) ?? 1) - 1;
    if (count > 0) this.#connectionsPerAddress.set(connection.remoteAddress, count);
    else this.#connectionsPerAddress.delete(connection.remoteAddress);
    this.#drain();
    if (this.#connections.size === 0) this.#onAllClosed?.();
  }

  /** The transport took everything queued: output freed, paused connections may be read again. */
  #onDrain(connection: ClientConnection): void {
    if (connection.closing || this.#throttledConnections.size === 0) return;
    this.#drain();
  }

  /** Drops what a closed connection still holds, so nothing keeps its buffers alive. */
  #forget(connection: ClientConnection): void {
    this.#throttledConnections.delete(connection);
    this.#backlogged.delete(connection);
    this.#unflushed.delete(connection);
    connection.throttled = [];
    connection.throttledBytes = 0;
    connection.pending = [];
    connection.pendingBytes = 0;
    connection.pendingClose = null;
  }

  #onTimer(): void {
    const nowMs = this.#clock.now();
    try {
      this.#core.tick(nowMs);
    } catch (error) {
      this.#logger.log("error", `the server core failed in tick(): ${describe(error)}`);
    }
    for (const connection of this.#connections.values()) {
      if (!connection.hasSession && !connection.closing && nowMs >= connection.handshakeDeadlineMs) {
        this.#stats.sessionlessExpired();
        this.#close(connection, `no session established within ${this.#sessionlessTimeoutMs} ms`, "info");
      }
    }
    this.#drain();
  }

  // ------------------------------------------------------------------------------------------------
  // Input

  #feed(connection: ClientConnection, chunk: Uint8Array, nowMs: number): void {
    let rest: Uint8Array | null = chunk;
    if (connection.phase === "fourLetter") return;
    if (connection.phase === "prefix") rest = this.#readPrefix(connection, chunk, nowMs);
    if (rest === null) return;
    connection.decoder.push(rest);
    // Bounded by the chunk: every frame is at least its 4-byte prefix. The decoder must be drained
    // before returning because its frames may be views of the (reused) chunk.
    // Each frame's outputs are collected (encoded) before the next frame is looked at, so that the
    // output bound is checked against every reply already produced, not once per chunk.
    for (let frame = connection.decoder.next(); frame !== null; frame = connection.decoder.next()) {
      if (connection.closing) continue;
      if (connection.phase === "session" && this.#mustThrottle(connection)) {
        this.#throttle(connection, frame);
      } else {
        this.#onFrame(connection, frame, nowMs);
        this.#collect(nowMs);
      }
    }
  }

  /**
   * Whether the connection's next request must wait: earlier ones wait already, it has
   * outstandingRequestsMax requests unanswered, or its unsent output is over its cap or (the server's
   * budget spent) over its fair share.
   */
  #mustThrottle(connection: ClientConnection): boolean {
    if (connection.throttled.length > 0) return true;
    return !this.#mayFeed(connection);
  }

  #mayFeed(connection: ClientConnection): boolean {
    if (this.#core.outstanding(connection.id) >= this.#options.config.outstandingRequestsMax) return false;
    const mine = this.#outputOf(connection);
    if (mine === 0) return true;
    return mayReadMore(mine, this.#totalOutput(), this.#backlogged.size, this.#limits);
  }

  /**
   * Holds a frame until the connection may be fed again, and stops reading the socket meanwhile (the
   * kernel's buffers then push back on the client, as ZooKeeper's disableRecv does). Only the rest
   * of the chunk being read is held; a socket that keeps delivering anyway is closed.
   */
  #throttle(connection: ClientConnection, frame: Uint8Array): void {
    this.#stats.throttled();
    connection.throttled.push(frame.slice());
    connection.throttledBytes += frame.length;
    this.#throttledConnections.add(connection);
    if (!connection.readingPaused) {
      connection.readingPaused = true;
      connection.socket.pauseReading?.();
    }
    if (connection.throttledBytes > this.#heldInputBytesMax) {
      this.#close(connection, `${connection.throttledBytes} bytes of requests arrived while it was not being read (its replies are not read, or it has ${this.#options.config.outstandingRequestsMax} requests unanswered)`, "warn");
    }
  }

  /** Unsent output of one connection: encoded here and not written yet, plus what its transport holds. */
  #outputOf(connection: ClientConnection): number {
    return connection.pendingBytes + connection.socket.bufferedBytes;
  }

  /** Unsent output of all connections (prunes the connections that have none left). */
  #totalOutput(): number {
    let total = 0;
    for (const connection of this.#backlogged) {
      const bytes = this.#outputOf(connection);
      if (bytes === 0 || connection.socketClosed) this.#backlogged.delete(connection);
      else total += bytes;
    }
    return total;
  }

  /** Feeds throttled connections whose outstanding requests dropped below the bound; returns frames fed. */
  #resumeThrottled(): number {
    let total = 0;
    const nowMs = this.#clock.now();
    for (const connection of [...this.#throttledConnections]) {
      if (connection.closing) {
        this.#throttledConnections.delete(connection);
        continue;
      }
      let fed = 0;
      try {
        while (fed < connection.throttled.length && !connection.closing && this.#mayFeed(connection)) {
          this.#onFrame(connection, connection.throttled[fed]!, nowMs);
          connection.throttledBytes -= connection.throttled[fed]!.length;
          fed++;
          this.#collect(nowMs);
        }
      } catch (error) {
        this.#fail(connection, error);
      }
      connection.throttled.splice(0, fed);
      total += fed;
      if (connection.throttled.length === 0 || connection.closing) {
        this.#throttledConnections.delete(connection);
        if (connection.readingPaused && !connection.closing) {
          connection.readingPaused = false;
          connection.socket.resumeReading?.();
        }
      }
    }
    return total;
  }

  /** The first bytes: a four-letter word is answered here; otherwise they start the first frame. */
  #readPrefix(connection: ClientConnection, chunk: Uint8Array, nowMs: number): Uint8Array | null {
    let offset = connection.fillPrefix(chunk, 0, 4);
    if (connection.prefixFill < 4) return null;
    const word = fourLetterWordOf(connection.prefixWord());
    if (word === null) {
      connection.phase = "handshake";
      connection.decoder.push(connection.prefixBytes());
      return chunk.subarray(offset);
    }
    if (word === "telnetClose") {
      connection.phase = "fourLetter";
      this.#close(connection, "telnet close sequence", "debug");
      return null;
    }
    if (word === "stmk") {
      offset = connection.fillPrefix(chunk, offset, 12);
      if (connection.prefixFill < 12) return null;
    }
    connection.phase = "fourLetter";
    connection.received++;
    this.#stats.packetsReceived++;
    const argument = word === "stmk" ? connection.prefixArgument() : undefined;
    const text = runFourLetterWord(word, this.#fourLetterSource(nowMs), { whitelist: this.#whitelist, stmkArgument: argument });
    this.#logger.log("debug", `four-letter word ${word} from ${connection.name}`);
    connection.socket.write(textEncoder.encode(text));
    this.#close(connection, `four-letter word ${word} answered`, "debug");
    return null;
  }

  #onFrame(connection: ClientConnection, frame: Uint8Array, nowMs: number): void {
    this.#stats.packetsReceived++;
    if (connection.phase === "handshake") {
      let request: ConnectRequest;
      try {
        request = decodeConnectRequest(frame);
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        throw new WireError(`malformed ConnectRequest (${frame.length} bytes): ${error.message}`);
      }
      connection.received++;
      connection.lastActivityAtMs = nowMs;
      connection.phase = "session";
      this.#stats.connectionRequested(frame.length);
      this.#core.connect(connection.id, request);
      return;
    }
    if (frame.length < 8) {
      throw new WireError(`request frame of ${frame.length} bytes is shorter than the 8-byte request header`);
    }
    const decoded = decodeRequest(frame);
    connection.noteRequest(decoded.header.xid, nowMs);
    this.#stats.requestReceived(connection.id, decoded.header, frame.length);
    if (decoded.error !== null) this.#logger.log("debug", `request from ${connection.name}: ${decoded.error}`);
    this.#core.request(connection.id, decoded.header, decoded.request);
  }

  // ------------------------------------------------------------------------------------------------
  // Output

  /**
   * Carries out the core's outputs in order, one socket write per connection, then feeds the
   * connections whose requests were held back if they may be fed again.
   */
  #drain(): void {
    this.#collect(this.#clock.now());
    for (const connection of this.#unflushed) this.#flush(connection);
    this.#unflushed.clear();
    if (this.#throttledConnections.size > 0 && !this.#resuming) this.#resumeAndDrain();
    this.#armWake();
  }

  /** Wakes the core when it next has timed work, if that is before the armed wake (one timer at most). */
  #armWake(): void {
    if (this.#stopping !== null || this.#timer === undefined) return;
    const wakeMs = this.#core.nextWakeMs?.() ?? null;
    if (wakeMs === null || wakeMs >= this.#wakeAtMs) return;
    clearTimeout(this.#wakeTimer);
    this.#wakeAtMs = wakeMs;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#wakeAtMs = Infinity;
      this.#onTimer();
    }, Math.max(0, wakeMs - this.#clock.now()));
  }

  /**
   * Takes the core's outputs and encodes the replies into their connections' pending output (not
   * written yet: #drain writes each connection's at once). Without a durable log writes count as
   * durable at once, so the replies they release are collected in the same call.
   */
  #collect(nowMs: number): void {
    // Bounded: each round is released by the previous round's writes; a round with none ends it.
    for (let round = 0; round < 64; round++) {
      const persistedUpTo = this.#collectRound(nowMs);
      if (persistedUpTo === 0) break;
      this.#callCore("persisted", () => this.#core.persisted(persistedUpTo));
    }
  }

  /** Feeds throttled connections while that frees replies (each round answers up to the bound). */
  #resumeAndDrain(): void {
    this.#resuming = true;
    try {
      for (let round = 0; round < 10_000 && this.#throttledConnections.size > 0; round++) {
        if (this.#resumeThrottled() === 0) break;
        this.#drain();
      }
    } finally {
      this.#resuming = false;
    }
  }

  /** One takeOutputs(); returns the last writeSeq to acknowledge at once (0 if none). */
  #collectRound(nowMs: number): number {
    let outputs: ServerOutput[] = [];
    this.#callCore("takeOutputs", () => {
      outputs = this.#core.takeOutputs();
    });
    let persistedUpTo = 0;
    for (const output of outputs) {
      if (output.kind === "log") {
        this.#logger.log(output.level, output.message);
        continue;
      }
      if (output.kind === "persist") {
        if (this.#persister === null) persistedUpTo = output.writeSeq;
        else this.#persister.write(output.writeSeq, output.request);
        continue;
      }
      if (output.kind === "snapshot") {
        this.#persister?.snapshot(output.source);
        continue;
      }
      if (output.kind === "audit") {
        this.#options.audit?.record(output.event);
        continue;
      }
      const connection = this.#connections.get(output.connection);
      if (connection === undefined || connection.closing || connection.pendingClose !== null) continue;
      this.#unflushed.add(connection);
      if (output.kind === "close") {
        connection.pendingClose = output.reason;
        continue;
      }
      let pieces: Uint8Array[];
      try {
        pieces = this.#encode(connection, output, nowMs);
      } catch (error) {
        this.#logger.log("error", `could not encode a ${output.kind} for ${connection.name}: ${describe(error)}`);
        connection.pendingClose = `internal error encoding a ${output.kind}`;
        continue;
      }
      // Counted in full even where a piece is the tree's own data: a reference can keep a replaced
      // version of a znode alive, so it is memory this connection holds.
      for (const piece of pieces) {
        connection.pending.push(piece);
        connection.pendingBytes += piece.length;
      }
      this.#backlogged.add(connection);
      this.#checkHardBound(connection);
    }
    return persistedUpTo;
  }

  /**
   * Output a connection gets although it is not read any more (replies to requests accepted before
   * it was paused, watch events) closes it past outputBufferBytesMax, or, once all connections
   * together hold twice outputBytesMaxTotal, past its fair share; its output is dropped at once.
   */
  #checkHardBound(connection: ClientConnection): void {
    const mine = this.#outputOf(connection);
    if (mine > connection.outputPeak) connection.outputPeak = mine;
    if (mine <= GLOBAL_CLOSE_FLOOR_BYTES) return;
    const total = mine > this.#limits.hardPerConnection ? 0 : this.#totalOutput();
    if (!overHardBound(mine, total, this.#backlogged.size, this.#limits)) return;
    const why = mine > this.#limits.hardPerConnection
      ? `more than outputBufferBytesMax (${this.#limits.hardPerConnection})`
      : `more than its share while all connections hold ${total} (over twice outputBytesMaxTotal, ${this.#limits.total})`;
    this.#close(connection, `${mine} bytes of replies are waiting to be sent, ${why}: the client is not reading`, "warn", true);
  }

  #callCore(what: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#logger.log("error", `the server core failed in ${what}(): ${describe(error)}`);
    }
  }

  #encode(connection: ClientConnection, output: ServerOutput, nowMs: number): Uint8Array[] {
    this.#stats.packetsSent++;
    switch (output.kind) {
      case "connectResponse":
        connection.noteSent(nowMs);
        if (output.response.timeOut > 0) connection.hasSession = true;
        return [encodeConnectResponse(output.response)];
      case "reply": {
        const latencyMs = connection.noteReply(output.reply.header.xid, nowMs);
        const pieces = encodeReplyPieces(output.reply);
        this.#stats.replied(connection.id, output.reply.header, latencyMs, byteLengthOf(pieces));
        return pieces;
      }
      case "notification":
        connection.noteSent(nowMs);
        return [encodeNotification(output.zxid, output.event)];
      default:
        throw new Error(`unexpected output kind ${output.kind}`);
    }
  }

  /** Writes a connection's pending output, then closes it if the core asked to. */
  #flush(connection: ClientConnection): void {
    const chunks = connection.pending;
    connection.pending = [];
    connection.pendingBytes = 0;
    if (!connection.closing) writeChunks(connection.socket, chunks);
    const buffered = connection.socket.bufferedBytes;
    if (buffered > connection.outputPeak) connection.outputPeak = buffered;
    const closeReason = connection.pendingClose;
    connection.pendingClose = null;
    if (closeReason !== null) this.#close(connection, closeReason, "debug");
  }

  // ------------------------------------------------------------------------------------------------
  // Closing

  #fail(connection: ClientConnection, error: unknown): void {
    if (error instanceof FrameError || error instanceof WireError) {
      this.#close(connection, error.message, "warn");
    } else {
      this.#close(connection, `unexpected error while handling its input: ${describe(error)}`, "error");
    }
  }

  /**
   * Closes a connection: what it has pending is written first (best effort), unless `abort`, which
   * drops all its unsent output at once (a client that does not read it).
   */
  #close(connection: ClientConnection, reason: string, level: LogLevel, abort = false): void {
    if (connection.closing) return;
    this.#logger.log(level, `closing connection ${connection.name}: ${reason}`);
    if (abort) {
      connection.closing = true;
      if (connection.socket.abort !== undefined) connection.socket.abort();
      else connection.socket.close();
    } else {
      const chunks = connection.pending;
      connection.pending = [];
      connection.closing = true;
      writeChunks(connection.socket, chunks);
      connection.socket.close();
    }
    this.#forget(connection);
    this.#coreClosed(connection);
  }

  #coreClosed(connection: ClientConnection): void {
    if (connection.coreClosed) return;
    connection.coreClosed = true;
    try {
      this.#core.closed(connection.id);
    } catch (error) {
      this.#logger.log("error", `the server core failed in closed(${connection.id}): ${describe(error)}`);
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Four-letter words

  fourLetterWord(word: FourLetterWord): string {
    const nowMs = this.#clock.now();
    return runFourLetterWord(word, this.#fourLetterSource(nowMs), { whitelist: new Set(["*"]) });
  }

  #fourLetterSource(nowMs: number) {
    const source = fourLetterSource({
      core: this.#core,
      stats: this.#stats,
      connections: this.#connections,
      nowMs,
      conf: () => ({
        clientPort: this.port,
        dataDir: this.#options.dataDir ?? "",
        dataLogDir: this.#options.dataLogDir ?? this.#options.dataDir ?? "",
        tickTimeMs: this.#options.config.tickTimeMs,
        maxClientCnxns: this.#maxClientCnxns,
        minSessionTimeoutMs: this.#options.config.minSessionTimeoutMs,
        maxSessionTimeoutMs: this.#options.config.maxSessionTimeoutMs,
        serverId: this.#options.serverId ?? 0,
        ...this.#options.storageSizes?.(),
      }),
    });
    // An ensemble member without a leader answers most words with "not currently serving".
    // A read-only member serves (its words say "read-only", isro says "ro").
    source.readOnly = this.#core.readOnly ?? false;
    source.serving = (this.#core.serving ?? true) || source.readOnly;
    return source;
  }
}

/**
 * Writes `chunks` in order: runs of small ones joined (one system call for many small replies),
 * large ones as they are (joining would copy megabytes). A small chunk that would wait in the
 * transport's queue is copied first: it may be a view of a shared 64 KiB encoding slab, which it
 * would otherwise keep alive for as long as the client does not read.
 */
function writeChunks(socket: Socket, chunks: readonly Uint8Array[]): void {
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const writeRun = () => {
    if (run.length === 0) return;
    let bytes = run.length === 1 ? run[0]! : concat(run, runBytes);
    if (run.length === 1 && socket.bufferedBytes > 0 && bytes.byteLength < bytes.buffer.byteLength) bytes = bytes.slice();
    socket.write(bytes);
    run = [];
    runBytes = 0;
  };
  for (const chunk of chunks) {
    if (chunk.length >= JOIN_CHUNK_BYTES_MAX) {
      writeRun();
      socket.write(chunk);
      continue;
    }
    if (runBytes + chunk.length > JOINED_BYTES_MAX) writeRun();
    run.push(chunk);
    runBytes += chunk.length;
  }
  writeRun();
}

function byteLengthOf(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  return total;
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
