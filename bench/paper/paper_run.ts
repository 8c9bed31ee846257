/**
 * One measurement: an ensemble of `voters` real replicas, clients spread over every member, a read
 * ratio, a warm-up and a measured stretch. Returns the operations completed while measuring, each
 * member's CPU time over the same stretch, and the wall time.
 */
import { cpuUsage } from "node:process";
import type { Sid } from "../../src/core/peer_messages.ts";
import { CreateFlags, type Request } from "../../src/core/records.ts";
import { LoadClient } from "./load_client.ts";
import { MemoryEnsemble } from "./memory_ensemble.ts";

/** Deliveries between two clock steps (1 ms of the replicas' virtual time each). */
const DELIVERIES_PER_STEP = 256;
/** Virtual milliseconds an idle ensemble is moved on at a time while it elects and syncs. */
const IDLE_STEP_MS = 10;
const SETUP_STEPS_MAX = 20_000;
const PARENT_PATH = "/paper";

export interface RunSettings {
  voters: number;
  /** Fraction of requests that are reads, in [0, 1]. */
  readRatio: number;
  clients: number;
  /** Requests each client keeps outstanding. */
  window: number;
  /** Znodes the requests pick from (each holds `dataBytes`). */
  znodes: number;
  dataBytes: number;
  /** Operations completed before measuring starts, or at most this much wall time. */
  warmupOps: number;
  warmupMsMax: number;
  /** Measuring stops after this many operations or this much wall time, whichever comes first. */
  measureOps: number;
  measureMsMax: number;
  seed: number;
}

export interface RunResult {
  voters: number;
  readRatio: number;
  clients: number;
  leader: Sid;
  /** Operations completed while measuring. */
  operations: number;
  /** Failed replies and connections closed by a server over the whole run (must be 0). */
  failures: string[];
  /** CPU milliseconds each member spent while measuring, by sid. */
  cpuMs: Map<Sid, number>;
  wallMs: number;
  /**
   * The process's CPU time over the wall time while measuring (1 = it ran all the time; less = the
   * machine was busy with other programs, which makes the one-process figure low).
   */
  cpuShare: number;
}

/** The paper's default: 2 to 4 clients per server, at least 12 in all. */
export function clientsFor(voters: number): number {
  return voters * Math.min(4, Math.max(2, Math.ceil(12 / voters)));
}

export function runOnce(settings: RunSettings): RunResult {
  const clients = new Map<number, LoadClient>();
  const ensemble = new MemoryEnsemble({
    voters: settings.voters,
    sink: (connection, frames) => clients.get(connection)?.onFrames(frames),
  });
  ensemble.start();
  runUntil(ensemble, () => ensemble.allServing(), "a leader established and every follower synced");
  const leader = ensemble.leader()!;
  for (let index = 0; index < settings.clients; index++) {
    const sid = ensemble.voters[index % ensemble.voters.length]!;
    const connection = ensemble.openConnection(sid);
    const client = new LoadClient({
      connection,
      send: (id, frames) => ensemble.sendToServer(id, frames),
      seed: settings.seed * 1000 + index,
      window: settings.window,
    });
    clients.set(connection, client);
    client.connect();
  }
  const all = [...clients.values()];
  runUntil(ensemble, () => all.every((client) => client.connected), `${all.length} client sessions`);
  const data = new Uint8Array(settings.dataBytes).fill(0x61);
  const paths = Array.from({ length: settings.znodes }, (_, index) => `${PARENT_PATH}/node-${index}`);
  const creates: Request[] = [PARENT_PATH, ...paths].map((path) => ({
    kind: "create",
    path,
    data: path === PARENT_PATH ? new Uint8Array(0) : data,
    acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
    flags: CreateFlags.PERSISTENT,
    ttl: 0n,
  }));
  all[0]!.runScript(creates);
  runUntil(ensemble, () => all[0]!.completed + all[0]!.failed >= creates.length, "the znodes created");
  if (all[0]!.failed > 0) throw new Error(`paper bench: creating the znodes failed: ${all[0]!.errors.join("; ")}`);

  for (const client of all) client.setWorkload({ readRatio: settings.readRatio, paths, data });
  const completed = () => all.reduce((sum, client) => sum + client.completed, 0);
  const warmupEnd = completed() + settings.warmupOps;
  pump(ensemble, () => completed() >= warmupEnd, performance.now() + settings.warmupMsMax);

  ensemble.resetMeters();
  const startOps = completed();
  const startedAt = performance.now();
  const cpuAtStart = cpuUsage();
  pump(ensemble, () => completed() - startOps >= settings.measureOps, startedAt + settings.measureMsMax);
  const wallMs = performance.now() - startedAt;
  const cpu = cpuUsage(cpuAtStart);
  const operations = completed() - startOps;
  const cpuShare = (cpu.user + cpu.system) / 1000 / wallMs;
  const cpuMs = ensemble.cpuMs();
  for (const client of all) client.setWorkload(null);

  const failures = [...ensemble.closedConnections];
  for (const client of all) failures.push(...client.errors.map((error) => `client ${client.connection}: ${error}`));
  return { voters: settings.voters, readRatio: settings.readRatio, clients: all.length, leader, operations, failures, cpuMs, wallMs, cpuShare };
}

/** Runs the loaded ensemble until `done` or the wall-clock deadline; stalls are errors. */
function pump(ensemble: MemoryEnsemble, done: () => boolean, deadline: number): void {
  // Bounded by the deadline and by `done`; an empty network under load means the run is stuck.
  while (!done() && performance.now() < deadline) {
    const delivered = ensemble.deliver(DELIVERIES_PER_STEP);
    ensemble.advance(1);
    if (delivered === 0 && ensemble.queued === 0) {
      throw new Error(`paper bench: the network went quiet under load (warnings: ${ensemble.warnings.join(" | ") || "none"})`);
    }
  }
}

/** Delivers everything queued, moving the clock on while the network is idle, until `done`. */
function runUntil(ensemble: MemoryEnsemble, done: () => boolean, what: string): void {
  for (let step = 0; step < SETUP_STEPS_MAX; step++) {
    if (done()) return;
    ensemble.advance(ensemble.deliver(DELIVERIES_PER_STEP) === 0 ? IDLE_STEP_MS : 1);
  }
  throw new Error(
    `paper bench: no ${what} after ${SETUP_STEPS_MAX} steps with ${ensemble.voters.length} servers ` +
      `(warnings: ${ensemble.warnings.join(" | ") || "none"})`,
  );
}
