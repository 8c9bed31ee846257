import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError } from "../../src/wire/frame_decoder.ts";
import { encodeRequest } from "../../src/wire/client_protocol.ts";
import { hex } from "./samples.ts";

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setInt32(0, payload.length);
  out.set(payload, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Takes every payload available now, copying each (as a caller whose chunks get reused must). */
function drain(decoder: FrameDecoder, into: Uint8Array[]): void {
  for (let guard = 0; guard < 10_000; guard++) {
    const payload = decoder.next();
    if (payload === null) return;
    into.push(payload.slice());
  }
  assert.fail("next() did not run dry");
}

const payloads = [
  new Uint8Array(0),
  Uint8Array.of(1),
  Uint8Array.from({ length: 7 }, (_, i) => i + 10),
  encodeRequest(1, { kind: "getData", path: "/a", watch: true }).subarray(4),
  Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc),
];
const stream = concat(payloads.map(frame));

describe("FrameDecoder", () => {
  test("a chunk with many whole frames is split into views without copying", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    decoder.push(stream);
    const out: Uint8Array[] = [];
    for (let payload = decoder.next(); payload !== null; payload = decoder.next()) {
      assert.equal(payload.buffer, stream.buffer, "a view of the pushed chunk");
      out.push(payload);
    }
    assert.deepEqual(out, payloads);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test("the stream split into two chunks at every byte boundary gives the same payloads", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
      const out: Uint8Array[] = [];
      decoder.push(stream.subarray(0, cut));
      drain(decoder, out);
      decoder.push(stream.subarray(cut));
      drain(decoder, out);
      assert.deepEqual(out, payloads, `cut at ${cut}`);
    }
  });

  test("one byte at a time through a reused chunk buffer gives the same payloads", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
    const reused = new Uint8Array(1);
    const out: Uint8Array[] = [];
    for (const byte of stream) {
      reused[0] = byte;
      decoder.push(reused);
      drain(decoder, out);
      reused[0] = 0xaa; // the adapter overwrites its buffer after onData returns
    }
    assert.deepEqual(out, payloads);
  });

  test("chunks of every size from 1 to 64 through a reused buffer give the same payloads", () => {
    for (let size = 1; size <= 64; size++) {
      const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
      const reused = new Uint8Array(size);
      const out: Uint8Array[] = [];
      for (let offset = 0; offset < stream.length; offset += size) {
        const piece = stream.subarray(offset, offset + size);
        reused.set(piece);
        decoder.push(reused.subarray(0, piece.length));
        drain(decoder, out);
        reused.fill(0x55);
      }
      assert.deepEqual(out, payloads, `chunk size ${size}`);
    }
  });

  test("frames may wait in the decoder across pushes when chunks are not reused", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
    decoder.push(stream.slice(0, 20));
    decoder.push(stream.slice(20));
    const out: Uint8Array[] = [];
    drain(decoder, out);
    assert.deepEqual(out, payloads);
  });

  test("a length above maxFrameBytes throws FrameError after the frames before it", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    decoder.push(
      concat([
        frame(Uint8Array.of(1, 2)),
        frame(new Uint8Array(100)),
        hex("00 00 00 65"),
        new Uint8Array(101),
      ]),
    );
    assert.deepEqual(decoder.next(), Uint8Array.of(1, 2));
    assert.equal(decoder.next()!.length, 100);
    assert.throws(
      () => decoder.next(),
      (e: unknown) => e instanceof FrameError && e.length === 101 && /101/.test(e.message),
    );
    decoder.push(frame(Uint8Array.of(3)));
    assert.throws(() => decoder.next(), FrameError, "stays failed");
    assert.equal(decoder.bufferedBytes, 0);
  });

  test("a negative length throws FrameError naming it", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    decoder.push(hex("ff ff ff fb 00 00"));
    assert.throws(() => decoder.next(), (e: unknown) => e instanceof FrameError && /-5/.test(e.message));
  });

  test("the limit is checked on the prefix alone, before the payload arrives", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    decoder.push(hex("00 20 00 00")); // 2 MiB
    assert.throws(() => decoder.next(), (e: unknown) => e instanceof FrameError && /2097152/.test(e.message));
    const exact = new FrameDecoder({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    exact.push(hex("00 0f ff ff"));
    assert.equal(exact.next(), null);
  });

  test("peekFirstWord() sees a four-letter word before framing", () => {
    const decoder = new FrameDecoder();
    assert.equal(decoder.peekFirstWord(), null);
    decoder.push(hex("72 75"));
    assert.equal(decoder.peekFirstWord(), null);
    decoder.push(hex("6f 6b"));
    assert.equal(decoder.peekFirstWord(), 0x72756f6b);
    assert.throws(() => decoder.next(), FrameError);
    assert.equal(decoder.peekFirstWord(), 0x72756f6b);
  });

  test("peekFirstWord() is the first length until a payload is taken, then null", () => {
    const decoder = new FrameDecoder();
    decoder.push(stream);
    assert.equal(decoder.peekFirstWord(), 0);
    decoder.next();
    assert.equal(decoder.peekFirstWord(), null);
  });

  test("buffered bytes stay within maxFrameBytes + 4 while a large frame trickles in", () => {
    const max = 5000;
    const decoder = new FrameDecoder({ maxFrameBytes: max });
    const big = frame(new Uint8Array(max).fill(7));
    let peak = 0;
    const chunk = new Uint8Array(333);
    for (let offset = 0; offset < big.length; offset += chunk.length) {
      const piece = big.subarray(offset, offset + chunk.length);
      chunk.set(piece);
      decoder.push(chunk.subarray(0, piece.length));
      peak = Math.max(peak, decoder.bufferedBytes);
      if (offset + chunk.length < big.length) assert.equal(decoder.next(), null);
    }
    assert.ok(peak <= max + 4, `peak ${peak}`);
    assert.deepEqual(decoder.next(), new Uint8Array(max).fill(7));
    assert.equal(decoder.bufferedBytes, 0);
  });

  test("rejects a nonsensical maxFrameBytes", () => {
    assert.throws(() => new FrameDecoder({ maxFrameBytes: -1 }), RangeError);
    assert.throws(() => new FrameDecoder({ maxFrameBytes: 1.5 }), RangeError);
  });
});
