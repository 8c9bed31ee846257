/**
 * ServerMetrics: ZooKeeper's metrics for one server, fed by the driver (DriverStats calls the hot-path
 * methods below; nothing in src/core counts) and read by `mntr`, the Prometheus endpoint and the
 * AdminServer. The driver attaches a FourLetterSource when it starts, so gauges read the core's
 * status and the connections when (and only when) someone looks.
 */
import { OpCode, Xid } from "../../core/records.ts";
import type { ServerStatus } from "../../core/server_io.ts";
import type { ConnectionReport, FourLetterSource, ServerCounters } from "../four_letter_words.ts";
import { latencyAverage, latencyMax, latencyMin } from "../four_letter_words.ts";
import { ProcessMetrics } from "./process_metrics.ts";
import { type CounterMetric, MetricsRegistry } from "./registry.ts";
import type { Summary } from "./summary.ts";

/** AUTHFAILED (KeeperException.Code). */
const AUTH_FAILED = -115;

/** Opcodes whose requests carry a txn (ZooKeeper's updatelatency); everything else is a read. */
const WRITE_OPCODES: ReadonlySet<number> = new Set([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete, OpCode.deleteContainer,
  OpCode.setData, OpCode.setACL, OpCode.check, OpCode.multi, OpCode.reconfig, OpCode.closeSession, OpCode.createSession,
]);

/** What an ensemble member adds to the picture (absent on a standalone server). */
export interface EnsembleView {
  /** Voting members. */
  quorumSize: number;
}

/** The live values gauges read, taken once per rendering. */
interface Picture {
  status: ServerStatus;
  counters: ServerCounters;
  connections: ConnectionReport[];
}

export class ServerMetrics {
  readonly registry: MetricsRegistry = new MetricsRegistry();
  readonly process: ProcessMetrics;
  readonly readLatency: Summary;
  readonly updateLatency: Summary;
  readonly #throttled: CounterMetric;
  readonly #rejected: CounterMetric;
  readonly #sessionlessExpired: CounterMetric;
  readonly #bytesReceived: CounterMetric;
  readonly #connectionRequests: CounterMetric;
  #authFailed = 0;
  #responseLast = -1;
  #responseMin = -1;
  #responseMax = -1;
  #source: (() => FourLetterSource) | null = null;
  #ensemble: (() => EnsembleView | null) | null = null;
  #picture: Picture | null = null;

  constructor(options: { nowMs?: number } = {}) {
    const registry = this.registry;
    const live = () => this.#live();
    registry.gauge("ephemerals_count", () => live().status.ephemeralsCount);
    registry.gauge("num_alive_connections", () => live().counters.aliveConnections);
    registry.gauge("avg_latency", () => latencyAverage(live().counters.latency), "double");
    registry.gauge("outstanding_requests", () => live().status.outstandingRequests);
    registry.gauge("znode_count", () => live().status.nodeCount);
    registry.gauge("global_sessions", () => live().status.sessionCount);
    // No TLS in Corral: every connection is a non-mTLS one, told apart by loopback or not.
    registry.gauge("non_mtls_remote_conn_count", () => live().connections.filter((c) => !isLoopback(c.remoteAddress)).length);
    registry.gauge("last_client_response_size", () => this.#responseLast);
    registry.gauge("packets_sent", () => live().counters.packetsSent);
    registry.gauge("packets_received", () => live().counters.packetsReceived);
    registry.gauge("max_client_response_size", () => this.#responseMax);
    registry.gauge("watch_count", () => live().status.watchCount);
    registry.gauge("auth_failed_count", () => this.#authFailed);
    registry.gauge("min_latency", () => latencyMin(live().counters.latency));
    registry.gauge("approximate_data_size", () => live().status.approximateDataSize);
    registry.gauge("local_sessions", () => live().status.localSessionCount);
    registry.gauge("uptime", () => live().counters.uptimeMs);
    registry.gauge("max_latency", () => latencyMax(live().counters.latency));
    registry.gauge("min_client_response_size", () => this.#responseMin);
    registry.gauge("non_mtls_local_conn_count", () => live().connections.filter((c) => isLoopback(c.remoteAddress)).length);
    this.#throttled = registry.counter("throttled_ops");
    this.#rejected = registry.counter("connection_rejected");
    this.#sessionlessExpired = registry.counter("sessionless_connections_expired");
    this.#bytesReceived = registry.counter("bytes_received_count");
    this.#connectionRequests = registry.counter("connection_request_count");
    this.updateLatency = registry.summary("updatelatency", { detailed: true });
    this.readLatency = registry.summary("readlatency", { detailed: true });
    this.process = new ProcessMetrics(registry, options.nowMs ?? Date.now());
  }

  /** The driver's picture of the server (called by the driver when it starts). */
  attach(source: () => FourLetterSource): void {
    this.#source = source;
  }

  get attached(): boolean {
    return this.#source !== null;
  }

  /** The FourLetterSource of the attached driver; throws before one is attached. */
  source(): FourLetterSource {
    if (this.#source === null) throw new Error("no server is attached to these metrics yet (pass them as the `metrics` option of serve/startServer)");
    return this.#source();
  }

  /** An ensemble member's view: adds quorum_size. */
  setEnsemble(view: () => EnsembleView | null): void {
    this.#ensemble = view;
    this.registry.gauge("quorum_size", () => this.#ensemble?.()?.quorumSize ?? 0);
  }

  /** Takes the live picture once; gauges read it until `endRender`. */
  beginRender(): void {
    const source = this.source();
    this.#picture = { status: source.status(), counters: source.counters(), connections: source.connections() };
  }

  endRender(): void {
    this.#picture = null;
  }

  // ------------------------------------------------------------------------------------------------
  // The hot path (DriverStats calls these; each is a few arithmetic operations)

  /** A ConnectRequest arrived (`bytes`: its frame). */
  connectionRequested(bytes: number): void {
    this.#connectionRequests.value++;
    this.#bytesReceived.value += bytes + 4;
  }

  /** A request frame arrived. */
  requestReceived(bytes: number): void {
    this.#bytesReceived.value += bytes + 4;
  }

  /** A reply went out: its request's opcode and xid, error code, latency and encoded size. */
  replied(opcode: number, xid: number, err: number, latencyMs: number, bytes: number): void {
    this.#responseLast = bytes;
    if (this.#responseMin < 0 || bytes < this.#responseMin) this.#responseMin = bytes;
    if (bytes > this.#responseMax) this.#responseMax = bytes;
    if (xid === Xid.auth) {
      if (err === AUTH_FAILED) this.#authFailed++;
      return;
    }
    if (WRITE_OPCODES.has(opcode)) this.updateLatency.add(latencyMs);
    else this.readLatency.add(latencyMs);
  }

  connectionRejected(): void {
    this.#rejected.value++;
  }

  sessionlessExpired(): void {
    this.#sessionlessExpired.value++;
  }

  throttled(): void {
    this.#throttled.value++;
  }

  /** `srst`: ZooKeeper's ServerStats.reset clears the metrics too. */
  reset(): void {
    this.registry.reset();
    this.#authFailed = 0;
    this.#responseLast = -1;
    this.#responseMin = -1;
    this.#responseMax = -1;
  }

  #live(): Picture {
    if (this.#picture !== null) return this.#picture;
    const source = this.source();
    return { status: source.status(), counters: source.counters(), connections: source.connections() };
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}
