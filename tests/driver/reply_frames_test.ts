import assert from "node:assert/strict";
import { test } from "node:test";
import type { Reply } from "../../src/core/records.ts";
import { encodeReplyPieces, ZERO_COPY_DATA_BYTES_MIN } from "../../src/driver/reply_frames.ts";
import { encodeReply } from "../../src/wire/client_protocol.ts";

const stat = {
  czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, cversion: 6, aversion: 7,
  ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 8,
};

function joined(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

test("reply pieces: a large getData reply is the same frame, its data passed by reference", () => {
  const data = new Uint8Array(ZERO_COPY_DATA_BYTES_MIN + 123).map((_, i) => i & 0xff);
  const reply = { header: { xid: 7, zxid: 99, err: 0 }, body: { kind: "getData", data, stat: { ...stat, dataLength: data.length } } } as Reply;
  const pieces = encodeReplyPieces(reply);
  assert.equal(pieces.length, 3);
  assert.equal(pieces[1], data, "the data is not copied");
  assert.deepEqual(joined(pieces), encodeReply(reply).slice());
});

test("reply pieces: small data, null data and other replies are one frame", () => {
  const small = { header: { xid: 1, zxid: 2, err: 0 }, body: { kind: "getData", data: new Uint8Array(10), stat } } as Reply;
  const none = { header: { xid: 1, zxid: 2, err: 0 }, body: { kind: "getData", data: null, stat } } as Reply;
  const error = { header: { xid: 1, zxid: 2, err: -101 }, body: null } as Reply;
  for (const reply of [small, none, error]) {
    const pieces = encodeReplyPieces(reply);
    assert.equal(pieces.length, 1);
    assert.deepEqual(pieces[0]!.slice(), encodeReply(reply).slice());
  }
});
