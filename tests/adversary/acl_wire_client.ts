/**
 * A raw jute client for the ACL/opcode audit: it sends any opcode with any body bytes, pipelined, and
 * reports the reply header (err, zxid) and body bytes exactly as the server sent them. No client-side
 * validation, retries or reconnects, so the test sees the server and nothing else. Notifications are
 * kept (type and path) for the watch-event check. node:net, so it runs under Node, Deno and Bun alike.
 */
import { connect, type Socket } from "node:net";
import { JuteReader, JuteWriter } from "../compat/differential/jute.ts";

export interface WireReply {
  err: number;
  zxid: bigint;
  /** The reply body after the ReplyHeader (empty for error replies). */
  body: Uint8Array;
}

export interface AclWireOptions {
  host: string;
  port: number;
  /** `digest` credentials ("user:password") sent as auth packets after the handshake, each awaited. */
  digests?: readonly string[];
  /** Per-request (and connect) deadline; default 20000 ms. */
  timeoutMs?: number;
}

const notificationXid = -1;
const authXid = -4;
const authOpcode = 100;
/** Bigger than any reply this audit provokes; a larger length prefix means the stream is broken. */
const frameBytesMax = 8 * 1024 * 1024;
/** Bound on requests in flight on one connection (the audit pipelines a few hundred at most). */
const pendingMax = 10_000;
/** Bound on notifications kept (the audit provokes a few dozen). */
const notificationsMax = 10_000;

interface Pending {
  xid: number;
  resolve: (reply: WireReply) => void;
  reject: (error: Error) => void;
}

export class AclWire {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #pending: Pending[] = [];
  readonly #closed: Promise<void>;
  #buffer = new Uint8Array(0);
  #handshake: ((frame: Uint8Array) => void) | null = null;
  #nextXid = 1;
  #failure: Error | null = null;
  /** Watch notifications received (type, path), in arrival order; bounded. */
  readonly notifications: { type: number; path: string }[] = [];
  sessionId = 0n;
  isClosed = false;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", (error) => this.#fail(new Error(`socket error: ${error.message}`)));
    socket.on("close", () => {
      this.isClosed = true;
      this.#fail(new Error("connection closed by the server"));
    });
  }

  /** Connects, opens a session and authenticates; rejects with a clear message on any failure. */
  static async connect(options: AclWireOptions): Promise<AclWire> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const socket = await openSocket(options.host, options.port, timeoutMs);
    const wire = new AclWire(socket, timeoutMs);
    try {
      await wire.#startSession();
      for (const credential of options.digests ?? []) {
        const body = new JuteWriter().int(0).string("digest").string(credential).bytes();
        const reply = await wire.#send(authXid, authOpcode, body);
        if (reply.err !== 0) throw new Error(`digest auth as ${credential.split(":")[0]} failed with err ${reply.err}`);
      }
    } catch (error) {
      wire.destroy();
      throw error;
    }
    return wire;
  }

  /** Sends one request; the reply is matched by order (the server answers a connection in order). */
  call(opcode: number, body: Uint8Array): Promise<WireReply> {
    return this.#send(this.#nextXid++, opcode, body);
  }

  /** Resolves once the server has closed the connection, or rejects after the deadline. */
  waitClosed(): Promise<void> {
    return this.#withTimeout(this.#closed, "the server to close the connection");
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Sends closeSession and waits for the server to close the socket. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.call(-11, new Uint8Array(0)).catch(() => {});
    await this.waitClosed().catch(() => {});
    this.destroy();
  }

  #send(xid: number, opcode: number, body: Uint8Array): Promise<WireReply> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#pending.length >= pendingMax) return Promise.reject(new Error(`more than ${pendingMax} requests in flight`));
    const header = new JuteWriter().int(xid).int(opcode).bytes();
    const frame = new Uint8Array(4 + header.length + body.length);
    new DataView(frame.buffer).setInt32(0, header.length + body.length);
    frame.set(header, 4);
    frame.set(body, 4 + header.length);
    const reply = new Promise<WireReply>((resolve, reject) => this.#pending.push({ xid, resolve, reject }));
    this.#socket.write(frame);
    return this.#withTimeout(reply, `the reply to xid ${xid} (opcode ${opcode})`);
  }

  async #startSession(): Promise<void> {
    const request = new JuteWriter()
      .int(0) // protocolVersion
      .long(0n) // lastZxidSeen
      .int(30_000) // timeOut
      .long(0n) // sessionId 0: a new session
      .buffer(new Uint8Array(16))
      .bool(false); // readOnly
    const response = new Promise<Uint8Array>((resolve) => {
      this.#handshake = resolve;
    });
    this.#socket.write(request.frame());
    const reader = new JuteReader(await this.#withTimeout(response, "the ConnectResponse"));
    reader.int(); // protocolVersion
    const timeout = reader.int();
    this.sessionId = reader.long();
    if (timeout <= 0) throw new Error("the server refused the session (timeOut 0)");
  }

  #onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    while (this.#buffer.length >= 4) {
      const length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getInt32(0);
      if (length < 0 || length > frameBytesMax) {
        this.#fail(new Error(`bad frame length ${length} from the server`));
        this.#socket.destroy();
        return;
      }
      if (this.#buffer.length < 4 + length) return;
      const frame = this.#buffer.slice(4, 4 + length);
      this.#buffer = this.#buffer.slice(4 + length);
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#handshake !== null) {
      const resolve = this.#handshake;
      this.#handshake = null;
      resolve(frame);
      return;
    }
    const reader = new JuteReader(frame);
    const xid = reader.int();
    const zxid = reader.long();
    const err = reader.int();
    if (xid === notificationXid) {
      const type = reader.int();
      reader.int(); // state
      if (this.notifications.length < notificationsMax) this.notifications.push({ type, path: reader.string() ?? "" });
      return;
    }
    const pending = this.#pending.shift();
    if (pending === undefined || pending.xid !== xid) {
      this.#fail(new Error(`reply with xid ${xid} but ${pending ? `xid ${pending.xid}` : "nothing"} was pending`));
      this.#socket.destroy();
      return;
    }
    pending.resolve({ err, zxid, body: frame.slice(16) });
  }

  #fail(error: Error): void {
    if (this.#failure === null) this.#failure = error;
    for (const pending of this.#pending.splice(0, this.#pending.length)) pending.reject(error);
  }

  #withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.#timeoutMs} ms waiting for ${what}`)), this.#timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`connect to ${host}:${port} failed: ${error.message}`));
    });
  });
}
