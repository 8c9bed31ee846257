/**
 * The simulator's disk (src/testing/sim_disk.ts): a MemoryFileSystem on virtual time with power
 * loss, torn writes at any byte, bad sectors, EIO, ENOSPC part-way, a lying fsync, per-life views,
 * and the model of what a restart must find.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PersistRequest } from "../../src/core/persistence.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import type { FileSystem } from "../../src/storage/file_system.ts";
import { EventQueue } from "../../src/testing/event_queue.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { type DiskFaults, QUIET_DISK, SimDisk } from "../../src/testing/sim_disk.ts";

function world(faults: Partial<DiskFaults> = {}) {
  const queue = new EventQueue(0);
  let activity = 0;
  const disk = new SimDisk({ scheduler: queue, prng: createPrng(7), faults: { ...QUIET_DISK, writeMsMin: 1, writeMsMax: 2, ...faults }, onActivity: () => activity++ });
  /** Runs events until `promise` settles (a microtask turn after each event). */
  async function drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    for (let i = 0; i < 10_000 && !settled; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!settled) queue.runUntil(queue.nowMs + 1_000, 1);
    }
    return await watched;
  }
  return { queue, disk, drive, activity: () => activity };
}

const bytes = (...values: number[]) => new Uint8Array(values);

async function fileWith(fs: FileSystem, drive: <T>(p: Promise<T>) => Promise<T>, synced: Uint8Array, unsynced: Uint8Array) {
  await drive(fs.mkdirp("/d"));
  const file = await drive(fs.openAppend("/d/f"));
  await drive(file.append(synced));
  await drive(file.sync());
  await drive(file.append(unsynced));
  return file;
}

function entry(zxid: number): TxnEntry {
  return { header: { sessionId: 1n, cxid: zxid, zxid, timeMs: 0, type: 1 }, txn: { kind: "error", err: -1 } } as unknown as TxnEntry;
}

describe("SimDisk", () => {
  test("an fsync completes after the drawn latency, on the event queue", async () => {
    const { queue, disk, drive, activity } = world({ writeMsMin: 5, writeMsMax: 6 });
    const fs = disk.open();
    const file = await fileWith(fs, drive, bytes(1, 2, 3), bytes(4));
    const before = queue.nowMs;
    await drive(file.sync());
    assert.ok(queue.nowMs - before >= 5, `the sync took ${queue.nowMs - before} virtual ms`);
    assert.ok(activity() > 0, "completions are reported as activity (the cluster settles after them)");
  });

  test("a power loss keeps the synced bytes and, as told, none, all, or any byte prefix of the rest", async () => {
    for (const [keep, expected] of [["none", 3], ["all", 6], [2, 5]] as const) {
      const { disk, drive } = world();
      await fileWith(disk.open(), drive, bytes(1, 2, 3), bytes(4, 5, 6));
      disk.crash(keep);
      const after = await drive(disk.open().readFile("/d/f"));
      assert.equal(after.length, expected, `keep ${keep}`);
    }
    const { disk, drive } = world();
    await fileWith(disk.open(), drive, bytes(1), bytes(2, 3, 4, 5, 6, 7, 8, 9));
    disk.crash("torn");
    const torn = await drive(disk.open().readFile("/d/f"));
    assert.ok(torn.length >= 1 && torn.length <= 9, `a torn write keeps a prefix: ${torn.length} bytes`);
    assert.deepEqual([...torn], [1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, torn.length));
  });

  test("after a crash the old life's view fails, the new one works", async () => {
    const { disk, drive } = world();
    const old = disk.open();
    await fileWith(old, drive, bytes(1), bytes(2));
    disk.crash("none");
    await assert.rejects(drive(old.readFile("/d/f")), /stopped/);
    assert.deepEqual([...await drive(disk.open().readFile("/d/f"))], [1]);
  });

  test("a bad sector flips one bit of durable data and marks the disk corrupted", async () => {
    const { disk, drive } = world();
    await fileWith(disk.open(), drive, bytes(0, 0, 0, 0), bytes(9));
    const where = disk.corruptSector();
    assert.ok(where !== null && where.path === "/d/f" && where.offset < 4, JSON.stringify(where));
    assert.equal(disk.corrupted, true);
    const after = await drive(disk.open().readFile("/d/f"));
    assert.equal(after[where.offset], 1 << where.bit);
    disk.recovered({ lastZxid: 0, acceptedEpoch: 0, currentEpoch: 0 });
    assert.equal(disk.corrupted, false, "a clean recovery clears the mark");
  });

  test("failNextFsync fails the next fsync with EIO, once", async () => {
    const { disk, drive } = world();
    const file = await fileWith(disk.open(), drive, bytes(1), bytes(2));
    disk.failNextFsync();
    await assert.rejects(drive(file.sync()), /EIO/);
    await drive(file.sync());
    assert.equal(disk.stats.fsyncErrors, 1);
  });

  test("a full disk fails an append part-way with ENOSPC: the bytes that fit are written first", async () => {
    const { disk, drive } = world();
    const fs = disk.open();
    await drive(fs.mkdirp("/d"));
    const file = await drive(fs.openAppend("/d/f"));
    disk.diskFull(3);
    await assert.rejects(drive(file.append(bytes(1, 2, 3, 4, 5))), /ENOSPC/);
    assert.deepEqual([...await drive(fs.readFile("/d/f"))], [1, 2, 3]);
    disk.diskFull(null);
    await drive(file.truncate(0));
    await drive(file.append(bytes(7, 8, 9, 10)));
    assert.equal(file.size, 4);
  });

  test("a lying fsync succeeds, and a power loss then takes the 'synced' bytes", async () => {
    const { disk, drive } = world();
    disk.setLyingFsync(true);
    await fileWith(disk.open(), drive, bytes(1, 2), bytes(3));
    disk.crash("none");
    assert.equal((await drive(disk.open().readFile("/d/f"))).length, 0);
    assert.equal(disk.durableLowerBound(), null, "nothing can be promised on a lying disk");
  });

  test("the lower bound: writes reported durable, lowered by any prefix of those in flight", () => {
    const { disk } = world();
    const issue = (writeSeq: number, request: PersistRequest) => disk.writeBatch([{ writeSeq, request }], () => {});
    issue(1, { kind: "append", entries: [entry(5), entry(6)] });
    issue(2, { kind: "epochs", acceptedEpoch: 3, currentEpoch: 2 });
    disk.completed(2);
    assert.deepEqual(disk.durableLowerBound(), { lastZxid: 6, acceptedEpoch: 3, currentEpoch: 2 });
    issue(3, { kind: "append", entries: [entry(7)] });
    assert.equal(disk.pendingWrites, 1);
    assert.deepEqual(disk.durableLowerBound(), { lastZxid: 6, acceptedEpoch: 3, currentEpoch: 2 }, "an append in flight raises nothing yet");
    issue(4, { kind: "truncate", zxid: 4 });
    assert.equal(disk.durableLowerBound()!.lastZxid, 4, "a truncation in flight may have happened");
    disk.crash("none");
    assert.equal(disk.durableLowerBound()!.lastZxid, 4, "a crash keeps the bound");
    assert.equal(disk.pendingWrites, 0);
  });
});
