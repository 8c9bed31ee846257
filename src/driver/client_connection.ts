/**
 * What the driver keeps per client socket: its phase (first bytes → handshake → session), its frame
 * decoder, and the counters `stat`/`cons` print. The core keeps everything ZooKeeper-specific.
 */
import type { ConnectionId } from "../core/server_io.ts";
import type { Socket } from "../transport/transport.ts";
import { FrameDecoder } from "../wire/frame_decoder.ts";
import type { LatencyStats } from "./four_letter_words.ts";

/**
 * prefix: waiting for the first 4 bytes (a four-letter word or a frame length);
 * handshake: waiting for the ConnectRequest frame; session: requests flow to the core;
 * fourLetter: a four-letter word was answered, the socket is closing.
 */
export type ConnectionPhase = "prefix" | "handshake" | "session" | "fourLetter";

/** Requests whose reply time we still wait for; past this the oldest are forgotten (latency only). */
const LATENCY_PENDING_MAX = 4096;

export function emptyLatency(): LatencyStats {
  return { count: 0, totalMs: 0, minMs: 0, maxMs: 0 };
}

export function recordLatency(latency: LatencyStats, ms: number): void {
  latency.minMs = latency.count === 0 ? ms : Math.min(latency.minMs, ms);
  latency.maxMs = latency.count === 0 ? ms : Math.max(latency.maxMs, ms);
  latency.count++;
  latency.totalMs += ms;
}

export class ClientConnection {
  readonly id: ConnectionId;
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedAtMs: number;
  readonly decoder: FrameDecoder;
  phase: ConnectionPhase = "prefix";
  /** Closed by us (or about to be): nothing more is read or written. */
  closing = false;
  /** The socket reported onClose. */
  socketClosed = false;
  /** core.closed() was called. */
  coreClosed = false;
  /** A ConnectResponse with a live session was written: the sessionless timeout no longer applies. */
  hasSession = false;
  readonly handshakeDeadlineMs: number;
  lastActivityAtMs: number;
  received = 0;
  sent = 0;
  lastResponseAtMs = 0;
  lastLatencyMs = 0;
  latency: LatencyStats = emptyLatency();
  /**
   * Request frames not yet fed to the core because the connection has outstandingRequestsMax
   * requests unanswered or too much unsent output (output_budget.ts); its socket is not read
   * meanwhile (ZooKeeper's disableRecv). Copies.
   */
  throttled: Uint8Array[] = [];
  throttledBytes = 0;
  /** Reading from the socket is paused while frames are held (throttled non-empty). */
  readingPaused = false;
  /** Encoded output not written to the socket yet (the driver writes it once per input). */
  pending: Uint8Array[] = [];
  pendingBytes = 0;
  /** The core asked to close the connection once `pending` is written. */
  pendingClose: string | null = null;
  /** The most unsent output seen for this connection (what its close may give back). */
  outputPeak = 0;
  /** The first bytes of the stream (4, or 12 for `stmk` and its argument). */
  readonly #prefix = new Uint8Array(12);
  #prefixFill = 0;
  /** (xid, arrival time) of requests not yet answered, oldest first. */
  #pendingXids: number[] = [];
  #pendingTimes: number[] = [];
  #pendingHead = 0;

  constructor(options: { id: ConnectionId; socket: Socket; nowMs: number; maxFrameBytes: number; handshakeTimeoutMs: number }) {
    this.id = options.id;
    this.socket = options.socket;
    this.remoteAddress = options.socket.remoteAddress;
    this.remotePort = options.socket.remotePort;
    this.establishedAtMs = options.nowMs;
    this.lastActivityAtMs = options.nowMs;
    this.handshakeDeadlineMs = options.nowMs + options.handshakeTimeoutMs;
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
  }

  /** `/address:port`, as ZooKeeper names a connection in logs. */
  get name(): string {
    return `/${this.remoteAddress}:${this.remotePort}`;
  }

  get prefixFill(): number {
    return this.#prefixFill;
  }

  /** Copies bytes of `chunk` from `offset` until the prefix holds `target` bytes; returns the new offset. */
  fillPrefix(chunk: Uint8Array, offset: number, target: number): number {
    const take = Math.max(0, Math.min(target - this.#prefixFill, chunk.length - offset));
    this.#prefix.set(chunk.subarray(offset, offset + take), this.#prefixFill);
    this.#prefixFill += take;
    return offset + take;
  }

  /** The first 4 bytes as a signed big-endian int. */
  prefixWord(): number {
    const p = this.#prefix;
    return (p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!;
  }

  /** The 8 bytes after the first word (stmk's argument) as a signed 64-bit integer. */
  prefixArgument(): bigint {
    return new DataView(this.#prefix.buffer, 4, 8).getBigInt64(0);
  }

  /** A copy of the prefix bytes gathered so far. */
  prefixBytes(): Uint8Array {
    return this.#prefix.slice(0, this.#prefixFill);
  }

  noteRequest(xid: number, nowMs: number): void {
    this.received++;
    this.lastActivityAtMs = nowMs;
    if (this.#pendingXids.length - this.#pendingHead >= LATENCY_PENDING_MAX) this.#pendingHead++;
    this.#pendingXids.push(xid);
    this.#pendingTimes.push(nowMs);
  }

  /**
   * Records a reply with `xid`. Replies go out in request order, so entries before the matching one
   * were requests the core dropped without a reply; they are forgotten.
   */
  noteReply(xid: number, nowMs: number): number | null {
    this.sent++;
    this.lastResponseAtMs = nowMs;
    const end = this.#pendingXids.length;
    let index = this.#pendingHead;
    while (index < end && this.#pendingXids[index] !== xid) index++;
    if (index === end) return null;
    const latencyMs = Math.max(0, nowMs - this.#pendingTimes[index]!);
    this.#pendingHead = index + 1;
    if (this.#pendingHead === end) {
      this.#pendingXids = [];
      this.#pendingTimes = [];
      this.#pendingHead = 0;
    } else if (this.#pendingHead > 1024) {
      this.#pendingXids = this.#pendingXids.slice(this.#pendingHead);
      this.#pendingTimes = this.#pendingTimes.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
    this.lastLatencyMs = latencyMs;
    recordLatency(this.latency, latencyMs);
    return latencyMs;
  }

  /** A frame other than a reply (ConnectResponse, notification) went out. */
  noteSent(nowMs: number): void {
    this.sent++;
    this.lastResponseAtMs = nowMs;
  }

  /** `crst`. */
  resetStats(): void {
    this.received = 0;
    this.sent = 0;
    this.lastResponseAtMs = 0;
    this.lastLatencyMs = 0;
    this.latency = emptyLatency();
  }
}
