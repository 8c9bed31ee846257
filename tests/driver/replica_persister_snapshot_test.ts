/**
 * A snapshot is handed to the store only after every write issued before it: the store orders its
 * log roll after the calls it has received, so a snapshot started while earlier appends still wait
 * in the persister's queue would claim a zxid the log has not reached, and the store then refuses
 * those appends ("does not follow"). An observer hits this: it applies an INFORM as soon as it
 * issues the append (found by the simulator running the real storage path).
 * Also: the persister's timers are injectable (the simulator runs it on virtual time).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { SnapshotSource } from "../../src/core/persistence.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import { type DurableLog, Persister, type PersisterTimers } from "../../src/driver/persister.ts";

const entry = (zxid: number): TxnEntry => ({
  header: { sessionId: 1n, cxid: 0, zxid, time: 0 },
  txn: { type: "delete", path: `/n${zxid}` },
}) as unknown as TxnEntry;

const source = (zxid: number): SnapshotSource => ({ header: { zxid, sessions: [] }, nodes: [][Symbol.iterator]() });

/** Records calls; log calls complete when the test releases them. */
function scriptedLog() {
  const calls: string[] = [];
  let release: Array<() => void> = [];
  const pending = (name: string) => {
    calls.push(name);
    return new Promise<void>((resolve) => release.push(resolve));
  };
  const log: DurableLog = {
    append: (entries) => pending(`append ${entries.map((e) => e.header.zxid).join(",")}`),
    sync: () => pending("sync"),
    discardUnsynced: () => Promise.resolve(),
    writeSnapshot: (snapshot) => {
      calls.push(`snapshot ${snapshot.header.zxid}`);
      return Promise.resolve({ path: "snap", bytes: 0, nodes: 0 });
    },
  };
  const releaseAll = () => {
    const now = release;
    release = [];
    for (const resolve of now) resolve();
  };
  return { log, calls, releaseAll };
}

async function turns(count = 20): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

describe("Persister: snapshots after the writes issued before them", () => {
  test("a snapshot issued while earlier appends wait for a round starts only once they reached the log", async () => {
    const { log, calls, releaseAll } = scriptedLog();
    const persisted: number[] = [];
    const persister = new Persister(log, { persisted: (seq) => persisted.push(seq), failed: () => {}, retry: () => {}, log: () => {} });
    persister.write(1, { kind: "append", entries: [entry(1)] }); // round 1 takes it at once
    persister.write(2, { kind: "append", entries: [entry(2)] }); // waits for round 2
    persister.snapshot(source(2)); // the replica applied zxid 2 already (an observer does)
    await turns();
    assert.deepEqual(calls, ["append 1"], "the snapshot waits: its log roll would jump past append 2");
    releaseAll(); // append 1
    await turns();
    releaseAll(); // sync of round 1
    await turns();
    assert.deepEqual(calls.slice(0, 4), ["append 1", "sync", "append 2", "snapshot 2"]);
    releaseAll();
    await turns();
    releaseAll();
    await turns();
    assert.deepEqual(persisted, [1, 2]);
    await persister.close();
  });

  test("with nothing waiting, a snapshot starts at once; a second one while it runs is dropped", async () => {
    const { log, calls, releaseAll } = scriptedLog();
    const persister = new Persister(log, { persisted: () => {}, failed: () => {}, retry: () => {}, log: () => {} });
    persister.snapshot(source(0));
    persister.snapshot(source(0));
    assert.deepEqual(calls, ["snapshot 0"]);
    releaseAll();
    await persister.close();
  });

  test("the retry backoff and the snapshot's duration use the injected timers", async () => {
    const scheduled: number[] = [];
    const timers: PersisterTimers = { now: () => 0, setTimeout: (_callback, delayMs) => scheduled.push(delayMs), clearTimeout: () => {} };
    const log: DurableLog = {
      append: () => Promise.reject(new Error("EIO")),
      sync: () => Promise.resolve(),
      discardUnsynced: () => Promise.resolve(),
      writeSnapshot: () => Promise.resolve({ path: "snap", bytes: 0, nodes: 0 }),
    };
    const failed: number[] = [];
    const persister = new Persister(log, { persisted: () => {}, failed: (seq) => failed.push(seq), retry: () => {}, log: () => {} }, timers);
    persister.write(1, { kind: "append", entries: [entry(1)] });
    await turns();
    assert.deepEqual(failed, [1]);
    assert.deepEqual(scheduled, [1000], "the retry is scheduled through the injected setTimeout");
    await persister.close();
  });
});
