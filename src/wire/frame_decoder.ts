/**
 * Splits a byte stream into frames: a 4-byte signed big-endian length N, then N payload bytes
 * (wire protocol §1.2). Used by both the server and the client.
 *
 * Chunks are split as they are pushed: whole frames inside a chunk are queued as views of it (no
 * copy), and only a frame that continues into later chunks is copied, into a buffer of exactly its
 * size. The decoder therefore never holds more than maxFrameBytes + 4 bytes of its own, plus views of
 * the last chunk.
 *
 * Ownership: because queued payloads may be views of the pushed chunk, a caller whose chunks are
 * reused (Transport's onData) must drain next() until it returns null before the chunk is reused,
 * and decode or copy each payload then. The decoders in client_protocol.ts copy what they keep.
 */

/** jute.maxbuffer's default: the largest payload either side accepts. */
export const DEFAULT_MAX_FRAME_BYTES = 0xfffff;

/** A length prefix that is negative or above the limit: the stream cannot be framed any further. */
export class FrameError extends Error {
  readonly length: number;
  constructor(message: string, length: number) {
    super(message);
    this.name = "FrameError";
    this.length = length;
  }
}

export interface FrameDecoderOptions {
  /** Largest accepted payload (jute.maxbuffer); default 0xfffff = 1048575. */
  maxFrameBytes: number;
}

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Whole payloads not handed out yet; `#queueHead` is the next one. */
  #queue: Uint8Array[] = [];
  #queueHead = 0;
  /** A length prefix split across chunks. */
  readonly #prefix = new Uint8Array(4);
  #prefixFill = 0;
  /** A payload split across chunks, allocated at its full length once the prefix is known. */
  #partial: Uint8Array | null = null;
  #partialFill = 0;
  #error: FrameError | null = null;
  #firstWord: number | null = null;
  #consumed = false;

  constructor(options: FrameDecoderOptions = { maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }) {
    const max = options.maxFrameBytes;
    if (!Number.isInteger(max) || max < 0 || max > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31-1], got ${max}`);
    }
    this.#maxFrameBytes = max;
  }

  /** Bytes held in the decoder's own buffers (a split prefix or payload), not counting queued views. */
  get bufferedBytes(): number {
    return this.#prefixFill + this.#partialFill;
  }

  /**
   * Adds bytes from the stream. Never throws for bad input: a bad length prefix is reported by next()
   * once the frames before it are taken, and everything after it is dropped.
   */
  push(chunk: Uint8Array): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end && this.#error === null) {
      if (this.#partial !== null) {
        offset = this.#fillPartial(chunk, offset);
        continue;
      }
      let length: number;
      if (this.#prefixFill === 0 && end - offset >= 4) {
        length = (chunk[offset]! << 24) | (chunk[offset + 1]! << 16) | (chunk[offset + 2]! << 8) |
          chunk[offset + 3]!;
        offset += 4;
      } else {
        while (this.#prefixFill < 4 && offset < end) this.#prefix[this.#prefixFill++] = chunk[offset++]!;
        if (this.#prefixFill < 4) return;
        const p = this.#prefix;
        length = (p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!;
        this.#prefixFill = 0;
      }
      if (this.#firstWord === null) this.#firstWord = length;
      if (length < 0 || length > this.#maxFrameBytes) {
        this.#error = new FrameError(
          `frame length ${length} is outside [0, ${this.#maxFrameBytes}] (jute.maxbuffer): ` +
            `the peer is not speaking the ZooKeeper protocol or sent too much; close the connection`,
          length,
        );
        return;
      }
      if (end - offset >= length) {
        this.#queue.push(chunk.subarray(offset, offset + length));
        offset += length;
      } else {
        this.#partial = new Uint8Array(length);
        this.#partialFill = 0;
      }
    }
  }

  #fillPartial(chunk: Uint8Array, offset: number): number {
    const partial = this.#partial!;
    const take = Math.min(partial.length - this.#partialFill, chunk.length - offset);
    partial.set(chunk.subarray(offset, offset + take), this.#partialFill);
    this.#partialFill += take;
    if (this.#partialFill === partial.length) {
      this.#queue.push(partial);
      this.#partial = null;
      this.#partialFill = 0;
    }
    return offset + take;
  }

  /**
   * The next whole payload (without its length prefix), or null until more bytes arrive. Throws
   * FrameError, on this and every later call, once the frames before a bad length prefix are taken.
   */
  next(): Uint8Array | null {
    if (this.#queueHead < this.#queue.length) {
      const payload = this.#queue[this.#queueHead]!;
      this.#queueHead++;
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#queueHead = 0;
      }
      this.#consumed = true;
      return payload;
    }
    if (this.#error !== null) throw this.#error;
    return null;
  }

  /**
   * The stream's first 4 bytes as a big-endian int (e.g. 0x72756f6b for `ruok`), once they have
   * arrived and before next() has returned anything; null otherwise. Lets a server spot four-letter
   * words (§11.1) before framing.
   */
  peekFirstWord(): number | null {
    return this.#consumed ? null : this.#firstWord;
  }
}
