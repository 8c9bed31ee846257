/**
 * Seeded scenarios for the Zab storage crash and fault tests: a store with several segments,
 * snapshots, epochs and sometimes an unsynced tail; one truncateAfter, installSnapshot or
 * writeEpochs to run on it; and the states recovery may show before and after it.
 */
import assert from "node:assert/strict";
import type { SnapshotHeader, SnapshotNode } from "../../../src/core/persistence.ts";
import type { TxnEntry } from "../../../src/core/txn.ts";
import { zxidOf } from "../../../src/core/zxid.ts";
import { MemoryFileSystem } from "../../../src/storage/memory_file_system.ts";
import type { RecoveryResult, TxnStore } from "../../../src/storage/txn_store.ts";
import { createPrng } from "../../../src/testing/prng.ts";
import { randomEntries } from "./entries.ts";
import { DATA_DIR, openRecovered, range, snapshotOf } from "./store_helpers.ts";
import type { StoreOptions } from "./store_helpers.ts";
import { epochEntries, leaderSnapshot, namesWith, zxidOfName } from "./zab_helpers.ts";

/** Even seeds keep the log apart from the snapshots (dataLogDir), so each directory's sync counts. */
export function storeOptions(seed: number): StoreOptions {
  const options: StoreOptions = { segmentBytesMax: 900, snapRetainCount: 3 };
  return seed % 2 === 0 ? { ...options, dataLogDir: LOG_DIR } : options;
}

const LOG_DIR = "/var/corral/log";

export type OperationKind = "truncate" | "install" | "epochs";

/** What recovery hands over, compared whole. */
export interface Recovered {
  header: SnapshotHeader | null;
  nodes: SnapshotNode[];
  txns: TxnEntry[];
  result: RecoveryResult;
}

export interface Base {
  store: TxnStore;
  /** Appended but not synced when the operation starts. */
  unsynced: number;
  /** Every zxid appended, synced or not. */
  zxids: number[];
}

/** The store the operation runs on; the same seed builds the same files. */
export async function buildBase(fs: MemoryFileSystem, seed: number): Promise<Base> {
  const prng = createPrng(seed);
  const { store } = await openRecovered(fs, storeOptions(seed));
  const history = epochEntries(1, 1, 50 + prng.int(60), seed);
  if (prng.int(2) === 1) history.push(...epochEntries(2, 1, 5 + prng.int(20), seed));
  const snapshotsAt = [Math.floor(history.length / 4), Math.floor(history.length / 2)];
  let next = 0;
  while (next < history.length) {
    const batch = history.slice(next, next + 1 + prng.int(8));
    await store.append(batch);
    await store.sync();
    next += batch.length;
    if (snapshotsAt.length > 0 && next >= snapshotsAt[0]!) {
      snapshotsAt.shift();
      const zxid = history[next - 1]!.header.zxid;
      await store.writeSnapshot(snapshotOf(zxid, range(1, next)), { nodesPerRecord: 7 });
    }
  }
  await store.writeEpochs({ acceptedEpoch: 2, currentEpoch: 1 });
  const last = history.at(-1)!.header.zxid;
  const unsynced = seed % 3 === 0 ? 0 : 1 + prng.int(6);
  const tail = randomEntries(prng, last + 1, unsynced);
  await store.append(tail);
  return { store, unsynced, zxids: [...history, ...tail].map((entry) => entry.header.zxid) };
}

/** The operation a seed runs (its arguments depend on the base's files). */
export async function planOperation(
  fs: MemoryFileSystem,
  base: Base,
  options: { seed: number; kind: OperationKind },
): Promise<(store: TxnStore) => Promise<void>> {
  const { seed, kind } = options;
  const prng = createPrng(seed * 13 + kind.length);
  if (kind === "epochs") {
    const updates = [{ acceptedEpoch: 3 }, { currentEpoch: 2 }, { acceptedEpoch: 4, currentEpoch: 3 }];
    const update = updates[prng.int(updates.length)]!;
    return (store) => store.writeEpochs(update);
  }
  const snapshots = (await namesWith(fs, "snapshot.")).map(zxidOfName);
  const segments = (await namesWith(fs, "log.", seed % 2 === 0 ? LOG_DIR : DATA_DIR)).map(zxidOfName);
  if (kind === "install") {
    const choices = [zxidOf(1, 1 + prng.int(40)), zxidOf(1, 30 + prng.int(80)), zxidOf(3, 1 + prng.int(9))];
    const leader = leaderSnapshot(choices[prng.int(choices.length)]!, 1 + prng.int(40));
    return (store) => store.installSnapshot(leader.header, leader.nodes);
  }
  // Truncation points the protocol can ask for: never below the newest snapshot. Mostly a zxid in
  // the log, sometimes just before a segment, at the snapshot, or beyond the end (nothing to do).
  const floor = snapshots.at(-1) ?? 0;
  const logged = base.zxids.filter((zxid) => zxid >= floor);
  const boundaries = segments.filter((zxid) => zxid > floor + 1).map((zxid) => zxid - 1);
  const tail = base.zxids.slice(base.zxids.length - base.unsynced);
  const choices = [floor, base.zxids.at(-1)! + 1 + prng.int(3), ...boundaries, ...tail];
  const zxid = prng.int(2) === 0 ? logged[prng.int(logged.length)]! : choices[prng.int(choices.length)]!;
  return (store) => store.truncateAfter(zxid);
}

export async function capture(fs: MemoryFileSystem, seed: number): Promise<Recovered> {
  const { store, state, result } = await openRecovered(fs, storeOptions(seed));
  await store.close();
  return { header: state.header, nodes: state.nodes, txns: state.txns, result };
}

/** Before (everything synced) and after, each on a fresh file system; counts the operation's file operations. */
export async function references(seed: number, kind: OperationKind) {
  const beforeFs = new MemoryFileSystem();
  const base = await buildBase(beforeFs, seed);
  await base.store.sync();
  await base.store.close();
  const afterFs = new MemoryFileSystem();
  const again = await buildBase(afterFs, seed);
  const operation = await planOperation(afterFs, again, { seed, kind });
  let operations = 0;
  afterFs.failWhen(() => (operations++, undefined));
  await operation(again.store);
  afterFs.failWhen(null);
  await again.store.close();
  return {
    before: await capture(beforeFs, seed),
    after: await capture(afterFs, seed),
    unsynced: base.unsynced,
    operations,
  };
}

/** Exactly `before` (its unsynced tail cut anywhere) or exactly `after`. */
export function beforeOrAfter(
  recovered: Recovered,
  expected: { before: Recovered; after: Recovered; unsynced: number },
  mustBeAfter: boolean,
  at: string,
): "before" | "after" {
  const { before, after } = expected;
  if (isDeepStrictEqual(recovered, after)) return "after";
  assert.ok(!mustBeAfter, `${at}: the operation resolved, yet recovery does not show its result`);
  const kept = recovered.txns.length;
  const synced = before.txns.length - expected.unsynced;
  assert.ok(kept >= synced && kept <= before.txns.length, `${at}: ${kept} txns, neither before nor after`);
  const lastZxid = kept > 0 ? recovered.txns[kept - 1]!.header.zxid : before.result.snapshotZxid;
  assert.deepStrictEqual(
    recovered,
    { ...before, txns: before.txns.slice(0, kept), result: { ...before.result, lastZxid } },
    `${at}: neither the state before the operation nor the one after it`,
  );
  return "before";
}

export function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

export type Expected = Awaited<ReturnType<typeof references>>;
