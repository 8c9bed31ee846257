/**
 * Bytes waiting to be written to a socket that accepted only part of them (Deno's conn.write and
 * Bun's socket.write may write less than asked). Chunks are kept by reference, not copied.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes of the head chunk already written. */
  #offset = 0;
  #size = 0;

  /** Bytes queued and not yet consumed. */
  get size(): number {
    return this.#size;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#size += bytes.length;
  }

  /**
   * The next bytes to write: the head chunk's unwritten rest, or several small chunks joined into
   * one buffer of at most `coalesceBytesMax` bytes so that many small replies cost one system call.
   * Null when empty.
   */
  peek(coalesceBytesMax: number): Uint8Array | null {
    if (this.#size === 0) return null;
    const first = this.#chunks[this.#head]!.subarray(this.#offset);
    const count = this.#chunks.length - this.#head;
    if (count === 1 || first.length >= coalesceBytesMax) return first;
    let total = first.length;
    let end = this.#head + 1;
    while (end < this.#chunks.length && total + this.#chunks[end]!.length <= coalesceBytesMax) {
      total += this.#chunks[end]!.length;
      end++;
    }
    if (end === this.#head + 1) return first;
    const joined = new Uint8Array(total);
    joined.set(first, 0);
    let offset = first.length;
    for (let i = this.#head + 1; i < end; i++) {
      joined.set(this.#chunks[i]!, offset);
      offset += this.#chunks[i]!.length;
    }
    // Replace the joined chunks by the joined buffer so consume() stays simple.
    this.#chunks.splice(this.#head, end - this.#head, joined);
    this.#offset = 0;
    return joined;
  }

  /** Marks `count` bytes from the front as written. */
  consume(count: number): void {
    if (count < 0 || count > this.#size) throw new RangeError(`consume(${count}) with ${this.#size} bytes queued`);
    this.#size -= count;
    while (count > 0) {
      const rest = this.#chunks[this.#head]!.length - this.#offset;
      if (count < rest) {
        this.#offset += count;
        return;
      }
      count -= rest;
      this.#chunks[this.#head] = EMPTY;
      this.#head++;
      this.#offset = 0;
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
  }
}

const EMPTY = new Uint8Array(0);
