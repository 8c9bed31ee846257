/**
 * A large tree on disk: build it through the core with its txns logged (the core driven directly,
 * as tests/core/support/core_harness.ts does, with persist outputs appended to a TxnStore), write a
 * snapshot of it, and restart a fresh Server from the snapshot and from the log alone. Also the
 * memory the tree takes, built by creates and rebuilt by recovery.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { memoryUsage } from "node:process";
import { CreateFlags, OpCode, type Request } from "../src/core/records.ts";
import { Server } from "../src/core/server.ts";
import { defaultServerConfig, type ServerConfig } from "../src/core/server_io.ts";
import type { TxnEntry } from "../src/core/txn.ts";
import type { FileSystem } from "../src/storage/file_system.ts";
import { NodeFileSystem } from "../src/storage/node_file_system.ts";
import { TxnStore } from "../src/storage/txn_store.ts";
import { findGc } from "./runtime_info.ts";

/** Leaves per parent: /t/p<k>/n<i>, a thousand to a parent. */
export const TREE_FANOUT = 1000;
/** Creates in flight per round (the core closes a connection past 2 × outstandingRequestsMax). */
const CREATES_PER_ROUND = 500;
const SETTLE_ROUNDS_MAX = 16;
const START_MS = 1_700_000_000_000;
const CONNECTION = 1;
const GC_ROUNDS = 3;

export interface MemoryDelta {
  heapBytes: number;
  externalBytes: number;
  rssBytes: number;
}

export interface TreeBenchResult {
  /** Leaves of `dataBytes` each (the parents, TREE_FANOUT to one, are not counted). */
  znodes: number;
  dataBytes: number;
  buildMs: number;
  logBytes: number;
  snapshotBytes: number;
  snapshotMs: number;
  restartFromSnapshotMs: number;
  restartFromLogMs: number;
  built: MemoryDelta;
  recovered: MemoryDelta;
  /** Whether a full GC ran before each memory reading (else the figures include garbage). */
  gc: boolean;
}

export async function measureTree(
  options: { scratchDir: string; znodes: number; dataBytes: number },
): Promise<TreeBenchResult> {
  const fs = new NodeFileSystem();
  const logDir = await mkdtemp(join(options.scratchDir, "tree-log-"));
  const snapshotDir = await mkdtemp(join(options.scratchDir, "tree-snapshot-"));
  const gc = findGc();
  // Between collections the stack unwinds to the event loop: Bun's collector scans the stack
  // conservatively, and a stale pointer left there would keep a dropped tree alive.
  const collect = async () => {
    for (let round = 0; round < GC_ROUNDS; round++) {
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  try {
    // One function per tree, so that each tree is garbage once its function returns and at most one
    // large tree is alive at a time (a million znodes take about a GiB of heap).
    const first = await buildAndSnapshot(fs, { ...options, logDir, snapshotDir, collect });
    await collect();
    const recovered = await restartMeasured(fs, snapshotDir, first.nodeCount, collect);
    await collect();
    const fromLog = await restart(fs, logDir, first.nodeCount);
    return {
      znodes: options.znodes,
      dataBytes: options.dataBytes,
      buildMs: first.buildMs,
      logBytes: await directoryBytes(logDir, "log."),
      snapshotBytes: first.snapshotBytes,
      snapshotMs: first.snapshotMs,
      restartFromSnapshotMs: recovered.ms,
      restartFromLogMs: fromLog.ms,
      built: first.memory,
      recovered: recovered.memory,
      gc: gc !== null,
    };
  } finally {
    await rm(logDir, { recursive: true, force: true });
    await rm(snapshotDir, { recursive: true, force: true });
  }
}

async function buildAndSnapshot(
  fs: FileSystem,
  options: {
    znodes: number;
    dataBytes: number;
    logDir: string;
    snapshotDir: string;
    collect: () => Promise<void>;
  },
): Promise<
  { buildMs: number; memory: MemoryDelta; nodeCount: number; snapshotBytes: number; snapshotMs: number }
> {
  await options.collect();
  const before = memoryUsage();
  const buildStart = performance.now();
  const server = await buildTree(fs, options.logDir, options.znodes, options.dataBytes);
  const buildMs = performance.now() - buildStart;
  await options.collect();
  const memory = delta(before, memoryUsage());
  const nodeCount = server.status().nodeCount;
  const store = await openEmptyStore(fs, options.snapshotDir);
  try {
    const snapshotStart = performance.now();
    const snapshot = await store.writeSnapshot(server.snapshotSource());
    const snapshotMs = performance.now() - snapshotStart;
    return { buildMs, memory, nodeCount, snapshotBytes: snapshot.bytes, snapshotMs };
  } finally {
    await store.close();
  }
}

/** A restart whose recovered tree is also weighed. */
async function restartMeasured(
  fs: FileSystem,
  dataDir: string,
  expectedNodes: number,
  collect: () => Promise<void>,
): Promise<{ ms: number; memory: MemoryDelta }> {
  const before = memoryUsage();
  const restarted = await restart(fs, dataDir, expectedNodes);
  await collect();
  const memory = delta(before, memoryUsage());
  // Reading the tree after the measurement keeps it reachable until then.
  if (restarted.server.status().nodeCount !== expectedNodes) {
    throw new Error("storage bench: the tree changed");
  }
  return { ms: restarted.ms, memory };
}

type MemoryReading = ReturnType<typeof memoryUsage>;

function delta(before: MemoryReading, after: MemoryReading): MemoryDelta {
  return {
    heapBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    rssBytes: after.rss - before.rss,
  };
}

async function openEmptyStore(fs: FileSystem, dataDir: string): Promise<TxnStore> {
  const store = await TxnStore.open({ fs, dataDir });
  const found = await store.recover({ snapshot() {}, node() {}, txn() {} });
  if (found.lastZxid !== 0) throw new Error(`storage bench: ${dataDir} was expected to be empty`);
  return store;
}

function benchConfig(): ServerConfig {
  // No snapshots while building: the snapshot is taken (and timed) on its own afterwards.
  return defaultServerConfig({ sessionIdSeedMs: START_MS, snapshotTxnCount: 0, snapshotBytesMax: 0 });
}

interface Restarted {
  ms: number;
  server: Server;
}

/** What serveDurable does before it serves: open, rebuild the core, finish recovery. */
async function restart(fs: FileSystem, dataDir: string, expectedNodes: number): Promise<Restarted> {
  const start = performance.now();
  const store = await TxnStore.open({ fs, dataDir });
  const server = new Server(benchConfig(), START_MS);
  try {
    await store.recover({
      snapshot: (header) => server.restoreSnapshot(header),
      node: (node) => server.restoreNode(node),
      txn: (entry) => server.replay(entry),
    });
    server.finishRecovery();
  } finally {
    await store.close();
  }
  const ms = performance.now() - start;
  server.takeOutputs();
  const nodes = server.status().nodeCount;
  if (nodes !== expectedNodes) {
    throw new Error(
      `storage bench: recovery from ${dataDir} gave ${nodes} znodes, expected ${expectedNodes}`,
    );
  }
  return { ms, server };
}

async function directoryBytes(dir: string, prefix: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix)) total += (await stat(join(dir, name))).size;
  }
  return total;
}

