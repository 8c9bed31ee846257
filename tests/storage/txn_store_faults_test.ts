/**
 * Write errors (ENOSPC, EIO) on append, sync, segment creation and snapshots: the failed call
 * rejects with the error's code, the store stays usable, retries continue from the last durable
 * point, and recovery is exact: nothing acknowledged lost, no garbage left in the log.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import type { FaultOp } from "../../src/storage/memory_file_system.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { appendSynced, openRecovered, range, recoverOnce, snapshotOf } from "./support/store_helpers.ts";

const ENTRIES = randomEntries(createPrng(21), 1, 400);

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error) => errorCodeOf(error) === code;
}

/** Retries `operation` until it succeeds (bounded), as a driver would once space returns. */
async function retry(operation: () => Promise<unknown>, attempts: number): Promise<number> {
  for (let failures = 0; failures < attempts; failures++) {
    try {
      await operation();
      return failures;
    } catch (error) {
      assert.ok(["ENOSPC", "EIO"].includes(errorCodeOf(error) ?? ""), `unexpected error ${String(error)}`);
    }
  }
  throw new Error(`still failing after ${attempts} attempts`);
}

describe("TxnStore under write errors", () => {
  test("ENOSPC on append: the batch fails, and once space returns writing continues exactly", async () => {
    const fs = new MemoryFileSystem({ seed: 4 });
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 20));
    await store.append(ENTRIES.slice(20, 25));
    // Only appends fail: the store's own cut-back (truncate + fsync) after each failure works.
    let failures = 3;
    fs.failWhen((context) => context.op === "append" && failures-- > 0 && "ENOSPC");
    for (let attempt = 0; attempt < 3; attempt++) {
      await assert.rejects(store.append(ENTRIES.slice(25, 30)), rejectsWith("ENOSPC"));
    }
    fs.failWhen(null);
    await store.append(ENTRIES.slice(25, 30));
    await store.sync();
    await appendSynced(store, ENTRIES.slice(30, 40));
    fs.crash();
    const { state, lines } = await recoverOnce(fs);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 40));
    assert.deepStrictEqual(lines, []);
  });

  test("EIO on fsync: nothing is acknowledged, the retry rewrites the unsynced tail and syncs", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 10));
    await store.append(ENTRIES.slice(10, 20));
    fs.failWhen((context) => context.op === "sync" && "EIO");
    await assert.rejects(store.sync(), rejectsWith("EIO"));
    await assert.rejects(store.sync(), rejectsWith("EIO"));
    fs.failWhen(null);
    await store.sync();
    fs.crash();
    assert.deepStrictEqual((await recoverOnce(fs)).state.txns, ENTRIES.slice(0, 20));
  });

  test("EIO on fsync with several batches pending: their buffers are not reused before they are durable", async () => {
    // The log frames each batch in a reused buffer; a batch still pending (unsynced) may have to be
    // written again, so its buffer must not be handed to a later batch before a sync succeeds.
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 10), 5);
    await store.append(ENTRIES.slice(10, 15));
    await store.append(ENTRIES.slice(15, 20));
    fs.failWhen((context) => context.op === "sync" && "EIO");
    await assert.rejects(store.sync(), rejectsWith("EIO"));
    fs.failWhen(null);
    await store.append(ENTRIES.slice(20, 25));
    await store.append(ENTRIES.slice(25, 30));
    await store.sync();
    await appendSynced(store, ENTRIES.slice(30, 60), 3);
    fs.crash();
    assert.deepStrictEqual((await recoverOnce(fs)).state.txns, ENTRIES.slice(0, 60));
  });

  test("failures while creating a segment or writing a snapshot leave the store usable", async () => {
    for (const op of ["openAppend", "writeFileAtomic"] satisfies FaultOp[]) {
      const fs = new MemoryFileSystem();
      const { store } = await openRecovered(fs, { segmentBytesMax: 500 });
      await appendSynced(store, ENTRIES.slice(0, 30));
      fs.failWhen((context) => context.op === op && "ENOSPC");
      if (op === "writeFileAtomic") {
        await assert.rejects(store.writeSnapshot(snapshotOf(30, range(1, 30))), rejectsWith("ENOSPC"));
      } else {
        await assert.rejects(store.append(ENTRIES.slice(30, 40)), rejectsWith("ENOSPC"));
      }
      fs.failWhen(null);
      await appendSynced(store, ENTRIES.slice(30, 60));
      await store.writeSnapshot(snapshotOf(60, range(1, 60)));
      await appendSynced(store, ENTRIES.slice(60, 70));
      fs.crash();
      const { state, result } = await recoverOnce(fs);
      assert.equal(result.snapshotZxid, 60);
      assert.deepStrictEqual(state.txns, ENTRIES.slice(60, 70), op);
    }
  });

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    test(`random ENOSPC/EIO on every kind of write, retried, then a crash (seed ${seed})`, async () => {
      const fs = new MemoryFileSystem({ seed, tearLastWrite: true });
      const prng = createPrng(seed * 31);
      const { store } = await openRecovered(fs, { segmentBytesMax: 900 });
      fs.failWhen((context) =>
        prng.int(100) < 15 && context.op !== "remove" ? (prng.int(2) ? "ENOSPC" : "EIO") : undefined
      );
      let acknowledged = 0;
      let next = 0;
      while (next < ENTRIES.length) {
        const batch = ENTRIES.slice(next, next + 1 + prng.int(8));
        await retry(() => store.append(batch), 200);
        next += batch.length;
        if (prng.int(3) > 0) {
          await retry(() => store.sync(), 200);
          acknowledged = next;
        }
        if (prng.int(25) === 0) {
          await retry(() => store.writeSnapshot(snapshotOf(acknowledged, range(1, acknowledged))), 200);
        }
      }
      fs.failWhen(null);
      fs.crash();
      const { state, result, lines } = await recoverOnce(fs);
      const recovered = result.snapshotZxid + state.txns.length;
      assert.ok(recovered >= acknowledged && recovered <= ENTRIES.length);
      assert.deepStrictEqual(state.txns, ENTRIES.slice(result.snapshotZxid, recovered));
      assert.ok(lines.every((line) => !line.includes("truncateCorruptLog")), lines.join("\n"));
    });
  }
});
