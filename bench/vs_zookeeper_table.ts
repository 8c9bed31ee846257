/**
 * The tables of the ZooKeeper comparison: one per workload, standalone rows then 3-server ensemble
 * rows, each Corral row compared with Apache ZooKeeper in the same setup, and a verdict against the
 * targets (Corral ≥ 1.5× ZooKeeper's throughput, p99 no worse, at most half its server CPU per
 * operation). Pure: figures in, markdown table out.
 */
import { LatencyHistogram } from "./latency_histogram.ts";
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";

/** "tls": a standalone server that clients reach over TLS (secureClientPort, ssl.clientAuth=none). */
export type Topology = "standalone" | "tls" | "ensemble";

const SETUP_NAMES: Record<Topology, string> = { standalone: "standalone", tls: "standalone, TLS", ensemble: "3 servers" };

/** Everything measured for one target and workload, summed over the rounds. */
export interface Cell {
  operations: number;
  elapsedMs: number;
  /** Summed over every server process of the target (three for an ensemble). */
  serverCpuMicros: number;
  clientCpuMicros: number;
  latencies: LatencyHistogram;
  errors: number;
  firstError: unknown;
  opsPerSecondByRound: number[];
}

export function emptyCell(): Cell {
  return {
    operations: 0,
    elapsedMs: 0,
    serverCpuMicros: 0,
    clientCpuMicros: 0,
    latencies: new LatencyHistogram(),
    errors: 0,
    firstError: undefined,
    opsPerSecondByRound: [],
  };
}

/** One row's source: which server, in which setup, and its cell for this workload. */
export interface RowInput {
  label: string;
  topology: Topology;
  isZooKeeper: boolean;
  cell: Cell;
}

export interface Figures {
  opsPerSecond: number;
  p50: number;
  p99: number;
  serverMicrosPerOp: number;
}

export function figuresOf(cell: Cell): Figures {
  return {
    opsPerSecond: (cell.operations * 1000) / cell.elapsedMs,
    p50: cell.latencies.percentile(0.5),
    p99: cell.latencies.percentile(0.99),
    serverMicrosPerOp: cell.serverCpuMicros / cell.operations,
  };
}

/** The targets of issue 5, as ratios Corral ÷ ZooKeeper. */
export const TARGETS = { opsPerSecondMin: 1.5, p99Max: 1, serverCpuPerOpMax: 0.5 } as const;

export interface Ratios {
  opsPerSecond: number;
  p99: number;
  serverCpuPerOp: number;
}

export function ratiosOf(ours: Figures, theirs: Figures): Ratios {
  return {
    opsPerSecond: ours.opsPerSecond / theirs.opsPerSecond,
    p99: ours.p99 / theirs.p99,
    serverCpuPerOp: ours.serverMicrosPerOp / theirs.serverMicrosPerOp,
  };
}

/** "1.52×", or "n/a" for a ratio that could not be formed (no ZooKeeper row, no operations). */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? "n/a" : `${formatFigure(ratio)}×`;
}

/** "ops ✓ · p99 ✗ · CPU ✓": each target met or not; "n/a" where a ratio is missing. */
export function targetVerdict(ratios: Ratios | null): string {
  if (ratios === null) return "n/a";
  const mark = (ratio: number, met: (value: number) => boolean) =>
    !Number.isFinite(ratio) ? "?" : met(ratio) ? "✓" : "✗";
  return [
    `ops ${mark(ratios.opsPerSecond, (value) => value >= TARGETS.opsPerSecondMin)}`,
    `p99 ${mark(ratios.p99, (value) => value <= TARGETS.p99Max)}`,
    `CPU ${mark(ratios.serverCpuPerOp, (value) => value <= TARGETS.serverCpuPerOpMax)}`,
  ].join(" · ");
}

export const TABLE_COLUMNS = [
  "setup",
  "server",
  "ops/s",
  "ops/s by round",
  "p50 ms",
  "p99 ms",
  "server CPU µs/op",
  "load generator CPU µs/op",
  "ops/s ÷ ZK",
  "p99 ÷ ZK",
  "server CPU/op ÷ ZK",
  "targets",
  "errors",
];

