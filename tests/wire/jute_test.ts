import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { JuteReader, JuteWriter, WireError } from "../../src/wire/jute.ts";
import { hex } from "./samples.ts";

function payloadOf(write: (writer: JuteWriter) => void): Uint8Array {
  const writer = new JuteWriter(16);
  write(writer);
  const frame = writer.finishFrame();
  assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4);
  return frame.subarray(4);
}

describe("JuteWriter", () => {
  test("finishFrame() fills in the big-endian length prefix", () => {
    const writer = new JuteWriter();
    writer.writeInt(1);
    writer.writeInt(4);
    writer.writeString("/a");
    writer.writeBool(true);
    assert.deepEqual(
      writer.finishFrame(),
      hex("00 00 00 0f | 00 00 00 01 | 00 00 00 04 | 00 00 00 02 2f 61 | 01"),
    );
  });

  test("finishFrame() leaves the returned frame intact when the writer is used again", () => {
    const writer = new JuteWriter(16);
    writer.writeInt(7);
    const first = writer.finishFrame();
    writer.writeInt(8);
    const second = writer.finishFrame();
    assert.deepEqual(first, hex("00 00 00 04 00 00 00 07"));
    assert.deepEqual(second, hex("00 00 00 04 00 00 00 08"));
  });

  test("grows past its initial capacity", () => {
    const big = new Uint8Array(5000).fill(0xab);
    const payload = payloadOf((w) => {
      w.writeString("x".repeat(300));
      w.writeBuffer(big);
      w.writeLong(-1);
    });
    const reader = new JuteReader(payload);
    assert.equal(reader.readString(), "x".repeat(300));
    assert.deepEqual(reader.readBuffer(), big);
    assert.equal(reader.readLong(), -1n);
    assert.equal(reader.remaining, 0);
  });

  test("thousands of frames from the shared slab never overwrite each other", () => {
    const frames: Uint8Array[] = [];
    for (let index = 0; index < 5000; index++) {
      const writer = new JuteWriter(16);
      writer.writeInt(index);
      writer.writeBuffer(new Uint8Array(index % 3000).fill(index & 0xff)); // grows past hints and slabs
      frames.push(writer.finishFrame());
    }
    for (const [index, frame] of frames.entries()) {
      const reader = new JuteReader(frame.subarray(4));
      assert.equal(reader.readInt(), index);
      assert.deepEqual(reader.readBuffer(), new Uint8Array(index % 3000).fill(index & 0xff));
      assert.equal(new DataView(frame.buffer, frame.byteOffset).getInt32(0), frame.length - 4);
    }
  });

  test("interleaved, large and abandoned writers all produce intact frames", () => {
    const first = new JuteWriter();
    const second = new JuteWriter();
    const large = new JuteWriter(100_000);
    for (let index = 0; index < 100; index++) {
      first.writeInt(index);
      second.writeInt(-index);
      large.writeBuffer(new Uint8Array(1000).fill(index));
    }
    const abandoned = new JuteWriter();
    abandoned.writeString("never finished");
    const afterAbandoned = new JuteWriter();
    afterAbandoned.writeInt(42);
    const frames = [
      first.finishFrame(),
      second.finishFrame(),
      large.finishFrame(),
      afterAbandoned.finishFrame(),
    ];
    const [a, b, c, d] = frames.map((frame) => new JuteReader(frame.subarray(4)));
    for (let index = 0; index < 100; index++) {
      assert.equal(a!.readInt(), index);
      assert.equal(b!.readInt(), index === 0 ? 0 : -index);
      assert.deepEqual(c!.readBuffer(), new Uint8Array(1000).fill(index));
    }
    assert.equal(d!.readInt(), 42);
    abandoned.discard();
    const reused = new JuteWriter();
    reused.writeBool(true);
    assert.deepEqual(reused.finishFrame(), hex("00 00 00 01 01"));
  });

  test("writeLong() writes numbers and bigints as two's complement", () => {
    const cases: [number | bigint, string][] = [
      [0, "00 00 00 00 00 00 00 00"],
      [-1, "ff ff ff ff ff ff ff ff"],
      [0x25, "00 00 00 00 00 00 00 25"],
      [0x100000001, "00 00 00 01 00 00 00 01"],
      [-0x100000001, "ff ff ff fe ff ff ff ff"],
      [Number.MAX_SAFE_INTEGER, "00 1f ff ff ff ff ff ff"],
      [Number.MIN_SAFE_INTEGER, "ff e0 00 00 00 00 00 01"],
      [2 ** 62, "40 00 00 00 00 00 00 00"],
      [2 ** 63, "7f ff ff ff ff ff ff ff"], // clamped
      [0x0100000997c60000n, "01 00 00 09 97 c6 00 00"],
      [-0x8000000000000000n, "80 00 00 00 00 00 00 00"],
      [0xffffffffffffffffn, "7f ff ff ff ff ff ff ff"], // clamped
    ];
    for (const [value, expected] of cases) {
      assert.deepEqual(payloadOf((w) => w.writeLong(value)), hex(expected), `writeLong(${value})`);
    }
    assert.throws(() => new JuteWriter().writeLong(1.5), RangeError);
    assert.throws(() => new JuteWriter().writeLong(Number.NaN), RangeError);
  });

  test("null and empty strings and buffers differ on the wire", () => {
    assert.deepEqual(payloadOf((w) => w.writeString(null)), hex("ff ff ff ff"));
    assert.deepEqual(payloadOf((w) => w.writeString("")), hex("00 00 00 00"));
    assert.deepEqual(payloadOf((w) => w.writeBuffer(null)), hex("ff ff ff ff"));
    assert.deepEqual(payloadOf((w) => w.writeBuffer(new Uint8Array(0))), hex("00 00 00 00"));
    assert.deepEqual(payloadOf((w) => w.writeStringVector(null)), hex("ff ff ff ff"));
    assert.deepEqual(payloadOf((w) => w.writeStringVector([])), hex("00 00 00 00"));
  });

  test("writeString() encodes standard UTF-8, short and long", () => {
    for (const text of ["ü", "/a/😀", "é".repeat(40), "ascii then ü " + "y".repeat(100), "z".repeat(65)]) {
      const expected = new TextEncoder().encode(text);
      const payload = payloadOf((w) => w.writeString(text));
      assert.equal(new DataView(payload.buffer, payload.byteOffset).getInt32(0), expected.length);
      assert.deepEqual(payload.subarray(4), expected);
    }
  });
});

