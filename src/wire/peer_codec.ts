/**
 * Framing for the connections between ensemble members (election votes and Zab share one
 * connection per pair of members):
 *
 *   frame = u32 N | u32 CRC32C(body) | body        N = 4 + body length (the CRC and the body)
 *
 * Integers are big-endian; the body is one CBOR value (src/storage/cbor_codec.ts: the options that
 * give the same bytes on every runtime and round-trip bigint and Uint8Array exactly). Because N
 * counts everything after itself, src/wire/frame_decoder.ts splits the stream.
 *
 * The body is a PeerFrame: a core PeerMessage, or one of the connection's own frames (kinds prefixed
 * "link", apart from the core's), `linkHello` (the first frame each side sends: who it is, whom it
 * meant to reach, which protocol it speaks), `linkSasl` (the tokens of a SASL exchange between the
 * hellos and the first message, with quorum.auth.enableSasl) and `linkHeartbeat` (keeps an idle
 * connection proven alive; the core's own leader heartbeat is a PeerMessage like any other). Decoded bodies are checked field by field
 * against the message shapes (one level deep into txns and snapshot nodes) so that a peer bug or a
 * stray connection is reported as a bad frame instead of reaching the core.
 */
import type { PeerMessage, PeerState, Sid } from "../core/peer_messages.ts";
import { decodeCbor, encodeCbor } from "../storage/cbor_codec.ts";
import { CborWriter } from "../storage/cbor_writer.ts";
import { crc32c } from "../storage/crc32c.ts";
import { FrameDecoder, FrameError } from "./frame_decoder.ts";

/**
 * Bumped on any change to the frames or the messages' shapes or meaning; both sides must speak the
 * same one. 2: acks and commits are cumulative (a version-1 follower would take a batched commit
 * for a gap and resync forever).
 */
export const PEER_PROTOCOL_VERSION = 2;

/**
 * Default bound on one frame (body plus CRC) once a connection's hello checked out (before it, a
 * few KiB: src/driver/peer_handshake.ts). The largest legitimate frames are sync messages: the
 * leader cuts SNAP and DIFF into chunks of at most 1000 znodes or txns and about 4 MiB
 * (src/core/zab_leader.ts), plus one item that may be as large as a client's jute.maxbuffer; a SNAP
 * chunk also repeats the snapshot's session list, and a learner's ping lists its active sessions,
 * both growing with the number of sessions. 128 MiB leaves room for millions of sessions; the
 * limit is PeerNetworkOptions.maxFrameBytes.
 */
export const DEFAULT_PEER_MAX_FRAME_BYTES = 128 * 1024 * 1024;

/** The first frame on a connection, sent by both sides. */
export interface PeerHello {
  kind: "linkHello";
  protocolVersion: number;
  /** The sender's server id. */
  from: Sid;
  /** The server id the sender meant to reach (catches a server.N line with another member's port). */
  to: Sid;
  /**
   * Sent true by a dialing member that will authenticate with SASL next (quorum.auth.learnerRequireSasl):
   * the accepting member then waits for its linkSasl frames. Absent means false.
   */
  sasl?: boolean;
}

/**
 * One step of the SASL exchange between members (ZooKeeper's QuorumAuthPacket): the dialing member
 * sends its tokens with status "inProgress"; the accepting member answers "inProgress" with a
 * challenge, then "success" with its last token, or "error" before it closes the connection.
 */
export interface PeerSasl {
  kind: "linkSasl";
  status: PeerSaslStatus;
  token: Uint8Array;
}

export type PeerSaslStatus = "inProgress" | "success" | "error";

export interface PeerHeartbeat {
  kind: "linkHeartbeat";
}

export type PeerFrame = PeerMessage | PeerHello | PeerSasl | PeerHeartbeat;

/** A frame that cannot be decoded: the connection must be closed (the stream is out of step). */
export class PeerFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PeerFrameError";
  }
}

/**
 * The last frame encoded, by identity: a leader hands the same proposal (or commit) object to every
 * follower in a row, so it is encoded and checksummed once and the same bytes go to each. Messages
 * are plain immutable data (src/core/peer_messages.ts), so identity means equal bytes.
 */
