/**
 * encodePeerFrame encodes a message object once when it is sent to several peers in a row (the
 * leader's proposals and commits), and the shared bytes decode like a fresh encoding.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PeerMessage } from "../../src/core/peer_messages.ts";
import { encodePeerFrame, PeerFrameDecoder } from "../../src/wire/peer_codec.ts";

function decodeOne(bytes: Uint8Array): unknown {
  const decoder = new PeerFrameDecoder();
  decoder.push(bytes);
  const frame = decoder.next();
  assert.equal(decoder.next(), null);
  return frame;
}

describe("peer codec, one encoding per message object", () => {
  test("the same object in a row gives the same bytes; an equal new object gives equal bytes", () => {
    const commit: PeerMessage = { kind: "commit", zxid: 0x100000007 };
    const first = encodePeerFrame(commit);
    assert.equal(encodePeerFrame(commit), first);
    const fresh = encodePeerFrame({ kind: "commit", zxid: 0x100000007 });
    assert.notEqual(fresh, first);
    assert.deepEqual([...fresh], [...first]);
    assert.deepEqual(decodeOne(first), commit);
  });

  test("a different limit re-encodes (and still enforces it)", () => {
    const ack: PeerMessage = { kind: "ack", zxid: 3 };
    encodePeerFrame(ack);
    assert.throws(() => encodePeerFrame(ack, 4), /more than the peer frame limit of 4 bytes/);
  });

  test("frames carved from the shared slab stay intact while later frames are encoded", () => {
    const frames: Array<{ zxid: number; bytes: Uint8Array }> = [];
    for (let zxid = 1; zxid <= 2000; zxid++) frames.push({ zxid, bytes: encodePeerFrame({ kind: "ack", zxid }) });
    for (const { zxid, bytes } of frames) assert.deepEqual(decodeOne(bytes), { kind: "ack", zxid });
  });
});

describe("peer codec, acks and commits", () => {
  test("decode to exactly what the general decoder gives, for every number width", async () => {
    const { decodeCbor } = await import("../../src/storage/cbor_codec.ts");
    for (const kind of ["ack", "commit"] as const) {
      for (const zxid of [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 0x100000123, Number.MAX_SAFE_INTEGER]) {
        const bytes = encodePeerFrame({ kind, zxid });
        const decoded = decodeOne(bytes);
        assert.deepEqual(decoded, { kind, zxid });
        assert.deepEqual(Object.keys(decoded as object), ["kind", "zxid"]);
        assert.deepEqual(decoded, decodeCbor(bytes.subarray(8)));
      }
    }
  });

  test("a zxid that is not a safe integer is still refused", () => {
    const bytes = encodePeerFrame({ kind: "ack", zxid: 2 ** 60 } as PeerMessage);
    const decoder = new PeerFrameDecoder();
    decoder.push(bytes);
    assert.throws(() => decoder.next(), /field zxid is not a safe integer/);
  });
});
