/**
 * What a Server reports about itself for four-letter words and metrics (srvr, mntr, cons, dump,
 * wchs): read-only views over its tree, sessions, watches and connections, kept out of the state
 * machine itself.
 */
import type { Connection } from "./connection.ts";
import type { DataTree } from "./data_tree.ts";
import type { ConnectionId, ConnectionStatus, ServerStatus, SessionDump } from "./server_io.ts";
import type { SessionTracker } from "./session_tracker.ts";
import type { WatchManager } from "./watch_manager.ts";

/** The parts of a Server the reports read. */
export interface ServerState {
  tree: DataTree;
  watches: WatchManager;
  sessions: SessionTracker;
  /** Sessions only this member knows (local_sessions.ts, read-only mode's too). */
  localSessionCount: number;
  connections: ReadonlyMap<ConnectionId, Connection>;
}

export function serverStatus(state: ServerState): ServerStatus {
  const dataWatchers = state.watches.dataWatchers();
  const connectionsWatching = new Set<ConnectionId>();
  let dataWatchTotal = 0;
  for (const connections of dataWatchers.values()) {
    dataWatchTotal += connections.length;
    for (const connection of connections) connectionsWatching.add(connection);
  }
  let outstandingRequests = 0;
  for (const connection of state.connections.values()) outstandingRequests += connection.outstanding;
  return {
    mode: "standalone",
    lastZxid: state.tree.lastZxid,
    nodeCount: state.tree.nodeCount,
    approximateDataSize: state.tree.approximateDataSize,
    ephemeralsCount: state.tree.ephemeralCount,
    sessionCount: state.sessions.size,
    localSessionCount: state.localSessionCount,
    watchCount: state.watches.count,
    dataWatchPaths: dataWatchers.size,
    dataWatchConnections: connectionsWatching.size,
    dataWatchTotal,
    outstandingRequests,
  };
}

export function connectionStatuses(state: ServerState): ConnectionStatus[] {
  return [...state.connections.values()].map((connection) => ({
    connection: connection.id,
    remoteAddress: connection.info.remoteAddress,
    remotePort: connection.info.remotePort,
    sessionId: connection.sessionId,
    sessionTimeoutMs: connection.sessionTimeoutMs,
    outstandingRequests: connection.outstanding,
    lastOperation: connection.lastOperation,
    lastCxid: connection.lastCxid,
    lastZxid: connection.lastZxid,
  }));
}

export function sessionDumps(state: ServerState): SessionDump[] {
  return [...state.sessions.sessions()].map((session) => ({
    sessionId: session.id,
    timeoutMs: session.timeoutMs,
    expiresAtMs: state.sessions.deadlineOf(session.id) ?? 0,
    ephemerals: [...state.tree.ephemeralsOf(session.id)],
  }));
}

/** Data-table watches as path → session ids (connections without a session are left out). */
export function dataWatchSessions(state: ServerState): Map<string, bigint[]> {
  const result = new Map<string, bigint[]>();
  for (const [path, connections] of state.watches.dataWatchers()) {
    const sessions = connections.map((id) => state.connections.get(id)?.sessionId ?? null)
      .filter((id): id is bigint => id !== null);
    if (sessions.length > 0) result.set(path, sessions);
  }
  return result;
}
