/** Helpers for the Zab storage tests: epoch-numbered entries, installed snapshots, file listings. */
import type { SnapshotHeader, SnapshotNode } from "../../../src/core/persistence.ts";
import type { TxnEntry } from "../../../src/core/txn.ts";
import { zxidOf } from "../../../src/core/zxid.ts";
import type { MemoryFileSystem } from "../../../src/storage/memory_file_system.ts";
import { createPrng } from "../../../src/testing/prng.ts";
import { nodeFor, randomEntries } from "./entries.ts";
import { DATA_DIR } from "./store_helpers.ts";

/** `count` txns of `epoch` with counters from `firstCounter` (content seeded by `seed`). */
export function epochEntries(epoch: number, firstCounter: number, count: number, seed = epoch): TxnEntry[] {
  return randomEntries(createPrng(seed * 1009 + firstCounter), zxidOf(epoch, firstCounter), count);
}

/** The zxids of `entries`. */
export function zxidsOf(entries: readonly TxnEntry[]): number[] {
  return entries.map((entry) => entry.header.zxid);
}

/** A leader's snapshot at `zxid`: nodes tagged so they cannot be mistaken for a local snapshot's. */
export function leaderSnapshot(
  zxid: number,
  nodeCount: number,
): { header: SnapshotHeader; nodes: SnapshotNode[] } {
  const nodes = Array.from({ length: nodeCount }, (_, index) => ({
    ...nodeFor(index + 1),
    path: `/leader/${index}`,
    data: new Uint8Array([0xaa, index & 0xff]),
  }));
  return { header: { zxid, sessions: [{ sessionId: 77n, timeoutMs: 4000 }] }, nodes };
}

/** Names in dataDir starting with `prefix`. */
export async function namesWith(fs: MemoryFileSystem, prefix: string, dir = DATA_DIR): Promise<string[]> {
  return (await fs.list(dir)).filter((name) => name.startsWith(prefix));
}

/** The zxid a `<prefix>.<16 hex>` name carries. */
export function zxidOfName(name: string): number {
  return parseInt(name.slice(name.lastIndexOf(".") + 1), 16);
}
