/**
 * Hand-made and mutated client frames for the live fuzz test: jute pieces to build hostile bodies
 * (huge vector counts, negative and oversized lengths), mutations of valid request frames (bit
 * flips, bodies that end early with the length prefix fixed up, wrong opcodes) and bad length
 * prefixes. Every generator takes the seeded PRNG so a run replays from its seed.
 */
import { OpCode, type Request } from "../../../src/core/records.ts";
import type { Prng } from "../../../src/testing/prng.ts";
import { encodeConnectRequest, encodeRequest } from "../../../src/wire/client_protocol.ts";
import { sampleRequests } from "../../wire/samples.ts";

/** jute.maxbuffer's default, which the fuzzed server keeps. */
export const MAX_FRAME_BYTES = 0xfffff;

// ---------------------------------------------------------------------------------------------------
// Jute pieces

export function int32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value | 0);
  return out;
}

export function int64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, value));
  return out;
}

export function ustring(text: string | null): Uint8Array {
  if (text === null) return int32(-1);
  const bytes = new TextEncoder().encode(text);
  return concat([int32(bytes.length), bytes]);
}

export function bool(value: boolean): Uint8Array {
  return Uint8Array.of(value ? 1 : 0);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `payload` behind a length prefix that says `length` (the true length unless told otherwise). */
export function framed(payload: Uint8Array, length = payload.length): Uint8Array {
  return concat([int32(length), payload]);
}

/** A request frame from raw parts: RequestHeader{xid, opcode} + body. */
export function requestFrame(xid: number, opcode: number, ...body: Uint8Array[]): Uint8Array {
  return framed(concat([int32(xid), int32(opcode), ...body]));
}

/** A valid request frame, copied (encodeRequest may return a view of a shared slab). */
export function validFrame(xid: number, request: Request): Uint8Array {
  return encodeRequest(xid, request).slice();
}

export function validConnectRequest(
  options: {
    timeOut?: number;
    readOnly?: boolean;
    sessionId?: bigint;
    passwd?: Uint8Array;
    lastZxidSeen?: number;
  } = {},
): Uint8Array {
  return encodeConnectRequest({
    protocolVersion: 0,
    lastZxidSeen: options.lastZxidSeen ?? 0,
    timeOut: options.timeOut ?? 30000,
    sessionId: options.sessionId ?? 0n,
    passwd: options.passwd ?? new Uint8Array(16),
    readOnly: options.readOnly,
  }).slice();
}

// ---------------------------------------------------------------------------------------------------
// Bodies of valid opcodes that must not parse (wire protocol §1.1 reader limits, §2.5: err −5, stay open)

const ACL_OPEN = concat([int32(31), ustring("world"), ustring("anyone")]);

export interface HostileBody {
  label: string;
  opcode: number;
  body: Uint8Array;
}

export const UNPARSABLE_BODIES: readonly HostileBody[] = [
  {
    label: "create with an ACL count of 2^31-1",
    opcode: OpCode.create,
    body: concat([ustring("/h1"), ustring("x"), int32(0x7fffffff), ACL_OPEN, int32(0)]),
  },
  {
    label: "create with an ACL count of 2^28 and no ACLs",
    opcode: OpCode.create,
    body: concat([ustring("/h2"), ustring(null), int32(0x10000000)]),
  },
  {
    label: "setACL with an ACL count of 2^30",
    opcode: OpCode.setACL,
    body: concat([ustring("/"), int32(0x40000000), ACL_OPEN]),
  },
  {
    label: "setWatches with a watch count of 2^31-1",
    opcode: OpCode.setWatches,
    body: concat([int64(0n), int32(0x7fffffff), ustring("/a")]),
  },
  {
    label: "multiRead with a path of length 2^31-1",
    opcode: OpCode.multiRead,
    body: concat([int32(OpCode.getData), bool(false), int32(-1), int32(0x7fffffff), Uint8Array.of(0x2f)]),
  },
  {
    label: "getData with a path length of -5",
    opcode: OpCode.getData,
    body: concat([int32(-5), bool(false)]),
  },
  {
    label: "getData with a path length of -2^31",
    opcode: OpCode.getData,
    body: concat([int32(-0x80000000), bool(false)]),
  },
  {
    label: "getData with a path length of 2^31-1",
    opcode: OpCode.getData,
    body: concat([int32(0x7fffffff), Uint8Array.of(0x2f), bool(false)]),
  },
  {
    label: "getData with a path longer than the frame",
    opcode: OpCode.getData,
    body: concat([int32(40), new TextEncoder().encode("/only-part")]),
  },
  {
    label: "setData with a data length of -7",
    opcode: OpCode.setData,
    body: concat([ustring("/"), int32(-7), int32(-1)]),
  },
  {
    label: "setData with a data length beyond jute.maxbuffer",
    opcode: OpCode.setData,
    body: concat([ustring("/"), int32(0x7ffffff0), new Uint8Array(8)]),
  },
  { label: "exists with 2 body bytes", opcode: OpCode.exists, body: Uint8Array.of(0, 0) },
  { label: "getChildren without its watch byte", opcode: OpCode.getChildren, body: ustring("/") },
  { label: "getACL with an empty body", opcode: OpCode.getACL, body: new Uint8Array(0) },
  { label: "delete without its version", opcode: OpCode.delete, body: ustring("/a") },
  {
    label: "multi with a create op cut short",
    opcode: OpCode.multi,
    body: concat([int32(OpCode.create), bool(false), int32(-1), ustring("/m")]),
  },
  {
    label: "multi whose create op has an ACL count of 2^31-1",
    opcode: OpCode.multi,
    body: concat([
      int32(OpCode.create),
      bool(false),
      int32(-1),
      ustring("/m"),
      ustring(null),
      int32(0x7fffffff),
    ]),
  },
];

/** Opcodes outside the valid set (§2.5; 13 outside a multi and −10 count as unknown). */
export const UNKNOWN_OPCODES: readonly number[] = [
  0,
  -1,
  10,
  13,
  50,
  -10,
  23,
  99,
  108,
  1000,
  0x7fffffff,
  -0x80000000,
];

/**
 * Sample kinds whose truncated body gets err −5 and keeps the connection (auth: see the live test).
 * deleteContainer is left out: a client's op 20 is refused with −8 whatever its body (ZooKeeper 3.8
 * never parses it; tests/adversary/acl_opcodes_test.ts).
 */
const TRUNCATABLE_KINDS = new Set<string>(
  sampleRequests.map((request) => request.kind).filter((kind) =>
    !["auth", "sasl", "check", "ping", "closeSession", "whoAmI", "deleteContainer"].includes(kind)
  ),
);

/** One sample request of each kind whose truncated body must be answered with err −5. */
export function truncatableSamples(): Request[] {
  const seen = new Set<string>();
  return sampleRequests.filter((request) => {
    if (!TRUNCATABLE_KINDS.has(request.kind) || seen.has(request.kind)) return false;
    seen.add(request.kind);
    return true;
  });
}

/** `frame` (a valid request frame) with its body cut at a random point, the length prefix fixed up. */
export function truncatedFrame(prng: Prng, frame: Uint8Array): Uint8Array {
  const payload = frame.subarray(4);
  const bodyLength = payload.length - 8;
  if (bodyLength <= 0) return frame.slice();
  return framed(payload.slice(0, 8 + prng.int(bodyLength)));
}

// ---------------------------------------------------------------------------------------------------
// Random traffic

/** Extra valid requests beyond the samples: watches on everything, sequential creates, reads of the root. */
const EXTRA_VALID: readonly Request[] = [
  { kind: "addWatch", path: "/", mode: 1 },
  {
    kind: "create",
    path: "/fz/n-",
    data: new Uint8Array(3),
    acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
    flags: 2,
    ttl: 0n,
  },
  {
    kind: "create",
    path: "/fz",
    data: null,
    acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
    flags: 0,
    ttl: 0n,
  },
  { kind: "getChildren2", path: "/", watch: true },
  { kind: "getData", path: "/zookeeper/config", watch: true },
  { kind: "sync", path: "/" },
  { kind: "exists", path: "/fz", watch: true },
];

function pick<T>(prng: Prng, items: readonly T[]): T {
  return items[prng.int(items.length)]!;
}

/** Never −1: a reply echoing it would look like a notification to the fuzz test's checks. */
function randomXid(prng: Prng): number {
  return prng.int(8) === 0 ? pick(prng, [-2, -4, -8, 0, 0x7fffffff, -0x80000000]) : 1 + prng.int(100000);
}

export function randomValidRequest(prng: Prng): Request {
  return prng.int(3) === 0 ? pick(prng, EXTRA_VALID) : pick(prng, sampleRequests);
}

/** An int that is often a boundary: the sizes and counts that break length checks. */
function interestingInt(prng: Prng): number {
  const choices = [
    0,
    1,
    7,
    8,
    16,
    -1,
    -2,
    -5,
    0x7fffffff,
    -0x80000000,
    MAX_FRAME_BYTES,
    MAX_FRAME_BYTES + 1,
    0x40000000,
  ];
  return prng.int(4) === 0 ? prng.int(2 ** 32) | 0 : pick(prng, choices);
}

export interface FuzzItem {
  /** What was sent, for failure reports. */
  label: string;
  bytes: Uint8Array;
}

/** (a) Random bytes, sometimes behind a plausible length prefix. */
export function randomBytesItem(prng: Prng): FuzzItem {
  const length = prng.int(4) === 0 ? prng.int(400) : prng.int(40);
  const bytes = prng.bytes(length);
  if (prng.int(2) === 0) return { label: `random ${length} bytes`, bytes };
  return { label: `random ${length} bytes, framed`, bytes: framed(bytes) };
}

/** (c) A valid request frame. */
export function validItem(prng: Prng): FuzzItem {
  const request = randomValidRequest(prng);
  const xid = randomXid(prng);
  return { label: `valid ${request.kind} xid ${xid}`, bytes: validFrame(xid, request) };
}

/** (b) A valid frame mutated, or a hand-made hostile one. */
export function mutatedItem(prng: Prng): FuzzItem {
  const request = randomValidRequest(prng);
  const xid = randomXid(prng);
  const frame = validFrame(xid, request);
  switch (prng.int(9)) {
    case 0: { // bit flips anywhere after the length prefix
      const flips = 1 + prng.int(8);
      for (let i = 0; i < flips && frame.length > 4; i++) {
        const at = 4 + prng.int(frame.length - 4);
        frame[at]! ^= 1 << prng.int(8);
      }
      return { label: `${request.kind} with ${flips} bit flips`, bytes: frame };
    }
    case 1: // a record that ends early, length prefix fixed up
      return { label: `${request.kind} truncated`, bytes: truncatedFrame(prng, frame) };
    case 2: { // a wrong opcode over a valid body
      const opcode = prng.int(2) === 0 ? pick(prng, UNKNOWN_OPCODES) : pick(prng, [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        11,
        12,
        14,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        101,
        103,
        104,
        105,
        106,
        107,
      ]);
      new DataView(frame.buffer, frame.byteOffset).setInt32(8, opcode);
      return { label: `${request.kind} body under opcode ${opcode}`, bytes: frame };
    }
    case 3: { // an int inside the body replaced by a boundary value (lengths, counts)
      const body = frame.length - 12;
      if (body >= 4) {
        const at = 12 + prng.int(body - 3);
        const value = interestingInt(prng);
        new DataView(frame.buffer, frame.byteOffset).setInt32(at, value);
        return { label: `${request.kind} with int ${value} at byte ${at}`, bytes: frame };
      }
      return { label: `${request.kind} (too short to poke)`, bytes: frame };
    }
    case 4: { // a hostile body from the list, under its opcode
      const hostile = pick(prng, UNPARSABLE_BODIES);
      return { label: hostile.label, bytes: requestFrame(xid, hostile.opcode, hostile.body) };
    }
    case 5: { // length prefix negative or beyond jute.maxbuffer: the server must close
      const length = pick(prng, [-1, -5, -0x80000000, MAX_FRAME_BYTES + 1, 0x200000, 0x7fffffff]);
      return { label: `length prefix ${length}`, bytes: framed(frame.subarray(4), length) };
    }
    case 6: { // a frame shorter than the 8-byte RequestHeader: the server must close
      const length = prng.int(8);
      return { label: `${length}-byte frame`, bytes: framed(prng.bytes(length)) };
    }
    case 7: { // a length prefix that claims more or fewer bytes than follow (desynchronises framing)
      const delta = pick(prng, [-3, -1, 1, 5, 64, 4096]);
      return {
        label: `${request.kind} with length off by ${delta}`,
        bytes: framed(frame.subarray(4), Math.max(0, frame.length - 4 + delta)),
      };
    }
    default: { // trailing garbage after a valid body (ignored by the reference)
      const tail = prng.bytes(1 + prng.int(16));
      return {
        label: `${request.kind} with ${tail.length} trailing bytes`,
        bytes: framed(concat([frame.subarray(4), tail])),
      };
    }
  }
}

/** A fuzzed first frame: garbage, a ConnectRequest cut short, a bad length, an unknown session. */
export function fuzzedHandshake(prng: Prng): FuzzItem {
  const connect = validConnectRequest({
    timeOut: 1000 + prng.int(30000),
    readOnly: prng.int(2) === 0 ? undefined : prng.int(2) === 1,
  });
  switch (prng.int(6)) {
    case 0:
      return { label: "handshake: random bytes", bytes: prng.bytes(1 + prng.int(60)) };
    case 1:
      return { label: "handshake: ConnectRequest truncated", bytes: truncatedConnect(prng, connect) };
    case 2:
      return {
        label: "handshake: bad length prefix",
        bytes: framed(connect.subarray(4), pick(prng, [-1, -45, MAX_FRAME_BYTES + 1, 0x7fffffff])),
      };
    case 3: {
      const sessionId = BigInt.asIntN(64, (BigInt(prng.int(2 ** 32)) << 32n) | BigInt(prng.int(2 ** 32)));
      return {
        label: "handshake: unknown session",
        bytes: validConnectRequest({ sessionId, passwd: prng.bytes(16) }),
      };
    }
    case 4:
      return {
        label: "handshake: lastZxidSeen from the future",
        bytes: validConnectRequest({ lastZxidSeen: 0x7fffffffff }),
      };
    default: {
      for (let i = 0, flips = 1 + prng.int(6); i < flips; i++) {
        connect[4 + prng.int(connect.length - 4)]! ^= 1 << prng.int(8);
      }
      return { label: "handshake: ConnectRequest with bit flips", bytes: connect };
    }
  }
}

function truncatedConnect(prng: Prng, connect: Uint8Array): Uint8Array {
  return framed(connect.slice(4, 4 + prng.int(connect.length - 4)));
}

/** Splits `bytes` into 1–6 chunks at random points (exercises prefixes and frames split across reads). */
export function randomChunks(prng: Prng, bytes: Uint8Array): Uint8Array[] {
  const count = 1 + prng.int(6);
  if (bytes.length < 2 || count === 1) return [bytes];
  const cuts = new Set<number>();
  for (let i = 1; i < count; i++) cuts.add(1 + prng.int(bytes.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of sorted) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