let lastFrame: PeerFrame | null = null;
let lastMaxFrameBytes = 0;
let lastEncoded: Uint8Array = new Uint8Array(0);

/**
 * Encodes one frame; throws PeerFrameError if it exceeds `maxFrameBytes`. Encoding the same message
 * object again right after returns the same bytes: callers must treat frames as read-only (sockets
 * do) and messages as immutable once sent.
 */
export function encodePeerFrame(frame: PeerFrame, maxFrameBytes = DEFAULT_PEER_MAX_FRAME_BYTES): Uint8Array {
  if (frame === lastFrame && maxFrameBytes === lastMaxFrameBytes) return lastEncoded;
  const encoded = encodeFrameBytes(frame, maxFrameBytes);
  lastFrame = frame;
  lastMaxFrameBytes = maxFrameBytes;
  lastEncoded = encoded;
  return encoded;
}

// Frames are carved out of a shared slab, as jute.ts does for client frames: a typed array of more
// than 64 bytes costs about as much to allocate as a small message to encode. A frame is a view
// (use byteOffset/byteLength, never the whole .buffer); a full slab is replaced, never reused.
const SLAB_BYTES = 64 * 1024;
/** Frames larger than this get their own buffer (one would waste most of a slab). */
const SLAB_FRAME_BYTES_MAX = 8 * 1024;
let slab = new Uint8Array(0);
let slabOffset = 0;

function frameBuffer(bytes: number): Uint8Array {
  if (bytes > SLAB_FRAME_BYTES_MAX) return new Uint8Array(bytes);
  if (slabOffset + bytes > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOffset = 0;
  }
  const out = slab.subarray(slabOffset, slabOffset + bytes);
  // Keeps the next frame 8-byte aligned (cheap, and friendly to the CRC's word reads).
  slabOffset += (bytes + 7) & ~7;
  return out;
}

/**
 * Bodies are written by the log's CborWriter (byte for byte cbor-x's output, without cbor-x's
 * allocations); a frame holding something it does not encode goes through cbor-x.
 */
const writer = new CborWriter();
/** Past this, the writer's grown buffer is dropped after use rather than kept (a SNAP chunk can be MiBs). */
const WRITER_BYTES_KEPT_MAX = 1024 * 1024;

function encodeBody(frame: PeerFrame): Uint8Array {
  writer.reset();
  if (!writer.write(frame)) return encodeCbor(frame);
  const body = writer.bytes.subarray(0, writer.position);
  if (writer.bytes.length > WRITER_BYTES_KEPT_MAX) {
    const copy = body.slice();
    writer.shrink();
    return copy;
  }
  return body;
}

