/** NodeFileSystem against a real temporary directory (real fsync), on Node, Deno and Bun alike. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFileSystem } from "../../src/storage/node_file_system.ts";
import { TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { captureLog, nodeFor, randomEntries, RecoveredState } from "./support/entries.ts";
import { range, snapshotOf } from "./support/store_helpers.ts";

describe("NodeFileSystem", () => {
  const fs = new NodeFileSystem();
  let root = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "corral-storage-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("appends, syncs, truncates and reopens files", async () => {
    const dir = fs.join(root, "a", "b");
    await fs.mkdirp(dir);
    await fs.mkdirp(dir);
    const path = fs.join(dir, "f");
    const file = await fs.openAppend(path);
    assert.equal(file.size, 0);
    await file.append(new Uint8Array([1, 2, 3, 4]));
    await file.sync();
    await file.truncate(2);
    await file.append(new Uint8Array([9]));
    await file.sync();
    assert.equal(file.size, 3);
    await file.close();
    const read = await fs.readFile(path);
    assert.equal(read.constructor, Uint8Array);
    assert.deepStrictEqual(read, new Uint8Array([1, 2, 9]));
    const again = await fs.openAppend(path);
    assert.equal(again.size, 3);
    await again.close();
    await fs.syncDir(dir);
    assert.deepStrictEqual(await fs.list(dir), ["f"]);
    assert.deepStrictEqual(await fs.list(fs.join(root, "missing")), []);
  });

  test("writeFileAtomic() replaces the file whole and leaves no temporary file", async () => {
    const path = fs.join(root, "atomic");
    async function* chunks() {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    assert.equal(await fs.writeFileAtomic(path, chunks()), 3);
    assert.equal(await fs.writeFileAtomic(path, [new Uint8Array([7])]), 1);
    assert.deepStrictEqual(await fs.readFile(path), new Uint8Array([7]));
    await assert.rejects(
      fs.writeFileAtomic(
        path,
        (function* () {
          yield new Uint8Array([5]);
          throw new Error("source failed");
        })(),
      ),
      /source failed/,
    );
    assert.deepStrictEqual(await fs.readFile(path), new Uint8Array([7]));
    assert.deepStrictEqual((await fs.list(root)).filter((name) => name.startsWith("atomic")), ["atomic"]);
    await fs.remove(path);
    await fs.remove(path);
    await assert.rejects(stat(path));
  });

  test("rename() replaces the target", async () => {
    const from = fs.join(root, "from");
    const to = fs.join(root, "to");
    await fs.writeFileAtomic(from, [new Uint8Array([1])]);
    await fs.writeFileAtomic(to, [new Uint8Array([2])]);
    await fs.rename(from, to);
    await fs.syncDir(root);
    assert.deepStrictEqual(await fs.readFile(to), new Uint8Array([1]));
    await assert.rejects(stat(from));
    await assert.rejects(fs.rename(from, to));
  });

  test("a TxnStore on disk: log, snapshot, torn tail, restart", async () => {
    const dataDir = fs.join(root, "data");
    const entries = randomEntries(createPrng(9), 1, 300);
    const open = (logger = captureLog().logger) =>
      TxnStore.open({ fs, dataDir, segmentBytesMax: 8192, logger });
    const store = await open();
    await store.recover(new RecoveredState());
    for (let index = 0; index < 200; index += 20) {
      await store.append(entries.slice(index, index + 20));
      await store.sync();
    }
    await store.writeSnapshot(snapshotOf(150, range(1, 150)), { nodesPerRecord: 16, yieldEvery: 10 });
    await store.append(entries.slice(200));
    await store.sync();
    await store.close();
    // A torn write at the end of the last segment.
    const segments = (await fs.list(dataDir)).filter((name) => name.startsWith("log.")).sort();
    const last = await fs.openAppend(fs.join(dataDir, segments.at(-1)!));
    await last.append(new Uint8Array([0, 0, 0, 99, 1, 2]));
    await last.close();
    const log = captureLog();
    const reopened = await open(log.logger);
    const state = new RecoveredState();
    assert.deepStrictEqual(await reopened.recover(state), {
      snapshotZxid: 150,
      lastZxid: 300,
      acceptedEpoch: 0,
      currentEpoch: 0,
    });
    await reopened.close();
    assert.equal(state.nodes.length, 150);
    assert.deepStrictEqual(state.txns, entries.slice(150));
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /torn write at the end of the log .* dropping 6 bytes/);
  });

  test("a TxnStore on disk: Zab truncation, epochs and snapshot install", async () => {
    const dataDir = fs.join(root, "zab", "data");
    const dataLogDir = fs.join(root, "zab", "log");
    const entries = randomEntries(createPrng(4), 1, 200);
    const open = () =>
      TxnStore.open({ fs, dataDir, dataLogDir, segmentBytesMax: 4096, logger: captureLog().logger });
    const store = await open();
    await store.recover(new RecoveredState());
    await store.append(entries.slice(0, 150));
    await store.sync();
    await store.writeSnapshot(snapshotOf(60, range(1, 60)));
    await store.truncateAfter(100);
    await store.append(entries.slice(100, 120));
    await store.writeEpochs({ acceptedEpoch: 5, currentEpoch: 4 });
    await store.close();
    let reopened = await open();
    let state = new RecoveredState();
    assert.deepStrictEqual(await reopened.recover(state), {
      snapshotZxid: 60,
      lastZxid: 120,
      acceptedEpoch: 5,
      currentEpoch: 4,
    });
    assert.deepStrictEqual(state.txns, entries.slice(60, 120));
    await reopened.installSnapshot({ zxid: 110, sessions: [] }, range(1, 110).map((zxid) => nodeFor(zxid)));
    await reopened.append(entries.slice(110, 115));
    await reopened.sync();
    await reopened.close();
    assert.deepStrictEqual((await fs.list(dataLogDir)).sort(), [
      "corral_storage_format",
      "log.000000000000006f",
    ]);
    reopened = await open();
    state = new RecoveredState();
    const result = await reopened.recover(state);
    await reopened.close();
    assert.equal(result.snapshotZxid, 110);
    assert.equal(state.nodes.length, 110);
    assert.deepStrictEqual(state.txns, entries.slice(110, 115));
  });
});
