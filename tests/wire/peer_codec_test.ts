/**
 * Peer frames: every message kind round-trips exactly (bigint, Uint8Array, large zxids), the bytes
 * are the same on every runtime, streams split anywhere decode the same, bad frames are refused
 * with PeerFrameError, and a fuzz of mutated streams never gets anything else out. SEED=<n> replays.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import type { PeerMessage } from "../../src/core/peer_messages.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import { encodeCbor } from "../../src/storage/cbor_codec.ts";
import { crc32c } from "../../src/storage/crc32c.ts";
import { concatBytes } from "../../src/storage/record_framing.ts";
import { createPrng } from "../../src/testing/prng.ts";
import {
  encodePeerFrame,
  PEER_PROTOCOL_VERSION,
  type PeerFrame,
  PeerFrameDecoder,
  PeerFrameError,
} from "../../src/wire/peer_codec.ts";
import { toHex } from "./samples.ts";

const SEED = Number(process.env.SEED ?? 0x5eed);
const FUZZ_CASES = 3000;
const FUZZ_BUDGET_MS = 8000;

const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const BIG_ZXID = 0x1f_ffff_ffff_ffff; // the largest zxid: epoch 2^21-1, counter 2^32-1
const entry = (zxid: number, sessionId: bigint, data: Uint8Array | null): TxnEntry => ({
  header: { sessionId, cxid: 7, zxid, time: 1_700_000_000_123 },
  txn: { type: "create", path: "/a/b", data, acl: OPEN, ephemeralOwner: sessionId, parentCVersion: 3, replyKind: "create2" },
});
const node = {
  path: "/x",
  data: new Uint8Array([0, 255, 7]),
  acl: OPEN,
  czxid: 0x200000001,
  mzxid: 0x200000002,
  ctime: 1,
  mtime: 2,
  version: 3,
  cversion: 4,
  aversion: 0,
  ephemeralOwner: -0x7fff_ffff_ffff_ffffn,
  pzxid: BIG_ZXID,
};

const SAMPLES: PeerFrame[] = [
  { kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 3, to: 1 },
  { kind: "linkHeartbeat" },
  { kind: "heartbeat" },
  { kind: "vote", leader: 3, zxid: BIG_ZXID, electionEpoch: 12, peerEpoch: 2, state: "looking" },
  { kind: "followerInfo", acceptedEpoch: 4, lastZxid: 0x400000010, observer: true, attempt: 3 },
  { kind: "leaderInfo", newEpoch: 5, attempt: 3 },
  { kind: "ackEpoch", epoch: 5, currentEpoch: 4, lastZxid: 0x400000010, appliedZxid: 0x40000000f, attempt: 3 },
  { kind: "diff", entries: [entry(0x500000001, 0x0100_0000_0000_0001n, new Uint8Array([1, 2, 3])), entry(0x500000002, -1n, null)] },
  { kind: "trunc", zxid: 0x400000003, entries: [] },
  { kind: "snap", header: { zxid: 0x500000002, sessions: [{ sessionId: 0x7fff_ffff_ffff_ffffn, timeoutMs: 30000 }] }, nodes: [node], done: false },
  { kind: "newLeader", epoch: 5, zxid: 0x500000000 },
  { kind: "upToDate" },
  { kind: "proposal", entry: entry(0x500000003, -0x8000_0000_0000_0000n, new Uint8Array(0)) },
  { kind: "ack", zxid: 0x500000003 },
  { kind: "commit", zxid: 0x500000003 },
  { kind: "inform", entry: entry(1, 0n, new Uint8Array(1000).fill(0xab)) },
  {
    kind: "request",
    sessionId: 0x0100_0000_0000_0002n,
    cxid: 42,
    request: { kind: "create", path: "/r", data: new TextEncoder().encode("é"), acl: OPEN, flags: 1, ttl: 0n },
    identities: [{ scheme: "ip", id: "127.0.0.1" }],
  },
  { kind: "request", sessionId: 5n, cxid: 0, request: { kind: "createSession", timeoutMs: 4000 }, identities: [] },
  { kind: "ping", sessions: [{ sessionId: 9n, timeoutMs: 6000 }] },
  { kind: "sync", requestId: 1 },
  { kind: "syncReply", requestId: 1 },
];

function decodeAll(bytes: Uint8Array, chunkSize = bytes.length): PeerFrame[] {
  const decoder = new PeerFrameDecoder();
  const frames: PeerFrame[] = [];
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    decoder.push(bytes.subarray(offset, offset + chunkSize));
    for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
  }
  return frames;
}

/** A frame with a hand-made body (CRC computed), for shapes the encoder would never produce. */
function rawFrame(body: Uint8Array, crc = crc32c(body)): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 4 + body.length);
  view.setUint32(4, crc);
  out.set(body, 8);
  return out;
}

