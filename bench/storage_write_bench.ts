/**
 * Durable write throughput: group commit (every txn that arrives while an fsync runs rides the next
 * one, src/driver/persister.ts) against one append + fsync per txn, on the real disk
 * (NodeFileSystem in a temporary directory). Measured twice: through the whole server (clients over
 * the in-memory network, so sockets are not what is measured) and on the TxnStore alone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Client, createClient } from "../src/client/mod.ts";
import type { SnapshotSource } from "../src/core/persistence.ts";
import { Server } from "../src/core/server.ts";
import { defaultServerConfig, type ServerConfig } from "../src/core/server_io.ts";
import type { TxnEntry } from "../src/core/txn.ts";
import { serveDurable } from "../src/driver/durable_server.ts";
import type { Logger, LogLevel } from "../src/driver/logger.ts";
import type { DurableLog } from "../src/driver/persister.ts";
import { serveCore, type ServerHandle } from "../src/driver/server_driver.ts";
import { NodeFileSystem } from "../src/storage/node_file_system.ts";
import { TxnStore } from "../src/storage/txn_store.ts";
import { MemoryNetwork } from "../src/transport/memory.ts";
import { CountingFileSystem } from "./counting_file_system.ts";
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";

export interface WriteThroughputOptions {
  /** Where the temporary data directories go (removed afterwards). */
  scratchDir: string;
  clients: number;
  outstandingPerClient: number;
  durationMs: number;
  warmupMs: number;
}

const KIBIBYTE = new Uint8Array(1024).fill(0x61);
/** Latency samples kept per phase; operations past it are counted but not sampled. */
const LATENCY_SAMPLES_MAX = 1_000_000;
/** A bound on each loop besides its deadline. */
const OPERATIONS_PER_LOOP_MAX = 10_000_000;
const SERVER_HOST = "server";
const SERVER_PORT = 2181;

interface PhaseResult {
  txns: number;
  fileSyncs: number;
  elapsedMs: number;
  /** Client requests (server rows) or append+sync calls (store rows). */
  latenciesMs: Float64Array;
  errors: number;
  firstError: unknown;
  snapshots: number;
}

export async function writeThroughputTable(options: WriteThroughputOptions): Promise<Table> {
  const window = options.clients * options.outstandingPerClient;
  const rows: string[][] = [];
  rows.push(rowOf("server, group commit (serveDurable)", await serverPhase(options, "group")));
  rows.push(rowOf("server, one append + fsync per txn", await serverPhase(options, "perTxn")));
  rows.push(rowOf(`TxnStore only, ${window} txns per append + fsync`, await storePhase(options, window)));
  rows.push(rowOf("TxnStore only, one append + fsync per txn", await storePhase(options, 1)));
  return {
    title: "Durable writes: group commit vs one fsync per write (NodeFileSystem, temporary directory)",
    note:
      `Server rows: ${options.clients} clients × ${options.outstandingPerClient} setData (1 KiB) in flight ` +
      "over the in-memory network, latency per request; the per-txn row is the same server with a " +
      "DurableLog that appends and fdatasyncs each txn on its own, one after another. TxnStore rows: " +
      "setData txns (1 KiB) appended and synced in a loop, latency per append + sync. " +
      `${options.durationMs / 1000} s per row after ${options.warmupMs / 1000} s of warm-up; ` +
      "txns per fsync = txns logged ÷ log fdatasyncs (segment rolls included).",
    columns: ["setup", "txns/s", "log fsyncs/s", "txns per fsync (mean)", "p50 ms", "p99 ms", "errors"],
    rows,
  };
}

/**
 * The persister's view of a store that gives up group commit: each txn of a batch is appended and
 * synced on its own, serially, so a batch of n costs n fsyncs.
 */
class OneSyncPerTxnLog implements DurableLog {
  readonly #store: TxnStore;

  constructor(store: TxnStore) {
    this.#store = store;
  }

  async append(entries: readonly TxnEntry[]): Promise<void> {
    for (const entry of entries) {
      await this.#store.append([entry]);
      await this.#store.sync();
    }
  }

