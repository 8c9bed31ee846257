/** A client transport for tests that drop connections or alter what a server sends. */
import type { Socket, SocketHandler, Transport } from "../../../src/transport/transport.ts";

/**
 * Another transport (the runtime's), keeping the client's latest socket (so a test can drop the
 * connection) and letting a test rewrite what the server sends (`rewrite`).
 */
export class TappedTransport implements Transport {
  readonly name = "tapped";
  /** The socket most recently opened. */
  lastSocket: Socket | null = null;
  rewrite: ((chunk: Uint8Array) => Uint8Array) | null = null;
  readonly #inner: Transport;
  constructor(inner: Transport) {
    this.#inner = inner;
  }
  listen(): never {
    throw new Error("TappedTransport only connects");
  }
  async connect(options: Parameters<Transport["connect"]>[0], handler: SocketHandler): Promise<Socket> {
    const socket = await this.#inner.connect(options, {
      onData: (chunk) => handler.onData(this.rewrite === null ? chunk : this.rewrite(chunk)),
      onClose: (error) => handler.onClose(error),
      onDrain: () => handler.onDrain?.(),
    });
    this.lastSocket = socket;
    return socket;
  }
}
