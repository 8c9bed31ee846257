/**
 * Appends that fail part-way through (issue 10 item 2): the disk fills in the middle of a write, n
 * bytes of it land, and the runtime may not say how many (Deno's write throws "no space" without a
 * count; MemoryFileSystem's unreportedPartialWrites models it). The store must cut the segment back
 * to its last durable offset (truncate + fsync) before it writes anything again, keep refusing
 * writes while that cut fails, and leave a log that restarts without a warning holding every
 * acknowledged (synced) txn and none of the failed ones.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import type { FaultContext, PartialWriteFault } from "../../src/storage/memory_file_system.ts";
import type { TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { appendSynced, DATA_DIR, openRecovered, recoverOnce } from "./support/store_helpers.ts";

const ENTRIES = randomEntries(createPrng(33), 1, 120);

function rejectsWith(code: string): (error: unknown) => boolean {
  return (error) => errorCodeOf(error) === code;
}

/** Fails the next `count` appends after `bytesWritten` of their bytes. */
function failAppendsPartWay(fs: MemoryFileSystem, count: number, bytesWritten: number): void {
  let left = count;
  fs.failWhen((context: FaultContext): PartialWriteFault | undefined => {
    if (context.op !== "append" || left === 0) return undefined;
    left--;
    return { code: "ENOSPC", bytesWritten };
  });
}

async function onlySegment(fs: MemoryFileSystem): Promise<string> {
  const segments = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
  assert.equal(segments.length, 1, `segments: ${segments.join(", ")}`);
  return `${DATA_DIR}/${segments[0]}`;
}

/** What the persister does after a failed round: the txns are given up, writing resumes later. */
async function giveUp(store: TxnStore): Promise<void> {
  await store.discardUnsynced();
}

describe("TxnStore after an append that fails part-way through", () => {
  for (const unreportedPartialWrites of [true, false]) {
    const how = unreportedPartialWrites ? "the runtime does not say how much it wrote (Deno)" : "the size is exact (Node, Bun)";
    test(`writes acknowledged after space returns survive a restart; ${how}`, async () => {
      // Cuts inside a record header, inside a body, and at a record boundary of the failed batch.
      for (const bytesWritten of [1, 7, 8, 9, 60, 200]) {
        const fs = new MemoryFileSystem({ unreportedPartialWrites });
        const { store } = await openRecovered(fs);
        await appendSynced(store, ENTRIES.slice(0, 20));
        failAppendsPartWay(fs, 3, bytesWritten);
        for (let attempt = 0; attempt < 3; attempt++) {
          await assert.rejects(store.append(ENTRIES.slice(20, 25)), rejectsWith("ENOSPC"));
          await giveUp(store);
        }
        fs.failWhen(null);
        await appendSynced(store, ENTRIES.slice(20, 60), 5);
        await store.close();
        const { state, lines } = await recoverOnce(fs);
        assert.deepStrictEqual(lines, [], `bytesWritten ${bytesWritten}: recovery had to repair the log`);
        assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 60), `bytesWritten ${bytesWritten}`);
      }
    });
  }

  test("the failed append is cut out at once, durably: a power loss right after leaves a clean log", async () => {
    const fs = new MemoryFileSystem({ unreportedPartialWrites: true });
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 20));
    const path = await onlySegment(fs);
    const durable = fs.syncedSize(path);
    failAppendsPartWay(fs, 1, 50);
    await assert.rejects(store.append(ENTRIES.slice(20, 25)), rejectsWith("ENOSPC"));
    assert.equal((await fs.readFile(path)).length, durable, "the partial record is still in the file");
    assert.equal(fs.syncedSize(path), durable);
    fs.crash();
    const { state, lines } = await recoverOnce(fs);
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 20));
  });

  test("whole records of a failed batch do not come back after a kill (they were reported failed)", async () => {
    const fs = new MemoryFileSystem({ unreportedPartialWrites: true });
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 20));
    // Most of a 10-record batch lands before the disk fills: several complete records, then a cut.
    const batch = ENTRIES.slice(20, 30);
    failAppendsPartWay(fs, 1, 600);
    await assert.rejects(store.append(batch), rejectsWith("ENOSPC"));
    fs.killProcess();
    const { state } = await recoverOnce(fs);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 20));
  });

  test("an fsync that fails (EIO) takes its unsynced txns out of the file before the next write", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 20));
    await store.append(ENTRIES.slice(20, 30));
    let syncs = 0;
    // The batch's fsync fails; the cut's own fsync works.
    fs.failWhen((context) => context.op === "sync" && ++syncs === 1 && "EIO");
    await assert.rejects(store.sync(), rejectsWith("EIO"));
    fs.failWhen(null);
    fs.killProcess(); // before the driver retried: the failed txns must not be in the log
    const { state, lines } = await recoverOnce(fs);
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 20));
  });

  test("while the cut-back itself fails, every write is refused and nothing lands behind the partial record", async () => {
    const fs = new MemoryFileSystem({ unreportedPartialWrites: true });
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 20));
    const path = await onlySegment(fs);
    const durable = fs.syncedSize(path);
    let truncateBroken = true;
    let partialWrites = 1;
    fs.failWhen((context): PartialWriteFault | "EIO" | undefined => {
      if (context.op === "truncate" && truncateBroken) return "EIO";
      if (context.op === "append" && partialWrites > 0) {
        partialWrites--;
        return { code: "ENOSPC", bytesWritten: 45 };
      }
      return undefined;
    });
    await assert.rejects(store.append(ENTRIES.slice(20, 25)), rejectsWith("ENOSPC"));
    const partial = (await fs.readFile(path)).length;
    assert.equal(partial, durable + 45);
    await giveUp(store);
    for (let attempt = 0; attempt < 5; attempt++) {
      await assert.rejects(store.append(ENTRIES.slice(20, 25)), rejectsWith("EIO"));
      await assert.rejects(store.sync(), rejectsWith("EIO"));
      assert.equal((await fs.readFile(path)).length, partial, `attempt ${attempt}: something was written`);
    }
    truncateBroken = false;
    await appendSynced(store, ENTRIES.slice(20, 40), 5);
    await store.close();
    const { state, lines } = await recoverOnce(fs);
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 40));
  });

  test("a part-way failure while writing a new segment's header leaves no torn segment behind", async () => {
    const fs = new MemoryFileSystem({ unreportedPartialWrites: true });
    const { store } = await openRecovered(fs, { segmentBytesMax: 2000 });
    await appendSynced(store, ENTRIES.slice(0, 30), 10);
    const before = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log.")).length;
    // Fail appends until one fails in a fresh segment's first write (the header goes with the batch).
    for (let index = 30; index < 120; index += 10) {
      failAppendsPartWay(fs, 1, 5);
      await assert.rejects(store.append(ENTRIES.slice(index, index + 10)), rejectsWith("ENOSPC"));
      await giveUp(store);
      fs.failWhen(null);
      await store.append(ENTRIES.slice(index, index + 10));
      await store.sync();
    }
    await store.close();
    assert.ok((await fs.list(DATA_DIR)).filter((name) => name.startsWith("log.")).length > before + 2);
    const { state, lines } = await recoverOnce(fs);
    assert.deepStrictEqual(lines, []);
    assert.deepStrictEqual(state.txns, ENTRIES);
  });
});
