/**
 * Checks the clients' history against the final committed history:
 * - no acknowledged write lost: every write a client saw succeed is in the committed history, at
 *   the zxid of its reply, as that client's request (session and xid); a local session's close,
 *   which has no txn, excepted;
 * - at most once: no client request became two txns;
 * - per-client FIFO: a session's txns are in the order it sent them — except the SESSIONMOVED and
 *   SESSIONEXPIRED no-ops of a connection the client had abandoned: a request still in flight on a
 *   connection the client gave up on may reach the leader after the client's newer requests (sent on
 *   its new connection); the leader refuses it (the session moved, or the client has closed it
 *   meanwhile) with an error txn that changes nothing, and the client never hears of it, so it is
 *   not out of order in any way a client can see;
 * - monotonic: the zxids a session sees in replies never go back (across reconnects too);
 * - linearizable writes: if write A completed before write B was invoked, zxid(A) < zxid(B);
 * - sync: a sync returns a zxid at least that of every write completed before it was invoked.
 * Replies out of order on a connection are caught by the clients as they happen.
 */
import { Code } from "../../core/errors.ts";
import type { TxnEntry } from "../../core/txn.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import { WRITE_KINDS } from "../../core/request_kinds.ts";
import type { ConnectionRecord, OpRecord } from "../history.ts";
import { hex } from "./reference_replay.ts";
import type { Report } from "./violation.ts";

export function checkHistory(
  entries: readonly TxnEntry[],
  ops: readonly OpRecord[],
  report: Report,
  /** The clients' connections (to tell abandoned ones); without them no txn is exempt from FIFO. */
  connections: Iterable<ConnectionRecord> = [],
): void {
  const byZxid = new Map(entries.map((entry) => [entry.header.zxid, entry]));
  const created = new Set(entries.filter((entry) => entry.txn.type === "createSession").map((entry) => entry.header.sessionId));
  // A local session (localSessionsEnabled) was never created in the history, and its close is its
  // member's alone, with no txn: no write to find, nor to order against the others.
  const txnWrite = (op: OpRecord) => isAcknowledgedWrite(op) && !(op.request.kind === "closeSession" && !created.has(op.sessionId));
  checkAcknowledgedWrites(byZxid, ops.filter(txnWrite), report);
  checkAtMostOnceAndFifo(entries, report, abandonedNoOp(entries, ops, connections));
  checkMonotonic(ops, report);
  checkRealTimeOrder(ops, txnWrite, report);
}

/** A write the client saw succeed (a multi replies OK even when a sub-op failed: see its results). */
export function isAcknowledgedWrite(op: OpRecord): boolean {
  if (op.reply === null || op.reply.header.err !== Code.OK || !WRITE_KINDS.has(op.request.kind)) return false;
  const body = op.reply.body;
  return body?.kind !== "multi" || body.results.every((result) => result.type !== "error");
}

function describe(op: OpRecord): string {
  const path = "path" in op.request ? ` ${op.request.path}` : "";
  return `client ${op.client} session 0x${hex(op.sessionId)} xid ${op.xid} ${op.request.kind}${path} (server ${op.sid}, invoked at ${op.invokeMs.toFixed(1)} ms)`;
}

/** `writes`: the acknowledged writes that must be txns. */
function checkAcknowledgedWrites(byZxid: ReadonlyMap<Zxid, TxnEntry>, writes: readonly OpRecord[], report: Report): void {
  for (const op of writes) {
    const zxid = op.reply!.header.zxid;
    const entry = byZxid.get(zxid);
    if (entry === undefined) {
      report("no acknowledged write lost", `${describe(op)} succeeded at ${zxidHex(zxid)}, which is not in the final committed history`);
    } else if (entry.header.sessionId !== op.sessionId || entry.header.cxid !== op.xid) {
      report(
        "no acknowledged write lost",
        `${describe(op)} succeeded at ${zxidHex(zxid)}, but the committed txn there belongs to session 0x${hex(entry.header.sessionId)} xid ${entry.header.cxid}`,
      );
    } else if (op.request.kind !== "closeSession" && (entry.txn.type === "error" || entry.txn.type === "multiError")) {
      report("no acknowledged write lost", `${describe(op)} succeeded at ${zxidHex(zxid)}, but the committed txn there is a failure (${entry.txn.type})`);
    }
  }
}

function checkAtMostOnceAndFifo(entries: readonly TxnEntry[], report: Report, exempt: (entry: TxnEntry) => boolean): void {
  const lastCxid = new Map<bigint, { cxid: number; zxid: Zxid }>();
  const committed = new Map<string, Zxid>();
  for (const entry of entries) {
    const { sessionId, cxid, zxid } = entry.header;
    if (cxid <= 0) continue; // session creation and expiry carry no client xid
    const key = `${sessionId} ${cxid}`;
    const twice = committed.get(key);
    if (twice !== undefined) {
      report("at most once", `session 0x${hex(sessionId)} xid ${cxid} is committed twice, at ${zxidHex(twice)} and ${zxidHex(zxid)}`);
    }
    committed.set(key, zxid);
    if (exempt(entry)) continue;
    const last = lastCxid.get(sessionId);
    if (twice === undefined && last !== undefined && cxid < last.cxid) {
      report("per-client FIFO order", `session 0x${hex(sessionId)}: xid ${cxid} is committed at ${zxidHex(zxid)}, after xid ${last.cxid} at ${zxidHex(last.zxid)}`);
    }
    lastCxid.set(sessionId, { cxid, zxid });
  }
}

