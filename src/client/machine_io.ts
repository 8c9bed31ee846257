/** Inputs and outputs of the session machine (session_machine.ts), shared with the shell. */
import type { Request, Response } from "../core/records.ts";
import type { HostPort } from "./connect_string.ts";
import type { SaslCredentials } from "./sasl_digest_client.ts";
import type { SessionState, WatchEvent, WatchListener } from "./types.ts";
import type { WatchListName } from "./watch_registry.ts";

export interface Credential {
  scheme: string;
  auth: Uint8Array;
}

export interface SessionMachineConfig {
  hosts: readonly HostPort[];
  /** The chroot prefix, "" for none. Calls carry server paths already; replies are stripped here. */
  chroot: string;
  /** Requested session timeout, ms. */
  sessionTimeoutMs: number;
  /** Bound on one connection attempt (TCP connect + handshake); default sessionTimeout / hosts. */
  connectTimeoutMs?: number;
  /** Resume this session instead of creating one. */
  sessionId?: bigint;
  password?: Uint8Array;
  /** Accept a read-only server (sends the readOnly byte as 1). */
  canBeReadOnly?: boolean;
  /** Largest reply frame accepted; default 0xfffff (jute.maxbuffer). */
  maxFrameBytes?: number;
  /** Index of the first host to try; the client picks it at random. */
  startIndex?: number;
  /** Pause before retrying once every host has failed in a row; default 1000 ms. */
  reconnectDelayMs?: number;
  /** Credentials to send on every connection, as addAuth() would. */
  auth?: readonly Credential[];
  /** SASL DIGEST-MD5 credentials: the exchange runs on every connection before anything else. */
  sasl?: SaslCredentials;
}

/** A user request. `request` carries server paths (chroot applied). */
export interface Call {
  id: number;
  request: Request;
  /** A one-shot watch (exists/getData/getChildren*) or a persistent one (addWatch) to register on success. */
  watch?: { path: string; listener: WatchListener };
  /** Watches to drop locally (with *WatchRemoved events) once the server accepted the request. */
  removeOnSuccess?: WatchRemoval;
}

/** Which local watches to remove: all listeners of `lists` at `path`, or only `listener`. */
export interface WatchRemoval {
  path: string;
  lists: readonly WatchListName[];
  listener?: WatchListener;
}

export type MachineOutput =
  | { type: "connect"; attempt: number; host: string; port: number; timeoutMs: number }
  | { type: "send"; attempt: number; bytes: Uint8Array }
  | { type: "close"; attempt: number }
  /** Ask host:port whether it serves the ensemble (isro); answer with probeAnswered(probe, text). */
  | { type: "probe"; probe: number; host: string; port: number; timeoutMs: number }
  /** A request is settled: err 0 with its response (paths client-relative), or an error code. */
  | { type: "reply"; id: number; err: number; response: Response | null; detail?: string }
  | { type: "state"; state: SessionState }
  | { type: "event"; listeners: WatchListener[]; event: WatchEvent };
