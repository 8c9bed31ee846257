/**
 * startServer: a standalone Corral server inside the calling process, on whatever runtime that is.
 * The runtime's socket adapter is loaded lazily, so importing this module loads no adapter.
 */
import type { Server } from "../core/server.ts";
import { defaultServerConfig, type ServerConfig } from "../core/server_io.ts";
import type { Transport } from "../transport/transport.ts";
import { serve, type ServeOptions, type ServerHandle } from "./server_driver.ts";

export interface StartServerOptions extends Partial<Omit<ServeOptions, "config" | "transport">> {
  /** Default: the runtime's TCP adapter (Deno, Bun or Node). */
  transport?: Transport;
  /** Core settings (tickTimeMs, session timeouts, ...); unset fields take ZooKeeper's defaults. */
  config?: Partial<ServerConfig>;
}

/**
 * Starts a standalone server. Defaults differ from `corral serve` where embedding calls for it:
 * host 127.0.0.1 (not all interfaces) and port 0 (a free port; read `handle.port`).
 *
 * @example
 * const server = await startServer({ port: 0 });
 * const client = await createClient(`127.0.0.1:${server.port}`);
 * // ...
 * await client.close();
 * await server.close();
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerHandle<Server>> {
  const transport: Transport = options.transport ??
    await import("../transport/auto.ts").then((module) => module.defaultTransport());
  const now = (options.clock ?? { now: () => Date.now() }).now();
  return serve({
    ...options,
    transport,
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    config: defaultServerConfig({ sessionIdSeedMs: now, ...options.config }),
  });
}
