/**
 * ZooKeeper's AdminServer on node:http (Deno, Bun and Node): GET /commands lists the commands,
 * GET /commands/<name>[?arg=value] answers JSON (admin_commands.ts), unknown names get ZooKeeper's
 * error JSON, and ZooKeeper 3.9's `snapshot` (GET, streamed) and `restore` (POST, a bounded body)
 * need an Authorization header ("digest user:password", or "ip") whose identities hold ALL on "/"
 * (or are the super user). Every request is bounded: URL and header size, body bytes, time, and the
 * number of connections.
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { authenticate, isAllowed } from "../../core/acl.ts";
import type { SnapshotSource } from "../../core/persistence.ts";
import { type ACL, Perms } from "../../core/records.ts";
import { bound, closeServer, listen, urlHost } from "../metrics/metrics_http.ts";
import {
  type AdminContext,
  type CommandArguments,
  PRIMARY_NAMES,
  runAdminCommand,
  unknownCommand,
} from "./admin_commands.ts";
import { jsonText, type JsonValue } from "./admin_json.ts";
import { DashboardRoutes } from "./dashboard/dashboard_routes.ts";
import type { LiveTree } from "./dashboard/tree_view.ts";
import { type ParsedSnapshot, parseSnapshot, takeSnapshot } from "./snapshot_transfer.ts";

export const DEFAULT_ADMIN_HOST = "0.0.0.0";
export const DEFAULT_ADMIN_PORT = 8080;
export const DEFAULT_COMMAND_URL = "/commands";
/** Largest restore body by default (a snapshot must fit in memory anyway). */
export const DEFAULT_RESTORE_BYTES_MAX = 256 * 1024 * 1024;
/** Bodies of anything but restore: none is needed; a little is tolerated and ignored. */
const OTHER_BODY_BYTES_MAX = 8 * 1024;
/** ZooKeeper's zookeeper.admin.rateLimiterIntervalInMS default: one snapshot or restore per 5 minutes. */
export const DEFAULT_RATE_LIMIT_INTERVAL_MS = 300_000;
const URL_BYTES_MAX = 4096;
const ADMIN_CONNECTIONS_MAX = 16;
const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** What snapshot and restore act on; absent parts refuse their command with a clear error. */
export interface AdminBackup {
  /** A consistent source of the server's tree (core.snapshotSource()). */
  snapshotSource?: () => SnapshotSource;
  /** Replaces the server's state with `snapshot`; returns its zxid. Throws to refuse (the message is shown). */
  restore?: (snapshot: ParsedSnapshot) => number;
  /** ACL of "/", the node ZooKeeper checks ALL on. */
  rootAcl: () => readonly ACL[];
  /** "super:<digest>" (zookeeper.DigestAuthenticationProvider.superDigest), or null. */
  superDigest: string | null;
  /** The live tree, for the dashboard's tree browser; without it the browser scans snapshotSource. */
  tree?: () => LiveTree;
}

export interface AdminServerOptions extends AdminContext {
  /** admin.serverAddress; default 0.0.0.0. */
  host?: string;
  /** admin.serverPort; default 8080; 0 picks a free port. */
  port?: number;
  /** admin.commandURL; default /commands. */
  commandUrl?: string;
  backup?: AdminBackup;
  /** Largest restore body; default 256 MiB. Larger bodies are refused with 413 before they are read. */
  restoreBytesMax?: number;
  /** zookeeper.admin.snapshot.enabled / restore.enabled; default true. */
  snapshotEnabled?: boolean;
  restoreEnabled?: boolean;
  /** Minimum time between two snapshots (and between two restores); default 5 minutes. */
  rateLimitIntervalMs?: number;
  /** Monotonic milliseconds, for the rate limit; default performance.now(). */
  now?: () => number;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  /** "http://host:port/commands" */
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const host = options.host ?? DEFAULT_ADMIN_HOST;
  const commandUrl = (options.commandUrl ?? DEFAULT_COMMAND_URL).replace(/\/+$/, "") || DEFAULT_COMMAND_URL;
  const dashboard = new DashboardRoutes({ context: options, ...(options.backup === undefined ? {} : { access: options.backup }) });
  const handler = new AdminHandler(options, commandUrl, dashboard);
  const server = createServer((request, response) => {
    handler.handle(request, response).catch((error) => failed(response, error));
  });
  bound(server, ADMIN_CONNECTIONS_MAX, ADMIN_REQUEST_TIMEOUT_MS);
  server.maxHeadersCount = 64;
  await listen(server, host, options.port ?? DEFAULT_ADMIN_PORT, "admin.serverPort");
  const port = (server.address() as { port: number }).port;
  return { host, port, url: `http://${urlHost(host)}:${port}${commandUrl}`, close: () => (dashboard.close(), closeServer(server)) };
}

