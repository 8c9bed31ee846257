/**
 * A raw byte connection for live driver tests: sends whatever bytes the test gives it and collects
 * the frames the server sends back, over any Transport. Waiting is event driven (every arriving
 * chunk and the close re-check the waiters), so measured latencies are not rounded up to a poll
 * interval.
 */
import type { Socket, Transport } from "../../../src/transport/transport.ts";
import { FrameDecoder } from "../../../src/wire/frame_decoder.ts";

/** Larger than anything the server sends; a reply this big would itself be a bug worth seeing. */
const CLIENT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

interface Waiter {
  check(): boolean;
}

export class RawWire {
  #socket: Socket | null = null;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: CLIENT_MAX_FRAME_BYTES });
  readonly #waiters = new Set<Waiter>();
  /** Every frame received, copied, in arrival order. */
  readonly frames: Uint8Array[] = [];
  /** Frames taken with takeFrame(); `frames.length - taken` are still unread. */
  taken = 0;
  bytesReceived = 0;
  closed = false;
  /** Why the byte stream could not be framed (the server sent a bad length prefix). */
  framingError: string | null = null;
  /** Called for each frame as it arrives (after it is appended to `frames`). */
  onFrame: ((frame: Uint8Array) => void) | null = null;
  /** Called once when the connection closes. */
  onClosed: (() => void) | null = null;
  /** Copies of every chunk received, when connect() was asked to keep them (four-letter words are not framed). */
  readonly #rawChunks: Uint8Array[] | null;

  private constructor(keepRaw: boolean) {
    this.#rawChunks = keepRaw ? [] : null;
  }

  static async connect(
    transport: Transport,
    port: number,
    host = "127.0.0.1",
    options: { keepRaw?: boolean } = {},
  ): Promise<RawWire> {
    const wire = new RawWire(options.keepRaw ?? false);
    wire.#socket = await transport.connect({ host, port, timeoutMs: 5000 }, {
      onData: (chunk) => wire.#onData(chunk),
      onClose: () => wire.#onClose(),
    });
    return wire;
  }

  get socket(): Socket {
    if (this.#socket === null) throw new Error("RawWire used before connect() resolved");
    return this.#socket;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.#socket?.close();
  }

  /** The next frame not taken yet, waiting up to `timeoutMs`; throws if the connection closes first. */
  async takeFrame(what: string, timeoutMs = 5000): Promise<Uint8Array> {
    await this.until(() => this.frames.length > this.taken || this.closed, what, timeoutMs);
    if (this.frames.length > this.taken) return this.frames[this.taken++]!;
    throw new Error(`connection closed while waiting for ${what}`);
  }

  async waitClosed(what: string, timeoutMs = 5000): Promise<void> {
    await this.until(() => this.closed, what, timeoutMs);
  }

  /**
   * Resolves once `predicate` holds, re-checking it whenever bytes arrive or the socket closes;
   * rejects with a message naming `what` after `timeoutMs`.
   */
  until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!predicate()) return false;
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Everything received so far as one buffer (only with keepRaw). */
  received(): Uint8Array {
    if (this.#rawChunks === null) throw new Error("RawWire.received() needs connect(..., { keepRaw: true })");
    const out = new Uint8Array(this.bytesReceived);
    let offset = 0;
    for (const chunk of this.#rawChunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #onData(chunk: Uint8Array): void {
    this.bytesReceived += chunk.length;
    this.#rawChunks?.push(chunk.slice());
    if (this.framingError === null) {
      this.#decoder.push(chunk);
      try {
        // Drained at once: queued frames may be views of the adapter's reused chunk.
        for (let frame = this.#decoder.next(); frame !== null; frame = this.#decoder.next()) {
          const copy = frame.slice();
          this.frames.push(copy);
          this.onFrame?.(copy);
        }
      } catch (error) {
        this.framingError = error instanceof Error ? error.message : String(error);
      }
    }
    this.#wake();
  }

  #onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClosed?.();
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.check()) this.#waiters.delete(waiter);
    }
  }
}
