/**
 * The driver's server-wide counters, and the FourLetterSource that joins them with the core's status
 * and the per-connection records (the core counts nothing about sockets; the driver counts). It also
 * feeds ZooKeeper's metrics (metrics/server_metrics.ts): the driver tells it what happened, and it
 * remembers each connection's request opcodes so a reply's latency lands in readlatency or
 * updatelatency.
 */
import type { RequestHeader } from "../core/records.ts";
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
import { ServerMetrics } from "./metrics/server_metrics.ts";
import { versionString } from "./version.ts";

/** Requests per connection whose opcode is remembered until their reply (older ones are forgotten). */
const PENDING_OPCODES_MAX = 1024;

/** Opcodes of one connection's requests in flight, oldest first (replies come in request order). */
interface PendingOpcodes {
  xids: number[];
  opcodes: number[];
  head: number;
}

export class DriverStats {
  readonly startedAtMs: number;
  /** ZooKeeper's metrics; the caller's (ServeOptions.metrics) or this driver's own. */
  readonly metrics: ServerMetrics;
  packetsReceived = 0;
  packetsSent = 0;
  latency: LatencyStats = emptyLatency();
  traceMask = DEFAULT_TRACE_MASK;
  readonly #pending = new Map<ConnectionId, PendingOpcodes>();

  constructor(startedAtMs: number, metrics?: ServerMetrics) {
    this.startedAtMs = startedAtMs;
    this.metrics = metrics ?? new ServerMetrics({ nowMs: startedAtMs });
  }

  recordLatency(ms: number): void {
    recordLatency(this.latency, ms);
  }

  /** A ConnectRequest frame of `bytes` arrived. */
  connectionRequested(bytes: number): void {
    this.metrics.connectionRequested(bytes);
  }

  /** A request frame arrived on `connection`. */
  requestReceived(connection: ConnectionId, header: RequestHeader, bytes: number): void {
    this.metrics.requestReceived(bytes);
    let pending = this.#pending.get(connection);
    if (pending === undefined) {
      pending = { xids: [], opcodes: [], head: 0 };
      this.#pending.set(connection, pending);
    }
    if (pending.xids.length - pending.head >= PENDING_OPCODES_MAX) pending.head++;
    pending.xids.push(header.xid);
    pending.opcodes.push(header.type);
  }

  /**
   * A reply with `xid` went out on `connection` after `latencyMs` (null: its request was not seen),
   * `bytes` long. Requests before the matching one got no reply; they are forgotten.
   */
  replied(connection: ConnectionId, header: { xid: number; err: number }, latencyMs: number | null, bytes: number): void {
    const opcode = this.#takeOpcode(connection, header.xid);
    if (latencyMs !== null) this.recordLatency(latencyMs);
    this.metrics.replied(opcode, header.xid, header.err, latencyMs ?? 0, bytes);
  }

  connectionClosed(connection: ConnectionId): void {
    this.#pending.delete(connection);
  }

  connectionRejected(): void {
    this.metrics.connectionRejected();
  }

  sessionlessExpired(): void {
    this.metrics.sessionlessExpired();
  }

  throttled(): void {
    this.metrics.throttled();
  }

  /** `srst`. */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.latency = emptyLatency();
    this.metrics.reset();
  }

  #takeOpcode(connection: ConnectionId, xid: number): number {
    const pending = this.#pending.get(connection);
    if (pending === undefined) return -1;
    const end = pending.xids.length;
    let index = pending.head;
    while (index < end && pending.xids[index] !== xid) index++;
    if (index === end) return -1;
    const opcode = pending.opcodes[index]!;
    pending.head = index + 1;
    if (pending.head === end) {
      pending.xids = [];
      pending.opcodes = [];
      pending.head = 0;
    } else if (pending.head > PENDING_OPCODES_MAX) {
      pending.xids = pending.xids.slice(pending.head);
      pending.opcodes = pending.opcodes.slice(pending.head);
      pending.head = 0;
    }
    return opcode;
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
  // A driver that does not attach its metrics itself (it predates them) gets them attached here,
  // the first time a four-letter word looks; the gauges then read the driver's live picture.
  if (!stats.metrics.attached) stats.metrics.attach(() => fourLetterSource({ ...parts, nowMs: Date.now() }));
  return {
    metrics: stats.metrics,
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
