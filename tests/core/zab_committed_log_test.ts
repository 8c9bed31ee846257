/** CommittedLog (src/core/zab_committed_log.ts): always exactly the newest `max` committed txns. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TxnEntry } from "../../src/core/txn.ts";
import { CommittedLog } from "../../src/core/zab_committed_log.ts";

function entry(zxid: number): TxnEntry {
  return { header: { sessionId: 1n, cxid: zxid, zxid, time: 0, type: 5 }, txn: { type: "delete", path: `/n${zxid}` } } as unknown as TxnEntry;
}

/** What the replica did before: push, then splice the oldest beyond `max`. */
function reference(zxids: number[], max: number): number[] {
  const kept: number[] = [];
  for (const zxid of zxids) {
    kept.push(zxid);
    if (kept.length > max) kept.splice(0, kept.length - max);
  }
  return kept;
}

describe("CommittedLog", () => {
  test("keeps the newest max entries, as push-then-splice did, across compactions", () => {
    for (const max of [0, 1, 2, 7, 64, 100]) {
      const log = new CommittedLog(max);
      const pushed: number[] = [];
      for (let zxid = 1; zxid <= 1000; zxid++) {
        log.push(entry(zxid));
        pushed.push(zxid);
        if (zxid % 97 !== 0 && zxid !== 1000) continue;
        const expected = reference(pushed, max);
        assert.equal(log.length, expected.length, `max ${max} after ${zxid}`);
        assert.equal(log.first()?.header.zxid, expected[0]);
        assert.deepEqual(log.after(0).map((e) => e.header.zxid), expected);
        assert.deepEqual(log.after(zxid - 3).map((e) => e.header.zxid), expected.filter((z) => z > zxid - 3));
        assert.equal(log.hasZxid(zxid), max > 0);
        assert.equal(log.hasZxid(zxid - max), false);
      }
    }
  });

  test("clear() empties it and it fills again", () => {
    const log = new CommittedLog(3);
    for (let zxid = 1; zxid <= 10; zxid++) log.push(entry(zxid));
    log.clear();
    assert.equal(log.length, 0);
    assert.equal(log.first(), undefined);
    log.push(entry(11));
    assert.deepEqual(log.after(0).map((e) => e.header.zxid), [11]);
  });

  test("rejects a negative or fractional bound", () => {
    assert.throws(() => new CommittedLog(-1), /committedLogMax must be an integer ≥ 0, got -1/);
    assert.throws(() => new CommittedLog(1.5), RangeError);
  });
});