function createRequest(path: string, data: Uint8Array): Request {
  return {
    kind: "create",
    path,
    data,
    acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
    flags: CreateFlags.PERSISTENT,
    ttl: 0n,
  };
}

/**
 * `znodes` leaves of `dataBytes` under /t/p<k>, created on one connection in rounds of
 * CREATES_PER_ROUND; each round's txns are logged with one append + fsync before the core applies
 * them (group commit, as the persister does).
 */
async function buildTree(fs: FileSystem, logDir: string, znodes: number, dataBytes: number): Promise<Server> {
  const store = await openEmptyStore(fs, logDir);
  const server = new Server(benchConfig(), START_MS);
  try {
    server.open(CONNECTION, { remoteAddress: "127.0.0.1", remotePort: 40001 });
    server.connect(CONNECTION, {
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut: 30_000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly: false,
    });
    await settle(server, store, 0);
    let xid = 1;
    server.request(CONNECTION, { xid: xid++, type: OpCode.create }, createRequest("/t", new Uint8Array(0)));
    await settle(server, store, 1);
    let inRound = 0;
    for (let i = 0; i < znodes; i++) {
      const parent = `/t/p${Math.floor(i / TREE_FANOUT)}`;
      if (i % TREE_FANOUT === 0) {
        server.request(
          CONNECTION,
          { xid: xid++, type: OpCode.create },
          createRequest(parent, new Uint8Array(0)),
        );
        inRound++;
      }
      const data = new Uint8Array(dataBytes).fill(i & 0xff);
      server.request(CONNECTION, { xid: xid++, type: OpCode.create }, createRequest(`${parent}/n${i}`, data));
      inRound++;
      if (inRound >= CREATES_PER_ROUND || i === znodes - 1) {
        await settle(server, store, inRound);
        inRound = 0;
      }
    }
  } finally {
    await store.close();
  }
  return server;
}

/**
 * Logs what the core asks to persist (one append + sync per round), acknowledges it, and checks
 * that exactly `replies` successful replies came back (a connect response counts for none).
 */
async function settle(server: Server, store: TxnStore, replies: number): Promise<void> {
  let received = 0;
  for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
    const outputs = server.takeOutputs();
    if (outputs.length === 0) {
      if (received !== replies) throw new Error(`storage bench: ${received} replies, expected ${replies}`);
      return;
    }
    const entries: TxnEntry[] = [];
    let persistedUpTo = 0;
    for (const output of outputs) {
      if (output.kind === "persist") {
        // A standalone core only ever asks to append.
        if (output.request.kind !== "append") {
          throw new Error(`storage bench: unexpected persist request ${output.request.kind}`);
        }
        for (const entry of output.request.entries) entries.push(entry);
        persistedUpTo = output.writeSeq;
      } else if (output.kind === "reply") {
        if (output.reply.header.err !== 0) {
          throw new Error(`storage bench: a create failed with error ${output.reply.header.err}`);
        }
        received++;
      } else if (output.kind === "close") {
        throw new Error(`storage bench: the core closed the connection: ${output.reason}`);
      }
    }
    if (persistedUpTo > 0) {
      await store.append(entries);
      await store.sync();
      server.persisted(persistedUpTo);
    }
  }
  throw new Error(`storage bench: the core still had outputs after ${SETTLE_ROUNDS_MAX} rounds`);
}
