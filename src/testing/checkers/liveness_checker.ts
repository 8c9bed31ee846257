/**
 * Session liveness (issue 11 item 4): once every client has fallen silent, the ensemble must expire
 * and close every session — a committed closeSession txn each — and with it delete every
 * ephemeral. The simulator waits for that (see Simulation#sessionLiveness) at most the longest
 * session timeout plus SESSION_CLOSE_SLACK_MS; this file holds the bound, the final check against
 * the committed history, and the description of what is still open when the wait fails.
 */
import type { SessionDump } from "../../core/server_io.ts";
import { hex, type ReferenceReplay } from "./reference_replay.ts";
import type { Report } from "./violation.ts";

/**
 * How long after the longest session timeout every session must be closed. A healthy ensemble
 * closes the last one within a tick or two of its deadline (expiry runs in tick buckets, then one
 * proposal round): over about 4,500 healthy swarm runs the last close came p99 0.3-0.6 s and at
 * most 6.7 s after the longest timeout - a leader whose wall clock was stepped back waits until it
 * catches up (steps are at most 8 s), and drift stretches a timeout by up to 10%. 15 s covers both.
 */
export const SESSION_CLOSE_SLACK_MS = 15_000;

/** Every session the committed history created is closed in it, and no ephemeral is left. */
export function checkSessionsClosed(
  reference: Pick<ReferenceReplay, "tree" | "sessionCreated" | "sessionClosed">,
  report: Report,
): void {
  for (const sessionId of reference.sessionCreated.keys()) {
    if (reference.sessionClosed.has(sessionId)) continue;
    const ephemerals = [...reference.tree.ephemeralsOf(sessionId)];
    report(
      "every expired session is closed",
      `session 0x${hex(sessionId)} was never closed in the committed history although its client fell silent` +
        ` (its ephemerals: ${ephemerals.join(", ") || "none"})`,
    );
  }
  const left = reference.tree.ephemeralCount;
  if (left > 0) {
    const owners = reference.tree.sessionsWithEphemerals().map((id) => `0x${hex(id)}`).join(", ");
    report("every expired session is closed", `${left} ephemeral(s) outlive every session (owners ${owners})`);
  }
}

/** What a server still holds open: its tracked sessions (with their ephemerals) and stray ephemerals. */
export function describeOpenSessions(server: {
  sessions(): SessionDump[];
  tree: { ephemeralCount: number; sessionsWithEphemerals(): bigint[] };
}): string {
  const sessions = server.sessions();
  const tracked = new Set(sessions.map((session) => session.sessionId));
  const parts = sessions.slice(0, 8).map((session) =>
    `0x${hex(session.sessionId)} (timeout ${session.timeoutMs} ms, expires at ${session.expiresAtMs.toFixed(0)}, ephemerals ${session.ephemerals.join(", ") || "none"})`
  );
  const strays = server.tree.sessionsWithEphemerals().filter((id) => !tracked.has(id));
  return `${sessions.length} session(s) open: ${parts.join("; ") || "none"}` +
    (sessions.length > 8 ? "; …" : "") +
    (strays.length > 0 ? `; ephemerals of untracked sessions ${strays.map((id) => `0x${hex(id)}`).join(", ")}` : "") +
    ` (${server.tree.ephemeralCount} ephemerals in the tree)`;
}
