/**
 * Jute, ZooKeeper's binary record encoding (wire protocol §1.1): fields concatenated in declaration
 * order, big-endian, no tags or padding. `int` is 4 bytes, `long` 8, `boolean` 1, and `ustring`,
 * `buffer` and `vector` are an int length (−1 = null) followed by their bytes or elements.
 *
 * `JuteWriter` builds one length-prefixed frame; `JuteReader` walks one payload and throws
 * `WireError` (naming the field) on anything it cannot read, so callers never see a RangeError.
 */

/** A payload that does not parse: truncated, a bad length, or a vector that cannot fit. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WireError";
  }
}

const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 9223372036854775808;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** Strings up to this many bytes are converted by hand; longer ones go through TextEncoder/TextDecoder. */
const SHORT_STRING_WRITE_BYTES = 64;
/** Up to here, reading char by char beats TextDecoder's per-call cost (and V8 keeps the string flat). */
const SHORT_STRING_READ_BYTES = 12;

const textEncoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as Java does; fatal defaults to false, so bad UTF-8 becomes U+FFFD.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const EMPTY_BYTES = new Uint8Array(0);

// Frames are carved out of a shared slab, as Node's Buffer pool does: allocating a typed array above
// 64 bytes costs about as much as encoding a whole request, and a frame usually lives only until the
// socket has taken it. One writer at a time owns the slab's free tail; others get their own buffer.
const SLAB_BYTES = 64 * 1024;
/** Frames expected to be larger than this never use the slab (one would waste most of it). */
const SLAB_FRAME_BYTES_MAX = 8 * 1024;
let slab = EMPTY_BYTES;
let slabView = new DataView(EMPTY_BYTES.buffer);
let slabOffset = 0;
let slabBusy = false;

function replaceSlab(): void {
  slab = new Uint8Array(SLAB_BYTES);
  slabView = new DataView(slab.buffer);
  slabOffset = 0;
}

/**
 * Writes jute fields into a growable buffer whose first 4 bytes are reserved for the frame length,
 * so `finishFrame()` hands the bytes out without copying. Small frames are views of a shared 64 KiB
 * slab (only as long as some frame of it is alive). Call `finishFrame()` or `discard()` when done:
 * until then the writer holds the slab and other writers allocate their own buffers.
 *
 * @example
 * const w = new JuteWriter();
 * w.writeInt(1); w.writeInt(4); w.writeString("/a"); w.writeBool(true);
 * const frame = w.finishFrame(); // 00 00 00 0f 00 00 00 01 ...
 */
export class JuteWriter {
  #bytes: Uint8Array = EMPTY_BYTES;
  #view: DataView = slabView;
  /** Where this frame's length prefix is in #bytes. */
  #start = 0;
  #position = 4;
  #onSlab = false;

  /** @param initialCapacity expected frame size, length prefix included; the buffer grows as needed. */
  constructor(initialCapacity = 256) {
    this.#relocate(Math.max(16, initialCapacity));
  }

  /** Bytes written so far after the length prefix. */
  get length(): number {
    return this.#position - this.#start - 4;
  }

  #ensure(extra: number): void {
    if (this.#position + extra > this.#bytes.length) this.#relocate(this.#position - this.#start + extra);
  }

  /** Moves the frame written so far to a place with room for `frameBytes` in all. */
  #relocate(frameBytes: number): void {
    const used = this.#position - this.#start;
    const old = this.#bytes;
    const oldStart = this.#start;
    if (frameBytes <= SLAB_FRAME_BYTES_MAX && (this.#onSlab || !slabBusy)) {
      if (this.#onSlab || SLAB_BYTES - slabOffset < frameBytes) replaceSlab();
      slabBusy = true;
      this.#onSlab = true;
      this.#bytes = slab;
      this.#view = slabView;
      this.#start = slabOffset;
    } else {
      this.#release();
      let capacity = Math.max(64, used * 2);
      while (capacity < frameBytes) capacity *= 2;
      this.#bytes = new Uint8Array(capacity);
      this.#view = new DataView(this.#bytes.buffer);
      this.#start = 0;
    }
    this.#bytes.set(old.subarray(oldStart, oldStart + used), this.#start);
    this.#position = this.#start + used;
  }

  #release(): void {
    if (this.#onSlab) {
      slabBusy = false;
      this.#onSlab = false;
    }
  }

  writeInt(value: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.#position, value);
    this.#position += 4;
  }