  sync(): Promise<void> {
    return Promise.resolve(); // every append above was synced already
  }

  discardUnsynced(): Promise<void> {
    return this.#store.discardUnsynced();
  }

  writeSnapshot(source: SnapshotSource): Promise<{ path: string; bytes: number; nodes: number }> {
    return this.#store.writeSnapshot(source);
  }
}

/** Prints warnings and errors, and counts the snapshots the persister reports. */
class BenchLogger implements Logger {
  snapshots = 0;

  log(level: LogLevel, message: string): void {
    if (level === "info" && message.startsWith("snapshot ")) this.snapshots++;
    if (level === "warn" || level === "error") console.error(`storage bench: server ${level}: ${message}`);
  }
}

interface ServerUnderTest {
  handle: ServerHandle<Server>;
  close(): Promise<void>;
}

async function startDurable(
  mode: "group" | "perTxn",
  common: { fs: CountingFileSystem; dataDir: string; network: MemoryNetwork; logger: BenchLogger },
): Promise<ServerUnderTest> {
  const config: ServerConfig = defaultServerConfig({ sessionIdSeedMs: Date.now() });
  const serveOptions = {
    transport: common.network.transport(SERVER_HOST),
    host: SERVER_HOST,
    port: SERVER_PORT,
    config,
    logger: common.logger,
  };
  if (mode === "group") {
    const handle = await serveDurable({ ...serveOptions, fs: common.fs, dataDir: common.dataDir });
    return { handle, close: () => handle.close() };
  }
  // serveDurable's own steps, with the one-fsync-per-txn log in place of the store.
  const store = await TxnStore.open({
    fs: common.fs,
    dataDir: common.dataDir,
    logger: (level, message) => common.logger.log(level, message),
  });
  const server = new Server(config, Date.now());
  await store.recover({
    snapshot: (header) => server.restoreSnapshot(header),
    node: (node) => server.restoreNode(node),
    txn: (entry) => server.replay(entry),
  });
  server.finishRecovery();
  const handle = await serveCore(server, { ...serveOptions, durableLog: new OneSyncPerTxnLog(store) });
  return {
    handle,
    close: async () => {
      await handle.close();
      await store.close();
    },
  };
}

