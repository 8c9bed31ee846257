/**
 * The operator's HTTP endpoints of one server, started together: the Prometheus endpoint
 * (metricsProvider.*) and the AdminServer (admin.*), both reading the same ServerMetrics, plus the
 * process samplers (event-loop lag, GC) while either runs. `corral serve` uses this; embedders call
 * it with the `metrics` they passed to startServer/startReplica.
 *
 * @example
 * const metrics = new ServerMetrics();
 * const server = await startServer({ port: 0, metrics });
 * const ops = await startOperations({ metrics, prometheus: { host: "127.0.0.1", port: 7000 } });
 * // ... curl http://127.0.0.1:7000/metrics
 * await ops.close();
 * await server.close();
 */
import { type MetricsEndpoint, startMetricsEndpoint } from "../metrics/metrics_http.ts";
import type { ServerMetrics } from "../metrics/server_metrics.ts";
import { type AdminServer, type AdminServerOptions, startAdminServer } from "./admin_server.ts";

export interface OperationsOptions {
  metrics: ServerMetrics;
  /** The Prometheus endpoint; omitted: none. */
  prometheus?: { host?: string; port?: number };
  /** The AdminServer; omitted: none. */
  admin?: Omit<AdminServerOptions, "metrics">;
}

export interface Operations {
  readonly prometheus: MetricsEndpoint | null;
  readonly admin: AdminServer | null;
  close(): Promise<void>;
}

export async function startOperations(options: OperationsOptions): Promise<Operations> {
  let prometheus: MetricsEndpoint | null = null;
  let admin: AdminServer | null = null;
  try {
    if (options.prometheus !== undefined) prometheus = await startMetricsEndpoint({ metrics: options.metrics, ...options.prometheus });
    if (options.admin !== undefined) admin = await startAdminServer({ ...options.admin, metrics: options.metrics });
  } catch (error) {
    await prometheus?.close();
    throw error;
  }
  if (prometheus !== null || admin !== null) options.metrics.process.start();
  return {
    prometheus,
    admin,
    close: async () => {
      options.metrics.process.stop();
      await Promise.all([prometheus?.close(), admin?.close()]);
    },
  };
}
