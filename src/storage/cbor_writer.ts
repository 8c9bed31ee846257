/**
 * A CBOR writer for the log's hot path: it encodes the values a TxnEntry is made of straight into one
 * growable buffer, byte for byte as cbor_codec.ts's cbor-x configuration does (objects as map16 with
 * keys in insertion order, numbers as the smallest integer or float64, bigints as 64-bit integers,
 * Uint8Array untagged, strings of fewer than 64 UTF-16 units WTF-8 encoded as cbor-x's own loop does,
 * longer ones through TextEncoder; property names cached once encoded). A group commit then frames its whole batch in one buffer, with no
 * per-record allocation or copy. Anything outside that set (Maps, other typed arrays, bigints beyond
 * 64 bits, ...) makes `write` return false, and the caller falls back to cbor-x for that value.
 * tests/storage/cbor_writer_test.ts compares the bytes with cbor-x's.
 */

const BYTES_INITIAL = 64 * 1024;
/** Nesting bound: TxnEntries nest four deep (entry → multi → txns → acl); deeper is not ours. */
const DEPTH_MAX = 32;
const TWO_POW_64 = 1n << 64n;
const textEncoder = new TextEncoder();
/** Encoded property names, shared by all writers; bounded, and only short names are kept. */
const keyEncodings = new Map<string, Uint8Array>();
const KEY_CACHE_ENTRIES_MAX = 256;
const KEY_CACHE_UNITS_MAX = 32;

