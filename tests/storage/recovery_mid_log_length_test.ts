/**
 * A record whose length field was damaged into a value that runs past the end of the file looks,
 * by its framing alone, like a torn write (ZooKeeper's rule too: the file ends inside the record).
 * In the middle of the log it is not: valid, synced records follow it, and those txns may have
 * been acknowledged to clients. Recovery must stop with the file and offset (and name
 * --truncate-corrupt-log) rather than cut the log there as if it were an unacknowledged torn tail.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { StorageError } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { appendSynced, DATA_DIR, openRecovered, recoverOnce } from "./support/store_helpers.ts";

const COUNT = 50;
const DAMAGED = 20;
const ENTRIES = randomEntries(createPrng(11), 1, COUNT);

/** One synced segment holding every entry; returns its path and each record's offset. */
async function oneSegment(): Promise<{ fs: MemoryFileSystem; path: string; offsets: number[] }> {
  const fs = new MemoryFileSystem();
  const { store } = await openRecovered(fs);
  await appendSynced(store, ENTRIES, 10);
  await store.close();
  const names = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
  assert.equal(names.length, 1, "one segment");
  const path = `${DATA_DIR}/${names[0]}`;
  const bytes = await fs.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (
    let offset = 12;
    offset < bytes.length && offsets.length <= COUNT;
    offset += 8 + view.getUint32(offset)
  ) {
    offsets.push(offset);
  }
  assert.equal(offsets.length, COUNT);
  return { fs, path, offsets };
}

/** Damages the high byte of record `index`'s length so it claims more bytes than the file holds. */
async function damageLength(fs: MemoryFileSystem, path: string, at: number): Promise<void> {
  fs.flipByte(path, at);
  const bytes = await fs.readFile(path);
  const claimed = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
  assert.ok(claimed > bytes.length - at - 8, "the damaged length runs past the end of the file");
}

describe("a length field damaged mid-log is corruption, not a torn tail", () => {
  test("recovery stops with the file and offset, and cuts nothing", async () => {
    const { fs, path, offsets } = await oneSegment();
    const at = offsets[DAMAGED]!;
    await damageLength(fs, path, at);
    const size = (await fs.readFile(path)).length;

    const error = await openRecovered(fs).then(() => null, (caught: unknown) => caught);
    assert.ok(error instanceof StorageError, `recovery must refuse to start, got ${String(error)}`);
    assert.equal(error.file, path);
    assert.equal(error.offset, at);
    assert.match(error.message, /the transaction log is damaged/);
    assert.match(error.message, new RegExp(`in ${path} at offset ${at}`));
    assert.match(error.message, new RegExp(`${COUNT - DAMAGED - 1} intact txn\\(s\\) after it`));
    assert.match(error.message, /--truncate-corrupt-log/);
    assert.doesNotMatch(error.message, /never acknowledged|torn write at the end/);
    assert.equal(
      (await fs.readFile(path)).length,
      size,
      "the synced txns after the damage are all still there",
    );
  });

  test("only an explicit --truncate-corrupt-log cuts there, and it says which synced txns it dropped", async () => {
    const { fs, path, offsets } = await oneSegment();
    const at = offsets[DAMAGED]!;
    await damageLength(fs, path, at);

    const { state, lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.equal(state.txns.length, DAMAGED, "the txns before the damage are recovered");
    assert.equal((await fs.readFile(path)).length, at);
    const warning = lines.find((line) => line.includes("--truncate-corrupt-log:"));
    assert.ok(warning, `a warning names the flag: ${lines.join(" | ")}`);
    assert.match(warning, /clients may have been told they succeeded/);
    assert.doesNotMatch(warning, /never acknowledged/);
  });
});
