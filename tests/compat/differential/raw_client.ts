/**
 * A minimal ZooKeeper client speaking jute over node:net, for the differential test. It sends
 * exactly what it is told (no retries, no reconnects, no client-side validation) and reports raw
 * results, so the test observes the server and nothing else. Errors are values, not exceptions;
 * exceptions mean the connection or the harness broke.
 */
import { connect, type Socket } from "node:net";
import { JuteReader, JuteWriter } from "./jute.ts";

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export interface Acl {
  perms: number;
  scheme: string;
  id: string;
}

export interface Notification {
  type: number;
  state: number;
  path: string;
  /** ReplyHeader.zxid of the notification: -1 on 3.8, the txn zxid on 3.9+. */
  zxid: bigint;
}

/** One reply: `err` 0 and a value, or a non-zero `err` and null. */
export interface RawResult<T> {
  err: number;
  zxid: bigint;
  value: T | null;
}

export type MultiOp =
  | { type: "create"; path: string; data: Uint8Array | null; acl: readonly Acl[]; flags: number }
  | { type: "delete"; path: string; version: number }
  | { type: "setData"; path: string; data: Uint8Array | null; version: number }
  | { type: "check"; path: string; version: number };

export interface MultiResult {
  /** Result opcode: 1 create, 15 create2, 2 delete, 5 setData, 13 check, -1 error. */
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
}

export interface RawClientOptions {
  host: string;
  port: number;
  /** Requested session timeout; default 30000 ms. */
  sessionTimeoutMs?: number;
  /** Per-request (and connect) deadline; default 10000 ms. */
  requestTimeoutMs?: number;
  /** Sent as auth packets (xid -4) right after the handshake, each awaited. */
  auth?: readonly { scheme: string; credential: string }[];
}

const Op = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  createContainer: 19,
  auth: 100,
  closeSession: -11,
} as const;

const notificationXid = -1;
const pingXid = -2;
const authXid = -4;
const frameBytesMax = 4 * 1024 * 1024;

interface Pending {
  xid: number;
  resolve: (reply: { zxid: bigint; err: number; body: JuteReader }) => void;
  reject: (error: Error) => void;
}

export class RawClient {
  readonly #socket: Socket;
  readonly #requestTimeoutMs: number;
  readonly #pending: Pending[] = [];
  readonly #notifications: Notification[] = [];
  #buffer = new Uint8Array(0);
  #handshake: ((bytes: Uint8Array) => void) | null = null;
  #nextXid = 1;
  #failure: Error | null = null;
  #closed: Promise<void>;
  sessionId = 0n;
  negotiatedTimeoutMs = 0;

  private constructor(socket: Socket, requestTimeoutMs: number) {
    this.#socket = socket;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", (error) => this.#fail(new Error(`socket error: ${error.message}`)));
    socket.on("close", () => this.#fail(new Error("connection closed by server")));
  }

  /** Connects, creates a session, sends the auth packets. Rejects with a clear error on any failure. */
  static async connect(options: RawClientOptions): Promise<RawClient> {
    const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    const socket = await openSocket(options.host, options.port, requestTimeoutMs);
    const client = new RawClient(socket, requestTimeoutMs);
    try {
      await client.#startSession(options.sessionTimeoutMs ?? 30_000);
      for (const auth of options.auth ?? []) {
        const reply = await client.#send(
          authXid,
          Op.auth,
          (w) => w.int(0).string(auth.scheme).string(auth.credential),
        );
        if (reply.err !== 0) throw new Error(`auth ${auth.scheme} failed with err ${reply.err}`);
      }
    } catch (error) {
      client.destroy();
      throw error;
    }
    return client;
  }

  /** Notifications received since the last call, in arrival order. */
  takeNotifications(): Notification[] {
    return this.#notifications.splice(0, this.#notifications.length);
  }

