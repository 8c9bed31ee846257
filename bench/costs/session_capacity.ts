/**
 * Session capacity: N sessions connect to one server, then sit idle for a fixed window, each client
 * pinging after a third of the session timeout without traffic. Measured: the server's CPU while
 * still empty (its own housekeeping, subtracted from the per-ping figure), the time to connect them
 * all, the server's CPU for the handshakes and for the idle window (so, per ping), its resident
 * memory before and after (so, per session), and every session that left "connected" (an idle
 * session must never be dropped or expired).
 */
import type { SessionState } from "../../src/client/types.ts";
import { cpuMicros } from "../runtime_info.ts";
import { connectPool } from "./client_pool.ts";
import type { CostsTarget } from "./costs_targets.ts";
import type { DelaySummary } from "./delay_summary.ts";

export interface SessionCapacityOptions {
  sessions: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  sessionTimeoutMs: number;
  /** Length of the idle window measured. */
  windowMs: number;
  /** Length of the window measuring the server's CPU before any session connects. */
  baselineWindowMs: number;
}

export interface SessionCapacityResult {
  sessions: number;
  negotiatedTimeoutMs: number;
  /** The server's CPU per second with no session at all (timers, runtime housekeeping). */
  baselineServerCpuMicrosPerSecond: number;
  connectMs: number;
  connectDelays: DelaySummary;
  /** Server CPU from before the first connect to after the last. */
  connectServerCpuMicros: number;
  rssBeforeBytes: number;
  rssConnectedBytes: number;
  rssAfterWindowBytes: number;
  /** The idle window as it really lasted. */
  windowMs: number;
  windowServerCpuMicros: number;
  /** CPU of this process (the clients, and the server too when shared) during the window. */
  windowLoadGeneratorCpuMicros: number;
  /** Requests (pings, nearly all) the server counted during the window; null if it cannot say. */
  windowRequests: number | null;
  /** Sessions that left "connected" at any time since connecting, by the state they went to. */
  departures: Map<SessionState, number>;
  /** Sessions not "connected" at the end of the window. */
  notConnectedAtEnd: number;
}

/** Connects the sessions, measures the idle window, and closes them again (also on failure). */
export async function measureSessionCapacity(
  target: CostsTarget,
  options: SessionCapacityOptions,
): Promise<SessionCapacityResult> {
  const rssBeforeBytes = target.rssBytes();
  const baselineCpuBefore = target.cpuMicros();
  const baselineStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.baselineWindowMs));
  const baselineServerCpuMicrosPerSecond = (target.cpuMicros() - baselineCpuBefore) /
    ((performance.now() - baselineStart) / 1000);
  const connectCpuBefore = target.cpuMicros();
  const pool = await connectPool(target.connectString, {
    count: options.sessions,
    concurrency: options.concurrency,
    sessionTimeoutMs: options.sessionTimeoutMs,
    ...(target.clientTransport === undefined ? {} : { transport: target.clientTransport }),
  });
  try {
    const connectServerCpuMicros = target.cpuMicros() - connectCpuBefore;
    const rssConnectedBytes = target.rssBytes();
    const requestsBefore = await target.packetsReceived();
    const serverCpuBefore = target.cpuMicros();
    const ownCpuBefore = cpuMicros();
    const windowStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const windowMs = performance.now() - windowStart;
    const windowServerCpuMicros = target.cpuMicros() - serverCpuBefore;
    const windowLoadGeneratorCpuMicros = cpuMicros() - ownCpuBefore;
    const requestsAfter = await target.packetsReceived();
    return {
      sessions: pool.clients.length,
      negotiatedTimeoutMs: pool.negotiatedTimeoutMs,
      baselineServerCpuMicrosPerSecond,
      connectMs: pool.connectMs,
      connectDelays: pool.connectDelays,
      connectServerCpuMicros,
      rssBeforeBytes,
      rssConnectedBytes,
      rssAfterWindowBytes: target.rssBytes(),
      windowMs,
      windowServerCpuMicros,
      windowLoadGeneratorCpuMicros,
      windowRequests: requestsBefore === null || requestsAfter === null ? null : requestsAfter - requestsBefore,
      departures: pool.departures(),
      notConnectedAtEnd: pool.clients.filter((client) => client.state !== "connected").length,
    };
  } finally {
    await pool.close();
  }
}
