/**
 * The load generator of the ZooKeeper comparison, built on Corral's client: several clients, spread
 * over the servers of a connect string list, each keeping up to `outstandingPerClient` requests in
 * flight (that many async loops per client, each awaiting its own request: the client pipelines
 * them on one connection). Each client reads and writes its own 1 KiB znode.
 */
import { type Client, createClient } from "../src/client/mod.ts";
import { LatencyHistogram } from "./latency_histogram.ts";

export interface LoadWorkload {
  name: string;
  /** Percentage of getData requests; the rest are setData, spread evenly over each loop's requests. */
  readPercent: number;
}

export const LOAD_WORKLOADS: readonly LoadWorkload[] = [
  { name: "100% getData 1 KiB", readPercent: 100 },
  { name: "50% getData / 50% setData 1 KiB", readPercent: 50 },
  { name: "0% reads: 100% setData 1 KiB", readPercent: 0 },
];

export const PAYLOAD = new Uint8Array(1024).fill(0x61);

/** A bound on each loop besides its deadline. */
const OPERATIONS_PER_LOOP_MAX = 10_000_000;
const ROOT = "/bench";

export interface LoadClients {
  clients: Client[];
  /** The znode each client reads and writes. */
  paths: string[];
  close(): Promise<void>;
}

/**
 * Connects `count` clients (over TLS trusting `tls.ca`, if given), client i to `servers[i % servers.length]` ("host:port"), and creates
 * /bench/c<i> with 1 KiB of data for each (the target starts empty).
 */
export async function connectLoadClients(servers: readonly string[], count: number, tls?: { ca: string }): Promise<LoadClients> {
  const clients: Client[] = [];
  const close = async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
  };
  try {
    for (let i = 0; i < count; i++) {
      clients.push(await createClient(servers[i % servers.length]!, { sessionTimeoutMs: 30_000, ...(tls === undefined ? {} : { tls }) }));
    }
    await clients[0]!.create(ROOT, "");
    const paths = clients.map((_, i) => `${ROOT}/c${i}`);
    for (let i = 0; i < clients.length; i++) await clients[i]!.create(paths[i]!, PAYLOAD);
    return { clients, paths, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface LoadResult {
  operations: number;
  errors: number;
  firstError: unknown;
  elapsedMs: number;
  latencies: LatencyHistogram;
}

/** Runs `workload` from every client for `durationMs`; resolves once every reply is in. */
export async function runLoad(
  load: LoadClients,
  workload: LoadWorkload,
  durationMs: number,
  outstandingPerClient: number,
): Promise<LoadResult> {
  const pattern = readPattern(workload.readPercent);
  const latencies = new LatencyHistogram();
  let operations = 0;
  let errors = 0;
  let firstError: unknown = undefined;
  const start = performance.now();
  const deadline = start + durationMs;
  async function loop(client: Client, path: string, offset: number): Promise<void> {
    for (let i = 0; i < OPERATIONS_PER_LOOP_MAX; i++) {
      const sent = performance.now();
      if (sent >= deadline) return;
      try {
        if (pattern[(offset + i) % pattern.length]) await client.getData(path);
        else await client.setData(path, PAYLOAD);
      } catch (error) {
        errors++;
        firstError ??= error;
        return; // a failing loop stops rather than spinning on errors
      }
      latencies.record(performance.now() - sent);
      operations++;
    }
  }
  const loops: Promise<void>[] = [];
  load.clients.forEach((client, clientIndex) => {
    for (let j = 0; j < outstandingPerClient; j++) loops.push(loop(client, load.paths[clientIndex]!, j));
  });
  await Promise.all(loops);
  return { operations, errors, firstError, elapsedMs: performance.now() - start, latencies };
}

/** 100 flags, `percent` of them true and spread evenly (50 → alternating). */
function readPattern(percent: number): boolean[] {
  const pattern: boolean[] = [];
  for (let k = 0; k < 100; k++) pattern.push(Math.floor(((k + 1) * percent) / 100) > Math.floor((k * percent) / 100));
  return pattern;
}
