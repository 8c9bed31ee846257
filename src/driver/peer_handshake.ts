/**
 * The handshake of a peer connection, read under tight bounds: until the other side has named
 * itself as a member that may use this connection (and proved it, with quorum SASL), it is a stranger, and a stranger gets a few KiB
 * and a few seconds, not the peer frame limit (128 MiB by default). ZooKeeper's quorum listener is
 * as strict: it reads a protocol version, a server id and an address of at most 2 KiB, and closes
 * the socket on anything else.
 *
 * HandshakeReader frames the handshake itself (each length prefix checked against what is left of
 * the small budget before a byte of the body is kept), so a huge length prefix costs 4 bytes, not a
 * buffer; the stream's general decoder, with the full limit, is made only once the hello (and, with
 * quorum SASL, the authentication: src/driver/peer_sasl.ts) checks out.
 * helloRefusal holds the rules a hello must pass. RateLimitedLog keeps a flood of strangers from
 * flooding the log.
 */
import type { Sid } from "../core/peer_messages.ts";
import { decodePeerFramePayload, PEER_PROTOCOL_VERSION, type PeerFrame, PeerFrameError, type PeerHello } from "../wire/peer_codec.ts";
import type { Logger, LogLevel } from "./logger.ts";

/**
 * Bytes a connection may send before its handshake is over: a hello encodes to well under 100, a
 * DIGEST-MD5 exchange to well under 1 KiB.
 */
export const DEFAULT_HANDSHAKE_BYTES_MAX = 4096;

/** Accepted connections still to say hello at one time; past it the oldest is closed. */
export const DEFAULT_HANDSHAKES_MAX = 64;

/** Smallest budget accepted: a hello with large ids must still fit. */
const HANDSHAKE_BYTES_MIN = 128;

/** A whole handshake frame, and the bytes after it (a view of the pushed chunk). */
export interface HandshakeRead {
  frame: PeerFrame;
  rest: Uint8Array;
}

/**
 * Reads a connection's handshake frames (its hello, then any SASL tokens) within `bytesMax` bytes
 * for all of them together; the first must be a linkHello. Push a chunk, take the frame, push the
 * rest again, until the handshake is over; then the stream's general decoder takes the remaining bytes.
 */
export class HandshakeReader {
  readonly #bytesMax: number;
  /** Bytes of whole frames read so far. */
  #consumed = 0;
  readonly #prefix = new Uint8Array(4);
  #prefixFill = 0;
  /** The frame's payload, allocated once its length is known to fit the budget. */
  #payload: Uint8Array | null = null;
  #payloadFill = 0;
  #failed = false;

  constructor(bytesMax = DEFAULT_HANDSHAKE_BYTES_MAX) {
    if (!Number.isInteger(bytesMax) || bytesMax < HANDSHAKE_BYTES_MIN) {
      throw new RangeError(`the handshake byte budget must be an integer of at least ${HANDSHAKE_BYTES_MIN}, got ${bytesMax}`);
    }
    this.#bytesMax = bytesMax;
  }

  /** Bytes held for the frame being read (never more than the budget). */
  get bufferedBytes(): number {
    return this.#prefixFill + this.#payloadFill;
  }

