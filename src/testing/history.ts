/**
 * What the simulated clients saw, recorded for the checkers: every operation with its invocation and
 * completion times and reply, and per connection the exact order of replies and watch events.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { Reply, Request } from "../core/records.ts";

export interface OpRecord {
  index: number;
  client: number;
  sessionId: bigint;
  connection: number;
  /** The replica the connection went to. */
  sid: Sid;
  xid: number;
  request: Request;
  invokeMs: number;
  /** Null while pending, and for operations whose connection broke first (outcome unknown). */
  completeMs: number | null;
  reply: Reply | null;
}

/** One thing a connection received, in order. */
export type ReceivedItem =
  | { kind: "reply"; op: number }
  | { kind: "event"; type: number; path: string; zxid: number; atMs: number };

export interface ConnectionRecord {
  connection: number;
  client: number;
  sessionId: bigint;
  sid: Sid;
  openedMs: number;
  items: ReceivedItem[];
  /** The replica's last applied zxid when it handled the handshake (set by the simulator). */
  serverZxid?: number;
  /** The handshake resumed a session and the replica answered that it had expired. */
  toldExpired?: boolean;
}

export interface SessionRecord {
  sessionId: bigint;
  client: number;
  createdMs: number;
  /** How the client last learned the session ended, if it did. */
  end: { how: "closed" | "expired"; atMs: number } | null;
}

export class History {
  readonly ops: OpRecord[] = [];
  readonly connections = new Map<number, ConnectionRecord>();
  readonly sessions = new Map<bigint, SessionRecord>();
  /** Violations the clients noticed as they happened (e.g. a reply out of order). */
  readonly online: string[] = [];

  invoke(fields: Omit<OpRecord, "index" | "completeMs" | "reply">): OpRecord {
    const record: OpRecord = { ...fields, index: this.ops.length, completeMs: null, reply: null };
    this.ops.push(record);
    return record;
  }

  complete(record: OpRecord, reply: Reply, atMs: number): void {
    record.reply = reply;
    record.completeMs = atMs;
    this.connections.get(record.connection)?.items.push({ kind: "reply", op: record.index });
  }

  opened(record: Omit<ConnectionRecord, "items">): void {
    this.connections.set(record.connection, { ...record, items: [] });
  }

  event(connection: number, event: { type: number; path: string; zxid: number }, atMs: number): void {
    this.connections.get(connection)?.items.push({ kind: "event", ...event, atMs });
  }

  sessionCreated(sessionId: bigint, client: number, atMs: number): void {
    if (!this.sessions.has(sessionId)) this.sessions.set(sessionId, { sessionId, client, createdMs: atMs, end: null });
  }

  sessionEnded(sessionId: bigint, how: "closed" | "expired", atMs: number): void {
    const record = this.sessions.get(sessionId);
    if (record && record.end === null) record.end = { how, atMs };
  }
}
