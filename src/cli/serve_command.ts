/** `corral serve`: a standalone server from a zoo.cfg and/or flags, until SIGINT or SIGTERM. */
import { defaultServerConfig, type ServerConfig } from "../core/server_io.ts";
import { consoleLogger } from "../driver/logger.ts";
import { serveDurable } from "../driver/durable_server.ts";
import { serve } from "../driver/server_driver.ts";
import { NodeFileSystem } from "../storage/node_file_system.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { ServeArgs } from "./args.ts";
import type { CliRuntime } from "./runtime.ts";
import { parseZooCfg, type ZooCfg } from "./zoo_cfg.ts";

/** Default tickTime without a zoo.cfg (the sample zoo.cfg's value). */
const DEFAULT_TICK_TIME_MS = 2000;
/** How long shutdown may take before we exit anyway. */
const SHUTDOWN_DEADLINE_MS = 5000;

/** Everything serve needs, merged from zoo.cfg and flags (flags win). */
export interface ServePlan {
  host: string;
  port: number;
  config: ServerConfig;
  maxClientCnxns: number;
  maxFrameBytes: number;
  fourLetterWhitelist: Set<string>;
  dataDir: string | null;
  dataLogDir: string | null;
  snapRetainCount: number;
  truncateCorruptLog: boolean;
  warnings: string[];
}

/** Thrown for settings that cannot be served; the message is for the operator. */
export class ServePlanError extends Error {}

export function planServe(args: ServeArgs, cfg: ZooCfg | null, nowMs: number): ServePlan {
  const warnings = [...(cfg?.warnings ?? [])];
  const servers = cfg?.servers ?? [];
  if (servers.length > 1) {
    throw new ServePlanError(
      `${args.configPath} lists ${servers.length} servers (server.N lines), but corral serve runs standalone only for now; ` +
        "remove the server.N lines to serve standalone",
    );
  }
  const port = args.port ?? cfg?.clientPort ?? servers[0]?.clientPort ?? null;
  if (port === null) throw new ServePlanError(`${args.configPath} sets no clientPort; add clientPort=2181 or pass --port <n>`);
  const host = args.host ?? cfg?.clientPortAddress ?? servers[0]?.clientHost ?? "0.0.0.0";
  const tickTimeMs = args.tickTimeMs ?? cfg?.tickTimeMs ?? DEFAULT_TICK_TIME_MS;
  const config = defaultServerConfig({
    tickTimeMs,
    minSessionTimeoutMs: cfg?.minSessionTimeoutMs ?? 2 * tickTimeMs,
    maxSessionTimeoutMs: cfg?.maxSessionTimeoutMs ?? 20 * tickTimeMs,
    sessionIdSeedMs: nowMs,
    extendedTypesEnabled: cfg?.extendedTypesEnabled ?? false,
    snapshotTxnCount: cfg?.snapCount ?? 100_000,
    snapshotBytesMax: cfg?.snapshotBytesMax ?? 4 * 1024 * 1024 * 1024,
    superDigest: cfg?.superDigest ?? null,
  });
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) {
    throw new ServePlanError(`minSessionTimeout (${config.minSessionTimeoutMs} ms) is larger than maxSessionTimeout (${config.maxSessionTimeoutMs} ms)`);
  }
  const dataDir = args.dataDir ?? cfg?.dataDir ?? null;
  if (dataDir === null) warnings.push("no dataDir: the data lives in memory and is lost when corral exits");
  return {
    host,
    port,
    config,
    maxClientCnxns: args.maxClientCnxns ?? cfg?.maxClientCnxns ?? 60,
    maxFrameBytes: cfg?.juteMaxBuffer ?? 0xfffff,
    fourLetterWhitelist: args.fourLetterWhitelist ?? cfg?.fourLetterWhitelist ?? new Set(["srvr"]),
    dataDir,
    dataLogDir: cfg?.dataLogDir ?? null,
    snapRetainCount: cfg?.autopurgeSnapRetainCount ?? 3,
    truncateCorruptLog: args.truncateCorruptLog,
    warnings,
  };
}

/** Runs the server until a shutdown signal; returns the process exit code. */
export async function runServe(args: ServeArgs, runtime: CliRuntime): Promise<number> {
  let plan: ServePlan;
  try {
    const cfg = args.configPath === null ? null : parseZooCfg(await readConfig(args.configPath, runtime), { source: args.configPath });
    plan = planServe(args, cfg, Date.now());
  } catch (error) {
    console.error(`corral: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  for (const warning of plan.warnings) console.error(`corral: warning: ${warning}`);
  const transport = await defaultTransport();
  let handle;
  try {
    const options = {
      transport,
      host: plan.host,
      port: plan.port,
      config: plan.config,
      maxClientCnxns: plan.maxClientCnxns,
      maxFrameBytes: plan.maxFrameBytes,
      fourLetterWhitelist: plan.fourLetterWhitelist,
      logger: consoleLogger(args.logLevel),
    };
    handle = plan.dataDir === null ? await serve(options) : await serveDurable({
      ...options,
      fs: new NodeFileSystem(),
      dataDir: plan.dataDir,
      ...(plan.dataLogDir === null ? {} : { dataLogDir: plan.dataLogDir }),
      snapRetainCount: plan.snapRetainCount,
      truncateCorruptLog: plan.truncateCorruptLog,
    });
  } catch (error) {
    console.error(`corral: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const signal = await new Promise<string>((resolve) => {
    const remove = runtime.onShutdownSignal((received) => {
      remove();
      resolve(received);
    });
    console.log(`corral: serving on ${formatHost(plan.host)}:${handle.port} (${runtime.name}, standalone)`);
  });
  console.error(`corral: ${signal} received, shutting down`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), SHUTDOWN_DEADLINE_MS);
  });
  const outcome = await Promise.race([handle.close().then(() => "done" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "late") {
    console.error(`corral: shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
    return 1;
  }
  return 0;
}

async function readConfig(path: string, runtime: CliRuntime): Promise<string> {
  try {
    return await runtime.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
