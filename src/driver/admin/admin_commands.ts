/**
 * The AdminServer's commands: ZooKeeper 3.8's (plus 3.9's snapshot and restore, in admin_server.ts)
 * under the same primary names and aliases, answering JSON with the same field names, computed from
 * the driver's FourLetterSource. Each command is a pure function of the context and its arguments.
 */
import type { ConnectionReport, FourLetterSource } from "../four_letter_words.ts";
import { latencyAverage, latencyMax, latencyMin } from "../four_letter_words.ts";
import { mntrEntries } from "../metrics/mntr_format.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import type { JsonValue } from "./admin_json.ts";

/** One member as `voting_view` shows it. */
export interface VotingMember {
  id: number;
  /** "host:quorumPort" */
  serverAddress: string;
  /** "host:electionPort" (Corral uses the quorum port for both). */
  electionAddress: string;
  /** "host:clientPort" or "". */
  clientAddress: string;
  observer: boolean;
}

/** An ensemble member's view, for leader, voting_view and zabstate. */
export interface AdminEnsembleView {
  isLeader: boolean;
  /** -1 while no leader is known. */
  leaderId: number;
  /** "host:quorumPort" of the leader, "" when unknown. */
  leaderAddress: string;
  /** ZooKeeper's zabstate: "discovery", "synchronization", "broadcast" or "election". */
  zabState: string;
  voting: boolean;
  members: readonly VotingMember[];
}

export interface AdminContext {
  metrics: ServerMetrics;
  /** zoo.cfg as given, for initial_configuration; "" without one. */
  initialConfiguration?: string;
  /** Present on ensemble members. */
  ensemble?: () => AdminEnsembleView | null;
  /** The newest durable snapshot, for last_snapshot; null without one. */
  lastSnapshot?: () => { zxid: number; timestampSeconds: number } | null;
}

export type CommandArguments = Readonly<Record<string, string>>;

interface CommandDefinition {
  names: readonly string[];
  /** ZooKeeper's isServerRequired: refused while the server does not serve. */
  serverRequired: boolean;
  run(context: AdminContext, source: FourLetterSource, args: CommandArguments): Record<string, JsonValue>;
}

const NOT_SERVING = "This ZooKeeper instance is not currently serving requests";

const COMMANDS: readonly CommandDefinition[] = [
  { names: ["configuration", "conf", "config"], serverRequired: true, run: (_, s) => configuration(s) },
  { names: ["connection_stat_reset", "crst"], serverRequired: true, run: (_, s) => (s.resetConnectionStats(), {}) },
  { names: ["connections", "cons"], serverRequired: true, run: (_, s) => ({ connections: s.connections().map((c) => connectionInfo(c, false)), secure_connections: [] }) },
  { names: ["dirs"], serverRequired: true, run: (_, s) => ({ datadir_size: s.conf().dataDirSize ?? 0, logdir_size: s.conf().dataLogSize ?? 0 }) },
  { names: ["dump"], serverRequired: true, run: (_, s) => dump(s) },
  { names: ["environment", "env", "envi"], serverRequired: false, run: (_, s) => Object.fromEntries(s.environment()) },
  { names: ["get_trace_mask", "gtmk"], serverRequired: false, run: (_, s) => ({ tracemask: BigInt.asIntN(64, s.traceMask()) }) },
  { names: ["hash"], serverRequired: true, run: () => ({ digests: [] }) },
  { names: ["initial_configuration", "icfg"], serverRequired: true, run: (c) => ({ initial_configuration: c.initialConfiguration ?? "" }) },
  { names: ["is_read_only", "isro"], serverRequired: true, run: (_, s) => ({ read_only: s.readOnly }) },
  { names: ["last_snapshot", "lsnp"], serverRequired: true, run: (c) => lastSnapshot(c) },
  { names: ["leader", "lead"], serverRequired: true, run: (c) => leader(c) },
  { names: ["monitor", "mntr"], serverRequired: false, run: (c, s) => monitor(c, s) },
  { names: ["observer_connection_stat_reset", "orst"], serverRequired: true, run: () => ({}) },
  { names: ["observers", "obsr"], serverRequired: true, run: () => ({ synced_observers: 0, observers: [] }) },
  { names: ["ruok"], serverRequired: true, run: () => ({}) },
  { names: ["server_stats", "srvr"], serverRequired: true, run: (c, s) => serverStats(c, s) },
  { names: ["set_trace_mask", "stmk"], serverRequired: false, run: (_, s, a) => setTraceMask(s, a) },
  { names: ["stat_reset", "srst"], serverRequired: true, run: (_, s) => (s.resetServerStats(), {}) },
  {
    names: ["stats", "stat"],
    serverRequired: true,
    run: (c, s) => ({ ...serverStats(c, s), connections: s.connections().map((x) => connectionInfo(x, true)), secure_connections: [] }),
  },
  { names: ["system_properties", "sysp"], serverRequired: false, run: (_, s) => Object.fromEntries([...s.environment()].sort((a, b) => a[0] < b[0] ? -1 : 1)) },
  { names: ["voting_view"], serverRequired: true, run: (c) => votingView(c) },
  { names: ["watch_summary", "wchs"], serverRequired: true, run: (_, s) => watchSummary(s) },
  { names: ["watches", "wchc"], serverRequired: true, run: (_, s) => watchesBySession(s) },
  { names: ["watches_by_path", "wchp"], serverRequired: true, run: (_, s) => watchesByPath(s) },
  { names: ["zabstate"], serverRequired: true, run: (c) => zabState(c) },
];