export class CborWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #position = 0;

  constructor(bytesInitial = BYTES_INITIAL) {
    this.#bytes = new Uint8Array(bytesInitial);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Bytes written so far. */
  get position(): number {
    return this.#position;
  }

  /** The buffer being written (valid until the next write that grows it). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Forgets everything written and goes back to a buffer of `bytes` (after a rare large value). */
  shrink(bytes = BYTES_INITIAL): void {
    this.#position = 0;
    this.#bytes = new Uint8Array(bytes);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Forgets everything written (the buffer is kept for reuse). */
  reset(): void {
    this.#position = 0;
  }

  /** Moves the position back to `position` (dropping what a failed `write` left). */
  rewind(position: number): void {
    if (position < 0 || position > this.#position) {
      throw new RangeError(`rewind to ${position} outside [0, ${this.#position}]`);
    }
    this.#position = position;
  }

  /** Leaves `count` bytes for the caller to fill with `setUint32`, returning their offset. */
  skip(count: number): number {
    this.#reserve(count);
    const at = this.#position;
    this.#position += count;
    return at;
  }

  setUint32(offset: number, value: number): void {
    this.#view.setUint32(offset, value);
  }

  /** Appends raw bytes. */
  writeRaw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#position);
    this.#position += bytes.length;
  }

  /** A copy of everything written. */
  copy(): Uint8Array {
    return this.#bytes.slice(0, this.#position);
  }

  /**
   * Encodes `value`; false if it holds something this writer does not encode (the position is then
   * undefined: rewind to where it was).
   */
  write(value: unknown): boolean {
    return this.#value(value, 0);
  }

  #value(value: unknown, depth: number): boolean {
    // `typeof x === "..."` tests compile to type checks; a switch on typeof calls a builtin.
    if (typeof value === "string") {
      this.#string(value);
      return true;
    }
    if (typeof value === "number") {
      this.#number(value);
      return true;
    }
    if (typeof value === "object") {
      if (value === null) {
        this.#byte(0xf6);
        return true;
      }
      if (depth >= DEPTH_MAX) return false;
      return this.#object(value, depth + 1);
    }
    if (typeof value === "bigint") return this.#bigint(value);
    if (typeof value === "boolean") {
      this.#byte(value ? 0xf5 : 0xf4);
      return true;
    }
    if (value === undefined) {
      this.#byte(0xf7);
      return true;
    }
    return false;
  }

  #object(value: object, depth: number): boolean {
    const constructor = value.constructor;
    if (constructor === Uint8Array) {
      const bytes = value as Uint8Array;
      this.#head(0x40, bytes.length);
      this.writeRaw(bytes);
      return true;
    }
    if (constructor === Array) {
      const array = value as unknown[];
      this.#head(0x80, array.length);
      for (let i = 0; i < array.length; i++) if (!this.#value(array[i], depth)) return false;
      return true;
    }
    if (constructor !== Object) return false;
    // cbor-x: map16 always, the count back-patched after a for-in over own properties.
    this.#reserve(3);
    this.#bytes[this.#position] = 0xb9;
    const countAt = this.#position + 1;
    this.#position += 3;
    const record = value as Record<string, unknown>;
    // Object.keys is for-in's own keys in for-in's order (cbor-x skips inherited ones).
    const keys = Object.keys(record);
    const count = keys.length;
    if (count >= 0x10000) return false; // cbor-x widens to map32 here; not a TxnEntry
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      this.#key(key);
      if (!this.#value(record[key], depth)) return false;
    }
    this.#bytes[countAt] = count >> 8;
    this.#bytes[countAt + 1] = count & 0xff;
    return true;
  }

  #number(value: number): void {
    if (value >>> 0 === value) {
      this.#head(0x00, value);
    } else if (value >> 0 === value) {
      this.#head(0x20, ~value >>> 0);
    } else if (value < 0 && value >= -0x1_0000_0000 && Math.floor(value) === value) {
      this.#reserve(5);
      this.#bytes[this.#position] = 0x3a;
      this.#view.setUint32(this.#position + 1, -1 - value);
      this.#position += 5;
    } else {
      this.#reserve(9);
      this.#bytes[this.#position] = 0xfb;
      this.#view.setFloat64(this.#position + 1, value);
      this.#position += 9;
    }
  }

  #bigint(value: bigint): boolean {
    if (value >= TWO_POW_64 || value <= -TWO_POW_64) return false; // cbor-x writes a tagged bignum
    this.#reserve(9);
    if (value >= 0n) {
      this.#bytes[this.#position] = 0x1b;
      this.#view.setBigUint64(this.#position + 1, value);
    } else {
      this.#bytes[this.#position] = 0x3b;
      this.#view.setBigUint64(this.#position + 1, -value - 1n);
    }
    this.#position += 9;
    return true;
  }

  /** A property name: encoded once, then copied (a TxnEntry has the same dozen names every time). */
  #key(key: string): void {
    let encoded = keyEncodings.get(key);
    if (encoded === undefined) {
      const start = this.#position;
      this.#string(key);
      if (keyEncodings.size >= KEY_CACHE_ENTRIES_MAX || key.length > KEY_CACHE_UNITS_MAX) return;
      encoded = this.#bytes.slice(start, this.#position);
      keyEncodings.set(key, encoded);
      return;
    }
    this.#reserve(encoded.length);
    const bytes = this.#bytes;
    let at = this.#position;
    for (let i = 0; i < encoded.length; i++) bytes[at++] = encoded[i]!;
    this.#position = at;
  }

  #string(value: string): void {
    const units = value.length;
    // Worst case 3 bytes per UTF-16 unit, plus the longest header.
    this.#reserve(units * 3 + 5);
    const headerBytes = units < 0x18 ? 1 : units < 0x100 ? 2 : units < 0x10000 ? 3 : 5;
    const start = this.#position + headerBytes;
    const length = units < 0x40
      ? this.#wtf8(value, start)
      : textEncoder.encodeInto(value, this.#bytes.subarray(start)).written;
    // The header's real size follows the byte length; move the bytes if the guess was off.
    const needed = length < 0x18 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    if (needed !== headerBytes) this.#bytes.copyWithin(this.#position + needed, start, start + length);
    this.#head(0x60, length);
    this.#position += length;
  }

  /** cbor-x's own loop for short strings: lone surrogates become 3-byte sequences (not U+FFFD). */
  #wtf8(value: string, start: number): number {
    const bytes = this.#bytes;
    let at = start;
    for (let i = 0; i < value.length; i++) {
      let c1 = value.charCodeAt(i);
      let c2: number;
      if (c1 < 0x80) {
        bytes[at++] = c1;
      } else if (c1 < 0x800) {
        bytes[at++] = (c1 >> 6) | 0xc0;
        bytes[at++] = (c1 & 0x3f) | 0x80;
      } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = value.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
        c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
        i++;
        bytes[at++] = (c1 >> 18) | 0xf0;
        bytes[at++] = ((c1 >> 12) & 0x3f) | 0x80;
        bytes[at++] = ((c1 >> 6) & 0x3f) | 0x80;
        bytes[at++] = (c1 & 0x3f) | 0x80;
      } else {
        bytes[at++] = (c1 >> 12) | 0xe0;
        bytes[at++] = ((c1 >> 6) & 0x3f) | 0x80;
        bytes[at++] = (c1 & 0x3f) | 0x80;
      }
    }
    return at - start;
  }

  /** A major type's head with its argument (0 ≤ argument < 2^32), shortest form. */
  #head(major: number, argument: number): void {
    this.#reserve(5);
    const bytes = this.#bytes;
    const at = this.#position;
    if (argument < 0x18) {
      bytes[at] = major | argument;
      this.#position = at + 1;
    } else if (argument < 0x100) {
      bytes[at] = major | 0x18;
      bytes[at + 1] = argument;
      this.#position = at + 2;
    } else if (argument < 0x10000) {
      bytes[at] = major | 0x19;
      bytes[at + 1] = argument >> 8;
      bytes[at + 2] = argument & 0xff;
      this.#position = at + 3;
    } else {
      bytes[at] = major | 0x1a;
      this.#view.setUint32(at + 1, argument);
      this.#position = at + 5;
    }
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#position++] = value;
  }

  #reserve(count: number): void {
    const needed = this.#position + count;
    if (needed <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#position));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}
