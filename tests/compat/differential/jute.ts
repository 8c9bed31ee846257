/**
 * A deliberately tiny jute codec for the differential test's raw client: just the field kinds the
 * handful of operations it sends need. Self-contained on purpose, so the harness that judges
 * src/wire does not depend on it.
 */

/** Builds a big-endian jute byte string. */
export class JuteWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  int(value: number): this {
    this.#reserve(4).setInt32(this.#length - 4, value);
    return this;
  }

  long(value: bigint): this {
    this.#reserve(8).setBigInt64(this.#length - 8, value);
    return this;
  }

  bool(value: boolean): this {
    this.#reserve(1).setUint8(this.#length - 1, value ? 1 : 0);
    return this;
  }

  /** A `buffer`; null is written as length -1. */
  buffer(value: Uint8Array | null): this {
    if (value === null) return this.int(-1);
    this.int(value.length);
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length - value.length);
    return this;
  }

  /** A `ustring`; null is written as length -1. */
  string(value: string | null): this {
    return this.buffer(value === null ? null : new TextEncoder().encode(value));
  }

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  /** The bytes written so far, prefixed with their 4-byte length (one frame). */
  frame(): Uint8Array {
    const body = this.bytes();
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setInt32(0, body.length);
    out.set(body, 4);
    return out;
  }

  #reserve(count: number): DataView {
    const needed = this.#length + count;
    if (needed > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = needed;
    return this.#view;
  }
}

/** Reads a big-endian jute byte string; throws on truncation. */
export class JuteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  int(): number {
    this.#need(4);
    const value = this.#view.getInt32(this.#offset);
    this.#offset += 4;
    return value;
  }

  long(): bigint {
    this.#need(8);
    const value = this.#view.getBigInt64(this.#offset);
    this.#offset += 8;
    return value;
  }

  bool(): boolean {
    this.#need(1);
    return this.#bytes[this.#offset++] !== 0;
  }

  /** A `buffer`; length -1 reads as null. */
  buffer(): Uint8Array | null {
    const length = this.int();
    if (length === -1) return null;
    if (length < 0) throw new Error(`jute: negative buffer length ${length}`);
    this.#need(length);
    const value = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /** A `ustring`; length -1 reads as null. */
  string(): string | null {
    const bytes = this.buffer();
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }

  #need(count: number): void {
    if (this.#offset + count > this.#bytes.length) {
      throw new Error(
        `jute: truncated record: need ${count} bytes at offset ${this.#offset}, have ${this.remaining()}`,
      );
    }
  }
}