/** Every name a command answers to → its primary name. Snapshot and restore join in admin_server.ts. */
export const COMMAND_NAMES: ReadonlyMap<string, string> = new Map(
  COMMANDS.flatMap((command) => command.names.map((name) => [name, command.names[0]!] as const)),
);

const BY_NAME = new Map(COMMANDS.flatMap((command) => command.names.map((name) => [name, command] as const)));

/** Primary names, as /commands lists them (with snapshot and restore added by the server). */
export const PRIMARY_NAMES: readonly string[] = COMMANDS.map((command) => command.names[0]!);

/**
 * Runs `name` and returns its JSON: `command` (the primary name) and `error` (null or the message)
 * beside the command's fields, as ZooKeeper's CommandResponse. Null for an unknown name.
 */
export function runAdminCommand(name: string, context: AdminContext, args: CommandArguments = {}): Record<string, JsonValue> | null {
  const command = BY_NAME.get(name);
  if (command === undefined) return null;
  const primary = command.names[0]!;
  const source = context.metrics.source();
  if (command.serverRequired && !source.serving) return { command: primary, error: NOT_SERVING };
  const fields = command.run(context, source, args);
  // A command that reports an error itself (leader on a standalone server) puts it first, as ZooKeeper does.
  if ("error" in fields) return { ...fields, command: primary };
  return { ...fields, command: primary, error: null };
}

/** ZooKeeper's answer to a name it does not know (HTTP 200, as ZooKeeper keeps it). */
export function unknownCommand(name: string): Record<string, JsonValue> {
  return { command: name, error: `Unknown command: ${name}` };
}

// ---------------------------------------------------------------------------------------------------

function configuration(source: FourLetterSource): Record<string, JsonValue> {
  const conf = source.conf();
  return {
    client_port: conf.clientPort,
    data_dir: conf.dataDir,
    data_log_dir: conf.dataLogDir,
    tick_time: conf.tickTimeMs,
    max_client_cnxns: conf.maxClientCnxns,
    min_session_timeout: conf.minSessionTimeoutMs,
    max_session_timeout: conf.maxSessionTimeoutMs,
    server_id: conf.serverId,
    client_port_listen_backlog: -1,
  };
}

/** ServerCnxn.getConnectionInfo: the brief fields, then the session's. */
function connectionInfo(c: ConnectionReport, brief: boolean): Record<string, JsonValue> {
  const info: Record<string, JsonValue> = {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: c.interestOps,
    outstanding_requests: c.queued,
    packets_received: c.received,
    packets_sent: c.sent,
  };
  if (brief || c.sessionId === null || c.sessionId === 0n) return info;
  return {
    ...info,
    session_id: BigInt.asIntN(64, c.sessionId),
    last_operation: c.lastOperation || "NA",
    established: c.establishedAtMs,
    session_timeout: c.sessionTimeoutMs,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseAtMs,
    last_latency: c.lastLatencyMs,
    min_latency: latencyMin(c.latency),
    avg_latency: Math.floor(latencyAverage(c.latency)),
    max_latency: latencyMax(c.latency),
  };
}

function dump(source: FourLetterSource): Record<string, JsonValue> {
  const expiry: Record<string, bigint[]> = {};
  const ephemerals: Record<string, string[]> = {};
  for (const session of source.sessions()) {
    const id = BigInt.asIntN(64, session.sessionId);
    (expiry[String(session.expiresAtMs)] ??= []).push(id);
    if (session.ephemerals.length > 0) ephemerals[id.toString()] = [...session.ephemerals];
  }
  return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: ephemerals };
}

