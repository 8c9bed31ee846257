import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { StorageError } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import {
  appendSynced,
  DATA_DIR,
  openRecovered,
  range,
  recoverOnce,
  snapshotOf,
} from "./support/store_helpers.ts";

const ENTRIES = randomEntries(createPrng(5), 1, 200);

/** A store holding ENTRIES in several segments; returns the fs and the segment paths. */
async function filledStore(): Promise<{ fs: MemoryFileSystem; segments: string[] }> {
  const fs = new MemoryFileSystem();
  const { store } = await openRecovered(fs, { segmentBytesMax: 3000 });
  await appendSynced(store, ENTRIES, 10);
  await store.close();
  const segments = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log.")).map((name) =>
    `${DATA_DIR}/${name}`
  );
  assert.ok(segments.length >= 4);
  return { fs, segments };
}

/** Byte offsets of the records of a segment. */
async function recordOffsets(fs: MemoryFileSystem, path: string): Promise<number[]> {
  const bytes = await fs.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let offset = 12; offset < bytes.length; offset += 8 + view.getUint32(offset)) offsets.push(offset);
  return offsets;
}

async function cutFile(fs: MemoryFileSystem, path: string, size: number): Promise<void> {
  const file = await fs.openAppend(path);
  await file.truncate(size);
  await file.sync();
  await file.close();
}

function firstZxidOf(path: string): number {
  return parseInt(path.slice(path.lastIndexOf(".") + 1), 16);
}

