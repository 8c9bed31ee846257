/**
 * Crash points: a seeded write workload (batched appends, group-commit syncs, fuzzy snapshots,
 * segment rolls, purges) is cut by a power loss before its k-th file system operation, for every k;
 * sometimes recovery itself is cut by a second crash. After recovery: the txns (snapshot + log)
 * are a prefix of what was appended, in order, with no gap, and hold everything a sync had
 * acknowledged; and the store accepts new writes that survive the next power loss. A quarter of
 * the crashes are a killed process instead (unsynced bytes survive, until a later power loss).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TxnEntry } from "../../src/core/txn.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import type { TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { openRecovered, range, snapshotOf } from "./support/store_helpers.ts";
import type { StoreOptions } from "./support/store_helpers.ts";

const STORE: StoreOptions = { segmentBytesMax: 1200, snapRetainCount: 3 };
const STEPS = 80;

/** Power loss drops unsynced bytes; a killed process leaves them in the page cache, unsynced. */
type CrashKind = "power" | "process";

interface Outcome {
  appended: TxnEntry[];
  acknowledged: number;
  operations: number;
}

/** Runs the workload until it ends or an operation fails; counts file system operations. */
async function runWorkload(
  fs: MemoryFileSystem,
  seed: number,
  entries: readonly TxnEntry[],
  crash: { at: number; kind: CrashKind },
): Promise<Outcome> {
  const outcome: Outcome = { appended: [], acknowledged: 0, operations: 0 };
  const crashAt = crash.at;
  fs.failWhen(() => {
    if (++outcome.operations !== crashAt) return undefined;
    if (crash.kind === "power") fs.crash();
    else fs.killProcess();
    return "EIO";
  });
  const prng = createPrng(seed);
  let store: TxnStore | null = null;
  try {
    ({ store } = await openRecovered(fs, STORE));
    let next = 0;
    for (let step = 0; step < STEPS; step++) {
      const batch = entries.slice(next, next + 1 + prng.int(6));
      await store.append(batch);
      outcome.appended.push(...batch);
      next += batch.length;
      if (prng.int(10) < 7) {
        await store.sync();
        outcome.acknowledged = outcome.appended.length;
      }
      if (step % 15 === 14) {
        // Fuzzy: the snapshot's zxid is the last acknowledged txn, some newer nodes slip in.
        const zxid = outcome.acknowledged;
        await store.writeSnapshot(snapshotOf(zxid, range(1, zxid + prng.int(3))), { nodesPerRecord: 4 });
      }
    }
    await store.sync();
    outcome.acknowledged = outcome.appended.length;
  } catch (error) {
    if (crashAt === 0) throw error;
  } finally {
    fs.failWhen(null);
  }
  return outcome;
}

/** Recovery, possibly cut by a crash before its `crashAt`-th operation and then run again. */
async function recoverAfterCrash(fs: MemoryFileSystem, crashAt: number) {
  if (crashAt > 0) {
    let operations = 0;
    fs.failWhen(() => (++operations === crashAt ? (fs.crash(), "EIO") : undefined));
    await openRecovered(fs, STORE).then((opened) => opened.store.close(), () => {});
    fs.failWhen(null);
  }
  return openRecovered(fs, STORE);
}

function checkRecovered(
  outcome: Outcome,
  nodes: readonly number[],
  snapshotZxid: number,
  txns: readonly TxnEntry[],
  at: string,
): number {
  // Nodes of a fuzzy snapshot may run ahead of its zxid; replay covers them again.
  const fromSnapshot = nodes.filter((zxid) => zxid <= snapshotZxid);
  assert.deepStrictEqual(fromSnapshot, range(1, snapshotZxid), `${at}: snapshot nodes`);
  const recovered = snapshotZxid + txns.length;
  assert.ok(
    recovered >= outcome.acknowledged,
    `${at}: lost acknowledged txns (${recovered} < ${outcome.acknowledged})`,
  );
  assert.ok(recovered <= outcome.appended.length, `${at}: recovered more than was appended`);
  assert.deepStrictEqual(
    txns,
    outcome.appended.slice(snapshotZxid, recovered),
    `${at}: txns are not the appended prefix`,
  );
  return recovered;
}

async function crashAndCheck(seed: number, crashAt: number, entries: readonly TxnEntry[]): Promise<void> {
  const fs = new MemoryFileSystem({ seed: seed * 7919 + crashAt, tearLastWrite: seed % 2 === 1 });
  const kind: CrashKind = crashAt % 4 === 1 ? "process" : "power";
  const outcome = await runWorkload(fs, seed, entries, { at: crashAt, kind });
  if (kind === "power") fs.crash();
  else fs.killProcess();
  const at = `seed ${seed}, ${kind} crash at operation ${crashAt}`;
  const secondCrash = crashAt % 3 === 0 ? 1 + (crashAt % 11) : 0;
  const { store, state, result } = await recoverAfterCrash(fs, secondCrash);
  const nodes = state.nodes.map((node) => node.czxid);
  const recovered = checkRecovered(outcome, nodes, result.snapshotZxid, state.txns, at);
  assert.equal(result.lastZxid, recovered, `${at}: lastZxid`);
  // The recovered store keeps working: new txns continue the log and survive a power loss, and so
  // does everything recovery handed over (it syncs what a killed process left unsynced).
  const more = entries.slice(recovered, recovered + 3);
  await store.append(more);
  await store.sync();
  fs.crash();
  const again = await openRecovered(fs, STORE);
  await again.store.close();
  const expected = { ...outcome, appended: [...outcome.appended.slice(0, recovered), ...more] };
  expected.acknowledged = expected.appended.length;
  const total = checkRecovered(
    expected,
    again.state.nodes.map((node) => node.czxid),
    again.result.snapshotZxid,
    again.state.txns,
    `${at}, after restart`,
  );
  assert.equal(total, recovered + more.length);
}

describe("TxnStore crash recovery at every file system operation", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    test(`seed ${seed}${seed % 2 === 1 ? " (torn last writes)" : ""}`, async () => {
      const entries = randomEntries(createPrng(seed), 1, STEPS * 6 + 10);
      const total =
        (await runWorkload(new MemoryFileSystem(), seed, entries, { at: 0, kind: "power" })).operations;
      assert.ok(total > 150, `the workload performs ${total} operations`);
      for (let crashAt = 1; crashAt <= total + 1; crashAt++) await crashAndCheck(seed, crashAt, entries);
    });
  }
});
