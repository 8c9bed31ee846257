/** NodeFileSystem against a real temporary directory (real fsync), on Node, Deno and Bun alike. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFileSystem } from "../../src/storage/node_file_system.ts";
import { TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { captureLog, randomEntries, RecoveredState } from "./support/entries.ts";
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
    assert.deepStrictEqual(await reopened.recover(state), { snapshotZxid: 150, lastZxid: 300 });
    await reopened.close();
    assert.equal(state.nodes.length, 150);
    assert.deepStrictEqual(state.txns, entries.slice(150));
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /torn record at the end of the log .* dropping 6 bytes/);
  });
});