function encodeFrameBytes(frame: PeerFrame, maxFrameBytes: number): Uint8Array {
  // A view of the shared writer's buffer: copied into the frame below before anything else encodes.
  const body = encodeBody(frame);
  const length = 4 + body.length;
  if (length > maxFrameBytes) {
    throw new PeerFrameError(
      `a ${frame.kind} message encodes to ${length} bytes, more than the peer frame limit of ${maxFrameBytes} bytes`,
    );
  }
  const out = frameBuffer(4 + length);
  writeUint32(out, 0, length);
  writeUint32(out, 4, crc32c(body));
  out.set(body, 8);
  return out;
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/**
 * Splits a peer byte stream into checked frames. As with FrameDecoder, drain next() until it returns
 * null before the pushed chunk is reused (decoded values never refer to the chunk).
 */
export class PeerFrameDecoder {
  readonly #frames: FrameDecoder;
  readonly #maxFrameBytes: number;
  #failed: PeerFrameError | null = null;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_PEER_MAX_FRAME_BYTES;
    this.#frames = new FrameDecoder({ maxFrameBytes: this.#maxFrameBytes });
  }

  push(chunk: Uint8Array): void {
    if (this.#failed === null) this.#frames.push(chunk);
  }

  /** The next frame, or null until more bytes arrive. Throws PeerFrameError now and on every later call. */
  next(): PeerFrame | null {
    if (this.#failed !== null) throw this.#failed;
    try {
      let payload: Uint8Array | null;
      try {
        payload = this.#frames.next();
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        throw new PeerFrameError(
          `peer frame length ${error.length} is outside [4, ${this.#maxFrameBytes}]: the other side is not a ` +
            `Corral peer of this version, or sent a message larger than the limit`,
        );
      }
      return payload === null ? null : decodePeerFramePayload(payload);
    } catch (error) {
      if (error instanceof PeerFrameError) this.#failed = error;
      throw error;
    }
  }
}

/**
 * One frame's payload (CRC and body, without the length prefix) as a checked PeerFrame; throws
 * PeerFrameError. For a caller that frames the stream itself (the bounded hello reader).
 */
export function decodePeerFramePayload(payload: Uint8Array): PeerFrame {
  if (payload.length < 4) {
    throw new PeerFrameError(`peer frame of ${payload.length} bytes is shorter than its 4-byte CRC`);
  }
  const body = payload.subarray(4);
  const expected = ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0;
  const actual = crc32c(body);
  if (expected !== actual) {
    throw new PeerFrameError(
      `peer frame of ${body.length} bytes fails its CRC32C check (0x${hex(actual)}, expected 0x${hex(expected)}): ` +
        `the stream is damaged`,
    );
  }
  const small = decodeZxidMessage(body);
  if (small !== null) return small;
  let value: unknown;
  try {
    value = decodeCbor(body);
  } catch (error) {
    throw new PeerFrameError(`peer frame body is not valid CBOR: ${error instanceof Error ? error.message : String(error)}`);
  }
  return checkPeerFrame(value);
}

// ---------------------------------------------------------------------------------------------------
// Fast path: ack and commit

/**
 * The bytes cbor-x gives `{ kind: "ack" | "commit", zxid }` before the number: a map of two (with a
 * 2-byte count), "kind", the kind, "zxid". A leader reads one ack per follower per write and each
 * follower one commit, so these skip the general decoder (most of their cost). Anything else,
 * including any other spelling of the same value, takes the general path.
 */
const ACK_PREFIX = cborPrefix("ack");
const COMMIT_PREFIX = cborPrefix("commit");

function cborPrefix(kind: string): Uint8Array {
  const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));
  return Uint8Array.from([0xb9, 0x00, 0x02, 0x64, ...ascii("kind"), 0x60 + kind.length, ...ascii(kind), 0x64, ...ascii("zxid")]);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length <= prefix.length) return false;
  for (let index = 0; index < prefix.length; index++) if (bytes[index] !== prefix[index]) return false;
  return true;
}

/** An ack or commit with a safe-integer zxid, exactly as the general path would return it; else null. */
function decodeZxidMessage(body: Uint8Array): PeerFrame | null {
  const kind = startsWith(body, ACK_PREFIX) ? "ack" : startsWith(body, COMMIT_PREFIX) ? "commit" : null;
  if (kind === null) return null;
  const zxid = readCborNumber(body, kind === "ack" ? ACK_PREFIX.length : COMMIT_PREFIX.length);
  return zxid === null ? null : { kind, zxid };
}

