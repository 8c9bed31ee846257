/**
 * The "costs" group: what watches and sessions cost a server. For each server (Corral as its own
 * process over TCP, Apache ZooKeeper 3.8 likewise when installed, and Corral inside this process on
 * the in-memory transport) it connects N sessions and measures them idle (session capacity), closes
 * them, then connects N fresh ones for watch fan-out in three shapes of the same watcher count:
 * N connections × 1 watcher, N/10 × 10 and N/100 × 100 (closing sessions between shapes). Clients all live in this
 * process (Corral's client). Memory per znode and snapshot/restart times are in the core and
 * storage groups.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { type Client, createClient } from "../../src/client/mod.ts";
import { renderTable, type Table } from "../markdown_table.ts";
import { runtimeInfo } from "../runtime_info.ts";
import { zooKeeperMissing } from "../vs_zookeeper_targets.ts";
import type { ClientPool } from "./client_pool.ts";
import { connectPool } from "./client_pool.ts";
import { CPU_STEPS_PRECISE, type FanOutCell, fanOutTable, type SessionRow, sessionTable } from "./costs_tables.ts";
import {
  type CostsTarget,
  startCorralMemoryTarget,
  startCorralTcpTarget,
  startZooKeeperCostsTarget,
} from "./costs_targets.ts";
import { type FanOutRound, runFanOutRound } from "./fan_out.ts";
import { measureSessionCapacity } from "./session_capacity.ts";

export interface CostsSettings {
  /** About 20 s with 1,000 sessions and watchers instead of about two minutes with 10,000. */
  quick: boolean;
  /** Leave out Apache ZooKeeper even when it is installed. */
  skipZooKeeper?: boolean;
}

export interface CostsPlan {
  /** Sessions connected per server, and watchers per fan-out round. */
  sessions: number;
  /** Of the session-capacity sessions: short, so that they ping often. */
  sessionTimeoutMs: number;
  idleWindowMs: number;
  /** The server's CPU with no session, measured for this long first. */
  baselineWindowMs: number;
  /** Of the fan-out sessions: long, so that pings stay out of the fan-out's CPU figure. */
  fanOutSessionTimeoutMs: number;
  /** Handshakes (and watch registrations) in flight at once. */
  concurrency: number;
  /** Fan-out shapes, most connections first (sessions are closed between shapes). */
  shapes: readonly { connections: number; watchersPerConnection: number }[];
  rounds: number;
  /** Time a shape may spend on rounds past `rounds` to measure a small fan-out's CPU. */
  extraRoundsTimeMs: number;
  /** Bound on each round's registration and on its wait for every event. */
  roundTimeoutMs: number;
}

/** File descriptors kept free for everything but the clients' sockets. */
const SPARE_DESCRIPTORS = 200;
const FAN_OUT_PATH = "/costs-fan-out";
/** Extra fan-out rounds run until the server's CPU over a shape's rounds reaches this many steps of its clock... */
const CPU_STEPS_MIN = CPU_STEPS_PRECISE;
/** ...or this many rounds, or plan.extraRoundsTimeMs. */
const ROUNDS_MAX = 40;

export function costsPlan(quick: boolean, sessions = quick ? 1_000 : 10_000): CostsPlan {
  if (!(sessions >= 100)) throw new RangeError(`costsPlan: sessions must be >= 100, got ${sessions}`);
  return {
    sessions,
    // The smallest timeout ZooKeeper's default tickTime (2 s) allows is 4 s; 6 s pings every 2 s.
    sessionTimeoutMs: 6_000,
    idleWindowMs: quick ? 4_000 : 10_000,
    baselineWindowMs: 2_000,
    fanOutSessionTimeoutMs: 30_000,
    concurrency: 200,
    shapes: [1, 10, 100].map((each) => ({ connections: Math.floor(sessions / each), watchersPerConnection: each })),
    rounds: quick ? 2 : 3,
    extraRoundsTimeMs: quick ? 1_000 : 3_000,
    roundTimeoutMs: 60_000,
  };
}

