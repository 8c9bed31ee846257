/**
 * A bare ZooKeeper wire client for driver tests: sends frames built by src/wire and hands back
 * decoded frames, over any Transport. No session logic; the test says what to send and when.
 */
import type { ConnectResponse, Request } from "../../src/core/records.ts";
import type { Socket, Transport } from "../../src/transport/transport.ts";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  encodeConnectRequest,
  encodeRequest,
} from "../../src/wire/client_protocol.ts";
import { FrameDecoder } from "../../src/wire/frame_decoder.ts";
import { waitFor } from "../support/wait_for.ts";

export const OPEN_ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

export class WireClient {
  #socket: Socket | null = null;
  readonly #frames: Uint8Array[] = [];
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
  closed = false;
  bytesReceived = 0;

  static async connect(transport: Transport, port: number, host = "127.0.0.1"): Promise<WireClient> {
    const client = new WireClient();
    client.#socket = await transport.connect({ host, port, timeoutMs: 5000 }, {
      onData: (chunk) => client.#onData(chunk),
      onClose: () => {
        client.closed = true;
      },
    });
    return client;
  }

  get socket(): Socket {
    return this.#socket!;
  }

  #onData(chunk: Uint8Array): void {
    this.bytesReceived += chunk.length;
    this.#decoder.push(chunk);
    for (let frame = this.#decoder.next(); frame !== null; frame = this.#decoder.next()) this.#frames.push(frame.slice());
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async nextFrame(what: string, timeoutMs = 5000): Promise<Uint8Array> {
    await waitFor(() => this.#frames.length > 0 || this.closed, { timeoutMs, what });
    const frame = this.#frames.shift();
    if (frame === undefined) throw new Error(`connection closed while waiting for ${what}`);
    return frame;
  }

  /** A new session, or `resume`'s (its id and password, as a reconnecting client sends them). */
  async handshake(timeOut = 30000, resume?: { sessionId: bigint; passwd: Uint8Array }): Promise<ConnectResponse> {
    const session = resume ?? { sessionId: 0n, passwd: new Uint8Array(16) };
    this.send(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut, ...session, readOnly: false }));
    return decodeConnectResponse(await this.nextFrame("the ConnectResponse"));
  }

  /** Sends `request` with `xid` and returns the reply's error code (skipping notifications). */
  async call(xid: number, request: Request, timeoutMs = 5000): Promise<{ err: number; frame: Uint8Array }> {
    this.send(encodeRequest(xid, request));
    for (let i = 0; i < 100; i++) {
      const frame = await this.nextFrame(`the reply to xid ${xid}`, timeoutMs);
      const header = decodeReplyHeader(frame);
      if (header.xid === xid) return { err: header.err, frame };
    }
    throw new Error(`no reply to xid ${xid} among 100 frames`);
  }

  async waitClosed(what: string, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closed, { timeoutMs, what });
  }

  close(): void {
    this.socket.close();
  }
}
