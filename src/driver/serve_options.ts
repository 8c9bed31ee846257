/** What `serve` takes and returns, and the slice of the core the driver drives. */
import type { ConnectRequest, Request, RequestHeader } from "../core/records.ts";
import type { Server } from "../core/server.ts";
import type {
  ConnectionId,
  ConnectionInfo,
  ConnectionStatus,
  ServerConfig,
  ServerOutput,
  ServerStatus,
  SessionDump,
} from "../core/server_io.ts";
import type { Transport } from "../transport/transport.ts";
import type { FourLetterWord } from "./four_letter_words.ts";
import type { AuditSink } from "./audit_log.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics/server_metrics.ts";
import type { OutputLimits } from "./output_budget.ts";
import type { DurableLog } from "./persister.ts";
import type { StorageSizes } from "./storage_sizes.ts";

/** The core as the driver uses it; src/core/server.ts's Server is one, tests may pass a fake. */
export interface ServerCore {
  tick(nowMs: number): void;
  open(connection: ConnectionId, info: ConnectionInfo): void;
  connect(connection: ConnectionId, request: ConnectRequest): void;
  request(connection: ConnectionId, header: RequestHeader, request: Request | null): void;
  closed(connection: ConnectionId): void;
  /** Requests of this connection the core has not answered yet. */
  outstanding(connection: ConnectionId): number;
  takeOutputs(): ServerOutput[];
  /** Storage made every write up to writeSeq durable. */
  persisted(writeSeq: number): void;
  persistFailed(writeSeq: number, reason: string): void;
  storageRecovered(): void;
  status(): ServerStatus;
  connections(): ConnectionStatus[];
  sessions(): SessionDump[];
  dataWatches(): Map<string, bigint[]>;
  /** False while the core refuses clients (an ensemble member without a leader); absent means true. */
  readonly serving?: boolean;
  /** True while the core serves read-only clients only (an ensemble member without a quorum; read_only_mode.ts). */
  readonly readOnly?: boolean;
  /**
   * When the core next has timed work (a session deadline, a Zab tick), or null; absent: only the
   * periodic timer ticks it. The driver also wakes the core at that moment, so sessions expire when
   * ZooKeeper's would (its expiry thread sleeps until each deadline), not up to a period later.
   */
  nextWakeMs?(): number | null;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** How a server listens, limits and reports; the output bounds come from OutputLimits (output_budget.ts). */
export interface ServeOptions extends OutputLimits {
  transport: Transport;
  /** Interface to listen on; ZooKeeper's default is all interfaces ("0.0.0.0"). */
  host?: string;
  /** 0 picks a free port (read it from the handle). */
  port: number;
  config: ServerConfig;
  /**
   * A second listener for the same server (ZooKeeper's secureClientPort beside clientPort): its own
   * transport (node_tls.ts), interface (default `host`) and port.
   */
  secureListen?: { transport: Transport; host?: string; port: number };
  /** Concurrent connections per remote IP; 0 = unlimited. Default 60. Refused at accept. */
  maxClientCnxns?: number;
  /** jute.maxbuffer: the largest frame accepted. Default 0xfffff. */
  maxFrameBytes?: number;
  /** `4lw.commands.whitelist`; "*" allows all. Default {"srvr"}. */
  fourLetterWhitelist?: ReadonlySet<string>;
  /** Unsent output per connection past which the connection is closed (a client that stops reading). */
  outputBufferBytesMax?: number;
  /** Connections that complete no handshake within this are closed. Default 10000 (ZooKeeper's). */
  sessionlessTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  /** Where audit events go when `config.audit` is on (audit_log.ts); without one they are dropped. */
  audit?: AuditSink;
  /**
   * Where writes become durable (group commit). Without one the data lives in memory only and every
   * write counts as durable at once.
   */
  durableLog?: DurableLog;
  /** Only reported by `conf`. */
  dataDir?: string;
  /** Only reported by `conf`: myid of an ensemble member; standalone servers report 0. */
  serverId?: number;
  dataLogDir?: string;
  /** Only reported by `conf` and `dirs`: the store's byte counts, read when asked (storage_sizes.ts). */
  storageSizes?: () => StorageSizes;
  /**
   * ZooKeeper's metrics, fed by this server: pass one to serve them over Prometheus
   * (startMetricsEndpoint) or the AdminServer (startAdminServer). Without one the server keeps its
   * own, which only `mntr` shows.
   */
  metrics?: ServerMetrics;
}

export interface ServerHandle<C extends ServerCore = Server> {
  readonly host: string;
  readonly port: number;
  /** The secureListen listener's port; null without one. */
  readonly securePort?: number | null;
  readonly server: C;
  /** The answer to a four-letter word, computed in process (no whitelist applies). */
  fourLetterWord(word: FourLetterWord): string;
  /** Stops accepting, closes every connection and the timer. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_CLIENT_CNXNS = 60;
export const DEFAULT_OUTPUT_BUFFER_BYTES_MAX = 32 * 1024 * 1024;
export const DEFAULT_SESSIONLESS_TIMEOUT_MS = 10_000;
