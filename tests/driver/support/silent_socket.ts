/**
 * A node:net client socket that never reads: it is paused before it connects and gets no 'data'
 * listener (which would resume it), so the server's replies pile up in the kernel buffers and then
 * in the server's own output queue. node:net is used under every runtime because the Transport
 * interface has no way to stop reading; Deno and Bun implement pause() in their node:net.
 */
import { connect as netConnect, type Socket as NetSocket } from "node:net";

export class SilentSocket {
  readonly #socket: NetSocket;
  #closed = false;
  #error: string | null = null;
  bytesWritten = 0;

  private constructor(socket: NetSocket) {
    this.#socket = socket;
    socket.on("error", (error: Error) => {
      this.#error ??= error.message;
    });
    socket.once("close", () => {
      this.#closed = true;
    });
  }

  static connect(host: string, port: number, timeoutMs = 5000): Promise<SilentSocket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      socket.pause();
      const silent = new SilentSocket(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`cannot connect to ${host}:${port}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(silent);
      });
      socket.once("error", (error: Error) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${host}:${port}: ${error.message}`));
      });
    });
  }

  /** Closed locally or reset by the peer (a paused socket only learns of a reset when it writes). */
  get closed(): boolean {
    return this.#closed || this.#socket.destroyed;
  }

  get error(): string | null {
    return this.#error;
  }

  /** Bytes accepted by write() that node has not handed to the kernel yet. */
  get pendingBytes(): number {
    return this.#socket.writableLength;
  }

  /** Queues `bytes`; false (nothing queued) once the socket is closed. */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.#socket.write(bytes);
    this.bytesWritten += bytes.length;
    return true;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
