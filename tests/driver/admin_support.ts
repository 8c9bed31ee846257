/**
 * Test support for the metrics and AdminServer tests: a standalone Corral with ServerMetrics, its
 * Prometheus endpoint and AdminServer on 127.0.0.1 free ports, and a few HTTP helpers with bounded
 * waits. Also ZooKeeper 3.8's AdminServer field names, captured from the real 3.8.0 (Debian's
 * package) after a session made a znode, an ephemeral and a watch.
 */
import { spawnSync } from "node:child_process";
import { createClient } from "../../mod.ts";
import { startOperations, type Operations } from "../../src/driver/admin/operations.ts";
import { standaloneBackup } from "../../src/driver/admin/backup_targets.ts";
import type { AdminServerOptions } from "../../src/driver/admin/admin_server.ts";
import { ServerMetrics } from "../../src/driver/metrics/server_metrics.ts";
import { startServer } from "../../src/driver/start_server.ts";
import type { Client } from "../../src/client/client.ts";
import type { ServerHandle } from "../../src/driver/serve_options.ts";
import { compatRequired, findOnPath } from "../support/compat_availability.ts";

export interface OpsServer {
  server: ServerHandle;
  metrics: ServerMetrics;
  ops: Operations;
  adminUrl: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

/** A standalone in-memory server with both endpoints; `admin` overrides AdminServer options. */
export async function startOpsServer(admin: Partial<Omit<AdminServerOptions, "metrics">> = {}): Promise<OpsServer> {
  const metrics = new ServerMetrics();
  const server = await startServer({ port: 0, metrics } as Parameters<typeof startServer>[0]);
  const ops = await startOperations({
    metrics,
    prometheus: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0, backup: standaloneBackup(server.server, { durable: false }), rateLimitIntervalMs: 0, ...admin },
  });
  return {
    server,
    metrics,
    ops,
    adminUrl: ops.admin!.url,
    metricsUrl: ops.prometheus!.url,
    stop: async () => {
      await ops.close();
      await server.close();
    },
  };
}

/** Makes a znode, an ephemeral, a data watch and some reads and writes, like the reference capture. */
export async function exercise(connectString: string): Promise<Client> {
  const client = await createClient(connectString);
  await client.create("/a", "x");
  await client.create("/a/e", "y", { mode: 1 });
  await client.exists("/a/e", { watch: () => {} });
  for (let i = 0; i < 5; i++) {
    await client.getData("/a");
    await client.setData("/a", `z${i}`);
  }
  return client;
}

/** GET with a deadline; returns status, headers and text. */
export async function get(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { status, text } = await get(url, init);
  return { status, body: JSON.parse(text) as Record<string, unknown> };
}

/** Key names of a JSON value, recursively: "server_stats.packets_sent", "connections[].session_id". */
export function fieldPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [] : fieldPaths(value[0], `${prefix}[]`);
  if (typeof value !== "object" || value === null) return [];
  const paths: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    paths.push(path, ...fieldPaths(item, path));
  }
  return paths.sort();
}

