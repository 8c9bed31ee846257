/**
 * The Prometheus endpoint ZooKeeper's PrometheusMetricsProvider serves: GET /metrics on
 * metricsProvider.httpHost:metricsProvider.httpPort (defaults 0.0.0.0:7000), on node:http, which
 * Deno, Bun and Node all provide. Anything else is 404, TRACE is 403 (as ZooKeeper constrains it),
 * request bodies are never read, and connections are bounded in number and time.
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./prometheus_format.ts";
import type { ServerMetrics } from "./server_metrics.ts";

export const DEFAULT_METRICS_HOST = "0.0.0.0";
export const DEFAULT_METRICS_PORT = 7000;
/** Concurrent scrapers; more are refused (Prometheus opens one connection per target). */
export const METRICS_CONNECTIONS_MAX = 32;
/** A scraper that sends no complete request within this is cut off. */
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;

export interface MetricsEndpointOptions {
  metrics: ServerMetrics;
  /** Default 0.0.0.0 (ZooKeeper's); tests and embedders usually want 127.0.0.1. */
  host?: string;
  /** Default 7000; 0 picks a free port. */
  port?: number;
}

export interface MetricsEndpoint {
  readonly host: string;
  readonly port: number;
  /** "http://host:port/metrics" */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the endpoint (the process samplers are started by startOperations, or by the caller). */
export async function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const server = createServer((request, response) => answer(options.metrics, request, response));
  bound(server);
  await listen(server, host, options.port ?? DEFAULT_METRICS_PORT, "metricsProvider.httpPort");
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    url: `http://${urlHost(host)}:${port}/metrics`,
    close: () => closeServer(server),
  };
}

function answer(metrics: ServerMetrics, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? "/").split("?")[0];
  if (request.method === "TRACE") return plain(response, 403, "TRACE is not allowed\n");
  if (path !== "/metrics") return plain(response, 404, "Not found: the metrics are at /metrics\n");
  if (request.method !== "GET" && request.method !== "HEAD") return plain(response, 405, "Only GET reads /metrics\n");
  if (!metrics.attached) return plain(response, 503, "The server is not started yet\n");
  let text: string;
  metrics.beginRender();
  try {
    text = formatPrometheus(metrics.registry);
  } catch (error) {
    return plain(response, 500, `could not render the metrics: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    metrics.endRender();
  }
  response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE, "content-length": Buffer.byteLength(text) });
  response.end(request.method === "HEAD" ? undefined : text);
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text), connection: "close" });
  response.end(text);
}

/** Bounds shared by the HTTP endpoints: connections, header size and time to send a request. */
export function bound(server: Server, connectionsMax = METRICS_CONNECTIONS_MAX, requestTimeoutMs = METRICS_REQUEST_TIMEOUT_MS): void {
  server.maxConnections = connectionsMax;
  server.headersTimeout = requestTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = 5000;
}

export function listen(server: Server, host: string, port: number, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(new Error(`cannot listen on ${host}:${port} (${setting}): ${error.message}`));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** Stops accepting and ends open connections (idle keep-alive ones at once). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

export function urlHost(host: string): string {
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return shown.includes(":") ? `[${shown}]` : shown;
}
