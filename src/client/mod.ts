/**
 * Corral's ZooKeeper client. Speaks ZooKeeper's client protocol, so it works against Apache
 * ZooKeeper 3.5+ (3.8 tested) and against Corral.
 *
 *   import { createClient, CreateMode } from "./src/client/mod.ts";
 *   const client = await createClient("127.0.0.1:2181");
 *   await client.create("/lock-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
 *   for await (const event of client.watch("/config", { mode: "persistentRecursive" })) { ... }
 *   await client.close();
 */
export { Client, createClient } from "./client.ts";
export type {
  CallOptions,
  ClientOptions,
  CreateOptions,
  RemoveWatchesOptions,
  SaslOptions,
  StreamOptions,
  VersionOptions,
  WatchOptions,
} from "./client.ts";
export type { ClientTlsOptions } from "./client_tls.ts";
export { type ConnectString, DEFAULT_PORT, type HostPort, parseConnectString } from "./connect_string.ts";
export { KeeperError, type KeeperErrorOptions } from "./keeper_error.ts";
export type { ReconfigOptions } from "./reconfig_request.ts";
export { CreateMode, CREATOR_ALL_ACL, op, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from "./ops.ts";
export type { StateListener } from "./session_shell.ts";
export { WatchOverflowError, WatchStream } from "./watch_stream.ts";
export type {
  AddWatchModeName,
  CreateNodeOptions,
  KeeperStateName,
  MultiOp,
  MultiOpResult,
  MultiReadResult,
  NodeData,
  NodeEventType,
  NodeWatchEvent,
  ReadOp,
  SessionState,
  StateWatchEvent,
  WatcherTypeName,
  WatchEvent,
  WatchListener,
  WatchRemovedEventType,
} from "./types.ts";
export { Code, type CodeName, codeName } from "../core/errors.ts";
export { Perms } from "../core/records.ts";
export type { ACL, ClientInfo, Id, Stat } from "../core/records.ts";
