/**
 * End to end: an in-process server (startServer) and N clients (createClient) in the same process,
 * each client keeping up to `outstandingPerClient` requests in flight (that many async loops, each
 * awaiting its own request), for a fixed time per workload. Run over the runtime's TCP transport on
 * 127.0.0.1 and over the in-memory network, to tell socket cost from our own code's cost.
 */
import { type Client, createClient } from "../src/client/mod.ts";
import { startServer } from "../src/driver/start_server.ts";
import { defaultTransport } from "../src/transport/auto.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import type { Transport } from "../src/transport/transport.ts";
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";
import { cpuMicros } from "./runtime_info.ts";

export interface LoopbackOptions {
  network: "tcp" | "memory";
  clients: number;
  outstandingPerClient: number;
  durationMs: number;
  warmupMs: number;
}

interface Workload {
  name: string;
  /** Whether operation number `index` of a loop is a read. */
  isRead: (index: number) => boolean;
}

const WORKLOADS: Workload[] = [
  { name: "100% getData 1 KiB", isRead: () => true },
  { name: "100% setData 1 KiB", isRead: () => false },
  { name: "50% getData / 50% setData", isRead: (index) => index % 2 === 0 },
];

/** Latency samples kept per phase (16 MB); operations past it are counted but not sampled. */
const LATENCY_SAMPLES_MAX = 2_000_000;
/** A bound on each loop besides its deadline. */
const OPERATIONS_PER_LOOP_MAX = 10_000_000;
const KIBIBYTE = new Uint8Array(1024).fill(0x61);

interface PhaseResult {
  operations: number;
  errors: number;
  firstError: unknown;
  elapsedMs: number;
  cpuMicros: number;
  latenciesMs: Float64Array;
}

export async function loopbackTable(options: LoopbackOptions): Promise<Table> {
  const network = options.network === "memory" ? new MemoryNetwork() : null;
  const transport: Transport = network?.transport("server") ?? await defaultTransport();
  const server = await startServer({ port: 0, transport });
  const clients: Client[] = [];
  const rows: string[][] = [];
  try {
    const host = network === null ? "127.0.0.1" : "server";
    const clientTransport = network?.transport("client") ?? transport;
    for (let i = 0; i < options.clients; i++) {
      clients.push(await createClient(`${host}:${server.port}`, { transport: clientTransport }));
    }
    await clients[0]!.create("/bench", "");
    for (let i = 0; i < clients.length; i++) await clients[i]!.create(nodeOf(i), KIBIBYTE);
    const latenciesMs = new Float64Array(LATENCY_SAMPLES_MAX);
    for (const workload of WORKLOADS) {
      const phase = { workload, loopsPerClient: options.outstandingPerClient, latenciesMs };
      await runPhase(clients, { ...phase, durationMs: options.warmupMs });
      const result = await runPhase(clients, { ...phase, durationMs: options.durationMs });
      rows.push(rowOf(workload, result));
    }
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await server.close();
  }
  const what = network === null
    ? `loopback TCP (${transport.name} transport, 127.0.0.1)`
    : "the in-memory transport (MemoryNetwork)";
  return {
    title: `End to end over ${what}`,
    note: `${options.clients} clients × ${options.outstandingPerClient} requests in flight, ` +
      `${options.durationMs / 1000} s per workload after ${options.warmupMs / 1000} s of warm-up. ` +
      "Server and clients share one process, so CPU time per operation is theirs together.",
    columns: ["workload", "ops/s", "p50 ms", "p99 ms", "CPU µs/op (server + clients)", "errors"],
    rows,
  };
}

function nodeOf(clientIndex: number): string {
  return `/bench/c${clientIndex}`;
}

interface Phase {
  workload: Workload;
  durationMs: number;
  loopsPerClient: number;
  /** Where latencies are written (overwritten by each phase). */
  latenciesMs: Float64Array;
}

async function runPhase(clients: Client[], phase: Phase): Promise<PhaseResult> {
  const { workload, durationMs, loopsPerClient, latenciesMs } = phase;
  let samples = 0;
  let operations = 0;
  let errors = 0;
  let firstError: unknown = undefined;
  const cpuBefore = cpuMicros();
  const start = performance.now();
  const deadline = start + durationMs;
  async function loop(client: Client, path: string, loopIndex: number): Promise<void> {
    for (let i = 0; i < OPERATIONS_PER_LOOP_MAX && performance.now() < deadline; i++) {
      const sent = performance.now();
      try {
        if (workload.isRead(loopIndex + i)) await client.getData(path);
        else await client.setData(path, KIBIBYTE);
      } catch (error) {
        errors++;
        firstError ??= error;
        return; // a failing loop stops rather than spinning on errors
      }
      if (samples < latenciesMs.length) latenciesMs[samples++] = performance.now() - sent;
      operations++;
    }
  }
  const loops: Promise<void>[] = [];
  clients.forEach((client, clientIndex) => {
    for (let j = 0; j < loopsPerClient; j++) loops.push(loop(client, nodeOf(clientIndex), j));
  });
  await Promise.all(loops);
  return {
    operations,
    errors,
    firstError,
    elapsedMs: performance.now() - start,
    cpuMicros: cpuMicros() - cpuBefore,
    latenciesMs: latenciesMs.subarray(0, samples),
  };
}

function rowOf(workload: Workload, result: PhaseResult): string[] {
  const sorted = result.latenciesMs.slice().sort();
  const errors = result.errors === 0 ? "0" : `${result.errors} (first: ${describe(result.firstError)})`;
  return [
    workload.name,
    formatCount((result.operations * 1000) / result.elapsedMs),
    formatFigure(percentile(sorted, 0.5)),
    formatFigure(percentile(sorted, 0.99)),
    formatFigure(result.cpuMicros / result.operations),
    errors,
  ];
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replaceAll("|", "/").slice(0, 120);
}
