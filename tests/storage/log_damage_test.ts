/**
 * Torn writes versus corruption at the end of the log (issue 10 item 3), and what the operator is
 * told. As in Apache ZooKeeper: an incomplete record at the very end is a torn write (cut, with a
 * warning saying so); a complete record whose checksum fails is damage, even the last one: the
 * start stops with the file and offset and names --truncate-corrupt-log. With that flag the warning
 * says what was dropped (the damaged record, and how many intact txns after it, which zxids),
 * never that they were unacknowledged.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { zxidHex } from "../../src/core/zxid.ts";
import { writeTruncateIntent } from "../../src/storage/log_truncation.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { StorageError } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { randomEntries } from "./support/entries.ts";
import { appendSynced, DATA_DIR, openRecovered, recoverOnce } from "./support/store_helpers.ts";

const ENTRIES = randomEntries(createPrng(8), 1, 600);

/** A store holding ENTRIES.slice(0, count) in one segment; returns the segment and its record offsets. */
async function oneSegment(count: number): Promise<{ fs: MemoryFileSystem; path: string; offsets: number[] }> {
  const fs = new MemoryFileSystem();
  const { store } = await openRecovered(fs);
  await appendSynced(store, ENTRIES.slice(0, count), 25);
  await store.close();
  const names = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
  assert.equal(names.length, 1);
  const path = `${DATA_DIR}/${names[0]}`;
  const bytes = await fs.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let offset = 12; offset < bytes.length; offset += 8 + view.getUint32(offset)) offsets.push(offset);
  assert.equal(offsets.length, count);
  return { fs, path, offsets };
}

/** Replaces a file's bytes (synced), for damage flipByte cannot make. */
async function rewrite(fs: MemoryFileSystem, path: string, change: (bytes: Uint8Array) => Uint8Array): Promise<void> {
  const bytes = change(await fs.readFile(path));
  const file = await fs.openAppend(path);
  await file.truncate(0);
  await file.append(bytes);
  await file.sync();
  await file.close();
}

async function refusal(fs: MemoryFileSystem): Promise<StorageError> {
  const error = await openRecovered(fs).then(() => null, (error: unknown) => error);
  assert.ok(error instanceof StorageError, `expected a StorageError, got ${String(error)}`);
  return error;
}

function assertNamesTheFlag(message: string): void {
  assert.match(message, /start once with --truncate-corrupt-log \(the truncateCorruptLog option when embedding Corral\)/);
}

describe("a damaged last record is corruption, not a torn write", () => {
  test("a flipped byte in the body of the last record stops the start with the file and offset", async () => {
    const { fs, path, offsets } = await oneSegment(50);
    const last = offsets.at(-1)!;
    const size = (await fs.readFile(path)).length;
    fs.flipByte(path, last + 8 + 3);
    const error = await refusal(fs);
    assert.equal(error.file, path);
    assert.equal(error.offset, last);
    assert.match(error.message, new RegExp(`CRC mismatch \\(a complete record .*\\) in ${path} at offset ${last}`));
    assert.match(error.message, /the last record of the log, complete in the file: damage, not a torn write/);
    assert.match(error.message, /losing the damaged record( \(apparently zxid 0x32\))? and no intact txn after it/);
    assertNamesTheFlag(error.message);
    assert.doesNotMatch(error.message, /never acknowledged|unacknowledged/);
    // Nothing was cut: the operator decides.
    assert.equal((await fs.readFile(path)).length, size);
  });

  test("with --truncate-corrupt-log the damaged last record is dropped, and the warning says what it was", async () => {
    const { fs, path, offsets } = await oneSegment(50);
    const last = offsets.at(-1)!;
    const size = (await fs.readFile(path)).length;
    fs.flipByte(path, last + 5); // inside the CRC field
    const { state, lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 49));
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      new RegExp(
        `^warn: --truncate-corrupt-log: CRC mismatch \\(.*\\) in ${path} at offset ${last}; cut the log there as ` +
          `asked, dropping ${size - last} bytes: the damaged record \\(apparently zxid 0x32\\) and no intact txn ` +
          `after it\\. They were synced, so clients may have been told they succeeded; they are lost$`,
      ),
    );
    assert.doesNotMatch(lines[0]!, /never acknowledged|unacknowledged/);
  });

  test("a damaged length field in the last record (too large, or zero) is corruption too", async () => {
    const cases: Array<[string, (bytes: Uint8Array, at: number) => void, RegExp]> = [
      ["too large", (bytes, at) => bytes[at] = 0x7f, /a damaged length field \(it says \d+ bytes, but the \d+ bytes after the header are a complete record body/],
      ["one more", (bytes, at) => bytes[at + 3] = bytes[at + 3]! + 1, /a damaged length field/],
      ["zero", (bytes, at) => bytes.fill(0, at, at + 4), /a zero record length followed by data/],
      ["one less", (bytes, at) => bytes[at + 3] = bytes[at + 3]! - 1, /CRC mismatch/],
    ];
    for (const [name, damage, reason] of cases) {
      const { fs, path, offsets } = await oneSegment(50);
      const last = offsets.at(-1)!;
      await rewrite(fs, path, (bytes) => {
        damage(bytes, last);
        return bytes;
      });
      const error = await refusal(fs);
      assert.equal(error.offset, last, name);
      assert.match(error.message, reason, name);
      assertNamesTheFlag(error.message);
    }
  });

  test("an incomplete last record or a zero-filled tail is a torn write: cut, and said so", async () => {
    const cases: Array<[string, (bytes: Uint8Array, last: number) => Uint8Array, number, RegExp]> = [
      ["body cut short", (bytes) => bytes.subarray(0, bytes.length - 3), 49, /an incomplete record: its length is \d+ bytes but only \d+ follow its header/],
      ["header cut short", (bytes, last) => bytes.subarray(0, last + 5), 49, /an incomplete record: only 5 bytes of its 8-byte header/],
      ["zeros after the last record", (bytes) => new Uint8Array([...bytes, ...new Uint8Array(4096)]), 50, /4096 zero bytes where a record should start/],
      ["a zero-filled last record", (bytes, last) => new Uint8Array([...bytes.subarray(0, last), ...new Uint8Array(bytes.length - last)]), 49, /zero bytes where a record should start/],
    ];
    for (const [name, damage, kept, reason] of cases) {
      const { fs, path, offsets } = await oneSegment(50);
      const last = offsets.at(-1)!;
      await rewrite(fs, path, (bytes) => damage(bytes, last));
      const cut = kept === 50 ? (await fs.readFile(path)).length - 4096 : last;
      const { store, state, lines } = await openRecovered(fs);
      assert.deepStrictEqual(state.txns, ENTRIES.slice(0, kept), name);
      assert.equal(lines.length, 1, name);
      assert.match(lines[0]!, new RegExp(`^warn: ${path}: torn write at the end of the log \\(`), name);
      assert.match(lines[0]!, reason, name);
      assert.match(lines[0]!, /its txn was never synced, so never acknowledged\. Truncated at offset (\d+)/, name);
      assert.match(lines[0]!, new RegExp(`Truncated at offset ${cut},`), name);
      await appendSynced(store, ENTRIES.slice(kept, 60));
      await store.close();
      assert.deepStrictEqual((await recoverOnce(fs)).state.txns, ENTRIES.slice(0, 60), name);
    }
  });
});

