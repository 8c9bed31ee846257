/**
 * The picture the dashboard pushes every interval, as JSON: this server (state, zxid, counts), its
 * throughput and latency over the last interval, the ensemble (members with their mode, zxid and lag,
 * the last leader change seen), sessions with their connections, and watches. Everything comes
 * from what the admin commands already read (the FourLetterSource and the ensemble view) plus `srvr`
 * probes of the other members; every list is cut to a fixed number of rows, with totals.
 */
import type { FourLetterSource } from "../../four_letter_words.ts";
import type { AdminContext } from "../admin_commands.ts";
import type { JsonValue } from "../admin_json.ts";
import { type MemberReport, probeMember, splitAddress } from "./member_probe.ts";
import { zxidHex } from "./tree_view.ts";

/** Rows per table; the page shows the totals beside them. */
export const DASHBOARD_ROWS_MAX = 200;
/** Ensemble members probed with srvr (an ensemble has a handful; more are listed unprobed). */
export const PROBED_MEMBERS_MAX = 16;

/** Rates are measured over at least this long. */
const RATE_INTERVAL_MS_MIN = 500;

interface Sample {
  atMs: number;
  packetsReceived: number;
  latencyCount: number;
  latencyTotalMs: number;
}

/** Keeps what an interval's rates and the last leader change need between two pictures. */
export class DashboardState {
  readonly #context: AdminContext;
  readonly #nowMs: () => number;
  readonly #wallMs: () => number;
  #previous: Sample | null = null;
  #rates: Record<string, JsonValue> = { requestsPerSecond: 0, latencyAvgMs: 0, intervalMs: 0 };
  #leaderId = -1;
  #leaderChangedAtMs: number | null = null;
  #probes = new Map<number, MemberReport>();

  constructor(context: AdminContext, clocks: { nowMs: () => number; wallMs: () => number }) {
    this.#context = context;
    this.#nowMs = clocks.nowMs;
    this.#wallMs = clocks.wallMs;
  }

  /** Probes the other members (bounded: PROBED_MEMBERS_MAX, each PROBE_TIMEOUT_MS), for the next picture. */
  async probeMembers(): Promise<void> {
    const view = this.#context.ensemble?.() ?? null;
    if (view === null) return;
    const members = view.members.slice(0, PROBED_MEMBERS_MAX);
    const reports = await Promise.all(members.map(async (member) => {
      const address = splitAddress(member.clientAddress);
      const report = address === null
        ? { mode: null, zxid: null, nodeCount: null, problem: "client address unknown: add ;clientPort to its server.N line in zoo.cfg to see this member" }
        : await probeMember(address.host === "0.0.0.0" ? "127.0.0.1" : address.host, address.port);
      return [member.id, report] as const;
    }));
    this.#probes = new Map(reports);
  }

  /** The next picture; rates cover the time since the previous one. */
  picture(viewers: number): Record<string, JsonValue> {
    const source = this.#context.metrics.source();
    const status = source.status();
    const counters = source.counters();
    const sample: Sample = {
      atMs: this.#nowMs(),
      packetsReceived: counters.packetsReceived,
      latencyCount: counters.latency.count,
      latencyTotalMs: counters.latency.totalMs,
    };
    // A viewer joining between two ticks gets the last interval's rates, not a noisy sliver.
    if (this.#previous === null || sample.atMs - this.#previous.atMs >= RATE_INTERVAL_MS_MIN) {
      this.#rates = ratesBetween(this.#previous, sample);
      this.#previous = sample;
    }
    const rates = this.#rates;
    return {
      at: this.#wallMs(),
      viewers,
      server: {
        version: source.version,
        serving: source.serving,
        mode: source.readOnly ? "read-only" : status.mode,
        zxid: zxidHex(status.lastZxid),
        nodeCount: status.nodeCount,
        dataBytes: status.approximateDataSize,
        ephemerals: status.ephemeralsCount,
        sessions: status.sessionCount,
        connections: counters.aliveConnections,
        outstanding: status.outstandingRequests,
        uptimeMs: counters.uptimeMs,
      },
      rates,
      ensemble: this.#ensemble(status.lastZxid, status.mode),
      ...sessionsJson(source),
      ...watchesJson(source),
    };
  }

