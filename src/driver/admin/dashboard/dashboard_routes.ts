/**
 * The dashboard's HTTP routes on the AdminServer: `/` (the page), `/dashboard/app.js` and
 * `/dashboard/app.css` (its assets), `/dashboard/events` (Server-Sent Events, dashboard_events.ts),
 * `/dashboard/state` (one picture, for scripts) and `/dashboard/tree?path=` (one znode, ACL-checked
 * for the viewer, tree_view.ts). Read-only: every route answers GET (or HEAD) and nothing writes.
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SnapshotSource } from "../../../core/persistence.ts";
import type { AdminContext } from "../admin_commands.ts";
import { DashboardEvents } from "./dashboard_events.ts";
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./dashboard_page.ts";
import { DashboardState } from "./dashboard_state.ts";
import { type LiveTree, liveTreeReader, snapshotTreeReader, type TreeReader, viewerIdentities, viewNode } from "./tree_view.ts";

/** What the dashboard reads besides the admin context (the AdminServer's backup targets). */
export interface DashboardTreeAccess {
  /** The live tree (fast reads); preferred. */
  tree?: () => LiveTree;
  /** A consistent snapshot source (a scan per read); the fallback. */
  snapshotSource?: () => SnapshotSource;
  superDigest: string | null;
}

export interface DashboardOptions {
  context: AdminContext;
  access?: DashboardTreeAccess;
  clientsMax?: number;
  intervalMs?: number;
  clientBufferBytesMax?: number;
}

const ASSETS: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ["/", { type: "text/html; charset=utf-8", body: DASHBOARD_HTML }],
  ["/dashboard/app.js", { type: "text/javascript; charset=utf-8", body: DASHBOARD_JS }],
  ["/dashboard/app.css", { type: "text/css; charset=utf-8", body: DASHBOARD_CSS }],
]);

/** No inline script or style, no other origin, no framing: data shown can never run. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export class DashboardRoutes {
  readonly #access: DashboardTreeAccess | undefined;
  readonly #reader: TreeReader | null;
  readonly #state: DashboardState;
  readonly #events: DashboardEvents;

  constructor(options: DashboardOptions) {
    this.#access = options.access;
    const access = options.access;
    this.#reader = access?.tree !== undefined
      ? liveTreeReader(access.tree)
      : access?.snapshotSource !== undefined ? snapshotTreeReader(access.snapshotSource) : null;
    this.#state = new DashboardState(options.context, { nowMs: () => performance.now(), wallMs: () => Date.now() });
    this.#events = new DashboardEvents({
      picture: (viewers) => stringify(this.#state.picture(viewers)),
      refresh: () => this.#state.probeMembers(),
      ...(options.clientsMax === undefined ? {} : { clientsMax: options.clientsMax }),
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      ...(options.clientBufferBytesMax === undefined ? {} : { clientBufferBytesMax: options.clientBufferBytesMax }),
    });
  }

  /** Whether `pathname` is one of the dashboard's. */
  handles(pathname: string): boolean {
    return ASSETS.has(pathname) || pathname === "/dashboard/events" || pathname === "/dashboard/state" || pathname === "/dashboard/tree";
  }

  handle(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const method = request.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      return send(response, 405, "text/plain; charset=utf-8", `${method} is not supported: the dashboard is read-only\n`, { allow: "GET, HEAD", connection: "close" });
    }
    const asset = ASSETS.get(url.pathname);
    if (asset !== undefined) return send(response, 200, asset.type, method === "HEAD" ? "" : asset.body, SECURITY_HEADERS, Buffer.byteLength(asset.body));
    if (url.pathname === "/dashboard/events") return this.#stream(response);
    if (url.pathname === "/dashboard/state") return sendJson(response, 200, this.#state.picture(this.#events.viewers));
    return this.#tree(request, response, url);
  }

  /** Ends every event stream (the AdminServer calls this before it closes). */
  close(): void {
    this.#events.close();
  }

  #stream(response: ServerResponse): void {
    if (!this.#events.hasRoom()) {
      return send(response, 503, "text/plain; charset=utf-8", "too many dashboard viewers; try again later\n", { "retry-after": "10", connection: "close" });
    }
    response.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
    // Events are small and must leave at once: no Nagle delay.
    response.socket?.setNoDelay(true);
    this.#events.add(response);
  }

  #tree(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (this.#reader === null) return sendJson(response, 503, { error: "this server did not give the AdminServer its tree" });
    const identities = viewerIdentities(request.headers["authorization"], {
      remoteAddress: request.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "",
      superDigest: this.#access?.superDigest ?? null,
    });
    if (typeof identities === "string") return sendJson(response, 401, { error: identities });
    const path = url.searchParams.get("path") ?? "/";
    try {
      return sendJson(response, 200, viewNode(this.#reader, path, identities));
    } catch (error) {
      return sendJson(response, 500, { path, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

function stringify(value: unknown): string {
  return JSON.stringify(value, (_, item) => typeof item === "bigint" ? item.toString() : item);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, "application/json; charset=utf-8", stringify(body), SECURITY_HEADERS);
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string>, length = Buffer.byteLength(body)): void {
  response.writeHead(status, { ...headers, "content-type": type, "content-length": length });
  response.end(body === "" ? undefined : body);
}