/**
 * Runs the group, handing each table to `onTable` (session capacity, then watch fan-out). Returns
 * remarks for RESULTS.md: the descriptor limit used, servers left out and why.
 */
export async function runCostsBench(
  settings: CostsSettings,
  onTable: (table: Table) => void,
): Promise<{ remarks: string[] }> {
  const remarks: string[] = [];
  const limit = descriptorLimit();
  let plan = costsPlan(settings.quick);
  if (limit !== null && limit - SPARE_DESCRIPTORS < plan.sessions) {
    plan = costsPlan(settings.quick, Math.floor((limit - SPARE_DESCRIPTORS) / 100) * 100);
    remarks.push(`ulimit -n is ${limit}: TCP runs use ${plan.sessions} sessions instead of ${costsPlan(settings.quick).sessions}.`);
  }
  remarks.push(
    `Costs group: load generator and clients on ${runtimeInfo().label}, ${plan.sessions} sessions per server` +
      `${settings.quick ? " (quick: 1,000 instead of 10,000)" : ""}, open-file limit ${limit ?? "unknown"}; ` +
      "every server keeps data in memory (Corral without --data-dir, ZooKeeper with forceSync=no) and allows " +
      "unlimited connections per address (maxClientCnxns=0).",
  );
  const starters: { name: string; start: () => Promise<CostsTarget>; sessions: boolean }[] = [
    { name: "Corral over TCP", start: startCorralTcpTarget, sessions: true },
  ];
  const absent = zooKeeperMissing();
  if (settings.skipZooKeeper === true) {
    remarks.push("Apache ZooKeeper left out (skipZooKeeper).");
  } else if (absent !== null) {
    remarks.push(`Apache ZooKeeper left out: ${absent.missing} not found (install with \`${absent.command}\`).`);
  } else {
    starters.push({ name: "Apache ZooKeeper", start: startZooKeeperCostsTarget, sessions: true });
  }
  // In process, session figures would be the clients' and the server's together: fan-out only.
  starters.push({ name: "Corral in memory", start: startCorralMemoryTarget, sessions: false });

  const sessionRows: SessionRow[] = [];
  const cells: FanOutCell[] = [];
  const loadBefore = loadavg()[0] ?? Number.NaN;
  for (const starter of starters) {
    try {
      await measureTarget(await starter.start(), { plan, sessions: starter.sessions }, sessionRows, cells);
    } catch (error) {
      const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
      remarks.push(`${starter.name}: failed (${why}).`);
      console.error(`costs bench: ${starter.name} failed:`, error);
    }
  }
  // Other work on the machine starves both processes and shows as delay and dropped sessions.
  remarks.push(
    `Machine load (1-minute load average) ${loadBefore.toFixed(1)} before and ${(loadavg()[0] ?? Number.NaN).toFixed(1)} ` +
      `after the group, on ${cpus().length} cores.`,
  );
  if (sessionRows.length > 0) onTable(sessionTable(sessionRows, { sessions: plan.sessions, windowMs: plan.idleWindowMs }));
  if (cells.length > 0) onTable(fanOutTable(cells, { watchers: plan.sessions, rounds: plan.rounds }));
  return { remarks };
}