class AdminHandler {
  readonly #options: AdminServerOptions;
  readonly #commandUrl: string;
  readonly #now: () => number;
  readonly #dashboard: DashboardRoutes;
  #lastSnapshotAt = Number.NEGATIVE_INFINITY;
  #lastRestoreAt = Number.NEGATIVE_INFINITY;

  constructor(options: AdminServerOptions, commandUrl: string, dashboard: DashboardRoutes) {
    this.#options = options;
    this.#dashboard = dashboard;
    this.#commandUrl = commandUrl;
    this.#now = options.now ?? (() => performance.now());
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawUrl = request.url ?? "/";
    if (rawUrl.length > URL_BYTES_MAX) return text(response, 414, `URL longer than ${URL_BYTES_MAX} bytes\n`);
    const url = new URL(rawUrl, "http://admin.invalid");
    const method = request.method ?? "GET";
    if (method === "TRACE") return text(response, 403, "TRACE is not allowed\n");
    if (this.#dashboard.handles(url.pathname)) return this.#dashboard.handle(request, response, url);
    if (url.pathname === this.#commandUrl || url.pathname === `${this.#commandUrl}/`) {
      if (method !== "GET" && method !== "HEAD") return text(response, 405, `${method} is not supported by this URL\n`);
      return this.#list(response);
    }
    if (!url.pathname.startsWith(`${this.#commandUrl}/`)) return text(response, 404, `Not found: commands are under ${this.#commandUrl}/\n`);
    const name = decodeName(url.pathname.slice(this.#commandUrl.length + 1));
    if (name === "restore" || name === "rest") return await this.#restore(request, response, method);
    if (method !== "GET" && method !== "HEAD") {
      // Refused without reading the body; a body within the small bound is drained so the
      // connection can be reused, a larger one gets 413 and the connection is closed.
      const declared = Number(request.headers["content-length"] ?? "0");
      if (declared > OTHER_BODY_BYTES_MAX) return text(response, 413, `request body over ${OTHER_BODY_BYTES_MAX} bytes\n`, true);
      return text(response, 405, `HTTP method ${method} is not supported by this URL\n`, true);
    }
    const args: CommandArguments = Object.fromEntries(url.searchParams);
    if (name === "snapshot" || name === "snap") return await this.#snapshot(request, response, args);
    const result = runAdminCommand(name, this.#options, args) ?? unknownCommand(name);
    return json(response, 200, result);
  }

  #list(response: ServerResponse): void {
    const names = [...PRIMARY_NAMES, "restore", "snapshot"].sort();
    const body = names.map((name) => `<a href="${this.#commandUrl}/${name}">${name}</a>\n<br/>\n`).join("");
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
    response.end(body);
  }

  async #snapshot(request: IncomingMessage, response: ServerResponse, args: CommandArguments): Promise<void> {
    const backup = this.#options.backup;
    const refusal = this.#authorize(request, "snapshot", backup);
    if (refusal !== null) return json(response, refusal.status, refusal.body);
    if (this.#options.snapshotEnabled === false) return json(response, 503, commandError("snapshot", "the snapshot command is disabled (admin.snapshot.enabled=false)"));
    if (backup?.snapshotSource === undefined) return json(response, 500, commandError("snapshot", "this server cannot take snapshots"));
    const nowMs = this.#now();
    if (nowMs - this.#lastSnapshotAt < this.#rateLimitMs()) {
      return json(response, 429, commandError("snapshot", `rate limited: one snapshot per ${this.#rateLimitMs()} ms`));
    }
    this.#lastSnapshotAt = nowMs;
    const download = await takeSnapshot(backup.snapshotSource());
    const headers = { last_zxid: `0x${download.zxid.toString(16)}`, snapshot_size: String(download.bytes) };
    if (args["streaming"] === "false") return json(response, 200, { command: "snapshot", error: null }, headers);
    response.writeHead(200, { ...headers, "content-type": "application/octet-stream", "content-length": download.bytes });
    await writeStreaming(response, download.chunks);
  }

  async #restore(request: IncomingMessage, response: ServerResponse, method: string): Promise<void> {
    if (method !== "POST") return text(response, 405, `HTTP method ${method} is not supported by this URL (restore takes POST)\n`, true);
    const backup = this.#options.backup;
    const refusal = this.#authorize(request, "restore", backup);
    if (refusal !== null) return json(response, refusal.status, refusal.body, {}, true);
    if (this.#options.restoreEnabled === false) return json(response, 503, commandError("restore", "the restore command is disabled (admin.restore.enabled=false)"), {}, true);
    if (backup?.restore === undefined) return json(response, 500, commandError("restore", "this server cannot restore snapshots"), {}, true);
    const limit = this.#options.restoreBytesMax ?? DEFAULT_RESTORE_BYTES_MAX;
    const declared = request.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
      return json(response, 413, commandError("restore", `the snapshot (${declared} bytes) is larger than the limit (${limit} bytes)`), {}, true);
    }
    const nowMs = this.#now();
    if (nowMs - this.#lastRestoreAt < this.#rateLimitMs()) {
      return json(response, 429, commandError("restore", `rate limited: one restore per ${this.#rateLimitMs()} ms`), {}, true);
    }
    const body = await readBody(request, limit);
    if (body === null) return json(response, 413, commandError("restore", `the snapshot is larger than the limit (${limit} bytes)`), {}, true);
    if (body.length === 0) return json(response, 400, commandError("restore", "the request has no body: POST the snapshot's bytes"));
    this.#lastRestoreAt = nowMs;
    let lastZxid: number;
    try {
      lastZxid = backup.restore(parseSnapshot(body));
    } catch (error) {
      return json(response, 500, commandError("restore", error instanceof Error ? error.message : String(error)));
    }
    return json(response, 200, { last_zxid: lastZxid, command: "restore", error: null });
  }

  /** ZooKeeper 3.9's auth for snapshot/restore: identities from the Authorization header, ALL on "/". */
  #authorize(request: IncomingMessage, command: string, backup: AdminBackup | undefined): { status: number; body: Record<string, JsonValue> } | null {
    const header = request.headers["authorization"];
    if (header === undefined || header === "") return { status: 401, body: commandError(command, "Auth info is missing for the command") };
    const parts = header.split(" ");
    if (parts.length !== 1 && parts.length !== 2) return { status: 401, body: commandError(command, "Not authenticated") };
    const auth = parts.length === 2 ? new TextEncoder().encode(parts[1]) : null;
    const identities = authenticate(parts[0]!, auth, {
      remoteAddress: request.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "",
      superDigest: backup?.superDigest ?? null,
    });
    if (identities === null || identities.length === 0) return { status: 401, body: commandError(command, "Not authenticated") };
    if (!isAllowed(backup?.rootAcl() ?? [], Perms.ALL, identities)) return { status: 403, body: commandError(command, "Not authorized") };
    return null;
  }

  #rateLimitMs(): number {
    return this.#options.rateLimitIntervalMs ?? DEFAULT_RATE_LIMIT_INTERVAL_MS;
  }
}

