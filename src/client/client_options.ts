/** Options of the Client and its calls. */
import type { Transport } from "../transport/transport.ts";
import type { ClientTlsOptions } from "./client_tls.ts";
import type { AddWatchModeName, CreateNodeOptions, WatcherTypeName, WatchListener } from "./types.ts";

/**
 * The clock and timers a client (and the recipes using it) runs on. The default is the runtime's
 * own; the deterministic simulator (src/testing/) passes virtual time, so that the real client and
 * recipes run against simulated replicas, reproducibly, from a seed.
 */
export interface Timers {
  /** Milliseconds on a monotonic clock (performance.now() by default). */
  now(): number;
  /** Calls `callback` once after `delayMs`; returns a handle for clearTimeout. */
  setTimeout(callback: () => void, delayMs: number): unknown;
  /** Cancels a pending callback (a handle already fired, or undefined, is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The runtime's clock and timers. */
export const DEFAULT_TIMERS: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};

export interface ClientOptions {
  /** Requested session timeout; the server clamps it (ZooKeeper: [2, 20] × tickTime). Default 30000. */
  sessionTimeoutMs?: number;
  /** Bound on one connection attempt (TCP + handshake). Default: session timeout / number of hosts. */
  connectTimeoutMs?: number;
  /** How long connect() waits for the first connection; default sessionTimeoutMs. */
  initialConnectTimeoutMs?: number;
  /** Default: the runtime's own (node:net, Deno.connect or Bun.connect), loaded on first use. */
  transport?: Transport;
  /**
   * Connect over TLS (to ZooKeeper's secureClientPort) through node:tls: `ca` to trust, `cert` and
   * `key` for servers that require a client certificate, `servername` to check. Not with `transport`.
   */
  tls?: ClientTlsOptions;
  /** Resume an existing session (both needed). */
  sessionId?: bigint;
  password?: Uint8Array;
  /** Accept read-only servers (state "connectedReadOnly"). Default false. */
  canBeReadOnly?: boolean;
  /** Largest reply frame accepted (the client's jute.maxbuffer). Default 0xfffff. */
  maxFrameBytes?: number;
  /** Credentials sent on every connection, before anything else. */
  auth?: { scheme: string; auth: string | Uint8Array }[];
  /**
   * SASL authentication, as ZooKeeper's Java client with a JAAS `Client` section: after every
   * (re)connection, before anything else is sent, the client runs the DIGEST-MD5 exchange and checks
   * the server's proof; requests wait meanwhile. The state becomes "connected" only once it
   * succeeded (watch listeners then also get a SaslAuthenticated event); a refusal ends the client
   * with "authFailed". The connection gets the identity `sasl:<username>`.
   */
  sasl?: SaslOptions;
  /** Requests pending at once before further calls wait; default 10000. */
  maxOutstanding?: number;
  /** Picks the first host (hosts are then tried round-robin). Default Math.random. */
  random?: () => number;
  /** Pause before retrying after every host failed in a row; default 1000 ms. */
  reconnectDelayMs?: number;
  /** Aborts connect()'s wait for the first connection. */
  signal?: AbortSignal;
  /** Clock and timers (default: the runtime's); the simulator passes virtual time. */
  timers?: Timers;
}

export interface SaslOptions {
  /** Only DIGEST-MD5 (ZooKeeper's other mechanism, GSSAPI/Kerberos, is not supported). */
  mechanism: "DIGEST-MD5";
  username: string;
  password: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}
export interface WatchOptions extends CallOptions {
  /** A one-shot watch: called once for the next change of this kind (and for state events meanwhile). */
  watch?: WatchListener;
}
export interface VersionOptions extends CallOptions {
  /** Expected version; -1 (default) matches any. */
  version?: number;
}
export interface CreateOptions extends CreateNodeOptions, CallOptions {}
export interface RemoveWatchesOptions extends CallOptions {
  /** Which of the listener's watches; default "any". */
  type?: WatcherTypeName;
  /** Only remove on this client, without asking the server. */
  local?: boolean;
}
export interface StreamOptions extends CallOptions {
  /** Default "persistent". */
  mode?: AddWatchModeName;
  /** Events buffered for a slow consumer before the stream fails with WatchOverflowError; default 1000. */
  maxQueued?: number;
}
