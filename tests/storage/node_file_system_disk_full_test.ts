/**
 * NodeFileSystem and the TxnStore on a real, tiny tmpfs that fills up (issue 10 item 2): the kernel
 * writes part of an append and then fails it with ENOSPC. Deno's write then throws without saying
 * how many bytes it wrote; the file's size and the log must stay right anyway. Needs root to mount
 * the tmpfs; skips with the reason otherwise.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { NodeFileSystem } from "../../src/storage/node_file_system.ts";
import { TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { captureLog, RecoveredState, randomEntries } from "./support/entries.ts";
import { fillLeaving, mountTinyTmpfs, tmpfsUnavailable } from "./support/tiny_tmpfs.ts";

const ENTRIES = randomEntries(createPrng(77), 1, 3000);
const BATCH = 10;

describe("NodeFileSystem on a tmpfs that fills up", { skip: tmpfsUnavailable() }, () => {
  test("after a write fails part-way with ENOSPC, size is the file's real size", async () => {
    const tmpfs = mountTinyTmpfs(256 * 1024, "corral-enospc-");
    try {
      const fs = new NodeFileSystem();
      const path = join(tmpfs.dir, "f");
      const file = await fs.openAppend(path);
      const chunk = new Uint8Array(100_000).fill(7);
      let failure: unknown = null;
      for (let index = 0; index < 10 && failure === null; index++) {
        await file.append(chunk).catch((error: unknown) => failure = error);
      }
      assert.equal(errorCodeOf(failure), "ENOSPC");
      const real = statSync(path).size;
      assert.ok(real % 100_000 !== 0, `the last write should have been partial (file is ${real} bytes)`);
      assert.equal(file.size, real);
      await file.truncate(200_000);
      await file.sync();
      assert.equal(statSync(path).size, 200_000);
      await file.close();
    } finally {
      tmpfs.unmount();
    }
  });

  test("TxnStore: txns synced before and after the disk was full all survive, and the log restarts clean", async () => {
    const tmpfs = mountTinyTmpfs(1024 * 1024, "corral-enospc-store-");
    try {
      const fs = new NodeFileSystem();
      const dataDir = join(tmpfs.dir, "data");
      const log = captureLog();
      const store = await TxnStore.open({ fs, dataDir, logger: log.logger });
      await store.recover(new RecoveredState());
      const filler = join(tmpfs.dir, "filler");
      fillLeaving(filler, 48 * 1024);
      let acknowledged = 0;
      let failures = 0;
      // Write until the disk is full, then a few more failures (as a driver retrying would).
      while (acknowledged < ENTRIES.length && failures < 3) {
        try {
          await store.append(ENTRIES.slice(acknowledged, acknowledged + BATCH));
          await store.sync();
          acknowledged += BATCH;
        } catch (error) {
          assert.equal(errorCodeOf(error), "ENOSPC", String(error));
          failures++;
          await store.discardUnsynced();
        }
      }
      assert.equal(failures, 3, "the disk never filled up");
      assert.ok(acknowledged > 0);
      rmSync(filler); // space returns
      const before = acknowledged;
      while (acknowledged < before + 20 * BATCH) {
        await store.append(ENTRIES.slice(acknowledged, acknowledged + BATCH));
        await store.sync();
        acknowledged += BATCH;
      }
      await store.close();
      const reopened = captureLog();
      const again = await TxnStore.open({ fs, dataDir, logger: reopened.logger });
      const state = new RecoveredState();
      await again.recover(state);
      await again.close();
      assert.deepStrictEqual(reopened.lines, [], "recovery had to repair the log");
      assert.equal(state.txns.length, acknowledged);
      assert.deepStrictEqual(state.txns, ENTRIES.slice(0, acknowledged));
    } finally {
      tmpfs.unmount();
    }
  });
});