  /**
   * A jute `long`. Numbers must be integers (RangeError otherwise, a programming error); numbers
   * outside the int64 range, which only arise from `Number(bigint)` of extreme values, are clamped.
   */
  writeLong(value: number | bigint): void {
    this.#ensure(8);
    if (typeof value === "bigint") {
      const clamped = value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : value;
      this.#view.setBigInt64(this.#position, clamped);
    } else {
      if (!Number.isInteger(value)) throw new RangeError(`jute long must be an integer, got ${value}`);
      if (value >= TWO_POW_63) {
        this.#view.setBigInt64(this.#position, INT64_MAX);
      } else if (value <= -TWO_POW_63) {
        this.#view.setBigInt64(this.#position, INT64_MIN);
      } else {
        // Exact for every integer double in range: division by 2^32 and the subtraction are exact.
        const high = Math.floor(value / TWO_POW_32);
        this.#view.setInt32(this.#position, high);
        this.#view.setUint32(this.#position + 4, value - high * TWO_POW_32);
      }
    }
    this.#position += 8;
  }

  writeBool(value: boolean): void {
    this.#ensure(1);
    this.#bytes[this.#position++] = value ? 1 : 0;
  }

  /** A jute `ustring`: standard UTF-8 (not Java's CESU-8), length −1 for null. */
  writeString(value: string | null): void {
    if (value === null) {
      this.writeInt(-1);
      return;
    }
    const units = value.length;
    // Every UTF-16 code unit becomes at most 3 UTF-8 bytes.
    this.#ensure(4 + units * 3);
    const start = this.#position + 4;
    const bytes = this.#bytes;
    let written = -1;
    if (units <= SHORT_STRING_WRITE_BYTES) {
      let index = 0;
      for (; index < units; index++) {
        const code = value.charCodeAt(index);
        if (code >= 0x80) break;
        bytes[start + index] = code;
      }
      if (index === units) written = units;
    }
    if (written < 0) written = textEncoder.encodeInto(value, bytes.subarray(start)).written;
    this.#view.setInt32(this.#position, written);
    this.#position = start + written;
  }

  /** A jute `buffer`: length −1 for null. */
  writeBuffer(value: Uint8Array | null): void {
    if (value === null) {
      this.writeInt(-1);
      return;
    }
    this.#ensure(4 + value.length);
    this.#view.setInt32(this.#position, value.length);
    this.#bytes.set(value, this.#position + 4);
    this.#position += 4 + value.length;
  }