/** The rows of one workload's table; each Corral row is compared with ZooKeeper's row of its setup. */
export function tableRows(inputs: readonly RowInput[]): string[][] {
  const base = new Map<Topology, Figures>();
  for (const input of inputs) if (input.isZooKeeper) base.set(input.topology, figuresOf(input.cell));
  return inputs.map((input) => {
    const figures = figuresOf(input.cell);
    const theirs = base.get(input.topology);
    const ratios = input.isZooKeeper || theirs === undefined ? null : ratiosOf(figures, theirs);
    const errors = input.cell.errors === 0
      ? "0"
      : `${input.cell.errors} (first: ${describeError(input.cell.firstError).slice(0, 100)})`;
    return [
      SETUP_NAMES[input.topology],
      input.label,
      formatCount(figures.opsPerSecond),
      input.cell.opsPerSecondByRound.map(formatCount).join(" / "),
      formatFigure(figures.p50),
      formatFigure(figures.p99),
      formatFigure(figures.serverMicrosPerOp),
      formatFigure(input.cell.clientCpuMicros / input.cell.operations),
      input.isZooKeeper ? "1" : formatRatio(ratios?.opsPerSecond),
      input.isZooKeeper ? "1" : formatRatio(ratios?.p99),
      input.isZooKeeper ? "1" : formatRatio(ratios?.serverCpuPerOp),
      input.isZooKeeper ? "—" : targetVerdict(ratios),
      errors,
    ];
  });
}

export interface TableSetup {
  workloadName: string;
  /** The first table carries the full note; the others point to it. */
  first: boolean;
  standaloneClients: number;
  ensembleClients: number;
  outstandingPerClient: number;
  durationMs: number;
  warmupMs: number;
  /** 50/50 load on each target right after it starts, unmeasured: Corral's, and ZooKeeper's (longer, for its JIT). */
  startWarmupMs: number;
  zooKeeperStartWarmupMs: number;
  rounds: number;
}

export function workloadTable(setup: TableSetup, inputs: readonly RowInput[]): Table {
  return {
    title: `Corral vs Apache ZooKeeper: ${setup.workloadName}`,
    note: setup.first ? tableNote(setup) : "Same setup as the first table.",
    columns: TABLE_COLUMNS,
    rows: tableRows(inputs),
  };
}

function tableNote(setup: TableSetup): string {
  const rounds = setup.rounds === 1 ? "one round" : `${setup.rounds} alternating rounds`;
  return "Every server its own process on 127.0.0.1 with its data in a fresh temporary directory and fsync on " +
    "(ZooKeeper: forceSync=yes, JVM defaults as Debian's zkServer.sh; Corral: `corral serve`). Standalone: one " +
    `server, ${setup.standaloneClients} clients. 3 servers: three ZooKeeper QuorumPeerMain processes, or three ` +
    "`corral serve zoo.cfg` processes under one runtime, each with its own zoo.cfg (the same tickTime, " +
    "initLimit, syncLimit and server.N lines for both), dataDir and myid; measured once `srvr` on every " +
    `member shows one leader and two followers and every client is connected; ${setup.ensembleClients} ` +
    "clients spread round-robin over the three members (reads served by the member, writes forwarded to " +
    `the leader). Load generator: this process, Corral clients × ${setup.outstandingPerClient} requests in ` +
    `flight each, each client on its own 1 KiB znode. Each target gets ${
      seconds(setup.startWarmupMs)
    } s of ` +
    `unmeasured 50/50 load once started (ZooKeeper ${
      seconds(setup.zooKeeperStartWarmupMs)
    } s, for its JIT), ` +
    `then ${seconds(setup.durationMs)} s per workload after ${seconds(setup.warmupMs)} s of warm-up, ` +
    `${rounds} (ABBA: ZooKeeper first in odd rounds, last in even ones), figures ` +
    "summed over the rounds. Server CPU = utime + stime of the server processes (/proc/<pid>/stat, 10 ms " +
    "ticks; an ensemble's three summed) over the measured window ÷ operations. The load generator shares the " +
    "machine's cores with the servers, so ops/s is partly its limit; server CPU per operation is the fair " +
    "comparison. Ratios are Corral ÷ ZooKeeper of the same setup (ops/s: higher is better; p99 and CPU: " +
    `lower is better). Targets: ops/s ≥ ${TARGETS.opsPerSecondMin}×, p99 ≤ ${TARGETS.p99Max}×, server CPU/op ≤ ` +
    `${TARGETS.serverCpuPerOpMax}×. Standalone, TLS: the standalone setup with clients on the TLS port ` +
    "(secureClientPort, one PEM key store, TLSv1.2, ssl.clientAuth=none on both; ZooKeeper then needs its Netty " +
    "connection factory, where the plaintext rows use its default NIO one; Corral: node:tls under each runtime).";
}

