/**
 * A Transport with no network, for testing SessionShell: every connect() gets a scripted server that
 * records each socket write (decoded into frames), answers the handshake, pings and closeSession by
 * itself, and leaves every other request to the test, which replies with reply().
 */
import type { Request, Response } from "../../../src/core/records.ts";
import { Xid } from "../../../src/core/records.ts";
import type {
  ConnectOptions,
  Listener,
  Socket,
  SocketHandler,
  Transport,
} from "../../../src/transport/transport.ts";
import { decodeConnectRequest, decodeRequest } from "../../../src/wire/client_protocol.ts";
import { FrameDecoder } from "../../../src/wire/frame_decoder.ts";
import { connectResponse, reply } from "./machine_harness.ts";

/** One frame the client sent; xid 0 and request null for the ConnectRequest. */
export interface SentFrame {
  xid: number;
  request: Request | null;
}

/** One call of socket.write: when, and the frames it carried. */
export interface SocketWrite {
  atMs: number;
  frames: SentFrame[];
}

export class ScriptedTransport implements Transport {
  readonly name = "scripted";
  readonly connections: ScriptedConnection[] = [];
  readonly #sessionTimeoutMs: number;

  /** `sessionTimeoutMs`: the timeout the scripted servers grant. */
  constructor(sessionTimeoutMs = 30_000) {
    this.#sessionTimeoutMs = sessionTimeoutMs;
  }

  listen(): Promise<Listener> {
    return Promise.reject(new Error("ScriptedTransport only connects; it cannot listen"));
  }

  connect(_options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
    const connection = new ScriptedConnection(handler, this.#sessionTimeoutMs);
    this.connections.push(connection);
    return Promise.resolve(connection.socket);
  }
}

export class ScriptedConnection {
  readonly writes: SocketWrite[] = [];
  /** Requests the test must answer (everything but ping and closeSession), in arrival order. */
  readonly requests: SentFrame[] = [];
  readonly socket: Socket;
  readonly #handler: SocketHandler;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 0xfffff });
  readonly #sessionTimeoutMs: number;
  #handshaken = false;
  #closed = false;

  constructor(handler: SocketHandler, sessionTimeoutMs: number) {
    this.#handler = handler;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.socket = {
      remoteAddress: "127.0.0.1",
      remotePort: 2181,
      bufferedBytes: 0,
      write: (bytes) => this.#written(bytes),
      close: () => this.#close(),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Every frame written so far, in order, across writes. */
  frames(): SentFrame[] {
    return this.writes.flatMap((write) => write.frames);
  }

  /** Answers request `xid` (the client matches replies in request order). */
  reply(xid: number, response: Response | null, err = 0): void {
    this.deliver(reply(xid, 1, err, response));
  }

  /** Hands `bytes` to the client as one chunk, as a socket read would. */
  deliver(bytes: Uint8Array): void {
    if (!this.#closed) this.#handler.onData(bytes);
  }

  #written(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#decoder.push(bytes.slice());
    const frames: SentFrame[] = [];
    for (let payload = this.#decoder.next(); payload !== null; payload = this.#decoder.next()) {
      if (!this.#handshaken) {
        decodeConnectRequest(payload);
        this.#handshaken = true;
        frames.push({ xid: 0, request: null });
        this.#later(connectResponse(this.#sessionTimeoutMs));
        continue;
      }
      const { header, request } = decodeRequest(payload);
      const frame = { xid: header.xid, request };
      frames.push(frame);
      if (header.xid === Xid.ping) this.#later(reply(Xid.ping, 0, 0));
      else if (request?.kind === "closeSession") this.#later(reply(header.xid, 1, 0));
      else this.requests.push(frame);
    }
    this.writes.push({ atMs: performance.now(), frames });
  }

  /** Answers outside the client's write call: transports never call the handler re-entrantly. */
  #later(bytes: Uint8Array): void {
    queueMicrotask(() => this.deliver(bytes));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    queueMicrotask(() => this.#handler.onClose());
  }
}

/** Polls `condition` every few ms until it holds, or fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