describe("peer codec", () => {
  test("every message kind round-trips exactly, bigint and bytes included", () => {
    for (const sample of SAMPLES) {
      const [decoded] = decodeAll(encodePeerFrame(sample));
      assert.deepEqual(decoded, sample, `${sample.kind} changed in a round trip`);
    }
    const [proposal] = decodeAll(encodePeerFrame(SAMPLES.find((sample) => sample.kind === "proposal")!)) as Array<Extract<PeerMessage, { kind: "proposal" }>>;
    const data = (proposal!.entry.txn as { data: Uint8Array }).data;
    assert.equal(data.constructor, Uint8Array, "byte strings decode as plain Uint8Array on every runtime");
    assert.equal(typeof proposal!.entry.header.sessionId, "bigint");
  });

  test("the bytes are fixed (the same on Deno, Bun and Node)", () => {
    const vote = encodePeerFrame({ kind: "vote", leader: 2, zxid: 0x100000003, electionEpoch: 1, peerEpoch: 1, state: "following" });
    assert.equal(
      toHex(vote),
      "00 00 00 51 c9 d5 7b 0a b9 00 06 64 6b 69 6e 64 64 76 6f 74 65 66 6c 65 61 64 65 72 02 64 7a 78 69 64 fb 41 f0 " +
        "00 00 00 30 00 00 6d 65 6c 65 63 74 69 6f 6e 45 70 6f 63 68 01 69 70 65 65 72 45 70 6f 63 68 01 65 73 74 61 " +
        "74 65 69 66 6f 6c 6c 6f 77 69 6e 67",
    );
    const bytes = encodePeerFrame({ kind: "inform", entry: entry(1, 1n, new Uint8Array([9])) });
    assert.ok(!toHex(bytes).includes("d8 40"), "byte strings are not tagged (tag 64) where Buffer exists");
  });

  test("every kind's body is exactly cbor-x's bytes (the log's writer encodes them), a large one too", () => {
    const large: PeerFrame = { kind: "proposal", entry: entry(5, 3n, new Uint8Array(2 * 1024 * 1024).fill(7)) };
    for (const sample of [...SAMPLES, large, SAMPLES[0]!]) {
      const frame = encodePeerFrame(sample);
      assert.deepEqual(frame.subarray(8), encodeCbor(sample), `${sample.kind}: body differs from cbor-x's`);
    }
  });

  test("frames split at every byte decode the same", () => {
    const stream = concatBytes(SAMPLES.map((sample) => encodePeerFrame(sample)));
    const whole = decodeAll(stream);
    assert.equal(whole.length, SAMPLES.length);
    for (const size of [1, 3, 7, 64]) assert.deepEqual(decodeAll(stream, size), whole, `chunks of ${size} bytes`);
  });

  test("bad frames are refused with PeerFrameError, and the decoder stays failed", () => {
    const good = encodePeerFrame({ kind: "ack", zxid: 5 });
    const flipped = good.slice();
    flipped[flipped.length - 1]! ^= 1;
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["a damaged body", flipped, /fails its CRC32C check/],
      ["a frame above the limit", new Uint8Array([0x7f, 0, 0, 0]), /outside \[4, /],
      ["a negative length", new Uint8Array([0xff, 0xff, 0xff, 0xff]), /outside \[4, /],
      ["a frame shorter than its CRC", new Uint8Array([0, 0, 0, 2, 0, 0]), /shorter than its 4-byte CRC/],
      ["a body that is not CBOR", rawFrame(new Uint8Array([0x1c])), /not valid CBOR/],
      ["a body that is not an object", rawFrame(encodeCbor([1, 2])), /not an object with a string `kind`/],
      ["an unknown kind", rawFrame(encodeCbor({ kind: "launch" })), /unknown kind "launch"/],
      ["a missing field", rawFrame(encodeCbor({ kind: "commit" })), /commit message: field zxid is not a safe integer/],
      ["a wrong field type", rawFrame(encodeCbor({ kind: "request", sessionId: 1, cxid: 1, request: { kind: "x" }, identities: [] })), /field sessionId is not a bigint/],
      ["a bad txn entry", rawFrame(encodeCbor({ kind: "diff", entries: [{ header: {}, txn: {} }] })), /field entries is not an array of txn entries/],
      ["a bad peer state", rawFrame(encodeCbor({ kind: "vote", leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, state: "napping" })), /field state is not a peer state/],
    ];
    for (const [what, bytes, message] of cases) {
      const decoder = new PeerFrameDecoder();
      decoder.push(bytes);
      assert.throws(() => decoder.next(), (error: Error) => error instanceof PeerFrameError && message.test(error.message), what);
      decoder.push(good);
      assert.throws(() => decoder.next(), PeerFrameError, `${what}: later frames are not decoded`);
    }
  });

  test("a message larger than the limit is refused at encoding, and the decoder's limit holds", () => {
    const big = { kind: "inform", entry: entry(1, 1n, new Uint8Array(2000)) } as const;
    assert.throws(() => encodePeerFrame(big, 1000), /encodes to \d+ bytes, more than the peer frame limit of 1000 bytes/);
    const decoder = new PeerFrameDecoder({ maxFrameBytes: 1000 });
    decoder.push(encodePeerFrame(big));
    assert.throws(() => decoder.next(), PeerFrameError);
  });

  test(`fuzz: mutated streams only ever give frames or PeerFrameError (seed ${SEED})`, () => {
    const prng = createPrng(SEED);
    const valid = SAMPLES.map((sample) => encodePeerFrame(sample));
    const started = Date.now();
    let frames = 0;
    let refused = 0;
    for (let round = 0; round < FUZZ_CASES && Date.now() - started < FUZZ_BUDGET_MS; round++) {
      const parts = Array.from({ length: 1 + prng.int(4) }, () => valid[prng.int(valid.length)]!);
      const stream = concatBytes(parts);
      const mutations = prng.int(4);
      for (let i = 0; i < mutations; i++) {
        const at = prng.int(stream.length);
        const how = prng.int(3);
        if (how === 0) stream[at] = prng.int(256);
        else if (how === 1) stream[at]! ^= 1 << prng.int(8);
        else stream.fill(0xff, at, Math.min(stream.length, at + 1 + prng.int(8)));
      }
      const cut = prng.int(3) === 0 ? stream.subarray(0, prng.int(stream.length + 1)) : stream;
      const decoder = new PeerFrameDecoder({ maxFrameBytes: 1 << 20 });
      try {
        let chunkAt = 0;
        while (chunkAt < cut.length) {
          const size = 1 + prng.int(64);
          decoder.push(cut.subarray(chunkAt, chunkAt + size));
          chunkAt += size;
          for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames++;
        }
      } catch (error) {
        if (!(error instanceof PeerFrameError)) {
          throw new Error(`seed ${SEED} round ${round}: the decoder threw ${String(error)} (replay with SEED=${SEED})`);
        }
        refused++;
      }
    }
    assert.ok(frames > 0 && refused > 0, `the fuzz reached both outcomes (frames ${frames}, refused ${refused})`);
  });
});