/** An unsigned integer or float64 that fills body from `at` to its end and is a safe integer; else null. */
function readCborNumber(body: Uint8Array, at: number): number | null {
  const head = body[at]!;
  const rest = body.length - at - 1;
  let value: number;
  if (head <= 0x17 && rest === 0) value = head;
  else if (head === 0x18 && rest === 1) value = body[at + 1]!;
  else if (head === 0x19 && rest === 2) value = (body[at + 1]! << 8) | body[at + 2]!;
  else if (head === 0x1a && rest === 4) {
    value = ((body[at + 1]! << 24) | (body[at + 2]! << 16) | (body[at + 3]! << 8) | body[at + 4]!) >>> 0;
  } else if (head === 0xfb && rest === 8) {
    value = new DataView(body.buffer, body.byteOffset + at + 1, 8).getFloat64(0);
  } else return null;
  return Number.isSafeInteger(value) ? value : null;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------------------------------------------
// Shapes

type FieldType = "int" | "bigint" | "boolean" | "string" | "bytes" | "saslStatus" | "state" | "array" | "object" | "entry" | "entries" | "nodes" | "header";

/** The fields each frame kind must have (every kind is listed, so a new message kind fails to compile). */
const SHAPES: Record<PeerFrame["kind"], Record<string, FieldType>> = {
  linkHello: { protocolVersion: "int", from: "int", to: "int" },
  linkSasl: { status: "saslStatus", token: "bytes" },
  linkHeartbeat: {},
  vote: { leader: "int", zxid: "int", electionEpoch: "int", peerEpoch: "int", state: "state" },
  followerInfo: { acceptedEpoch: "int", lastZxid: "int", observer: "boolean", attempt: "int" },
  leaderInfo: { newEpoch: "int", attempt: "int" },
  ackEpoch: { epoch: "int", currentEpoch: "int", lastZxid: "int", appliedZxid: "int", attempt: "int" },
  diff: { entries: "entries" },
  trunc: { zxid: "int", entries: "entries" },
  snap: { header: "header", nodes: "nodes", done: "boolean" },
  newLeader: { epoch: "int", zxid: "int" },
  upToDate: {},
  proposal: { entry: "entry" },
  ack: { zxid: "int" },
  commit: { zxid: "int" },
  inform: { entry: "entry" },
  request: { sessionId: "bigint", cxid: "int", request: "object", identities: "array" },
  heartbeat: {},
  ping: { sessions: "array" },
  sync: { requestId: "int" },
  syncReply: { requestId: "int" },
};

/** SHAPES as lists, looked up once per frame (every peer message is checked). */
const SHAPE_FIELDS: ReadonlyMap<string, ReadonlyArray<readonly [string, FieldType]>> = new Map(
  Object.entries(SHAPES).map(([kind, fields]) => [kind, Object.entries(fields)]),
);

const STATES = new Set<PeerState>(["looking", "following", "leading", "observing"]);
const SASL_STATUSES = new Set<PeerSaslStatus>(["inProgress", "success", "error"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Returns `value` as a PeerFrame, or throws PeerFrameError naming the first field that is wrong. */
export function checkPeerFrame(value: unknown): PeerFrame {
  if (!isRecord(value) || typeof value["kind"] !== "string") {
    throw new PeerFrameError("peer frame body is not an object with a string `kind`");
  }
  const kind = value["kind"];
  const shape = SHAPE_FIELDS.get(kind);
  if (shape === undefined) throw new PeerFrameError(`peer frame has an unknown kind ${JSON.stringify(kind.slice(0, 40))}`);
  for (const [field, type] of shape) {
    if (!fieldMatches(value[field], type)) {
      throw new PeerFrameError(`peer ${kind} message: field ${field} is not ${describeType(type)}`);
    }
  }
  return value as unknown as PeerFrame;
}

function fieldMatches(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "int":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "bigint":
      return typeof value === "bigint";
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "bytes":
      return value instanceof Uint8Array;
    case "saslStatus":
      return typeof value === "string" && SASL_STATUSES.has(value as PeerSaslStatus);
    case "state":
      return typeof value === "string" && STATES.has(value as PeerState);
    case "array":
      return Array.isArray(value);
    case "object":
      return isRecord(value) && typeof value["kind"] === "string";
    case "entry":
      return isTxnEntry(value);
    case "entries":
      return Array.isArray(value) && value.every(isTxnEntry);
    case "header":
      return isRecord(value) && fieldMatches(value["zxid"], "int") && Array.isArray(value["sessions"]);
    case "nodes":
      return Array.isArray(value) && value.every((node) => isRecord(node) && typeof node["path"] === "string");
  }
}

function isTxnEntry(value: unknown): boolean {
  if (!isRecord(value) || !isRecord(value["header"]) || !isRecord(value["txn"])) return false;
  const header = value["header"];
  return fieldMatches(header["zxid"], "int") && typeof header["sessionId"] === "bigint" &&
    typeof value["txn"]["type"] === "string";
}

function describeType(type: FieldType): string {
  switch (type) {
    case "int":
      return "a safe integer";
    case "state":
      return "a peer state (looking, following, leading, observing)";
    case "saslStatus":
      return "a SASL status (inProgress, success, error)";
    case "bytes":
      return "a byte string";
    case "object":
      return "an object with a kind";
    case "entry":
      return "a txn entry";
    case "entries":
      return "an array of txn entries";
    case "header":
      return "a snapshot header";
    case "nodes":
      return "an array of snapshot nodes";
    default:
      return `a ${type}`;
  }
}