function lastSnapshot(context: AdminContext): Record<string, JsonValue> {
  const info = context.lastSnapshot?.() ?? null;
  return {
    zxid: info === null ? "ffffffffffffffff" : BigInt.asUintN(64, BigInt(info.zxid)).toString(16),
    timestamp: info === null ? -1 : info.timestampSeconds,
  };
}

function leader(context: AdminContext): Record<string, JsonValue> {
  const view = context.ensemble?.() ?? null;
  if (view === null) return { error: "server is not initialized" };
  return { is_leader: view.isLeader, leader_id: view.leaderId, leader_ip: view.leaderAddress };
}

function monitor(context: AdminContext, source: FourLetterSource): Record<string, JsonValue> {
  const metrics = context.metrics;
  const state = source.readOnly ? "read-only" : source.status().mode;
  metrics.beginRender();
  try {
    const fields: Record<string, JsonValue> = {};
    for (const [key, text] of mntrEntries(metrics.registry, { version: source.version, serverState: state })) {
      fields[key] = key === "version" || key === "server_state" ? text : Number(text);
    }
    return fields;
  } finally {
    metrics.endRender();
  }
}

function serverStats(context: AdminContext, source: FourLetterSource): Record<string, JsonValue> {
  const status = source.status();
  const counters = source.counters();
  const conf = source.conf();
  const mntr = monitor(context, source);
  const responses = {
    last_buffer_size: mntr["last_client_response_size"] ?? -1,
    min_buffer_size: mntr["min_client_response_size"] ?? -1,
    max_buffer_size: mntr["max_client_response_size"] ?? -1,
  };
  return {
    version: source.version,
    read_only: source.readOnly,
    server_stats: {
      packets_sent: counters.packetsSent,
      packets_received: counters.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: responses,
      data_dir_size: conf.dataDirSize ?? 0,
      log_dir_size: conf.dataLogSize ?? 0,
      provider_null: false,
      server_state: source.readOnly ? "read-only" : status.mode,
      last_processed_zxid: status.lastZxid,
      outstanding_requests: status.outstandingRequests,
      avg_latency: latencyAverage(counters.latency),
      max_latency: latencyMax(counters.latency),
      min_latency: latencyMin(counters.latency),
      num_alive_client_connections: counters.aliveConnections,
      uptime: counters.uptimeMs,
      auth_failed_count: mntr["auth_failed_count"] ?? 0,
      non_mtlsremote_conn_count: mntr["non_mtls_remote_conn_count"] ?? 0,
      non_mtlslocal_conn_count: mntr["non_mtls_local_conn_count"] ?? 0,
    },
    client_response: responses,
    node_count: status.nodeCount,
  };
}

function setTraceMask(source: FourLetterSource, args: CommandArguments): Record<string, JsonValue> {
  const text = args["traceMask"];
  if (text === undefined) return { error: "setTraceMask requires long traceMask argument" };
  if (!/^[+-]?\d{1,19}$/.test(text)) return { error: `setTraceMask requires long traceMask argument, got ${text}` };
  const mask = BigInt.asIntN(64, BigInt(text));
  source.setTraceMask(mask);
  return { tracemask: mask };
}

function votingView(context: AdminContext): Record<string, JsonValue> {
  const view = context.ensemble?.() ?? null;
  const config: Record<string, JsonValue> = {};
  for (const member of view?.members ?? []) {
    config[String(member.id)] = {
      serverAddresses: [member.serverAddress],
      electionAddresses: [member.electionAddress],
      clientAddress: member.clientAddress,
      learnerType: member.observer ? "observer" : "participant",
    };
  }
  return { current_config: config };
}

function watchSummary(source: FourLetterSource): Record<string, JsonValue> {
  const status = source.status();
  return { num_connections: status.dataWatchConnections, num_paths: status.dataWatchPaths, num_total_watches: status.dataWatchTotal };
}

function watchesBySession(source: FourLetterSource): Record<string, JsonValue> {
  const bySession: Record<string, string[]> = {};
  for (const [path, sessions] of source.dataWatches()) {
    for (const session of sessions) (bySession[BigInt.asIntN(64, session).toString()] ??= []).push(path);
  }
  return { session_id_to_watched_paths: bySession };
}

function watchesByPath(source: FourLetterSource): Record<string, JsonValue> {
  const byPath: Record<string, bigint[]> = {};
  for (const [path, sessions] of source.dataWatches()) byPath[path] = sessions.map((session) => BigInt.asIntN(64, session));
  return { path_to_session_ids: byPath };
}

function zabState(context: AdminContext): Record<string, JsonValue> {
  const view = context.ensemble?.() ?? null;
  return { voting: view?.voting ?? false, zabstate: view?.zabState ?? "" };
}
