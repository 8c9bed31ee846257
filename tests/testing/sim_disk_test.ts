import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PersistRequest, SnapshotNode } from "../../src/core/persistence.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import { zxidOf } from "../../src/core/zxid.ts";
import { EventQueue } from "../../src/testing/event_queue.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { type DiskFaults, followsDirectly, QUIET_DISK, SimDisk } from "../../src/testing/sim_disk.ts";

function entry(epoch: number, counter: number): TxnEntry {
  return { header: { sessionId: 1n, cxid: counter, zxid: zxidOf(epoch, counter), time: 0 }, txn: { type: "delete", path: `/n${counter}` } };
}

function append(...entries: TxnEntry[]): PersistRequest {
  return { kind: "append", entries };
}

function node(path: string): SnapshotNode {
  return { path, data: null, acl: [], czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0 };
}

function disk(faults: Partial<DiskFaults> = {}) {
  const queue = new EventQueue();
  const violations: string[] = [];
  const persisted: number[] = [];
  const simDisk = new SimDisk({ scheduler: queue, prng: createPrng(3), faults: { ...QUIET_DISK, ...faults }, violation: (m) => violations.push(m) });
  let seq = 0;
  const write = (...requests: PersistRequest[]) =>
    simDisk.writeBatch(requests.map((request) => ({ writeSeq: ++seq, request })), (writeSeq) => persisted.push(writeSeq));
  return { queue, disk: simDisk, violations, persisted, write, run: (ms = 1000) => queue.runUntil(queue.nowMs + ms, 100_000) };
}

const zxids = (entries: readonly TxnEntry[]) => entries.map((e) => e.header.zxid - zxidOf(1, 0));

describe("SimDisk", () => {
  test("batches complete in order after their latency, then report the last writeSeq", () => {
    const { disk: d, write, persisted, run } = disk({ writeMsMin: 1, writeMsMax: 20 });
    write(append(entry(1, 1)), append(entry(1, 2)));
    write(append(entry(1, 3)));
    write({ kind: "epochs", acceptedEpoch: 2 });
    assert.deepEqual(persisted, []);
    assert.equal(d.durable.log.length, 0, "nothing is durable before the latency");
    run();
    assert.deepEqual(persisted, [2, 3, 4]);
    assert.deepEqual(zxids(d.durable.log), [1, 2, 3]);
    assert.equal(d.durable.acceptedEpoch, 2);
  });

  test("a crash loses every write not yet complete (when nothing unreported survives)", () => {
    const { disk: d, write, persisted, run } = disk({ writeMsMin: 5, writeMsMax: 5 });
    write(append(entry(1, 1)));
    run(10);
    write(append(entry(1, 2)), { kind: "epochs", currentEpoch: 1 });
    d.crash();
    run();
    assert.deepEqual(persisted, [1], "no completion is reported after the crash");
    assert.deepEqual(zxids(d.recover().entries), [1]);
    assert.equal(d.recover().currentEpoch, 0);
  });

  test("a crash may keep unreported writes, tearing the last append", () => {
    const { disk: d, write } = disk({ writeMsMin: 5, writeMsMax: 5, unreportedKeepRate: 1, tearRate: 1 });
    write(append(entry(1, 1), entry(1, 2), entry(1, 3), entry(1, 4)));
    d.crash();
    const kept = zxids(d.recover().entries);
    assert.ok(kept.length < 4, `the last append is torn (kept ${kept.join(",")})`);
    assert.deepEqual(kept, [1, 2, 3, 4].slice(0, kept.length), "what survives is a prefix");
    assert.equal(d.stats.tornAppends, 1);
  });

  test("truncate drops the txns after a zxid; installSnapshot replaces everything", () => {
    const { disk: d, write, run } = disk();
    write(append(entry(1, 1), entry(1, 2), entry(1, 3)), { kind: "truncate", zxid: zxidOf(1, 1) }, append(entry(2, 1)));
    run();
    assert.deepEqual(d.durable.log.map((e) => e.header.zxid), [zxidOf(1, 1), zxidOf(2, 1)]);
    write({ kind: "installSnapshot", header: { zxid: zxidOf(3, 7), sessions: [] }, nodes: [node("/a")] }, append(entry(3, 8)));
    run();
    const recovered = d.recover();
    assert.equal(recovered.snapshot?.header.zxid, zxidOf(3, 7));
    assert.deepEqual(recovered.entries.map((e) => e.header.zxid), [zxidOf(3, 8)]);
  });

  test("breaking the store's contract is reported: a gap in the log, a truncation below a snapshot", () => {
    const { write, run, violations } = disk();
    write(append(entry(1, 1), entry(1, 3)));
    run();
    assert.equal(violations.length, 1);
    assert.match(violations[0]!, /does not follow/);
    write({ kind: "installSnapshot", header: { zxid: zxidOf(2, 5), sessions: [] }, nodes: [] }, { kind: "truncate", zxid: zxidOf(2, 1) });
    run();
    assert.equal(violations.length, 2);
    assert.match(violations[1]!, /snapshot holds state/);
  });

  test("a fuzzy snapshot is durable after the writes issued before it, and recovery replays the log after it", () => {
    const { disk: d, write, run } = disk({ writeMsMin: 5, writeMsMax: 5, snapshotNodesPerStep: 1 });
    write(append(entry(1, 1), entry(1, 2)));
    const nodes = [node("/a"), node("/b")];
    d.snapshot({ header: { zxid: zxidOf(1, 2), sessions: [] }, nodes: nodes[Symbol.iterator]() });
    write(append(entry(1, 3)));
    run();
    const recovered = d.recover();
    assert.equal(recovered.snapshot?.header.zxid, zxidOf(1, 2));
    assert.deepEqual(recovered.snapshot?.nodes.map((n) => n.path), ["/a", "/b"]);
    assert.deepEqual(zxids(recovered.entries), [3]);
  });

  test("a snapshot under way is abandoned by an install (it captured the state being replaced) and by a crash", () => {
    const { disk: d, write, run } = disk({ writeMsMin: 1, writeMsMax: 1, snapshotNodesPerStep: 1 });
    const many = Array.from({ length: 50 }, (_, i) => node(`/n${i}`));
    d.snapshot({ header: { zxid: zxidOf(1, 9), sessions: [] }, nodes: many[Symbol.iterator]() });
    write({ kind: "installSnapshot", header: { zxid: zxidOf(1, 3), sessions: [] }, nodes: [] });
    run();
    assert.deepEqual(d.durable.snapshots.map((s) => s.header.zxid), [zxidOf(1, 3)]);
    assert.equal(d.stats.snapshotsAbandoned, 1);
    d.snapshot({ header: { zxid: zxidOf(1, 4), sessions: [] }, nodes: many[Symbol.iterator]() });
    d.crash();
    run();
    assert.deepEqual(d.durable.snapshots.map((s) => s.header.zxid), [zxidOf(1, 3)]);
  });

  test("the log's order rule: the next counter, or any zxid of a later epoch", () => {
    assert.ok(followsDirectly(zxidOf(1, 4), zxidOf(1, 5)));
    assert.ok(followsDirectly(zxidOf(1, 4), zxidOf(3, 1)));
    assert.ok(!followsDirectly(zxidOf(1, 4), zxidOf(1, 6)));
    assert.ok(!followsDirectly(zxidOf(1, 4), zxidOf(1, 4)));
  });
});