/**
 * Exempt from FIFO exactly: a SESSIONMOVED or SESSIONEXPIRED error txn (a no-op; for a multi, the
 * multi of error results ZooKeeper commits, seed 198941862 at 5 voters) whose request the
 * client sent on a connection it later replaced by a newer one of the same session, and never got a
 * reply to; and, likewise, a second closeSession of a session the history had already closed (it
 * deletes nothing; ZooKeeper does not check the session of a closeSession either). Seed 277749750
 * at 3 voters: the client closed its session on its new connection before the old connection's
 * forwarded requests (three writes and a closeSession) reached the leader.
 */
function abandonedNoOp(
  entries: readonly TxnEntry[],
  ops: readonly OpRecord[],
  connections: Iterable<ConnectionRecord>,
): (entry: TxnEntry) => boolean {
  const firstClose = new Map<bigint, Zxid>();
  for (const entry of entries) {
    if (entry.txn.type === "closeSession" && !firstClose.has(entry.header.sessionId)) firstClose.set(entry.header.sessionId, entry.header.zxid);
  }
  const requests = new Map<string, OpRecord>();
  for (const op of ops) if (op.xid > 0) requests.set(`${op.sessionId} ${op.xid}`, op);
  const opened = new Map<number, ConnectionRecord>();
  const latest = new Map<bigint, number>();
  for (const connection of connections) {
    opened.set(connection.connection, connection);
    latest.set(connection.sessionId, Math.max(latest.get(connection.sessionId) ?? Number.NEGATIVE_INFINITY, connection.openedMs));
  }
  const noOp = (entry: TxnEntry) =>
    (entry.txn.type === "error" && refusedSession(entry.txn.err)) ||
    (entry.txn.type === "multiError" && entry.txn.codes.some(refusedSession)) ||
    (entry.txn.type === "closeSession" && entry.txn.paths.length === 0 && (firstClose.get(entry.header.sessionId) ?? entry.header.zxid) < entry.header.zxid);
  return (entry) => {
    if (!noOp(entry)) return false;
    const op = requests.get(`${entry.header.sessionId} ${entry.header.cxid}`);
    if (op === undefined || op.reply !== null) return false;
    const connection = opened.get(op.connection);
    const newest = latest.get(op.sessionId);
    return connection !== undefined && newest !== undefined && newest > connection.openedMs;
  };
}

/** The session was refused (moved to another connection, or closed): the txn changes nothing. */
function refusedSession(code: number): boolean {
  return code === Code.SESSIONMOVED || code === Code.SESSIONEXPIRED;
}

function checkMonotonic(ops: readonly OpRecord[], report: Report): void {
  const completed = ops.filter((op) => op.reply !== null && op.reply.header.zxid > 0);
  completed.sort((a, b) => a.completeMs! - b.completeMs! || a.index - b.index);
  const seen = new Map<bigint, OpRecord>();
  for (const op of completed) {
    const previous = seen.get(op.sessionId);
    if (previous !== undefined && op.reply!.header.zxid < previous.reply!.header.zxid) {
      report(
        "a client never sees older state after newer",
        `${describe(op)} replied with ${zxidHex(op.reply!.header.zxid)} after ${describe(previous)} replied with ${zxidHex(previous.reply!.header.zxid)}`,
      );
    }
    if (previous === undefined || op.reply!.header.zxid >= previous.reply!.header.zxid) seen.set(op.sessionId, op);
  }
}

/** Linearizable writes, and syncs that see every write completed before them. */
function checkRealTimeOrder(ops: readonly OpRecord[], txnWrite: (op: OpRecord) => boolean, report: Report): void {
  const writes = ops.filter(txnWrite).sort((a, b) => a.completeMs! - b.completeMs! || a.index - b.index);
  const probes = ops
    .filter((op) => txnWrite(op) || (op.request.kind === "sync" && op.reply?.header.err === Code.OK))
    .sort((a, b) => a.invokeMs - b.invokeMs || a.index - b.index);
  let done = 0;
  let latest: OpRecord | null = null;
  for (const op of probes) {
    for (; done < writes.length && writes[done]!.completeMs! < op.invokeMs; done++) {
      const write = writes[done]!;
      if (latest === null || write.reply!.header.zxid > latest.reply!.header.zxid) latest = write;
    }
    if (latest === null) continue;
    const zxid = op.reply!.header.zxid;
    const bound = latest.reply!.header.zxid;
    if (op.request.kind === "sync" ? zxid < bound : zxid <= bound) {
      report(
        op.request.kind === "sync" ? "sync sees every earlier write" : "writes are linearizable",
        `${describe(op)} got ${zxidHex(zxid)}, but ${describe(latest)} had completed at ${latest.completeMs!.toFixed(1)} ms with ${zxidHex(bound)} before it was invoked`,
      );
    }
  }
}