async function serverPhase(options: WriteThroughputOptions, mode: "group" | "perTxn"): Promise<PhaseResult> {
  const dataDir = await mkdtemp(join(options.scratchDir, `server-${mode}-`));
  const fs = new CountingFileSystem(new NodeFileSystem());
  const network = new MemoryNetwork();
  const logger = new BenchLogger();
  const clients: Client[] = [];
  let server: ServerUnderTest | null = null;
  try {
    server = await startDurable(mode, { fs, dataDir, network, logger });
    const clientTransport = network.transport("client");
    for (let i = 0; i < options.clients; i++) {
      clients.push(await createClient(`${SERVER_HOST}:${SERVER_PORT}`, { transport: clientTransport }));
    }
    await clients[0]!.create("/bench", "");
    for (let i = 0; i < clients.length; i++) await clients[i]!.create(nodeOf(i), KIBIBYTE);
    const latenciesMs = new Float64Array(LATENCY_SAMPLES_MAX);
    const { handle } = server;
    await clientLoops(clients, options.outstandingPerClient, options.warmupMs, latenciesMs);
    const zxidBefore = handle.server.status().lastZxid;
    const syncsBefore = fs.counts.fileSyncs;
    const snapshotsBefore = logger.snapshots;
    const start = performance.now();
    const loops = await clientLoops(clients, options.outstandingPerClient, options.durationMs, latenciesMs);
    return {
      ...loops,
      txns: handle.server.status().lastZxid - zxidBefore,
      fileSyncs: fs.counts.fileSyncs - syncsBefore,
      elapsedMs: performance.now() - start,
      snapshots: logger.snapshots - snapshotsBefore,
    };
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function nodeOf(clientIndex: number): string {
  return `/bench/c${clientIndex}`;
}

/** Every client keeps `loopsPerClient` setData requests in flight until `durationMs` has passed. */
async function clientLoops(
  clients: Client[],
  loopsPerClient: number,
  durationMs: number,
  latenciesMs: Float64Array,
): Promise<{ latenciesMs: Float64Array; errors: number; firstError: unknown }> {
  let samples = 0;
  let errors = 0;
  let firstError: unknown = undefined;
  const deadline = performance.now() + durationMs;
  async function loop(client: Client, path: string): Promise<void> {
    for (let i = 0; i < OPERATIONS_PER_LOOP_MAX && performance.now() < deadline; i++) {
      const sent = performance.now();
      try {
        await client.setData(path, KIBIBYTE);
      } catch (error) {
        errors++;
        firstError ??= error;
        return; // a failing loop stops rather than spinning on errors
      }
      if (samples < latenciesMs.length) latenciesMs[samples++] = performance.now() - sent;
    }
  }
  const loops: Promise<void>[] = [];
  clients.forEach((client, index) => {
    for (let j = 0; j < loopsPerClient; j++) loops.push(loop(client, nodeOf(index)));
  });
  await Promise.all(loops);
  return { latenciesMs: latenciesMs.subarray(0, samples), errors, firstError };
}

/** TxnStore alone: `perSync` setData txns per append, then a sync, in a loop. */
async function storePhase(options: WriteThroughputOptions, perSync: number): Promise<PhaseResult> {
  const dataDir = await mkdtemp(join(options.scratchDir, `store-${perSync}-`));
  const fs = new CountingFileSystem(new NodeFileSystem());
  const store = await TxnStore.open({ fs, dataDir });
  try {
    await store.recover({ snapshot() {}, node() {}, txn() {} });
    let zxid = 0;
    const batch = (): TxnEntry[] => {
      const entries: TxnEntry[] = [];
      for (let i = 0; i < perSync; i++) {
        zxid++;
        entries.push({
          header: { sessionId: 1n, cxid: zxid, zxid, time: Date.now() },
          txn: { type: "setData", path: "/bench/c0", data: KIBIBYTE, version: zxid },
        });
      }
      return entries;
    };
    const latenciesMs = new Float64Array(LATENCY_SAMPLES_MAX);
    const run = async (durationMs: number) => {
      let samples = 0;
      const deadline = performance.now() + durationMs;
      for (let i = 0; i < OPERATIONS_PER_LOOP_MAX && performance.now() < deadline; i++) {
        const entries = batch();
        const started = performance.now();
        await store.append(entries);
        await store.sync();
        if (samples < latenciesMs.length) latenciesMs[samples++] = performance.now() - started;
      }
      return samples;
    };
    await run(options.warmupMs);
    const zxidBefore = zxid;
    const syncsBefore = fs.counts.fileSyncs;
    const start = performance.now();
    const samples = await run(options.durationMs);
    return {
      txns: zxid - zxidBefore,
      fileSyncs: fs.counts.fileSyncs - syncsBefore,
      elapsedMs: performance.now() - start,
      latenciesMs: latenciesMs.subarray(0, samples),
      errors: 0,
      firstError: undefined,
      snapshots: 0,
    };
  } finally {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function rowOf(setup: string, result: PhaseResult): string[] {
  const sorted = result.latenciesMs.slice().sort();
  const seconds = result.elapsedMs / 1000;
  const errors = result.errors === 0 ? "0" : `${result.errors} (first: ${describe(result.firstError)})`;
  const snapshots = result.snapshots === 0 ? "" : ` (${result.snapshots} snapshot(s) during the run)`;
  return [
    setup + snapshots,
    formatCount(result.txns / seconds),
    formatCount(result.fileSyncs / seconds),
    formatFigure(result.fileSyncs === 0 ? Number.NaN : result.txns / result.fileSyncs),
    formatFigure(percentile(sorted, 0.5)),
    formatFigure(percentile(sorted, 0.99)),
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