function decodeName(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

function commandError(command: string, error: string): Record<string, JsonValue> {
  return { command, error };
}

/** The body, or null once it passes `limit` bytes (reading stops and the connection is closed). */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    let done = false;
    request.on("data", (chunk: Uint8Array) => {
      if (done) return;
      total += chunk.length;
      if (total > limit) {
        done = true;
        request.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (done) return;
      done = true;
      const body = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(body);
    });
    request.on("error", (error) => {
      if (!done) reject(error);
      done = true;
    });
  });
}

/** Writes chunks, waiting for the socket to drain whenever its buffer is full. */
async function writeStreaming(response: ServerResponse, chunks: readonly Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    if (response.destroyed) return;
    if (!response.write(chunk)) await new Promise<void>((resolve) => {
      response.once("drain", resolve);
      response.once("close", resolve);
    });
  }
  response.end();
}

function json(response: ServerResponse, status: number, body: Record<string, JsonValue>, headers: Record<string, string> = {}, close = false): void {
  const textBody = jsonText(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(textBody),
    ...(close ? { connection: "close" } : {}),
  });
  response.end(textBody);
}

function text(response: ServerResponse, status: number, body: string, close = false): void {
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...(close ? { connection: "close" } : {}),
  });
  response.end(body);
}

function failed(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  text(response, 500, `admin server error: ${error instanceof Error ? error.message : String(error)}\n`, true);
}