  /**
   * Takes the next bytes of the stream. Returns the next frame and what followed it once it is whole
   * (use `rest` before the chunk is reused), null until then. Throws PeerFrameError, and keeps
   * nothing, when a frame claims more than the budget has left, is damaged, or the first is not a hello.
   */
  push(chunk: Uint8Array): HandshakeRead | null {
    if (this.#failed) throw new Error("HandshakeReader.push after a failure");
    const first = this.#consumed === 0;
    let offset = 0;
    if (this.#payload === null) {
      while (this.#prefixFill < 4 && offset < chunk.length) this.#prefix[this.#prefixFill++] = chunk[offset++]!;
      if (this.#prefixFill < 4) return null;
      const p = this.#prefix;
      // Unsigned: a "negative" prefix is just a very large claim.
      const length = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
      const left = this.#bytesMax - this.#consumed;
      if (length < 4 || 4 + length > left) {
        this.#fail();
        throw new PeerFrameError(
          first
            ? `the first frame claims ${length} bytes, but a hello takes 4 to ${this.#bytesMax - 4}: the other side is not a Corral peer of this version`
            : `a handshake frame claims ${length} bytes, but only ${left} of the handshake's ${this.#bytesMax} bytes are left`,
        );
      }
      this.#payload = new Uint8Array(length);
    }
    const payload = this.#payload;
    const take = Math.min(payload.length - this.#payloadFill, chunk.length - offset);
    payload.set(chunk.subarray(offset, offset + take), this.#payloadFill);
    this.#payloadFill += take;
    offset += take;
    if (this.#payloadFill < payload.length) return null;
    this.#consumed += 4 + payload.length;
    this.#payload = null;
    this.#payloadFill = 0;
    this.#prefixFill = 0;
    let frame: PeerFrame;
    try {
      frame = decodePeerFramePayload(payload);
    } catch (error) {
      this.#fail();
      throw error;
    }
    if (first && frame.kind !== "linkHello") {
      this.#fail();
      throw new PeerFrameError(`a ${frame.kind} message arrived before the hello`);
    }
    return { frame, rest: chunk.subarray(offset) };
  }

  #fail(): void {
    this.#failed = true;
    this.#payload = null;
    this.#payloadFill = 0;
    this.#prefixFill = 0;
  }
}

/** Who may say hello on a connection. */
export interface HelloExpectation {
  myId: Sid;
  /** Whether `sid` is another member of the ensemble (a server.N line). */
  isMember(sid: Sid): boolean;
  /** For a connection we dialed, the member we dialed; null for one we accepted. */
  dialed: Sid | null;
}

/** Why `hello` may not open this connection, or null when it may. */
export function helloRefusal(hello: PeerHello, expected: HelloExpectation): string | null {
  const { myId, dialed } = expected;
  if (hello.protocolVersion !== PEER_PROTOCOL_VERSION) {
    return `peer ${hello.from} speaks peer protocol version ${hello.protocolVersion}, this server ${PEER_PROTOCOL_VERSION}: run the same Corral version on every member`;
  }
  if (hello.to !== myId) {
    return `peer ${hello.from} meant to reach server ${hello.to}, but this is server ${myId}: check the server.N lines`;
  }
  if (hello.from === myId) {
    return `a peer claims to be server ${myId}, which is this server: two members have the same myid`;
  }
  if (!expected.isMember(hello.from)) return `server ${hello.from} is not a member of this ensemble`;
  if (dialed !== null) {
    return hello.from === dialed ? null : `dialed server ${dialed}, but server ${hello.from} answered: check the server.N lines`;
  }
  // One connection per pair, dialed by the higher id: a lower id dialing us is a misconfiguration or a stranger.
  if (!(hello.from > myId)) return `server ${hello.from} dialed server ${myId}, but only higher ids dial lower ones`;
  return null;
}

export interface RateLimitedLogOptions {
  /** Lines logged per window; the rest are counted and summed up in one line. Default 10. */
  linesPerWindow?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** What the suppressed lines were about, for the summary ("rejected peer connections"). */
  what: string;
  now?: () => number;
}

/** At most `linesPerWindow` lines per window, then one line saying how many were left out. */
export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #linesPerWindow: number;
  readonly #windowMs: number;
  readonly #what: string;
  readonly #now: () => number;
  #windowStartMs: number;
  #lines = 0;
  #suppressed = 0;
  #suppressedLevel: LogLevel = "info";

  constructor(logger: Logger, options: RateLimitedLogOptions) {
    this.#logger = logger;
    this.#linesPerWindow = options.linesPerWindow ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#what = options.what;
    this.#now = options.now ?? Date.now;
    this.#windowStartMs = this.#now();
  }

  log(level: LogLevel, message: string): void {
    this.flush();
    if (this.#lines < this.#linesPerWindow) {
      this.#lines++;
      this.#logger.log(level, message);
      return;
    }
    this.#suppressed++;
    if (level === "warn" || level === "error") this.#suppressedLevel = level;
  }

  /** Starts a new window once the current one is over, first saying how many lines it left out. */
  flush(): void {
    const nowMs = this.#now();
    if (nowMs - this.#windowStartMs < this.#windowMs) return;
    if (this.#suppressed > 0) {
      this.#logger.log(this.#suppressedLevel, `${this.#suppressed} more ${this.#what} in the last ${Math.round((nowMs - this.#windowStartMs) / 1000)} s were not logged`);
    }
    this.#windowStartMs = nowMs;
    this.#lines = 0;
    this.#suppressed = 0;
    this.#suppressedLevel = "info";
  }
}