/** promtool's verdict on `text`: null when promtool is missing (and not required), else exit code and output. */
export function promtool(text: string): { code: number; output: string } | null {
  const path = findOnPath("promtool");
  if (path === null) {
    if (compatRequired()) throw new Error("CORRAL_REQUIRE_COMPAT=1 but promtool is missing; install with: apt-get install -y prometheus");
    return null;
  }
  const result = spawnSync(path, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  return { code: result.status ?? -1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** The skip option for a promtool test. */
export function skipUnlessPromtool(): string | false {
  if (findOnPath("promtool") !== null || compatRequired()) return false;
  return "promtool missing (apt-get install -y prometheus; CORRAL_REQUIRE_COMPAT=1 turns this skip into a failure)";
}

/**
 * ZooKeeper 3.8.0's AdminServer fields per command (primary name), from a real server with one
 * session holding /a, the ephemeral /a/e and an exists watch (tests/driver/metrics_zookeeper_test.ts
 * checks this table against a live ZooKeeper when one is installed).
 */
export const ZOOKEEPER_38_FIELDS: Readonly<Record<string, readonly string[]>> = {
  configuration: ["client_port", "client_port_listen_backlog", "command", "data_dir", "data_log_dir", "error", "max_client_cnxns", "max_session_timeout", "min_session_timeout", "server_id", "tick_time"],
  connections: ["command", "connections", "connections[].avg_latency", "connections[].established", "connections[].interest_ops", "connections[].last_cxid", "connections[].last_latency", "connections[].last_operation", "connections[].last_response_time", "connections[].last_zxid", "connections[].max_latency", "connections[].min_latency", "connections[].outstanding_requests", "connections[].packets_received", "connections[].packets_sent", "connections[].remote_socket_address", "connections[].session_id", "connections[].session_timeout", "error", "secure_connections"],
  dirs: ["command", "datadir_size", "error", "logdir_size"],
  get_trace_mask: ["command", "error", "tracemask"],
  is_read_only: ["command", "error", "read_only"],
  last_snapshot: ["command", "error", "timestamp", "zxid"],
  leader: ["command", "error"],
  observers: ["command", "error", "observers", "synced_observers"],
  ruok: ["command", "error"],
  server_stats: ["client_response", "client_response.last_buffer_size", "client_response.max_buffer_size", "client_response.min_buffer_size", "command", "error", "node_count", "read_only", "server_stats", "server_stats.auth_failed_count", "server_stats.avg_latency", "server_stats.client_response_stats", "server_stats.client_response_stats.last_buffer_size", "server_stats.client_response_stats.max_buffer_size", "server_stats.client_response_stats.min_buffer_size", "server_stats.data_dir_size", "server_stats.fsync_threshold_exceed_count", "server_stats.last_processed_zxid", "server_stats.log_dir_size", "server_stats.max_latency", "server_stats.min_latency", "server_stats.non_mtlslocal_conn_count", "server_stats.non_mtlsremote_conn_count", "server_stats.num_alive_client_connections", "server_stats.outstanding_requests", "server_stats.packets_received", "server_stats.packets_sent", "server_stats.provider_null", "server_stats.server_state", "server_stats.uptime", "version"],
  stats: ["client_response", "client_response.last_buffer_size", "client_response.max_buffer_size", "client_response.min_buffer_size", "command", "connections", "connections[].interest_ops", "connections[].outstanding_requests", "connections[].packets_received", "connections[].packets_sent", "connections[].remote_socket_address", "error", "node_count", "read_only", "secure_connections", "server_stats", "server_stats.auth_failed_count", "server_stats.avg_latency", "server_stats.client_response_stats", "server_stats.client_response_stats.last_buffer_size", "server_stats.client_response_stats.max_buffer_size", "server_stats.client_response_stats.min_buffer_size", "server_stats.data_dir_size", "server_stats.fsync_threshold_exceed_count", "server_stats.last_processed_zxid", "server_stats.log_dir_size", "server_stats.max_latency", "server_stats.min_latency", "server_stats.non_mtlslocal_conn_count", "server_stats.non_mtlsremote_conn_count", "server_stats.num_alive_client_connections", "server_stats.outstanding_requests", "server_stats.packets_received", "server_stats.packets_sent", "server_stats.provider_null", "server_stats.server_state", "server_stats.uptime", "version"],
  stat_reset: ["command", "error"],
  connection_stat_reset: ["command", "error"],
  voting_view: ["command", "current_config", "error"],
  watch_summary: ["command", "error", "num_connections", "num_paths", "num_total_watches"],
  zabstate: ["command", "error", "voting", "zabstate"],
  initial_configuration: ["command", "error", "initial_configuration"],
};

/**
 * Commands whose fields hold data-dependent keys (session ids, times, paths): compared by their
 * fixed top level only.
 */
export const ZOOKEEPER_38_TOP_LEVEL: Readonly<Record<string, readonly string[]>> = {
  dump: ["command", "error", "expiry_time_to_session_ids", "session_id_to_ephemeral_paths"],
  watches: ["command", "error", "session_id_to_watched_paths"],
  watches_by_path: ["command", "error", "path_to_session_ids"],
  hash: ["command", "digests", "error"],
};
