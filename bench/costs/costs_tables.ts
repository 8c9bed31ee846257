/**
 * The costs tables: watch fan-out and session capacity, one row per server and shape. Pure: results
 * in, markdown Table out, so the shape is tested without running anything.
 */
import { formatCount, formatFigure, type Table } from "../markdown_table.ts";
import { median, summarizeDelays } from "./delay_summary.ts";
import type { FanOutRound } from "./fan_out.ts";
import type { SessionCapacityResult } from "./session_capacity.ts";

/** Every round of one server and one shape (connections × watchers per connection). */
export interface FanOutCell {
  server: string;
  /** The server's CPU figure includes the clients' (in-process server). */
  shared: boolean;
  /** The step of the server's CPU clock (10 ms for /proc), to mark figures it cannot resolve. */
  cpuResolutionMicros: number;
  connections: number;
  watchersPerConnection: number;
  rounds: readonly FanOutRound[];
}

export const FAN_OUT_COLUMNS = [
  "server",
  "connections × watchers",
  "rounds",
  "server watches",
  "delivery p50 ms",
  "delivery p99 ms",
  "all delivered ms (median, max)",
  "setData reply ms",
  "server CPU ms per change",
  "server CPU µs per notification",
  "events / expected",
] as const;

export const SESSION_COLUMNS = [
  "server",
  "sessions",
  "connect all s",
  "connect p50 / p99 ms",
  "server CPU µs per connect",
  "server CPU ms/s: empty → idle sessions",
  "idle: requests/s",
  "server CPU µs per ping",
  "server RSS MB: empty → connected → after idle",
  "RSS KiB per session",
  "dropped or expired",
] as const;

/** One row per cell; delays pooled over the rounds, CPU averaged per round. */
export function fanOutTable(cells: readonly FanOutCell[], caption: { watchers: number; rounds: number }): Table {
  return {
    title: `Watch fan-out: one setData, ${formatCount(caption.watchers)} watchers of one znode`,
    note: [
      "Each round every watcher registers a one-shot data watch (getData), then a separate client calls",
      "setData once; delays run from that call to each watcher's NodeDataChanged, pooled over the",
      `rounds (at least ${caption.rounds}; more for small shapes, until the server's CPU is measurable).`,
      "A server keeps one watch per connection and path, so it sends one notification per connection",
      "(\"server watches\", from `wchs`) and the client hands it to each of that connection's watchers;",
      "CPU per notification divides by server watches. Clients all run in the bench process, so delivery",
      "delays include its time to read every connection. Server CPU comes from /proc/<pid>/stat in 10 ms",
      "ticks (own process; \"~\": under 20 ticks over all rounds, \"<\": none), or is the whole bench",
      "process's for the in-process server (marked *: clients included).",
    ].join(" "),
    columns: [...FAN_OUT_COLUMNS],
    rows: cells.map(fanOutRow),
  };
}

export function fanOutRow(cell: FanOutCell): string[] {
  const rounds = cell.rounds;
  if (rounds.length === 0) throw new RangeError(`fanOutRow: ${cell.server} has no rounds`);
  const delays = summarizeDelays(concatenate(rounds.map((round) => round.deliveryMs)));
  const totals = rounds.map((round) => round.allDeliveredMs);
  const cpuTotalMicros = rounds.reduce((sum, round) => sum + round.serverCpuMicros, 0);
  const watches = rounds[0]?.serverWatches ?? null;
  const star = cell.shared ? " *" : "";
  const expected = rounds.reduce((sum, round) => sum + round.expected, 0);
  const delivered = rounds.reduce((sum, round) => sum + round.delivered, 0);
  const duplicates = rounds.reduce((sum, round) => sum + round.duplicates, 0);
  return [
    cell.server,
    `${formatCount(cell.connections)} × ${formatCount(cell.watchersPerConnection)}`,
    formatCount(rounds.length),
    watches === null ? "n/a" : formatCount(watches),
    formatFigure(delays.p50Ms),
    formatFigure(delays.p99Ms),
    `${formatFigure(median(totals))}, ${formatFigure(Math.max(...totals))}`,
    formatFigure(median(rounds.map((round) => round.setDataReplyMs))),
    cpuFigure((micros) => micros / 1000, cell, cpuTotalMicros) + star,
    (watches === null || watches === 0 ? "n/a" : cpuFigure((micros) => micros / watches, cell, cpuTotalMicros)) + star,
    `${formatCount(delivered)} / ${formatCount(expected)}` + (duplicates === 0 ? "" : ` (${duplicates} duplicates)`),
  ];
}

