/** Opening, filling and recovering TxnStores on a MemoryFileSystem. */
import type { SnapshotSource } from "../../../src/core/persistence.ts";
import type { TxnEntry } from "../../../src/core/txn.ts";
import type { MemoryFileSystem } from "../../../src/storage/memory_file_system.ts";
import { TxnStore } from "../../../src/storage/txn_store.ts";
import type { RecoveryResult, TxnStoreOptions } from "../../../src/storage/txn_store.ts";
import { captureLog, nodeFor, RecoveredState } from "./entries.ts";

export const DATA_DIR = "/var/corral/data";

export type StoreOptions = Partial<Omit<TxnStoreOptions, "fs">>;

export async function openRecovered(
  fs: MemoryFileSystem,
  options: StoreOptions = {},
): Promise<
  {
    store: TxnStore;
    state: RecoveredState;
    lines: string[];
    result: RecoveryResult;
  }
> {
  const log = captureLog();
  const store = await TxnStore.open({ fs, dataDir: DATA_DIR, logger: log.logger, ...options });
  const state = new RecoveredState();
  const result = await store.recover(state);
  return { store, state, lines: log.lines, result };
}

/** Recovers and closes; returns what recovery saw. */
export async function recoverOnce(fs: MemoryFileSystem, options: StoreOptions = {}) {
  const opened = await openRecovered(fs, options);
  await opened.store.close();
  return opened;
}

/** Appends `entries` in batches of `batchSize`, syncing after each. */
export async function appendSynced(
  store: TxnStore,
  entries: readonly TxnEntry[],
  batchSize = 10,
): Promise<void> {
  for (let index = 0; index < entries.length; index += batchSize) {
    await store.append(entries.slice(index, index + batchSize));
    await store.sync();
  }
}

/** A snapshot at `zxid` whose nodes are one per zxid in `zxids` (see nodeFor). */
export function snapshotOf(zxid: number, zxids: readonly number[]): SnapshotSource {
  return {
    header: { zxid, sessions: [{ sessionId: -5n, timeoutMs: 3000 }] },
    nodes: zxids.map((z) => nodeFor(z))[Symbol.iterator](),
  };
}

export function range(first: number, last: number): number[] {
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, index) => first + index);
}
