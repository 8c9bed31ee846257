/**
 * Corral: ZooKeeper's coordination service in TypeScript, to embed in a Deno, Bun or Node program or
 * to run as `corral serve`. Any ZooKeeper client can talk to it; Corral's own client also talks to
 * Apache ZooKeeper.
 *
 * @example
 * import { createClient, CreateMode, startServer } from "./mod.ts";
 * const server = await startServer({ port: 0 });
 * const client = await createClient(`127.0.0.1:${server.port}`);
 * await client.create("/hello", "world");
 * const { data } = await client.getData("/hello");
 * await client.close();
 * await server.close();
 *
 * @module
 */
export * from "./src/client/mod.ts";
export { startServer, type StartServerOptions } from "./src/driver/start_server.ts";
export { serve, type ServeOptions, type ServerHandle } from "./src/driver/server_driver.ts";
export { consoleLogger, type Logger, silentLogger } from "./src/driver/logger.ts";
export { defaultServerConfig, type ServerConfig } from "./src/core/server_io.ts";
export type { SaslConfig } from "./src/core/sasl_exchange.ts";
export type { QuorumSaslOptions } from "./src/driver/peer_sasl.ts";
export { saslConfigFromJaas } from "./src/driver/sasl/jaas_config.ts";
export type { Transport } from "./src/transport/transport.ts";
export {
  type EmbeddedReplica,
  ensembleConnectString,
  Replica,
  type ReplicaServer,
  startReplica,
  type StartReplicaOptions,
} from "./src/driver/start_replica.ts";
