import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeTxnEntry, encodeCbor, encodeTxnEntry } from "../../src/storage/cbor_codec.ts";
import { CborWriter } from "../../src/storage/cbor_writer.ts";
import type { TxnEntry } from "../../src/core/txn.ts";

function fastBytes(value: unknown): Uint8Array | null {
  const writer = new CborWriter(16); // small, so growing is exercised too
  return writer.write(value) ? writer.copy() : null;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function assertSameAsCborX(value: unknown, label: string): void {
  const fast = fastBytes(value);
  assert.notEqual(fast, null, `${label}: the writer refused a value it should encode`);
  assert.equal(hex(fast!), hex(encodeCbor(value)), label);
}

// deno-fmt-ignore
const NUMBERS = [
  0, -0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53,
  -1, -24, -25, -256, -257, -65536, -65537, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 32), -(2 ** 32) - 1,
  1.5, -1.5, 0.1, 1e300, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0x1_0000_0002,
];
// deno-fmt-ignore
const BIGINTS = [0n, 1n, -1n, -2n, 2n ** 63n, -(2n ** 63n), 2n ** 64n - 1n, -(2n ** 64n) + 1n, 0x1234567890abcdefn];

function stringOf(length: number, unit: string): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

// deno-fmt-ignore
const STRINGS = [
  "", "a", "/a/b", "header", stringOf(23, "x"), stringOf(24, "x"), stringOf(31, "x"), stringOf(32, "x"),
  stringOf(63, "x"), stringOf(64, "x"), stringOf(255, "x"), stringOf(256, "x"), stringOf(70000, "x"),
  "é", stringOf(20, "é"), stringOf(100, "é"), "€uro", stringOf(90, "€"), "😀", stringOf(40, "😀"),
  stringOf(10, "\ud800"), stringOf(70, "\ud800"), "a\udc00b", stringOf(30000, "€"),
];

function bytesOf(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 7 + 3) & 0xff);
}

function entry(zxid: number, txn: TxnEntry["txn"], sessionId = 0x1234_5678_9abc_def0n): TxnEntry {
  return { header: { sessionId, cxid: 42, zxid, time: 1_763_795_000_123 }, txn };
}

const ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const ENTRIES: TxnEntry[] = [
  entry(1, { type: "createSession", timeoutMs: 30_000 }),
  entry(2, { type: "closeSession", paths: ["/e1", "/e2/x"] }),
  entry(3, {
    type: "create",
    path: "/a",
    data: bytesOf(1024),
    acl: ACL,
    ephemeralOwner: 0n,
    parentCVersion: 7,
    replyKind: "create2",
  }),
  entry(4, {
    type: "create",
    path: "/b",
    data: null,
    acl: [],
    ephemeralOwner: -(2n ** 63n),
    parentCVersion: 0,
    replyKind: "create",
  }),
  entry(5, { type: "delete", path: "/a" }),
  entry(6, { type: "deleteContainer", path: "/c" }),
  entry(0x1_0000_0007, { type: "setData", path: "/bench/c1", data: bytesOf(1024), version: -1 }),
  entry(8, { type: "setData", path: "/x", data: bytesOf(70_000), version: 2 ** 31 - 1 }, -7n),
  entry(9, { type: "setACL", path: "/x", acl: ACL, aversion: 3 }),
  entry(10, { type: "check", path: "/x", version: 1 }),
  entry(11, {
    type: "multi",
    txns: [{ type: "delete", path: "/m" }, { type: "setData", path: "/n", data: bytesOf(3), version: 0 }],
  }),
  entry(12, { type: "multiError", codes: [0, -101, -2] }),
  entry(13, { type: "error", err: -110 }),
];

describe("CborWriter", () => {
  test("encodes numbers, bigints, strings and byte strings exactly as cbor-x does", () => {
    for (const number of NUMBERS) assertSameAsCborX(number, `number ${number}`);
    for (const bigint of BIGINTS) assertSameAsCborX(bigint, `bigint ${bigint}`);
    for (const string of STRINGS) {
      assertSameAsCborX(
        string,
        `string of ${string.length} units starting ${JSON.stringify(string.slice(0, 3))}`,
      );
    }
    for (const length of [0, 1, 23, 24, 255, 256, 65535, 65536]) {
      assertSameAsCborX(bytesOf(length), `${length} bytes`);
    }
    for (const value of [null, undefined, true, false]) assertSameAsCborX(value, String(value));
  });

  test("encodes arrays and objects (nested, empty, with undefined fields) exactly as cbor-x does", () => {
    assertSameAsCborX([], "empty array");
    assertSameAsCborX({}, "empty object");
    assertSameAsCborX(Array.from({ length: 300 }, (_, index) => index), "array of 300");
    assertSameAsCborX({ a: 1, b: { c: [1, "x", null], d: undefined }, e: bytesOf(5) }, "nested");
    const wide: Record<string, number> = {};
    for (let index = 0; index < 40; index++) wide[`k${index}`] = index;
    assertSameAsCborX(wide, "object of 40 keys");
    assertSameAsCborX(
      { b: 1, 2: "two", a: 3, 1: "one" },
      "integer-like keys come first, as for-in lists them",
    );
    const inheriting = Object.create({ inherited: 1 }) as Record<string, unknown>;
    inheriting["own"] = 2;
    assertSameAsCborX(inheriting, "inherited enumerable properties are skipped");
    assertSameAsCborX(
      [{ header: 1 }, { header: 2, "é": 3 }, { [stringOf(40, "k")]: 4 }],
      "cached and uncached keys",
    );
  });

  test("encodes every Txn variant exactly as encodeTxnEntry, and it decodes back", () => {
    for (const value of ENTRIES) {
      const fast = fastBytes(value)!;
      assert.equal(hex(fast), hex(encodeTxnEntry(value)), value.txn.type);
      assert.deepEqual(decodeTxnEntry(fast), value);
    }
  });

  test("refuses what it does not encode, so the caller can fall back to cbor-x", () => {
    assert.equal(fastBytes(new Map([[1, 2]])), null);
    assert.equal(fastBytes({ a: new Uint16Array(2) }), null);
    assert.equal(fastBytes(2n ** 64n), null);
    assert.equal(fastBytes([() => 1]), null);
    let deep: unknown = 1;
    for (let index = 0; index < 40; index++) deep = [deep];
    assert.equal(fastBytes(deep), null);
  });

  test("rewind drops a refused value and skip leaves room for a header", () => {
    const writer = new CborWriter(8);
    const at = writer.skip(4);
    const start = writer.position;
    assert.equal(writer.write({ a: new Set() }), false);
    writer.rewind(start);
    assert.equal(writer.write("ok"), true);
    writer.setUint32(at, writer.position - start);
    assert.equal(hex(writer.copy()), "00000003" + "626f6b");
    assert.throws(() => writer.rewind(99), /rewind to 99/);
  });
});
