import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c, crc32cRange } from "../../src/storage/crc32c.ts";

function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

test("crc32c() matches the standard check value for '123456789'", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) B.4: 32 bytes of zeros.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

test("crc32c() agrees with a bitwise implementation for every length up to 70 and can continue", () => {
  for (let length = 0; length <= 70; length++) {
    const bytes = Uint8Array.from({ length }, (_, index) => (index * 131 + length * 7) & 0xff);
    assert.equal(crc32c(bytes), bitwiseCrc32c(bytes), `length ${length}`);
    const split = Math.floor(length / 3);
    assert.equal(crc32c(bytes.subarray(split), crc32c(bytes.subarray(0, split))), crc32c(bytes));
  }
});

test("crc32cRange() equals crc32c() of the subarray, at every alignment", () => {
  const bytes = Uint8Array.from({ length: 1200 }, (_, index) => (index * 197 + 11) & 0xff);
  for (
    const [start, end] of [[0, 1200], [1, 1200], [3, 1100], [7, 7], [5, 21], [16, 48], [9, 1037]] as const
  ) {
    assert.equal(crc32cRange(bytes, start, end), crc32c(bytes.subarray(start, end)), `[${start}, ${end})`);
    assert.equal(
      crc32cRange(bytes, start, end),
      bitwiseCrc32c(bytes.subarray(start, end)),
      `[${start}, ${end}) bitwise`,
    );
  }
});

test("long inputs agree with the bitwise implementation, whole and in pieces", () => {
  const length = 100_000 + 777;
  const bytes = Uint8Array.from({ length }, (_, index) => (index * 131 + (index >> 9)) & 0xff);
  const whole = bitwiseCrc32c(bytes);
  assert.equal(crc32c(bytes), whole);
  for (const cut of [1, 130, 1_093, 50_009]) {
    assert.equal(crc32cRange(bytes, cut, length, crc32cRange(bytes, 0, cut)), whole, `cut at ${cut}`);
  }
});