/** Session capacity (when asked) and every fan-out shape on one server; stops it whatever happens. */
async function measureTarget(
  target: CostsTarget,
  options: { plan: CostsPlan; sessions: boolean },
  sessionRows: SessionRow[],
  cells: FanOutCell[],
): Promise<void> {
  const { plan } = options;
  const transport = target.clientTransport === undefined ? {} : { transport: target.clientTransport };
  let pool: ClientPool | null = null;
  let writer: Client | null = null;
  try {
    if (options.sessions) {
      const result = await measureSessionCapacity(target, {
        sessions: plan.sessions,
        concurrency: plan.concurrency,
        sessionTimeoutMs: plan.sessionTimeoutMs,
        windowMs: plan.idleWindowMs,
        baselineWindowMs: plan.baselineWindowMs,
      });
      sessionRows.push({ server: target.label, shared: target.shared, result });
    }
    // Fresh sessions with a long timeout: fan-out needs no pings, and on a loaded machine a short
    // timeout could expire a session between rounds and spoil the count of events.
    const watchers = await connectPool(target.connectString, {
      count: plan.sessions,
      concurrency: plan.concurrency,
      sessionTimeoutMs: plan.fanOutSessionTimeoutMs,
      ...transport,
    });
    pool = watchers;
    const changer = await createClient(target.connectString, { sessionTimeoutMs: plan.fanOutSessionTimeoutMs, ...transport });
    writer = changer;
    await changer.create(FAN_OUT_PATH, "0");
    for (const shape of plan.shapes) {
      if (watchers.clients.length > shape.connections) await watchers.close(watchers.clients.length - shape.connections);
      const cpuMicrosMin = CPU_STEPS_MIN * target.cpuResolutionMicros;
      const rounds = await runShapeRounds(plan, cpuMicrosMin, (registerConcurrency) =>
        runFanOutRound({
          writer: changer,
          watchers: watchers.clients,
          watchersPerClient: shape.watchersPerConnection,
          path: FAN_OUT_PATH,
          cpuMicros: () => target.cpuMicros(),
          watchCount: () => target.watchCount(),
          timeoutMs: plan.roundTimeoutMs,
          registerConcurrency,
        }), shape.watchersPerConnection);
      cells.push({
        server: target.label,
        shared: target.shared,
        cpuResolutionMicros: target.cpuResolutionMicros,
        ...shape,
        rounds,
      });
    }
  } finally {
    await writer?.close();
    await pool?.close();
    await target.stop();
  }
}

/**
 * At least `plan.rounds` rounds of one shape, then more while the server's CPU summed over them is
 * under `cpuMicrosMin` (a small fan-out takes under one 10 ms tick of /proc accounting), at most
 * ROUNDS_MAX rounds and plan.extraRoundsTimeMs past the first `plan.rounds`.
 */
async function runShapeRounds(
  plan: CostsPlan,
  cpuMicrosMin: number,
  round: (registerConcurrency: number) => Promise<FanOutRound>,
  watchersPerConnection: number,
): Promise<FanOutRound[]> {
  // About plan.concurrency × 5 getData calls in flight while registering, whatever the shape.
  const registerConcurrency = Math.max(1, Math.floor((plan.concurrency * 5) / watchersPerConnection));
  const rounds: FanOutRound[] = [];
  let cpuMicros = 0;
  for (let i = 0; i < plan.rounds; i++) {
    rounds.push(await round(registerConcurrency));
    cpuMicros += rounds[i]!.serverCpuMicros;
  }
  const deadline = performance.now() + plan.extraRoundsTimeMs;
  while (cpuMicros < cpuMicrosMin && rounds.length < ROUNDS_MAX && performance.now() < deadline) {
    const result = await round(registerConcurrency);
    rounds.push(result);
    cpuMicros += result.serverCpuMicros;
  }
  return rounds;
}

/** The soft limit on open files (`ulimit -n`, which a child shell inherits); null when unknown. */
export function descriptorLimit(): number | null {
  try {
    const text = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8", timeout: 5000 }).trim();
    return /^\d+$/.test(text) ? Number(text) : null; // "unlimited" counts as unknown
  } catch {
    return null;
  }
}

/** Runs the group and prints its tables and remarks (bench/costs/main.ts). */
export async function printCostsBench(settings: CostsSettings): Promise<void> {
  const { remarks } = await runCostsBench(settings, (table) => console.log(`${renderTable(table)}\n`));
  for (const remark of remarks) console.log(`${remark}\n`);
}