/** Clock steps summed over a cell's rounds below which its CPU figures are marked "~" (coarse). */
export const CPU_STEPS_PRECISE = 20;

/**
 * A CPU figure computed by `of` from the server's CPU per round, marked by how well the server's
 * CPU clock resolved it: "~" when the rounds summed fewer than CPU_STEPS_PRECISE clock steps, and
 * "<" a bound (one step spread over the rounds) when they summed none.
 */
function cpuFigure(of: (cpuMicrosPerRound: number) => number, cell: FanOutCell, cpuTotalMicros: number): string {
  const steps = cpuTotalMicros / cell.cpuResolutionMicros;
  if (steps < 1) return `< ${formatFigure(of(cell.cpuResolutionMicros / cell.rounds.length))}`;
  return (steps < CPU_STEPS_PRECISE ? "~" : "") + formatFigure(of(cpuTotalMicros / cell.rounds.length));
}

/** A server and its session-capacity result. */
export interface SessionRow {
  server: string;
  shared: boolean;
  result: SessionCapacityResult;
}

export function sessionTable(rows: readonly SessionRow[], caption: { sessions: number; windowMs: number }): Table {
  const first = rows[0]?.result;
  const timeout = first === undefined ? "n/a" : `${formatFigure(first.negotiatedTimeoutMs / 1000)} s`;
  return {
    title: `Session capacity: ${formatCount(caption.sessions)} idle sessions pinging`,
    note: [
      `${formatCount(caption.sessions)} sessions (session timeout ${timeout}, so a ping every third of it)`,
      `connect, then sit idle for ${formatFigure(caption.windowMs / 1000)} s. Server CPU and RSS come from`,
      "/proc of the server process (10 ms ticks); requests/s from its `srvr` counter (nearly all pings).",
      "CPU per ping subtracts the empty server's own rate. RSS per session is (after idle − empty) /",
      "sessions. A healthy server drops or expires none.",
    ].join(" "),
    columns: [...SESSION_COLUMNS],
    rows: rows.map(sessionRow),
  };
}

export function sessionRow(row: SessionRow): string[] {
  const r = row.result;
  const star = row.shared ? " *" : "";
  const seconds = r.windowMs / 1000;
  const megabytes = (bytes: number) => formatFigure(bytes / (1024 * 1024));
  const departures = [...r.departures].map(([state, count]) => `${count} ${state}`);
  if (r.notConnectedAtEnd > 0) departures.push(`${r.notConnectedAtEnd} not connected at the end`);
  return [
    row.server,
    formatCount(r.sessions),
    formatFigure(r.connectMs / 1000),
    `${formatFigure(r.connectDelays.p50Ms)} / ${formatFigure(r.connectDelays.p99Ms)}`,
    formatFigure(r.connectServerCpuMicros / r.sessions) + star,
    `${formatFigure(r.baselineServerCpuMicrosPerSecond / 1000)} → ` +
    formatFigure(r.windowServerCpuMicros / 1000 / seconds) + star,
    r.windowRequests === null ? "n/a" : formatCount(r.windowRequests / seconds),
    r.windowRequests === null || r.windowRequests === 0
      ? "n/a"
      : formatFigure(pingCpuMicros(r) / r.windowRequests) + star,
    `${megabytes(r.rssBeforeBytes)} → ${megabytes(r.rssConnectedBytes)} → ${megabytes(r.rssAfterWindowBytes)}`,
    formatFigure((r.rssAfterWindowBytes - r.rssBeforeBytes) / r.sessions / 1024) + star,
    departures.length === 0 ? "0" : departures.join(", "),
  ];
}

/** Server CPU of the idle window beyond what the empty server spent in as long (never below 0). */
function pingCpuMicros(r: SessionCapacityResult): number {
  return Math.max(0, r.windowServerCpuMicros - r.baselineServerCpuMicrosPerSecond * (r.windowMs / 1000));
}

function concatenate(parts: readonly Float64Array[]): Float64Array {
  const whole = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}