  create(
    input: { path: string; data: Uint8Array | null; acl: readonly Acl[]; flags: number; opcode: 1 | 15 | 19 },
  ): Promise<RawResult<{ path: string; stat: Stat | null }>> {
    return this.#call(input.opcode, (w) => writeCreate(w, input), (r) => ({
      path: r.string() ?? "",
      stat: input.opcode === Op.create ? null : readStat(r),
    }));
  }

  delete(path: string, version: number): Promise<RawResult<true>> {
    return this.#call(Op.delete, (w) => w.string(path).int(version), () => true as const);
  }

  exists(path: string, watch: boolean): Promise<RawResult<Stat>> {
    return this.#call(Op.exists, (w) => w.string(path).bool(watch), readStat);
  }

  getData(path: string, watch: boolean): Promise<RawResult<{ data: Uint8Array | null; stat: Stat }>> {
    return this.#call(
      Op.getData,
      (w) => w.string(path).bool(watch),
      (r) => ({ data: r.buffer(), stat: readStat(r) }),
    );
  }

  setData(path: string, data: Uint8Array | null, version: number): Promise<RawResult<Stat>> {
    return this.#call(Op.setData, (w) => w.string(path).buffer(data).int(version), readStat);
  }

  getChildren(path: string, watch: boolean): Promise<RawResult<{ children: string[]; stat: Stat | null }>> {
    return this.#call(
      Op.getChildren,
      (w) => w.string(path).bool(watch),
      (r) => ({ children: readStrings(r), stat: null }),
    );
  }

  getChildren2(path: string, watch: boolean): Promise<RawResult<{ children: string[]; stat: Stat | null }>> {
    return this.#call(
      Op.getChildren2,
      (w) => w.string(path).bool(watch),
      (r) => ({ children: readStrings(r), stat: readStat(r) }),
    );
  }

  getACL(path: string): Promise<RawResult<{ acl: Acl[]; stat: Stat }>> {
    return this.#call(Op.getACL, (w) => w.string(path), (r) => ({ acl: readAcls(r), stat: readStat(r) }));
  }

  setACL(path: string, acl: readonly Acl[], version: number): Promise<RawResult<Stat>> {
    return this.#call(Op.setACL, (w) => writeAcls(w.string(path), acl).int(version), readStat);
  }

  sync(path: string): Promise<RawResult<string>> {
    return this.#call(Op.sync, (w) => w.string(path), (r) => r.string() ?? "");
  }

  multi(ops: readonly MultiOp[]): Promise<RawResult<MultiResult[]>> {
    return this.#call(Op.multi, (w) => writeMulti(w, ops), readMultiResults);
  }

  async ping(): Promise<void> {
    const reply = await this.#send(pingXid, Op.ping, () => {});
    if (reply.err !== 0) throw new Error(`ping failed with err ${reply.err}`);
  }

  /** Sends closeSession, awaits its reply and then the server closing the socket. */
  async close(): Promise<RawResult<true>> {
    const reply = await this.#send(this.#nextXid++, Op.closeSession, () => {});
    await this.#withTimeout(this.#closed, "the server to close the socket after closeSession");
    return { err: reply.err, zxid: reply.zxid, value: reply.err === 0 ? true : null };
  }

  /** Drops the connection without closing the session. */
  destroy(): void {
    this.#socket.destroy();
  }

  async #call<T>(
    opcode: number,
    write: (w: JuteWriter) => void,
    read: (r: JuteReader) => T,
  ): Promise<RawResult<T>> {
    const reply = await this.#send(this.#nextXid++, opcode, write);
    if (reply.err !== 0) return { err: reply.err, zxid: reply.zxid, value: null };
    return { err: 0, zxid: reply.zxid, value: read(reply.body) };
  }

  #send(
    xid: number,
    opcode: number,
    write: (w: JuteWriter) => void,
  ): Promise<{ zxid: bigint; err: number; body: JuteReader }> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const writer = new JuteWriter().int(xid).int(opcode);
    write(writer);
    const reply = new Promise<{ zxid: bigint; err: number; body: JuteReader }>((resolve, reject) => {
      this.#pending.push({ xid, resolve, reject });
    });
    this.#socket.write(writer.frame());
    return this.#withTimeout(reply, `the reply to xid ${xid} (opcode ${opcode})`);
  }

  async #startSession(sessionTimeoutMs: number): Promise<void> {
    const request = new JuteWriter()
      .int(0) // protocolVersion
      .long(0n) // lastZxidSeen
      .int(sessionTimeoutMs)
      .long(0n) // sessionId: 0 asks for a new session
      .buffer(new Uint8Array(16))
      .bool(false); // readOnly
    const response = new Promise<Uint8Array>((resolve) => {
      this.#handshake = resolve;
    });
    this.#socket.write(request.frame());
    const reader = new JuteReader(await this.#withTimeout(response, "the ConnectResponse"));
    reader.int(); // protocolVersion
    this.negotiatedTimeoutMs = reader.int();
    this.sessionId = reader.long();
    if (this.negotiatedTimeoutMs <= 0) throw new Error("server refused the session (timeOut 0)");
  }

  #onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    while (this.#buffer.length >= 4) {
      const length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getInt32(0);
      if (length < 0 || length > frameBytesMax) {
        this.#fail(new Error(`bad frame length ${length} from server`));
        this.#socket.destroy();
        return;
      }
      if (this.#buffer.length < 4 + length) return;
      const frame = this.#buffer.slice(4, 4 + length);
      this.#buffer = this.#buffer.slice(4 + length);
      try {
        this.#onFrame(frame);
      } catch (error) {
        this.#fail(error instanceof Error ? error : new Error(String(error)));
        this.#socket.destroy();
        return;
      }
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
      const state = reader.int();
      this.#notifications.push({ type, state, path: reader.string() ?? "", zxid });
      return;
    }
    const pending = this.#pending.shift();
    if (pending === undefined) throw new Error(`reply with xid ${xid} but no request is pending`);
    if (pending.xid !== xid) throw new Error(`xid out of order: expected ${pending.xid}, got ${xid}`);
    pending.resolve({ zxid, err, body: reader });
  }

  #fail(error: Error): void {
    if (this.#failure === null) this.#failure = error;
    for (const pending of this.#pending.splice(0, this.#pending.length)) pending.reject(error);
  }

  #withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.#requestTimeoutMs} ms waiting for ${what}`)),
        this.#requestTimeoutMs,
      );
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