  /** A jute `vector<T>`: count −1 for null, then each element via `writeElement`. */
  writeVector<T>(items: readonly T[] | null, writeElement: (writer: JuteWriter, item: T) => void): void {
    if (items === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(items.length);
    for (const item of items) writeElement(this, item);
  }

  /** A jute `vector<ustring>`. */
  writeStringVector(items: readonly string[] | null): void {
    if (items === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(items.length);
    for (const item of items) this.writeString(item);
  }

  /**
   * Fills in the 4-byte big-endian length prefix and returns the whole frame, a view that is never
   * written again. The writer then starts over with an empty frame.
   */
  finishFrame(): Uint8Array {
    this.#view.setInt32(this.#start, this.#position - this.#start - 4);
    const frame = this.#bytes.subarray(this.#start, this.#position);
    if (this.#onSlab) slabOffset = (this.#position + 7) & ~7;
    this.discard();
    return frame;
  }

  /** Drops what was written (e.g. after an encoding error) and gives the slab back. */
  discard(): void {
    this.#release();
    this.#bytes = EMPTY_BYTES;
    this.#start = 0;
    this.#position = 4;
  }
}

/**
 * Reads jute fields from one payload. Every method throws `WireError` naming its `field` when the
 * bytes are not there or a length is invalid; nothing else is thrown.
 */
export class JuteReader {
  readonly #bytes: Uint8Array;
  #position = 0;

  /** Reads `bytes` in place; buffers returned by readBuffer() are views of it. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#position;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#position;
  }

  #need(count: number, field: string): void {
    if (this.#bytes.length - this.#position < count) {
      throw new WireError(
        `truncated: field "${field}" needs ${count} bytes at offset ${this.#position}, ` +
          `only ${this.#bytes.length - this.#position} remain`,
      );
    }
  }

  // Ints are assembled by hand: creating a DataView per payload would cost more than the reads.
  readInt(field = "int"): number {
    this.#need(4, field);
    const bytes = this.#bytes;
    const at = this.#position;
    this.#position = at + 4;
    return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }

  readLong(field = "long"): bigint {
    this.#need(8, field);
    const bytes = this.#bytes;
    const value = viewOf(bytes.buffer).getBigInt64(bytes.byteOffset + this.#position);
    this.#position += 8;
    return value;
  }

  /**
   * A jute `long` as a JS number (zxids, times): exact for safe integers (|v| ≤ 2^53), otherwise
   * the nearest double, the same as `Number(bigint)`.
   */
  readLongNumber(field = "long"): number {
    this.#need(8, field);
    const bytes = this.#bytes;
    const at = this.#position;
    this.#position = at + 8;
    const high = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const low = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>>
      0;
    return high * TWO_POW_32 + low;
  }

  /** Any non-zero byte is true, as Java's readBoolean. */
  readBool(field = "boolean"): boolean {
    this.#need(1, field);
    return this.#bytes[this.#position++] !== 0;
  }

  #readLength(field: string): number {
    const length = this.readInt(field);
    if (length < -1) throw new WireError(`field "${field}": invalid length ${length} (only -1 means null)`);
    if (length > this.#bytes.length - this.#position) {
      throw new WireError(
        `field "${field}": length ${length} exceeds the ${this.#bytes.length - this.#position} bytes ` +
          `remaining at offset ${this.#position}`,
      );
    }
    return length;
  }

  /** A jute `ustring`; −1 → null. Invalid UTF-8 becomes U+FFFD (never throws for it). */
  readString(field = "ustring"): string | null {
    const length = this.#readLength(field);
    if (length < 0) return null;
    const start = this.#position;
    this.#position += length;
    return decodeUtf8(this.#bytes, start, length);
  }

  /**
   * A jute `buffer`; −1 → null. Returns a view into the payload (no copy): it changes if the payload's
   * memory is reused. Use `readBufferCopy` for bytes that must outlive the payload.
   */
  readBuffer(field = "buffer"): Uint8Array | null {
    const length = this.#readLength(field);
    if (length < 0) return null;
    const start = this.#position;
    this.#position += length;
    return this.#bytes.subarray(start, start + length);
  }

  /**
   * As `readBuffer`, but the bytes are copied into their own plain Uint8Array. Not `slice()`: on
   * Node the payload is a Buffer, whose slice() is a view that would pin the socket's whole chunk.
   */
  readBufferCopy(field = "buffer"): Uint8Array | null {
    const length = this.#readLength(field);
    if (length < 0) return null;
    const start = this.#position;
    this.#position += length;
    const copy = new Uint8Array(length);
    copy.set(this.#bytes.subarray(start, start + length));
    return copy;
  }

  /**
   * A jute `vector<T>`: −1 → null, any other negative count → empty (as the reference). A count that
   * cannot fit in the remaining bytes at `elementBytesMin` each throws before anything is allocated.
   */
  readVector<T>(field: string, elementBytesMin: number, readElement: (reader: JuteReader) => T): T[] | null {
    const count = this.readInt(field);
    if (count === -1) return null;
    if (count < 0) return [];
    const remaining = this.#bytes.length - this.#position;
    if (count * Math.max(1, elementBytesMin) > remaining) {
      throw new WireError(
        `field "${field}": ${count} elements need at least ${count * Math.max(1, elementBytesMin)} bytes, ` +
          `only ${remaining} remain`,
      );
    }
    const items: T[] = [];
    for (let index = 0; index < count; index++) items.push(readElement(this));
    return items;
  }

  /** A jute `vector<ustring>`; null elements become "" (callers' types have no null strings). */
  readStringVector(field = "vector<ustring>"): string[] | null {
    return this.readVector(field, 4, (reader) => reader.readString(field) ?? "");
  }
}

// The DataView of the last ArrayBuffer read from, kept because payloads of one chunk or slab share it.
let cachedBuffer: ArrayBufferLike = EMPTY_BYTES.buffer;
let cachedView: DataView = new DataView(cachedBuffer);

function viewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== cachedBuffer) {
    cachedView = new DataView(buffer);
    cachedBuffer = buffer;
  }
  return cachedView;
}

/** Decodes UTF-8 leniently; short ASCII strings skip TextDecoder, whose per-call cost dominates there. */
function decodeUtf8(bytes: Uint8Array, start: number, length: number): string {
  if (length === 0) return "";
  if (length <= SHORT_STRING_READ_BYTES) {
    let text = "";
    const end = start + length;
    for (let index = start; index < end; index++) {
      const code = bytes[index]!;
      if (code >= 0x80) return textDecoder.decode(bytes.subarray(start, end));
      text += String.fromCharCode(code);
    }
    return text;
  }
  return textDecoder.decode(bytes.subarray(start, start + length));
}
