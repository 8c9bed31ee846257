/**
 * Read-only mode (ZooKeeper's ReadOnlyZooKeeperServer, turned on by readonlymode.enabled): a member
 * that has looked for a leader for max(2 s, tickTime) serves reads from its own tree to clients that
 * connected with canBeReadOnly, until it joins a leader again. As ZooKeeper 3.8 does (with its local
 * sessions, which read-only clients need there):
 * - sessions made here are local to this member: never replicated, unknown to the ensemble, gone
 *   when the mode ends (the client is then told elsewhere that its session expired, and starts a
 *   new one);
 * - a client may not bring a session of the ensemble here (ZOOKEEPER-3863: nobody could expire it
 *   while this member is cut off); it is turned away and tries another server;
 * - every write, and sync, is answered NOTREADONLY; reads, watches, auth and pings work.
 * The server (server.ts) owns the connections; this module holds the rules, local_sessions.ts the sessions.
 */
import { LocalSessions } from "./local_sessions.ts";
import type { ConnectRequest, Request } from "./records.ts";
import { WRITE_KINDS } from "./request_kinds.ts";

/** How long a member looks for a leader before it serves read-only: ZooKeeper's max(2 s, tickTime). */
export function readOnlyGraceMs(tickTimeMs: number): number {
  return Math.max(2000, tickTimeMs);
}

/** Whether a read-only member answers `kind` with NOTREADONLY (ZooKeeper's ReadOnlyRequestProcessor). */
export function refusedWhenReadOnly(kind: Request["kind"]): boolean {
  return kind === "sync" || (WRITE_KINDS.has(kind) && kind !== "closeSession");
}

/** What a read-only member does with a client's handshake. */
export type ReadOnlyAdmission =
  | { kind: "refuse"; reason: string }
  | { kind: "create" }
  | { kind: "resume" }
  | { kind: "expired" };

/** The local sessions of one read-only period, and who may open or resume one. */
export class ReadOnlySessions extends LocalSessions {
  /**
   * The handshake's fate, in ZooKeeper's order: a client that did not ask for read-only is refused,
   * then a session of the ensemble (`isEnsembleSession`) is refused; a local one resumes if it is
   * alive and the password matches, else it has expired.
   */
  admit(request: ConnectRequest, isEnsembleSession: (sessionId: bigint) => boolean): ReadOnlyAdmission {
    if (request.readOnly !== true) {
      return { kind: "refuse", reason: "this server is read-only (no quorum): it serves only clients that allow read-only (canBeReadOnly)" };
    }
    if (request.sessionId === 0n) return { kind: "create" };
    if (isEnsembleSession(request.sessionId)) {
      return { kind: "refuse", reason: "a session of the ensemble cannot be resumed on a read-only server: try another server" };
    }
    return this.resumable(request.sessionId, request.passwd) ? { kind: "resume" } : { kind: "expired" };
  }
}