export interface RawTableSetup {
  workloadName: string;
  first: boolean;
  connections: number;
  outstanding: number;
  rounds: number;
  durationMs: number;
  warmupMs: number;
}

/** The same comparison with the raw load generator (bench/raw_load.ts). */
export function rawWorkloadTable(setup: RawTableSetup, inputs: readonly RowInput[]): Table {
  return {
    title: `Corral vs Apache ZooKeeper, raw load generator: ${setup.workloadName}`,
    note: setup.first ? rawTableNote(setup) : "Same setup as the first raw-load table.",
    columns: TABLE_COLUMNS,
    rows: tableRows(inputs),
  };
}

function rawTableNote(setup: RawTableSetup): string {
  return "The servers and the ZooKeeper configuration of the tables above, started afresh; the load now comes " +
    "from bench/raw_load.ts in its own Node process: " +
    `${setup.connections} connections (spread round-robin over the members in the 3-server rows) × ` +
    `${setup.outstanding} requests in flight each, encoded once (only the xid changes), replies read by their ` +
    "header alone, each connection on one of the 1 KiB znodes. Its own CPU over the window is the load " +
    "generator column (it writes once per reply, so it is not much cheaper than Corral's client); where " +
    "a server's CPU per op is no larger than it (standalone reads), ops/s is partly the generator's limit, " +
    "and server CPU per op is the figure to compare. " +
    `${setup.rounds} rounds in ABBA order (ZooKeeper first in odd rounds, last in even ones), each workload ` +
    `${seconds(setup.durationMs)} s after ${seconds(setup.warmupMs)} s of warm-up; server CPU read when the ` +
    "generator's measured window opens and closes. Ratios and targets as above.";
}

/** The bound on what TLS may cost Corral: server CPU per operation ≤ 1.5× its plaintext one. */
export const TLS_CPU_RATIO_MAX = 1.5;

/**
 * What TLS costs each server, from the same run: server CPU per operation over TLS ÷ in plaintext,
 * standalone, for every workload; `rows` pairs each server's two cells per workload.
 */
export function tlsCostTable(
  workloads: readonly string[],
  rows: readonly { label: string; isZooKeeper: boolean; plaintext: Cell[]; tls: Cell[] }[],
): Table {
  return {
    title: "What TLS costs: server CPU per operation over TLS ÷ in plaintext (standalone, same run)",
    note: `From the tables above. Target for Corral: ≤ ${TLS_CPU_RATIO_MAX}× (issue 12). ZooKeeper's TLS rows run its Netty ` +
      "connection factory, its plaintext rows its NIO one.",
    columns: ["server", ...workloads],
    rows: rows.map((row) => [
      row.label,
      ...workloads.map((_, w) => {
        const ratio = figuresOf(row.tls[w]!).serverMicrosPerOp / figuresOf(row.plaintext[w]!).serverMicrosPerOp;
        const verdict = row.isZooKeeper || !Number.isFinite(ratio) ? "" : ratio <= TLS_CPU_RATIO_MAX ? " ✓" : " ✗";
        return `${formatRatio(ratio)}${verdict}`;
      }),
    ]),
  };
}

function seconds(ms: number): string {
  return String(ms / 1000);
}

export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll("|", "/").replaceAll("\n", " ");
}
