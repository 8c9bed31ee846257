/**
 * A minimal well-behaved ZooKeeper session for live driver tests: one handshake, then requests with
 * increasing xids whose replies are matched in order (as real clients do, wire protocol §2.3). Each
 * request has its own deadline, so a test can bound the latency of every single round trip.
 */
import type { ConnectResponse, Request } from "../../../src/core/records.ts";
import type { Transport } from "../../../src/transport/transport.ts";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  encodeConnectRequest,
  encodeRequest,
} from "../../../src/wire/client_protocol.ts";
import { RawWire } from "./raw_wire.ts";

export const OPEN_ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

/** The reply to one request: its header and the whole payload (header included). */
export interface ReplyFrame {
  xid: number;
  zxid: number;
  err: number;
  frame: Uint8Array;
  latencyMs: number;
}

interface Pending {
  xid: number;
  what: string;
  sentAtMs: number;
  resolve(reply: ReplyFrame): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** Timed out: rejected already, but kept in the queue so a late reply still matches in order. */
  expired: boolean;
}

const PING_XID = -2;
const NOTIFICATION_XID = -1;

export class SessionClient {
  readonly wire: RawWire;
  readonly response: ConnectResponse;
  /** Replies in FIFO order; a reply whose xid is not the oldest pending one is a protocol violation. */
  readonly #pending: Pending[] = [];
  #nextXid = 1;
  notifications = 0;
  /** Protocol violations seen (out-of-order or unsolicited replies, unparsable frames). */
  readonly violations: string[] = [];

  private constructor(wire: RawWire, response: ConnectResponse) {
    this.wire = wire;
    this.response = response;
    wire.onFrame = (frame) => this.#onFrame(frame);
    wire.onClosed = () => this.#failAll(new Error("the connection closed"));
  }

  /** Connects and completes the handshake (new session, `timeOut` ms asked for). */
  static async open(
    transport: Transport,
    port: number,
    options: { host?: string; timeOut?: number } = {},
  ): Promise<SessionClient> {
    const wire = await RawWire.connect(transport, port, options.host);
    try {
      wire.send(encodeConnectRequest({
        protocolVersion: 0,
        lastZxidSeen: 0,
        timeOut: options.timeOut ?? 30000,
        sessionId: 0n,
        passwd: new Uint8Array(16),
        readOnly: false,
      }));
      const response = decodeConnectResponse(await wire.takeFrame("the ConnectResponse"));
      if (response.timeOut <= 0) {
        throw new Error("the server refused the new session (timeOut 0 in the ConnectResponse)");
      }
      return new SessionClient(wire, response);
    } catch (error) {
      wire.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.wire.closed;
  }

  /** Sends `request` with the next xid; rejects if no reply arrives within `timeoutMs`. */
  request(request: Request, timeoutMs = 5000): Promise<ReplyFrame> {
    const xid = this.#nextXid++;
    return this.#expect(
      xid,
      `${request.kind} (xid ${xid})`,
      timeoutMs,
      () => this.wire.send(encodeRequest(xid, request)),
    );
  }

  /** A ping (xid −2, no body); the reply is ReplyHeader{−2, lastZxid, 0}. */
  ping(timeoutMs = 5000): Promise<ReplyFrame> {
    return this.#expect(
      PING_XID,
      "a ping",
      timeoutMs,
      () => this.wire.send(encodeRequest(PING_XID, { kind: "ping" })),
    );
  }

  /** Sends hand-made bytes and waits for the reply carrying `xid` (next in order). */
  sendExpecting(bytes: Uint8Array, xid: number, what: string, timeoutMs = 5000): Promise<ReplyFrame> {
    return this.#expect(xid, what, timeoutMs, () => this.wire.send(bytes));
  }

  close(): void {
    this.wire.close();
  }

  #expect(xid: number, what: string, timeoutMs: number, send: () => void): Promise<ReplyFrame> {
    if (this.wire.closed) return Promise.reject(new Error(`cannot send ${what}: the connection is closed`));
    return new Promise<ReplyFrame>((resolve, reject) => {
      const pending: Pending = {
        xid,
        what,
        sentAtMs: performance.now(),
        resolve,
        reject,
        timer: setTimeout(() => {
          pending.expired = true;
          reject(new Error(`no reply to ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
        expired: false,
      };
      this.#pending.push(pending);
      send();
    });
  }

  #onFrame(frame: Uint8Array): void {
    let header;
    try {
      header = decodeReplyHeader(frame);
    } catch (error) {
      this.violations.push(`a ${frame.length}-byte frame without a ReplyHeader: ${String(error)}`);
      return;
    }
    if (header.xid === NOTIFICATION_XID) {
      this.notifications++;
      return;
    }
    const pending = this.#pending.shift();
    if (pending === undefined) {
      this.violations.push(`unsolicited reply with xid ${header.xid}`);
      return;
    }
    clearTimeout(pending.timer);
    if (pending.xid !== header.xid) {
      const message = `reply out of order: expected xid ${pending.xid} (${pending.what}), got ${header.xid}`;
      this.violations.push(message);
      pending.reject(new Error(message));
      return;
    }
    if (pending.expired) return;
    pending.resolve({ ...header, frame, latencyMs: performance.now() - pending.sentAtMs });
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`${error.message} while waiting for the reply to ${pending.what}`));
    }
  }
}