describe("JuteReader", () => {
  test("reads back what the writer wrote", () => {
    const payload = payloadOf((w) => {
      w.writeInt(-7);
      w.writeLong(0x123456789n);
      w.writeLong(-5);
      w.writeBool(false);
      w.writeString("päth");
      w.writeBuffer(new Uint8Array([1, 2]));
      w.writeStringVector(["a", "", "ü"]);
      w.writeVector([1, 2, 3], (writer, item) => writer.writeInt(item * 10));
    });
    const r = new JuteReader(payload);
    assert.equal(r.readInt(), -7);
    assert.equal(r.readLong(), 0x123456789n);
    assert.equal(r.readLongNumber(), -5);
    assert.equal(r.readBool(), false);
    assert.equal(r.readString(), "päth");
    assert.deepEqual(r.readBuffer(), new Uint8Array([1, 2]));
    assert.deepEqual(r.readStringVector(), ["a", "", "ü"]);
    assert.deepEqual(r.readVector("ints", 4, (reader) => reader.readInt()), [10, 20, 30]);
    assert.equal(r.remaining, 0);
    assert.equal(r.offset, payload.length);
  });

  test("readBool() treats any non-zero byte as true", () => {
    const r = new JuteReader(hex("00 01 07 ff 80"));
    assert.deepEqual([r.readBool(), r.readBool(), r.readBool(), r.readBool(), r.readBool()], [
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  test("readLongNumber() is exact for safe integers and Number(bigint) beyond", () => {
    const values = [
      0n,
      -1n,
      0x25n,
      0x7fffffffn,
      -0x80000000n,
      0x1fffffffffffffn,
      -0x1fffffffffffffn,
      0x7fffffffffffffffn,
      -0x8000000000000000n,
      0x20000000000001n,
    ];
    for (const value of values) {
      const payload = payloadOf((w) => w.writeLong(value));
      assert.equal(new JuteReader(payload).readLongNumber(), Number(value), `readLongNumber(${value})`);
    }
  });

  test("length −1 is null, 0 is empty", () => {
    const r = new JuteReader(hex("ff ff ff ff 00 00 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff 00 00 00 00"));
    assert.equal(r.readString(), null);
    assert.equal(r.readString(), "");
    assert.equal(r.readBuffer(), null);
    assert.deepEqual(r.readBuffer(), new Uint8Array(0));
    assert.equal(r.readStringVector(), null);
    assert.deepEqual(r.readStringVector(), []);
  });

  test("vector counts below −1 read as empty, as the reference", () => {
    const r = new JuteReader(hex("ff ff ff fe 80 00 00 00"));
    assert.deepEqual(r.readStringVector(), []);
    assert.deepEqual(r.readStringVector(), []);
  });

  test("readBuffer() returns a view and readBufferCopy() a copy", () => {
    const payload = hex("00 00 00 02 0a 0b 00 00 00 02 0c 0d");
    const r = new JuteReader(payload);
    const view = r.readBuffer()!;
    const copy = r.readBufferCopy()!;
    payload[4] = 0xee;
    payload[10] = 0xee;
    assert.deepEqual(view, new Uint8Array([0xee, 0x0b]));
    assert.deepEqual(copy, new Uint8Array([0x0c, 0x0d]));
  });

  test("readBufferCopy() copies a Buffer payload (Node's sockets give Buffers) into a plain Uint8Array", () => {
    const payload = Buffer.from(hex("00 00 00 02 0c 0d"));
    const copy = new JuteReader(payload).readBufferCopy()!;
    payload[4] = 0xee;
    assert.equal(copy.constructor, Uint8Array);
    assert.deepEqual(copy, new Uint8Array([0x0c, 0x0d]));
  });

  test("invalid UTF-8 becomes U+FFFD and a leading BOM is kept", () => {
    const r = new JuteReader(hex("00 00 00 03 2f ff 61 00 00 00 04 ef bb bf 61 00 00 00 02 c3 28"));
    assert.equal(r.readString(), "/\ufffda");
    assert.equal(r.readString(), "\ufeffa");
    assert.equal(r.readString(), "\ufffd(");
    const long = new Uint8Array(200).fill(0x61);
    long[150] = 0xc0;
    const payload = payloadOf((w) => w.writeBuffer(long));
    assert.equal(new JuteReader(payload).readString(), "a".repeat(150) + "\ufffd" + "a".repeat(49));
  });

  test("reads past the end throw WireError naming the field", () => {
    assert.throws(
      () => new JuteReader(hex("00 00 00")).readInt("xid"),
      (e: unknown) => e instanceof WireError && /"xid"/.test(e.message),
    );
    assert.throws(
      () => new JuteReader(hex("00×7")).readLong("zxid"),
      (e: unknown) => e instanceof WireError && /"zxid"/.test(e.message),
    );
    assert.throws(() => new JuteReader(hex("00×7")).readLongNumber("ctime"), WireError);
    assert.throws(
      () => new JuteReader(new Uint8Array(0)).readBool("watch"),
      (e: unknown) => e instanceof WireError && /"watch"/.test(e.message),
    );
  });

  test("bad lengths throw WireError naming the field", () => {
    const tooLong = hex("00 00 00 05 61 62");
    assert.throws(
      () => new JuteReader(tooLong).readString("path"),
      (e: unknown) => e instanceof WireError && /"path".*length 5/.test(e.message),
    );
    assert.throws(
      () => new JuteReader(tooLong).readBuffer("data"),
      (e: unknown) => e instanceof WireError && /"data"/.test(e.message),
    );
    const negative = hex("ff ff ff fe 00 00");
    assert.throws(
      () => new JuteReader(negative).readString("scheme"),
      (e: unknown) => e instanceof WireError && /"scheme".*-2/.test(e.message),
    );
    assert.throws(() => new JuteReader(negative).readBufferCopy("auth"), WireError);
  });

  test("a vector count that cannot fit throws before allocating", () => {
    const r = new JuteReader(hex("7f ff ff ff 00 00 00 00"));
    assert.throws(
      () => r.readStringVector("children"),
      (e: unknown) => e instanceof WireError && /"children"/.test(e.message),
    );
    const zeroSize = new JuteReader(hex("7f ff ff ff"));
    assert.throws(() => zeroSize.readVector("things", 0, () => 1), WireError);
  });
});