function writeCreate(
  w: JuteWriter,
  input: { path: string; data: Uint8Array | null; acl: readonly Acl[]; flags: number },
): void {
  writeAcls(w.string(input.path).buffer(input.data), input.acl).int(input.flags);
}

function writeAcls(w: JuteWriter, acl: readonly Acl[]): JuteWriter {
  w.int(acl.length);
  for (const entry of acl) w.int(entry.perms).string(entry.scheme).string(entry.id);
  return w;
}

function writeMulti(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    switch (op.type) {
      case "create":
        w.int(Op.create).bool(false).int(-1);
        writeCreate(w, op);
        break;
      case "delete":
        w.int(Op.delete).bool(false).int(-1).string(op.path).int(op.version);
        break;
      case "setData":
        w.int(Op.setData).bool(false).int(-1).string(op.path).buffer(op.data).int(op.version);
        break;
      case "check":
        w.int(Op.check).bool(false).int(-1).string(op.path).int(op.version);
        break;
    }
  }
  w.int(-1).bool(true).int(-1);
}

function readMultiResults(r: JuteReader): MultiResult[] {
  const results: MultiResult[] = [];
  for (let count = 0; count < 10_000; count++) {
    const type = r.int();
    const done = r.bool();
    const err = r.int();
    if (done) return results;
    if (type === -1) results.push({ type, err: r.int() });
    else if (type === Op.create) results.push({ type, err, path: r.string() ?? "" });
    else if (type === Op.create2) results.push({ type, err, path: r.string() ?? "", stat: readStat(r) });
    else if (type === Op.setData) results.push({ type, err, stat: readStat(r) });
    else if (type === Op.delete || type === Op.check) results.push({ type, err });
    else throw new Error(`multi: unexpected result type ${type}`);
  }
  throw new Error("multi: more than 10000 results");
}

function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

function readStrings(r: JuteReader): string[] {
  const count = r.int();
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(r.string() ?? "");
  return out;
}

function readAcls(r: JuteReader): Acl[] {
  const count = r.int();
  const out: Acl[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ perms: r.int(), scheme: r.string() ?? "", id: r.string() ?? "" });
  }
  return out;
}
