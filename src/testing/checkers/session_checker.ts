/**
 * Sessions and their ephemerals at the end of a run, against the committed history:
 * - every session the history leaves open is known to the leader (else its ephemerals would
 *   outlive it forever), and no session the history closed is still tracked;
 * - no replica tells a client its session expired while the history shows that session was created
 *   after what the replica had applied (it answered from a stale view of a live session).
 * (Ephemerals deleted in the very txn that closes their session, and never created for a closed
 * one, are checked during the reference replay.)
 */
import { nodeKindOf } from "../../core/txn.ts";
import { zxidHex } from "../../core/zxid.ts";
import type { ConnectionRecord } from "../history.ts";
import { hex, type ReferenceReplay } from "./reference_replay.ts";
import type { Report } from "./violation.ts";

export function checkSessions(
  reference: Pick<ReferenceReplay, "tree" | "sessionCreated" | "sessionClosed">,
  options: {
    /** Sessions the final leader tracks, or null when there is no leader to ask. */
    leaderSessions: ReadonlySet<bigint> | null;
    connections: Iterable<ConnectionRecord>;
    report: Report;
  },
): void {
  const { report, leaderSessions } = options;
  if (leaderSessions !== null) {
    for (const sessionId of reference.sessionCreated.keys()) {
      if (reference.sessionClosed.has(sessionId) || leaderSessions.has(sessionId)) continue;
      const ephemerals = [...reference.tree.ephemeralsOf(sessionId)];
      report(
        "ephemerals die with their session",
        `session 0x${hex(sessionId)} is open in the committed history (ephemerals: ${ephemerals.join(", ") || "none"}) but the leader does not track it, so it can never expire`,
      );
    }
    for (const sessionId of leaderSessions) {
      const closed = reference.sessionClosed.get(sessionId);
      if (closed !== undefined) {
        report("ephemerals die with their session", `the leader still tracks session 0x${hex(sessionId)}, closed at ${zxidHex(closed)}`);
      }
    }
  }
  for (const path of ephemeralPaths(reference)) {
    const owner = reference.tree.get(path)!.ephemeralOwner;
    if (reference.sessionClosed.has(owner)) {
      report("ephemerals die with their session", `ephemeral ${path} outlives its session 0x${hex(owner)}`);
    }
  }
  for (const connection of options.connections) {
    if (!connection.toldExpired || connection.serverZxid === undefined) continue;
    const created = reference.sessionCreated.get(connection.sessionId);
    if (created !== undefined && created > connection.serverZxid) {
      report(
        "a live session is never declared expired",
        `server ${connection.sid} told client ${connection.client} its session 0x${hex(connection.sessionId)} had expired, having applied only up to ${zxidHex(connection.serverZxid)}; the session was created at ${zxidHex(created)}${reference.sessionClosed.has(connection.sessionId) ? "" : " and is still open"}`,
      );
    }
  }
}

function* ephemeralPaths(reference: Pick<ReferenceReplay, "tree">): Generator<string> {
  for (const node of reference.tree.snapshotNodes()) {
    if (nodeKindOf(node.ephemeralOwner) === "ephemeral") yield node.path;
  }
}
