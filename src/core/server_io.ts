/**
 * What goes into and comes out of the pure server core (src/core/server.ts). A driver feeds inputs
 * (connections opening, decoded packets, ticks with the time, storage completions) and drains the
 * outputs after each input; it never needs to know ZooKeeper's rules.
 */
import type { AuditEvent } from "./audit.ts";
import type { PersistRequest, SnapshotSource } from "./persistence.ts";
import type { LocalSessionsConfig } from "./local_sessions.ts";
import type { ConnectResponse, Reply, WatcherEvent } from "./records.ts";
import type { SaslConfig } from "./sasl_exchange.ts";

/** Opaque number the driver assigns to each client connection. */
export type ConnectionId = number;

export interface ServerConfig {
  /** myid; 1 for a standalone server (as ZooKeeper). Top byte of every session id this server makes. */
  serverId: number;
  tickTimeMs: number;
  /** Defaults to 2 × tickTimeMs. */
  minSessionTimeoutMs: number;
  /** Defaults to 20 × tickTimeMs. */
  maxSessionTimeoutMs: number;
  /** Wall-clock milliseconds at start; seeds session ids (ZooKeeper's initializeNextSession). */
  sessionIdSeedMs: number;
  /** `zookeeper.DigestAuthenticationProvider.superDigest`: "super:<base64 sha1>", or null. */
  superDigest: string | null;
  /** `zookeeper.extendedTypesEnabled`: allows TTL nodes. */
  extendedTypesEnabled: boolean;
  /** Requests a connection may have waiting for replies before it is closed (wait-free bound). */
  outstandingRequestsMax: number;
  /**
   * Identities one connection may gain from `auth` packets; one more is answered AUTHFAILED and the
   * connection closed (ZooKeeper's answer to a failed auth). ZooKeeper has no such limit; without one
   * an auth flood makes every ACL check and every forwarded write scan an unbounded list. Default 100.
   */
  authIdentitiesMax?: number;
  /**
   * SASL DIGEST-MD5 for clients (sasl_exchange.ts): users from a JAAS `Server` section. Absent: every
   * SASL request is answered AUTHFAILED and the connection closed.
   */
  sasl?: SaslConfig;
  /**
   * `enforce.auth.enabled` with `enforce.auth.schemes` (ZooKeeper 3.8): a connection must hold an
   * identity of one of these schemes before any request but auth and SASL, or it is answered
   * SESSIONCLOSEDREQUIRESASLAUTH and closed. Absent or empty: not enforced.
   */
  enforceAuthSchemes?: readonly string[];
  /**
   * A TLS listener asks clients for certificates (ssl.clientAuth want or need): the x509 ACL scheme
   * is valid, and a verified certificate's subject is a connection's `x509` identity.
   */
  x509?: boolean;
  /** `zookeeper.X509AuthenticationProvider.superUser`: the certificate subject that is also super. */
  x509SuperUser?: string;
  /** `audit.enable`: emit an `audit` output per audited write and lost ephemeral (audit.ts). */
  audit?: boolean;
  /**
   * `localSessionsEnabled` (with `localSessionsUpgradingEnabled`): an ensemble member's new sessions
   * are local to it (local_sessions.ts). Absent: every session is the ensemble's. A standalone server
   * ignores it, as ZooKeeper's does.
   */
  localSessions?: LocalSessionsConfig;
  /**
   * zoo.cfg `reconfigEnabled` (default false: a reconfig request gets RECONFIGDISABLED) and
   * `standaloneEnabled` (default true: a reconfiguration must keep at least two voters).
   */
  reconfigEnabled?: boolean;
  standaloneEnabled?: boolean;
  /** Container/TTL reaper period (znode.container.checkIntervalMs). */
  containerCheckIntervalMs: number;
  /** snapCount: a snapshot is due after this many txns (0 = never; the driver has no store). */
  snapshotTxnCount: number;
  /** snapSizeLimitInKb × 1024: a snapshot is also due after this many logged bytes (0 = no limit). */
  snapshotBytesMax: number;
}

/** ServerConfig.authIdentitiesMax when unset. */
export const DEFAULT_AUTH_IDENTITIES_MAX = 100;

export function defaultServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const tickTimeMs = overrides.tickTimeMs ?? 2000;
  return {
    serverId: 1,
    tickTimeMs,
    minSessionTimeoutMs: 2 * tickTimeMs,
    maxSessionTimeoutMs: 20 * tickTimeMs,
    sessionIdSeedMs: 0,
    superDigest: null,
    extendedTypesEnabled: false,
    outstandingRequestsMax: 1000,
    containerCheckIntervalMs: 60_000,
    snapshotTxnCount: 100_000,
    snapshotBytesMax: 4 * 1024 * 1024 * 1024,
    ...overrides,
  };
}

/** Facts about a new connection the core needs (the `ip` identity). */
export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  /** A verified TLS client certificate's subject (RFC 2253): the connection holds `x509:<it>`. */
  x509Subject?: string;
  /**
   * The DIGEST-MD5 nonce for this connection's SASL exchange: fresh randomness from the driver (the
   * core has none), printable ASCII. Only needed when ServerConfig.sasl is set.
   */
  saslNonce?: string;
}

/** One thing the driver must do. Outputs are drained in order and must be carried out in order. */
export type ServerOutput =
  | { kind: "connectResponse"; connection: ConnectionId; response: ConnectResponse }
  | { kind: "reply"; connection: ConnectionId; reply: Reply }
  | { kind: "notification"; connection: ConnectionId; zxid: number; event: WatcherEvent }
  /** Close the connection after writing everything queued for it before this output. */
  | { kind: "close"; connection: ConnectionId; reason: string }
  /** Make this write durable, then call `persisted(writeSeq)` (writes in order; batch freely). */
  | { kind: "persist"; writeSeq: number; request: PersistRequest }
  /** Write this fuzzy snapshot now (the server keeps serving meanwhile). */
  | { kind: "snapshot"; source: SnapshotSource }
  | { kind: "log"; level: "info" | "warn"; message: string }
  /** An audit log event (ServerConfig.audit; audit.ts). */
  | { kind: "audit"; event: AuditEvent };

/** A read-only picture of the server for four-letter words and metrics. */
export interface ServerStatus {
  mode: "standalone" | "leader" | "follower" | "observer";
  lastZxid: number;
  /** ZooKeeper counts the root twice; this is the same number `srvr` prints. */
  nodeCount: number;
  approximateDataSize: number;
  ephemeralsCount: number;
  sessionCount: number;
  /** Local sessions (localSessionsEnabled, read-only mode): ZooKeeper's local_sessions metric. */
  localSessionCount: number;
  watchCount: number;
  /** Distinct paths with data watches, and connections holding them (for `wchs`). */
  dataWatchPaths: number;
  dataWatchConnections: number;
  dataWatchTotal: number;
  outstandingRequests: number;
}

export interface ConnectionStatus {
  connection: ConnectionId;
  remoteAddress: string;
  remotePort: number;
  /** Null before the handshake completes. */
  sessionId: bigint | null;
  sessionTimeoutMs: number;
  outstandingRequests: number;
  lastOperation: string;
  lastCxid: number;
  lastZxid: number;
}

export interface SessionDump {
  sessionId: bigint;
  timeoutMs: number;
  expiresAtMs: number;
  ephemerals: string[];
}
