/**
 * Frames waiting to go out together. A socket write costs a system call (and, under Node, a trip
 * through the stream machinery) whatever its size, while a client with many requests in flight
 * produces one small frame per request, usually many in the same synchronous stretch (every
 * continuation resumed by one chunk of replies sends its next request). So frames are collected and
 * written as one buffer at the end of the current microtask checkpoint: no timer, so no added
 * latency beyond the code already running.
 */

/** A batch is written early once it holds this much; larger frames are written as they are. */
export const FRAME_BATCH_BYTES_MAX = 64 * 1024;

/** Where a flushed batch goes: the socket of connection attempt `attempt` (it may be gone). */
export type BatchWriter = (attempt: number, bytes: Uint8Array) => void;

export class FrameBatch {
  readonly #write: BatchWriter;
  #frames: Uint8Array[] = [];
  #bytes = 0;
  /** The attempt the held frames belong to; frames of one attempt never mix with another's. */
  #attempt = 0;
  #scheduled = false;
  /** Allocated once: queueMicrotask needs a function, and one per batch would cost a closure each. */
  readonly #flushLater = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(write: BatchWriter) {
    this.#write = write;
  }

  /** Queues `frame` for the socket of `attempt`, after every frame added before (FIFO). */
  add(attempt: number, frame: Uint8Array): void {
    if (
      this.#frames.length > 0 &&
      (attempt !== this.#attempt || this.#bytes + frame.length > FRAME_BATCH_BYTES_MAX)
    ) {
      this.flush();
    }
    if (frame.length >= FRAME_BATCH_BYTES_MAX) {
      // Nothing is held now (flushed above): a large frame gains nothing from waiting or copying.
      this.#write(attempt, frame);
      return;
    }
    this.#attempt = attempt;
    this.#frames.push(frame);
    this.#bytes += frame.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushLater);
    }
  }

  /** Writes what is held now, as one buffer (call before closing the socket). */
  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    const bytes = frames.length === 1 ? frames[0]! : join(frames, this.#bytes);
    this.#frames = [];
    this.#bytes = 0;
    this.#write(this.#attempt, bytes);
  }
}

function join(frames: readonly Uint8Array[], total: number): Uint8Array {
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const frame of frames) {
    joined.set(frame, offset);
    offset += frame.length;
  }
  return joined;
}
