/**
 * ZooKeeper's four-letter words (wire protocol §11) as pure functions from a picture of the server to
 * the exact text the reference prints. The driver supplies the picture (FourLetterSource); nothing
 * here reads clocks, sockets or the environment, so every shape is unit-testable.
 */
import type { ServerStatus, SessionDump } from "../core/server_io.ts";
import { javaDouble } from "./metrics/java_double.ts";
import { formatMntrLines, mntrEntries } from "./metrics/mntr_format.ts";
import type { ServerMetrics } from "./metrics/server_metrics.ts";

export { javaDouble } from "./metrics/java_double.ts";

export const FOUR_LETTER_WORDS = [
  "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
  "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

/** Telnet's "interrupt process + do timing mark": a known code that does nothing but close. */
export const TELNET_CLOSE_CODE = 0xfff4fffd;

/** The default `4lw.commands.whitelist`. */
export const DEFAULT_FOUR_LETTER_WHITELIST: ReadonlySet<string> = new Set(["srvr"]);

export const NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n";

/** The default trace mask ZooKeeper reports through `gtmk` (ZooTrace's default). */
export const DEFAULT_TRACE_MASK = 306n;

const WORD_BY_CODE = new Map<number, FourLetterWord>(FOUR_LETTER_WORDS.map((word) => [fourLetterWordCode(word), word]));

/** The command's code: its 4 ASCII bytes as an unsigned big-endian integer (`ruok` → 0x72756f6b). */
export function fourLetterWordCode(word: string): number {
  if (word.length !== 4) throw new RangeError(`a four-letter word has 4 characters, got ${JSON.stringify(word)}`);
  return ((word.charCodeAt(0) << 24) | (word.charCodeAt(1) << 16) | (word.charCodeAt(2) << 8) | word.charCodeAt(3)) >>> 0;
}

/**
 * What the first 4 bytes of a connection ask for: a four-letter word, "telnetClose", or null when
 * they are an ordinary frame length. `firstWord` may be signed or unsigned.
 */
export function fourLetterWordOf(firstWord: number): FourLetterWord | "telnetClose" | null {
  const code = firstWord >>> 0;
  if (code === TELNET_CLOSE_CODE) return "telnetClose";
  return WORD_BY_CODE.get(code) ?? null;
}

/** Whether `word` may run under `whitelist` ("*" allows every word). */
export function isWhitelisted(word: string, whitelist: ReadonlySet<string>): boolean {
  return whitelist.has("*") || whitelist.has(word);
}

// ---------------------------------------------------------------------------------------------------
// The picture of the server a command is computed from

export interface LatencyStats {
  count: number;
  totalMs: number;
  /** Meaningless while count is 0. */
  minMs: number;
  maxMs: number;
}

/** Server-wide counters the driver keeps. */
export interface ServerCounters {
  packetsReceived: number;
  packetsSent: number;
  latency: LatencyStats;
  aliveConnections: number;
  uptimeMs: number;
}

/** One client connection as `stat` and `cons` print it. */
export interface ConnectionReport {
  remoteAddress: string;
  remotePort: number;
  /** 1 while reading requests, 0 otherwise (the four-letter word's own connection). */
  interestOps: number;
  queued: number;
  received: number;
  sent: number;
  sessionId: bigint | null;
  lastOperation: string;
  establishedAtMs: number;
  sessionTimeoutMs: number;
  lastCxid: number;
  lastZxid: number;
  lastResponseAtMs: number;
  lastLatencyMs: number;
  latency: LatencyStats;
}

/** A connection in the "Connections dump" part of `dump` (NIO's expiry buckets). */
export interface ConnectionExpiry {
  remoteAddress: string;
  remotePort: number;
  sessionId: bigint | null;
  expiresAtMs: number;
}

/** The configuration `conf` prints. */
export interface ConfReport {
  clientPort: number;
  dataDir: string;
  dataLogDir: string;
  tickTimeMs: number;
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** 0 on a standalone server. */
  serverId: number;
  /** Bytes of the store as ZooKeeper labels them (see storage_sizes.ts); absent (0) without one. */
  dataDirSize?: number;
  dataLogSize?: number;
}

/** Everything a command may look at or do. Methods are called only by the commands that need them. */
export interface FourLetterSource {
  /** "3.8.0-corral-0.1.0, built on ..." */
  version: string;
  serving: boolean;
  readOnly: boolean;
  nowMs: number;
  status(): ServerStatus;
  counters(): ServerCounters;
  connections(): ConnectionReport[];
  sessions(): SessionDump[];
  /** Data watches: path → session ids. */
  dataWatches(): Map<string, bigint[]>;
  connectionExpiries(): ConnectionExpiry[];
  conf(): ConfReport;
  /** `key=value` pairs for envi, in order. */
  environment(): [string, string][];
  resetServerStats(): void;
  resetConnectionStats(): void;
  traceMask(): bigint;
  setTraceMask(mask: bigint): void;
  /** ZooKeeper's metrics (`mntr` renders them all); without them `mntr` prints the basic 16 lines. */
  metrics?: ServerMetrics;
}

/**
 * The reply to `word`, as the reference would send it. Words outside `whitelist` get the
 * "not executed" sentence. `stmkArgument` is the 8-byte mask that follows `stmk`.
 */
export function runFourLetterWord(
  word: FourLetterWord,
  source: FourLetterSource,
  options: { whitelist: ReadonlySet<string>; stmkArgument?: bigint },
): string {
  if (!isWhitelisted(word, options.whitelist)) return `${word} is not executed because it is not in the whitelist.\n`;
  switch (word) {
    case "ruok":
      return "imok";
    case "envi":
      return formatEnvi(source.environment());
    case "gtmk":
      return `${source.traceMask()}`;
    case "stmk":
      source.setTraceMask(options.stmkArgument ?? source.traceMask());
      return `${source.traceMask()}`;
    case "isro":
      return source.serving ? (source.readOnly ? "ro" : "rw") : "null";
  }
  if (!source.serving) return NOT_SERVING;
  switch (word) {
    case "srvr":
      return formatSrvr(source, null);
    case "stat":
      return formatSrvr(source, source.connections());
    case "mntr":
      return formatMntr(source);
    case "conf":
      return formatConf(source.conf());
    case "cons":
      return formatCons(source.connections());
    case "crst":
      source.resetConnectionStats();
      return "Connection stats reset.\n";
    case "srst":
      source.resetServerStats();
      return "Server stats reset.\n";
    case "dirs": {
      const conf = source.conf();
      return `datadir_size: ${conf.dataDirSize ?? 0}\nlogdir_size: ${conf.dataLogSize ?? 0}\n`;
    }
    case "hash":
      return "";
    case "dump":
      return formatDump(source.sessions(), source.connectionExpiries());
    case "wchs":
      return formatWchs(source.status());
    case "wchc":
      return formatWchc(source.dataWatches());
    case "wchp":
      return formatWchp(source.dataWatches());
  }
}

// ---------------------------------------------------------------------------------------------------
// Shapes

/** `srvr`, or `stat` when `clients` is given (the brief connection list after the version line). */
export function formatSrvr(source: Pick<FourLetterSource, "version" | "readOnly" | "status" | "counters">, clients: ConnectionReport[] | null): string {
  const status = source.status();
  const counters = source.counters();
  let text = `Zookeeper version: ${source.version}\n`;
  if (source.readOnly) text += "READ-ONLY mode; serving only read-only clients\n";
  if (clients !== null) {
    text += "Clients:\n";
    for (const client of clients) text += `${formatConnection(client, true)}\n`;
    text += "\n";
  }
  const latency = counters.latency;
  text += `Latency min/avg/max: ${latencyMin(latency)}/${javaDouble(latencyAverage(latency))}/${latencyMax(latency)}\n`;
  text += `Received: ${counters.packetsReceived}\n`;
  text += `Sent: ${counters.packetsSent}\n`;
  text += `Connections: ${counters.aliveConnections}\n`;
  text += `Outstanding: ${status.outstandingRequests}\n`;
  text += `Zxid: ${hexLong(status.lastZxid)}\n`;
  text += `Mode: ${source.readOnly ? "read-only" : status.mode}\n`;
  text += `Node count: ${status.nodeCount}\n`;
  return text;
}

/** One connection line of `stat` (brief) or `cons`, without the newline. */
export function formatConnection(c: ConnectionReport, brief: boolean): string {
  let text = ` /${c.remoteAddress}:${c.remotePort}[${c.interestOps.toString(16)}](queued=${c.queued},recved=${c.received},sent=${c.sent}`;
  if (!brief && c.sessionId !== null && c.sessionId !== 0n) {
    text += `,sid=${hexSession(c.sessionId)},lop=${c.lastOperation || "NA"},est=${c.establishedAtMs},to=${c.sessionTimeoutMs}`;
    if (c.lastCxid >= 0) text += `,lcxid=${hexLong(c.lastCxid)}`;
    text += `,lzxid=${hexLong(c.lastZxid)},lresp=${c.lastResponseAtMs},llat=${c.lastLatencyMs}`;
    text += `,minlat=${latencyMin(c.latency)},avglat=${Math.floor(latencyAverage(c.latency))},maxlat=${latencyMax(c.latency)}`;
  }
  return `${text})`;
}

export function formatCons(connections: ConnectionReport[]): string {
  let text = "";
  for (const connection of connections) text += `${formatConnection(connection, false)}\n`;
  return `${text}\n`;
}

export function formatMntr(source: Pick<FourLetterSource, "version" | "readOnly" | "status" | "counters" | "metrics">): string {
  const status = source.status();
  const serverState = source.readOnly ? "read-only" : status.mode;
  const metrics = source.metrics;
  if (metrics !== undefined && metrics.attached) {
    metrics.beginRender();
    try {
      return formatMntrLines(mntrEntries(metrics.registry, { version: source.version, serverState }));
    } finally {
      metrics.endRender();
    }
  }
  const counters = source.counters();
  const latency = counters.latency;
  const lines: [string, string | number][] = [
    ["version", source.version],
    ["server_state", serverState],
    ["avg_latency", javaDouble(latencyAverage(latency))],
    ["max_latency", latencyMax(latency)],
    ["min_latency", latencyMin(latency)],
    ["packets_received", counters.packetsReceived],
    ["packets_sent", counters.packetsSent],
    ["num_alive_connections", counters.aliveConnections],
    ["outstanding_requests", status.outstandingRequests],
    ["znode_count", status.nodeCount],
    ["watch_count", status.watchCount],
    ["ephemerals_count", status.ephemeralsCount],
    ["approximate_data_size", status.approximateDataSize],
    ["uptime", counters.uptimeMs],
    ["global_sessions", status.sessionCount],
    ["local_sessions", status.localSessionCount],
  ];
  return formatMntrLines(lines.map(([key, value]) => [key, String(value)]));
}

export function formatConf(conf: ConfReport): string {
  const lines: [string, string | number][] = [
    ["clientPort", conf.clientPort],
    ["secureClientPort", -1],
    ["dataDir", conf.dataDir],
    ["dataDirSize", conf.dataDirSize ?? 0],
    ["dataLogDir", conf.dataLogDir],
    ["dataLogSize", conf.dataLogSize ?? 0],
    ["tickTime", conf.tickTimeMs],
    ["maxClientCnxns", conf.maxClientCnxns],
    ["minSessionTimeout", conf.minSessionTimeoutMs],
    ["maxSessionTimeout", conf.maxSessionTimeoutMs],
    ["clientPortListenBacklog", -1],
    ["serverId", conf.serverId],
  ];
  return lines.map(([key, value]) => `${key}=${value}\n`).join("");
}

export function formatEnvi(environment: [string, string][]): string {
  return `Environment:\n${environment.map(([key, value]) => `${key}=${value}\n`).join("")}`;
}

/** `wchs`: counted over the data watch table only, as the reference does. */
export function formatWchs(status: ServerStatus): string {
  return `${status.dataWatchConnections} connections watching ${status.dataWatchPaths} paths\nTotal watches:${status.dataWatchTotal}\n`;
}

/** `wchc`: per session, the paths it watches (data watches). */
export function formatWchc(dataWatches: Map<string, bigint[]>): string {
  const bySession = new Map<bigint, string[]>();
  for (const [path, sessions] of dataWatches) {
    for (const session of sessions) {
      const paths = bySession.get(session);
      if (paths === undefined) bySession.set(session, [path]);
      else paths.push(path);
    }
  }
  let text = "";
  for (const [session, paths] of bySession) {
    text += `${hexSession(session)}\n`;
    for (const path of paths) text += `\t${path}\n`;
  }
  return `${text}\n`;
}

/** `wchp`: per path, the sessions watching it (data watches). */
export function formatWchp(dataWatches: Map<string, bigint[]>): string {
  let text = "";
  for (const [path, sessions] of dataWatches) {
    text += `${path}\n`;
    for (const session of sessions) text += `\t${hexSession(session)}\n`;
  }
  return `${text}\n`;
}

export function formatDump(sessions: SessionDump[], connections: ConnectionExpiry[]): string {
  let text = "SessionTracker dump:\n";
  const sessionBuckets = bucketsOf(sessions, (session) => session.expiresAtMs);
  text += `Session Sets (${sessionBuckets.length})/(${sessions.length}):\n`;
  for (const [atMs, bucket] of sessionBuckets) {
    text += `${bucket.length} expire at ${javaDateString(atMs)}:\n`;
    for (const session of bucket) text += `\t${hexSession(session.sessionId)}\n`;
  }
  const withEphemerals = sessions.filter((session) => session.ephemerals.length > 0);
  text += "ephemeral nodes dump:\n";
  text += `Sessions with Ephemerals (${withEphemerals.length}):\n`;
  for (const session of withEphemerals) {
    text += `${hexSession(session.sessionId)}:\n`;
    for (const path of session.ephemerals) text += `\t${path}\n`;
  }
  text += "Connections dump:\n";
  const connectionBuckets = bucketsOf(connections, (connection) => connection.expiresAtMs);
  text += `Connections Sets (${connectionBuckets.length})/(${connections.length}):\n`;
  for (const [atMs, bucket] of connectionBuckets) {
    text += `${bucket.length} expire at ${javaDateString(atMs)}:\n`;
    for (const c of bucket) text += `\tip: /${c.remoteAddress}:${c.remotePort} sessionId: ${hexSession(c.sessionId ?? 0n)}\n`;
  }
  return text;
}

function bucketsOf<T>(items: T[], timeOf: (item: T) => number): [number, T[]][] {
  const buckets = new Map<number, T[]>();
  for (const item of items) {
    const atMs = timeOf(item);
    const bucket = buckets.get(atMs);
    if (bucket === undefined) buckets.set(atMs, [item]);
    else bucket.push(item);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

// ---------------------------------------------------------------------------------------------------
// Java-compatible number and date formatting

export function latencyMin(latency: LatencyStats): number {
  return latency.count === 0 ? 0 : latency.minMs;
}

export function latencyMax(latency: LatencyStats): number {
  return latency.count === 0 ? 0 : latency.maxMs;
}

/** Average rounded to 4 decimals, as ServerStats does. */
export function latencyAverage(latency: LatencyStats): number {
  return latency.count === 0 ? 0 : Math.round((latency.totalMs / latency.count) * 10000) / 10000;
}

/** Java's Long.toHexString with a 0x prefix: negative values as 64-bit two's complement. */
export function hexLong(value: number): string {
  return `0x${BigInt.asUintN(64, BigInt(value)).toString(16)}`;
}

export function hexSession(sessionId: bigint): string {
  return `0x${BigInt.asUintN(64, sessionId).toString(16)}`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** java.util.Date.toString() in UTC: `Sat Nov 22 04:13:00 UTC 2025`. */
export function javaDateString(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${two(date.getUTCDate())} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}