  #ensemble(myZxid: number, myMode: string): JsonValue {
    const view = this.#context.ensemble?.() ?? null;
    if (view === null) return null;
    if (view.leaderId !== this.#leaderId) {
      this.#leaderId = view.leaderId;
      this.#leaderChangedAtMs = this.#wallMs();
    }
    const myId = this.#context.metrics.source().conf().serverId;
    const reports = view.members.map((member) => {
      let report = member.id === myId ? { mode: myMode, zxid: myZxid, nodeCount: null, problem: null } : this.#probes.get(member.id);
      // Unprobed, the leader is still known by this member's view.
      if (member.id === view.leaderId && report?.mode == null) report = { mode: "leader", zxid: null, nodeCount: null, problem: report?.problem ?? null };
      return { member, report: report ?? null };
    });
    const newest = Math.max(-1, ...reports.map(({ report }) => report?.zxid ?? -1));
    return {
      myId,
      leaderId: view.leaderId,
      zabState: view.zabState,
      lastLeaderChangeAt: this.#leaderChangedAtMs,
      members: reports.map(({ member, report }) => ({
        id: member.id,
        address: member.serverAddress,
        clientAddress: member.clientAddress,
        observer: member.observer,
        mode: report?.mode ?? null,
        zxid: report?.zxid == null ? null : zxidHex(report.zxid),
        lag: report?.zxid == null || newest < 0 ? null : lagOf(newest, report.zxid),
        problem: report === null ? "not probed yet" : report.problem,
      })),
    };
  }
}

/** Transactions behind the newest member, when both zxids are of one epoch (else null: not comparable). */
function lagOf(newest: number, zxid: number): number | null {
  const epoch = (value: number) => Math.floor(value / 2 ** 32);
  return epoch(newest) === epoch(zxid) ? newest - zxid : null;
}

function ratesBetween(previous: Sample | null, sample: Sample): Record<string, JsonValue> {
  if (previous === null || sample.atMs <= previous.atMs) return { requestsPerSecond: 0, latencyAvgMs: 0, intervalMs: 0 };
  const seconds = (sample.atMs - previous.atMs) / 1000;
  // A stat_reset between two pictures makes counters go back: count that interval as zero.
  const requests = Math.max(0, sample.packetsReceived - previous.packetsReceived);
  const count = Math.max(0, sample.latencyCount - previous.latencyCount);
  const total = Math.max(0, sample.latencyTotalMs - previous.latencyTotalMs);
  return {
    requestsPerSecond: Math.round((requests / seconds) * 10) / 10,
    latencyAvgMs: count === 0 ? 0 : Math.round((total / count) * 100) / 100,
    intervalMs: Math.round(sample.atMs - previous.atMs),
  };
}

function sessionIdHex(id: bigint): string {
  return `0x${BigInt.asUintN(64, id).toString(16)}`;
}

function sessionsJson(source: FourLetterSource): Record<string, JsonValue> {
  const connections = source.connections();
  const bySession = new Map(connections.filter((c) => c.sessionId !== null).map((c) => [c.sessionId!, c] as const));
  const sessions = source.sessions();
  const nowMs = source.nowMs;
  const rows = sessions.slice(0, DASHBOARD_ROWS_MAX).map((session) => {
    const connection = bySession.get(session.sessionId);
    return {
      id: sessionIdHex(session.sessionId),
      timeoutMs: session.timeoutMs,
      expiresInMs: Math.max(0, session.expiresAtMs - nowMs),
      ephemerals: session.ephemerals.length,
      connection: connection === undefined ? null : `${connection.remoteAddress}:${connection.remotePort}`,
      lastOperation: connection?.lastOperation || null,
      received: connection?.received ?? null,
      sent: connection?.sent ?? null,
      lastLatencyMs: connection?.lastLatencyMs ?? null,
    };
  });
  return { sessions: rows, sessionsTotal: sessions.length, connectionsTotal: connections.length };
}

function watchesJson(source: FourLetterSource): Record<string, JsonValue> {
  const rows: JsonValue[] = [];
  let paths = 0;
  let total = 0;
  for (const [path, sessions] of source.dataWatches()) {
    paths++;
    total += sessions.length;
    if (rows.length < DASHBOARD_ROWS_MAX) {
      rows.push({ path, sessions: sessions.slice(0, 8).map(sessionIdHex), sessionCount: sessions.length });
    }
  }
  return { watches: rows, watchPathsTotal: paths, watchesTotal: total };
}