describe("TxnStore recovery from damaged logs", () => {
  test("a torn record at the tail is truncated with one warning, and writing goes on", async () => {
    const { fs, segments } = await filledStore();
    const last = segments.at(-1)!;
    const offsets = await recordOffsets(fs, last);
    const size = (await fs.readFile(last)).length;
    await cutFile(fs, last, size - 5);
    const { store, state, lines } = await openRecovered(fs);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, -1));
    const cut = offsets.at(-1)!;
    assert.deepStrictEqual(lines, [
      `warn: ${last}: torn write at the end of the log (an incomplete record: its length is ${
        size - cut - 8
      } bytes but only ${size - cut - 13} follow its header), as a crash or a failed write leaves ` +
      `it; its txn was never synced, so never acknowledged. Truncated at offset ${cut}, dropping ${
        size - cut - 5
      } bytes`,
    ]);
    assert.equal((await fs.readFile(last)).length, cut);
    await appendSynced(store, ENTRIES.slice(-1));
    await store.close();
    assert.deepStrictEqual((await recoverOnce(fs)).state.txns, ENTRIES);
  });

  test("zeros or a half-written record header at the tail count as torn too", async () => {
    for (const tail of [new Uint8Array(4096), new Uint8Array([0, 0, 1])]) {
      const { fs, segments } = await filledStore();
      const file = await fs.openAppend(segments.at(-1)!);
      await file.append(tail);
      await file.sync();
      await file.close();
      const { state, lines } = await recoverOnce(fs);
      assert.deepStrictEqual(state.txns, ENTRIES);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, new RegExp(`dropping ${tail.length} bytes`));
    }
  });

  test("a flipped byte in the middle stops recovery with the file and offset", async () => {
    const { fs, segments } = await filledStore();
    const middle = segments[1]!;
    const offsets = await recordOffsets(fs, middle);
    fs.flipByte(middle, offsets[2]! + 20);
    const error = await openRecovered(fs).then(() => null, (error: unknown) => error);
    assert.ok(error instanceof StorageError);
    assert.equal(error.file, middle);
    assert.equal(error.offset, offsets[2]);
    assert.match(error.message, /CRC mismatch/);
    assert.match(error.message, new RegExp(`${middle} at offset ${offsets[2]}`));
    assert.match(error.message, /start once with --truncate-corrupt-log \(the truncateCorruptLog option/);
  });

  test("a flipped byte mid-file of the last segment is not mistaken for a torn tail", async () => {
    const { fs, segments } = await filledStore();
    const last = segments.at(-1)!;
    const offsets = await recordOffsets(fs, last);
    fs.flipByte(last, offsets[0]! + 3); // the length field of the first record
    await assert.rejects(
      openRecovered(fs),
      (error: unknown) => error instanceof StorageError && error.offset === offsets[0],
    );
  });

  test("truncateCorruptLog cuts the log at the corrupt record and deletes later segments", async () => {
    const { fs, segments } = await filledStore();
    const middle = segments[1]!;
    const offsets = await recordOffsets(fs, middle);
    fs.flipByte(middle, offsets[2]! + 9);
    const { store, state, lines, result } = await openRecovered(fs, { truncateCorruptLog: true });
    const kept = firstZxidOf(middle) + 2 - 1;
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, kept));
    assert.equal(result.lastZxid, kept);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      new RegExp(
        `^warn: --truncate-corrupt-log: CRC mismatch \\(.*\\) in ${middle} at offset ${offsets[2]}; cut the ` +
          `log there as asked`,
      ),
    );
    assert.match(
      lines[0]!,
      new RegExp(segments.slice(2).map((path) => path.slice(DATA_DIR.length + 1)).join(", ")),
    );
    assert.deepStrictEqual((await fs.list(DATA_DIR)).filter((name) => name.startsWith("log.")).length, 2);
    await appendSynced(store, ENTRIES.slice(kept));
    await store.close();
    assert.deepStrictEqual((await recoverOnce(fs)).state.txns, ENTRIES);
  });

  test("a torn tail in a segment that is not the last is corruption", async () => {
    const { fs, segments } = await filledStore();
    await cutFile(fs, segments[0]!, (await fs.readFile(segments[0]!)).length - 1);
    await assert.rejects(
      openRecovered(fs),
      (error: unknown) => error instanceof StorageError && error.file === segments[0],
    );
  });

  test("a missing segment stops recovery (or is cut with truncateCorruptLog)", async () => {
    const { fs, segments } = await filledStore();
    await fs.remove(segments[1]!);
    const error = await openRecovered(fs).then(() => null, (error: unknown) => error);
    assert.ok(error instanceof StorageError);
    assert.equal(error.file, segments[2]);
    assert.equal(error.offset, 12);
    assert.match(error.message, /a log segment is missing/);
    const { state, lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, firstZxidOf(segments[1]!) - 1));
    assert.equal(lines.length, 1);
  });

  test("a missing first segment is caught against the snapshot's zxid", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs, { segmentBytesMax: 3000 });
    await appendSynced(store, ENTRIES.slice(0, 20));
    await store.writeSnapshot(snapshotOf(20, range(1, 20)));
    await appendSynced(store, ENTRIES.slice(20), 10);
    await store.close();
    const segments = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
    await fs.remove(`${DATA_DIR}/${segments[1]}`);
    await assert.rejects(openRecovered(fs), /gap: zxid 0x[0-9a-f]+ follows 0x14 \(a log segment is missing/);
  });

  test("a data directory of a newer format version is refused", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp(DATA_DIR);
    await fs.writeFileAtomic(`${DATA_DIR}/corral_storage_format`, [
      new TextEncoder().encode("corral storage format 2\n"),
    ]);
    await assert.rejects(
      openRecovered(fs),
      (error: unknown) =>
        error instanceof StorageError && error.file === `${DATA_DIR}/corral_storage_format` &&
        /newer Corral \(storage format version 2/.test(error.message),
    );
  });

  test("a log segment or snapshot of a newer format version is refused", async () => {
    for (const prefix of ["log.", "snapshot."]) {
      const { fs } = await filledStore();
      const { store } = await openRecovered(fs);
      await store.writeSnapshot(snapshotOf(200, range(1, 200)));
      await store.close();
      const name = (await fs.list(DATA_DIR)).filter((entry) => entry.startsWith(prefix)).at(-1)!;
      fs.flipByte(`${DATA_DIR}/${name}`, 11); // version 1 -> 0xfe
      await assert.rejects(
        openRecovered(fs),
        (error: unknown) =>
          error instanceof StorageError && error.file === `${DATA_DIR}/${name}` &&
          /version 254/.test(error.message),
      );
    }
  });

  test("an invalid snapshot falls back to the previous one; none valid stops recovery", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    await appendSynced(store, ENTRIES.slice(0, 50));
    await store.writeSnapshot(snapshotOf(30, range(1, 30)));
    await store.writeSnapshot(snapshotOf(50, range(1, 50)), { nodesPerRecord: 10 });
    await store.close();
    const newest = `${DATA_DIR}/snapshot.0000000000000032`;
    const bytes = await fs.readFile(newest);
    await cutFile(fs, newest, bytes.length - 3); // the end record is torn
    const { state, lines, result } = await recoverOnce(fs);
    assert.equal(result.snapshotZxid, 30);
    assert.equal(state.nodes.length, 30);
    assert.deepStrictEqual(state.txns, ENTRIES.slice(30, 50));
    assert.match(lines[0]!, /snapshot\.0000000000000032: invalid snapshot \(record length/);
    fs.flipByte(`${DATA_DIR}/snapshot.000000000000001e`, 40);
    await assert.rejects(openRecovered(fs), /none of the 2 snapshots/);
  });
});