describe("what a cut in the middle of the log drops", () => {
  test("the refusal and the --truncate-corrupt-log warning count the 499 intact txns after the damage", async () => {
    const { fs, path, offsets } = await oneSegment(600);
    const damaged = offsets[100]!; // zxid 101; zxids 102..600 follow intact
    fs.flipByte(path, damaged + 8 + 10);
    const error = await refusal(fs);
    assert.equal(error.offset, damaged);
    assert.match(
      error.message,
      new RegExp(`losing the damaged record( \\(apparently zxid 0x65\\))? and 499 intact txn\\(s\\) after it, zxids ${zxidHex(102)} to ${zxidHex(600)}\\.$`),
    );
    assert.doesNotMatch(error.message, /the last record of the log/);
    assertNamesTheFlag(error.message);
    const { state, lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 100));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /and 499 intact txn\(s\) after it, zxids 0x66 to 0x258\. They were synced, so clients may have been told they succeeded; they are lost$/);
    assert.doesNotMatch(lines[0]!, /never acknowledged|unacknowledged/);
  });

  test("txns in later segments are counted too, and the segments named", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs, { segmentBytesMax: 3000 });
    await appendSynced(store, ENTRIES.slice(0, 200), 10);
    await store.close();
    const segments = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
    assert.ok(segments.length >= 4);
    const first = `${DATA_DIR}/${segments[0]}`;
    const secondZxid = parseInt(segments[1]!.slice(4), 16);
    // The first segment's last record: everything after it, in every later segment, goes.
    const bytes = await fs.readFile(first);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let last = 12;
    while (last + 8 + view.getUint32(last) < bytes.length) last += 8 + view.getUint32(last);
    fs.flipByte(first, last + 8 + 1);
    const error = await refusal(fs);
    assert.equal(error.file, first);
    assert.match(
      error.message,
      new RegExp(`and ${200 - secondZxid + 1} intact txn\\(s\\) after it, zxids ${zxidHex(secondZxid)} to 0xc8 \\(${segments.length - 1} later segment\\(s\\) included\\)`),
    );
    const { lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.match(lines[0]!, new RegExp(`and deleting ${segments.slice(1).join(", ")}: the damaged record`));
  });

  test("damage where a Zab truncation must cut names the command-line flag too", async () => {
    const { fs, path, offsets } = await oneSegment(50);
    fs.flipByte(path, offsets[10]! + 8 + 2);
    await writeTruncateIntent(fs, DATA_DIR, 40);
    const error = await refusal(fs);
    assert.equal(error.offset, offsets[10]);
    assertNamesTheFlag(error.message);
    const { state, lines } = await recoverOnce(fs, { truncateCorruptLog: true });
    assert.deepStrictEqual(state.txns, ENTRIES.slice(0, 10));
    assert.match(lines.join("\n"), /--truncate-corrupt-log: CRC mismatch .*; cut the log there as asked: the damaged record and every txn after it are lost/);
  });
});
