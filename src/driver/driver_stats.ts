/**
 * The driver's server-wide counters, and the FourLetterSource that joins them with the core's status
 * and the per-connection records (the core counts nothing about sockets; the driver counts).
 */
import type { ConnectionId, ConnectionStatus, ServerStatus, SessionDump } from "../core/server_io.ts";
import { type ClientConnection, emptyLatency, recordLatency } from "./client_connection.ts";
import { environmentFacts } from "./environment.ts";
import {
  type ConfReport,
  type ConnectionExpiry,
  type ConnectionReport,
  DEFAULT_TRACE_MASK,
  type FourLetterSource,
  type LatencyStats,
} from "./four_letter_words.ts";
import { versionString } from "./version.ts";

export class DriverStats {
  readonly startedAtMs: number;
  packetsReceived = 0;
  packetsSent = 0;
  latency: LatencyStats = emptyLatency();
  traceMask = DEFAULT_TRACE_MASK;

  constructor(startedAtMs: number) {
    this.startedAtMs = startedAtMs;
  }

  recordLatency(ms: number): void {
    recordLatency(this.latency, ms);
  }

  /** `srst`. */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.latency = emptyLatency();
  }
}

/** The parts of the core a four-letter word reads. */
export interface CoreStatusView {
  status(): ServerStatus;
  connections(): ConnectionStatus[];
  sessions(): SessionDump[];
  dataWatches(): Map<string, bigint[]>;
}

export interface FourLetterSourceParts {
  core: CoreStatusView;
  stats: DriverStats;
  connections: ReadonlyMap<ConnectionId, ClientConnection>;
  nowMs: number;
  conf(): ConfReport;
}

export function fourLetterSource(parts: FourLetterSourceParts): FourLetterSource {
  const { core, stats, connections, nowMs } = parts;
  const version = versionString();
  return {
    version,
    serving: true,
    readOnly: false,
    nowMs,
    status: () => core.status(),
    counters: () => ({
      packetsReceived: stats.packetsReceived,
      packetsSent: stats.packetsSent,
      latency: stats.latency,
      aliveConnections: connections.size,
      uptimeMs: nowMs - stats.startedAtMs,
    }),
    connections: () => connectionReports(core.connections(), connections),
    sessions: () => core.sessions(),
    dataWatches: () => core.dataWatches(),
    connectionExpiries: () => connectionExpiries(core.connections(), connections),
    conf: parts.conf,
    environment: () => environmentFacts(version),
    resetServerStats: () => stats.reset(),
    resetConnectionStats: () => {
      for (const connection of connections.values()) connection.resetStats();
    },
    traceMask: () => stats.traceMask,
    setTraceMask: (mask) => {
      stats.traceMask = mask;
    },
  };
}

function connectionReports(
  statuses: ConnectionStatus[],
  connections: ReadonlyMap<ConnectionId, ClientConnection>,
): ConnectionReport[] {
  const byId = new Map(statuses.map((status) => [status.connection, status]));
  const reports: ConnectionReport[] = [];
  for (const connection of connections.values()) {
    const status = byId.get(connection.id);
    reports.push({
      remoteAddress: connection.remoteAddress,
      remotePort: connection.remotePort,
      interestOps: connection.closing || connection.phase === "fourLetter" ? 0 : 1,
      queued: status?.outstandingRequests ?? 0,
      received: connection.received,
      sent: connection.sent,
      sessionId: status?.sessionId ?? null,
      lastOperation: status?.lastOperation ?? "NA",
      establishedAtMs: connection.establishedAtMs,
      sessionTimeoutMs: status?.sessionTimeoutMs ?? 0,
      lastCxid: status?.lastCxid ?? -1,
      lastZxid: status?.lastZxid ?? -1,
      lastResponseAtMs: connection.lastResponseAtMs,
      lastLatencyMs: connection.lastLatencyMs,
      latency: connection.latency,
    });
  }
  return reports;
}

/** When each connection would be dropped for silence: the session timeout, or the handshake deadline. */
function connectionExpiries(
  statuses: ConnectionStatus[],
  connections: ReadonlyMap<ConnectionId, ClientConnection>,
): ConnectionExpiry[] {
  const byId = new Map(statuses.map((status) => [status.connection, status]));
  const expiries: ConnectionExpiry[] = [];
  for (const connection of connections.values()) {
    const status = byId.get(connection.id);
    const sessionId = status?.sessionId ?? null;
    const expiresAtMs = sessionId !== null && status !== undefined
      ? connection.lastActivityAtMs + status.sessionTimeoutMs
      : connection.handshakeDeadlineMs;
    expiries.push({ remoteAddress: connection.remoteAddress, remotePort: connection.remotePort, sessionId, expiresAtMs });
  }
  return expiries;
}
