/**
 * A live Corral server for abuse tests: serve() on the runtime's own transport, bound to
 * 127.0.0.1 on a free port, every four-letter word allowed, every log line kept.
 */
import type { Server } from "../../../src/core/server.ts";
import { defaultServerConfig, type ServerConfig } from "../../../src/core/server_io.ts";
import { type LogLevel, MemoryLogger } from "../../../src/driver/logger.ts";
import { serve, type ServeOptions, type ServerHandle } from "../../../src/driver/server_driver.ts";
import { defaultTransport } from "../../../src/transport/auto.ts";
import type { Transport } from "../../../src/transport/transport.ts";

export const HOST = "127.0.0.1";

export interface LiveServer {
  handle: ServerHandle<Server>;
  transport: Transport;
  logger: MemoryLogger;
}

/**
 * tickTime 200 ms (sessions expire within 4 s). Session ids are seeded from a fixed wall-clock
 * time, as a real start would seed them from now: with the seed 0 the first ids (0x0100000000000001)
 * are a few bit flips away from the 0 of a new-session ConnectRequest, and a fuzzed handshake that
 * names a live session closes that session's connection, wrong password or not (§1.3 step 6, as
 * the reference does).
 */
export function liveServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return defaultServerConfig({ tickTimeMs: 200, sessionIdSeedMs: 1_700_000_000_000, ...overrides });
}

/** Runs `body` against a fresh server and always closes it. `options` override the defaults. */
export async function withLiveServer(
  options: Partial<Omit<ServeOptions, "transport">>,
  body: (server: LiveServer) => Promise<void>,
): Promise<void> {
  const transport = await defaultTransport();
  // Debug lines of hundreds of abusive connections must not push out the ones a test looks for.
  const logger = new MemoryLogger(200_000);
  const handle = await serve({
    host: HOST,
    port: 0,
    config: liveServerConfig(),
    fourLetterWhitelist: new Set(["*"]),
    logger,
    ...options,
    transport,
  });
  try {
    await body({ handle, transport, logger });
  } finally {
    await handle.close();
  }
}

/** Log lines at `level` (the driver logs "error" only for unexpected exceptions: bugs). */
export function linesAt(logger: MemoryLogger, level: LogLevel): string[] {
  return logger.lines.filter((line) => line.level === level).map((line) => line.message);
}

/** The "Connections: N" count `srvr` prints. */
export function aliveConnections(handle: ServerHandle<Server>): number {
  const match = /\nConnections: (\d+)\n/.exec(handle.fourLetterWord("srvr"));
  if (match === null) throw new Error("srvr printed no Connections line");
  return Number(match[1]);
}
