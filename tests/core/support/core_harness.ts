/** Drives the pure server core directly: no codec, no sockets. */
import { Server } from "../../../src/core/server.ts";
import { defaultServerConfig, type ServerConfig, type ServerOutput } from "../../../src/core/server_io.ts";
import type { ConnectResponse, Reply, Request, WatcherEvent } from "../../../src/core/records.ts";

export interface Harness {
  server: Server;
  now: number;
  outputs: ServerOutput[];
  /** When true, persist outputs are kept in heldPersists instead of being acknowledged. */
  holdPersists: boolean;
  heldPersists: number[];
}

export function createHarness(overrides: Partial<ServerConfig> = {}): Harness {
  const config = defaultServerConfig({ sessionIdSeedMs: 1_000_000, ...overrides });
  return { server: new Server(config, 1_000_000), now: 1_000_000, outputs: [], holdPersists: false, heldPersists: [] };
}

let nextConnection = 1;

export class TestSession {
  readonly harness: Harness;
  readonly connection: number;
  sessionId = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  #xid = 1;
  /** Everything the core sent to this connection, in order. */
  received: ServerOutput[] = [];

  /** `x509Subject`: the connection came over TLS with a verified client certificate of this subject. */
  constructor(harness: Harness, remoteAddress = "127.0.0.1", x509Subject?: string) {
    this.harness = harness;
    this.connection = nextConnection++;
    const x509 = x509Subject === undefined ? {} : { x509Subject };
    harness.server.open(this.connection, { remoteAddress, remotePort: 40000 + this.connection, ...x509 });
  }

  connect(options: { timeoutMs?: number; sessionId?: bigint; passwd?: Uint8Array; lastZxidSeen?: number } = {}): ConnectResponse {
    this.harness.server.connect(this.connection, {
      protocolVersion: 0,
      lastZxidSeen: options.lastZxidSeen ?? 0,
      timeOut: options.timeoutMs ?? 30000,
      sessionId: options.sessionId ?? 0n,
      passwd: options.passwd ?? new Uint8Array(16),
      readOnly: false,
    });
    drain(this.harness);
    const response = this.received.find((o) => o.kind === "connectResponse");
    if (!response || response.kind !== "connectResponse") throw new Error("no connect response");
    this.sessionId = response.response.sessionId;
    this.passwd = response.response.passwd;
    return response.response;
  }

  /** Sends a request and returns its reply (the last reply to this connection). */
  send(request: Request, xid = this.#xid++): Reply {
    this.harness.server.request(this.connection, { xid, type: 0 }, request);
    drain(this.harness);
    const replies = this.received.filter((o) => o.kind === "reply");
    const last = replies[replies.length - 1];
    if (!last || last.kind !== "reply") throw new Error("no reply");
    return last.reply;
  }

  /** Notifications received so far (and forgets them). */
  takeEvents(): WatcherEvent[] {
    const events = this.received.filter((o) => o.kind === "notification").map((o) => (o as { event: WatcherEvent }).event);
    this.received = this.received.filter((o) => o.kind !== "notification");
    return events;
  }

  get closed(): boolean {
    return this.received.some((o) => o.kind === "close");
  }
}

const sessionsByConnection = new WeakMap<Harness, Map<number, TestSession>>();

export function register(session: TestSession): TestSession {
  let map = sessionsByConnection.get(session.harness);
  if (!map) sessionsByConnection.set(session.harness, map = new Map());
  map.set(session.connection, session);
  return session;
}

/**
 * Routes the core's outputs to the TestSession they belong to. Writes are acknowledged as durable at
 * once unless the harness holds them (`harness.holdPersists`), as an in-memory driver would.
 */
export function drain(harness: Harness): void {
  for (let round = 0; round < 1000; round++) {
    const outputs = harness.server.takeOutputs();
    if (outputs.length === 0) return;
    let persistedUpTo = 0;
    for (const output of outputs) {
      harness.outputs.push(output);
      if (output.kind === "persist") {
        if (harness.holdPersists) harness.heldPersists.push(output.writeSeq);
        else persistedUpTo = output.writeSeq;
        continue;
      }
      if (output.kind === "log" || output.kind === "snapshot" || output.kind === "audit") continue;
      sessionsByConnection.get(harness)?.get(output.connection)?.received.push(output);
    }
    if (persistedUpTo > 0) harness.server.persisted(persistedUpTo);
  }
  throw new Error("drain did not settle in 1000 rounds");
}

export function openSession(harness: Harness, options: { timeoutMs?: number; remoteAddress?: string } = {}): TestSession {
  const session = register(new TestSession(harness, options.remoteAddress));
  const response = session.connect({ timeoutMs: options.timeoutMs ?? 30000 });
  if (response.timeOut <= 0) throw new Error("session refused");
  return session;
}

export function tick(harness: Harness, advanceMs: number): void {
  harness.now += advanceMs;
  harness.server.tick(harness.now);
  drain(harness);
}

export const bytes = (text: string) => new TextEncoder().encode(text);
export const text = (data: Uint8Array | null) => (data === null ? null : new TextDecoder().decode(data));
export const OPEN = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

export function create(path: string, data = "", flags = 0, acl = OPEN): Request {
  return { kind: "create", path, data: bytes(data), acl, flags, ttl: 0n };
}
