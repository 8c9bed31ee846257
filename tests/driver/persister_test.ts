/**
 * The persister carries out Zab's writes (truncate, epochs, installSnapshot) in writeSeq order with
 * the appends around them, group-commits appends, and reports persisted only once a round is done.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PersistRequest, SnapshotHeader, SnapshotNode } from "../../src/core/persistence.ts";
import type { TxnEntry } from "../../src/core/txn.ts";
import { type DurableLog, Persister } from "../../src/driver/persister.ts";
import { waitFor } from "../support/wait_for.ts";

const entry = (zxid: number): TxnEntry => ({
  header: { sessionId: 1n, cxid: 0, zxid, time: 0 },
  txn: { type: "delete", path: `/n${zxid}` },
});

/** Records calls; each call resolves when the test releases it. */
class ScriptedLog implements DurableLog {
  readonly calls: string[] = [];
  #release: Array<() => void> = [];
  failOn: string | null = null;

  #call(name: string): Promise<void> {
    this.calls.push(name);
    if (this.failOn !== null && name.startsWith(this.failOn)) return Promise.reject(new Error(`${name} failed`));
    return new Promise((resolve) => this.#release.push(resolve));
  }

  /** Lets every call made so far complete. */
  releaseAll(): void {
    const release = this.#release;
    this.#release = [];
    for (const resolve of release) resolve();
  }

  append(entries: readonly TxnEntry[]): Promise<void> {
    return this.#call(`append ${entries.map((e) => e.header.zxid).join(",")}`);
  }
  sync(): Promise<void> {
    return this.#call("sync");
  }
  discardUnsynced(): Promise<void> {
    this.calls.push("discardUnsynced");
    return Promise.resolve();
  }
  writeSnapshot(): Promise<{ path: string; bytes: number; nodes: number }> {
    return Promise.resolve({ path: "snap", bytes: 0, nodes: 0 });
  }
  truncateAfter(zxid: number): Promise<void> {
    return this.#call(`truncateAfter ${zxid}`);
  }
  writeEpochs(epochs: { acceptedEpoch?: number; currentEpoch?: number }): Promise<void> {
    return this.#call(`writeEpochs ${JSON.stringify(epochs)}`);
  }
  installSnapshot(header: SnapshotHeader, nodes: Iterable<SnapshotNode>): Promise<void> {
    return this.#call(`installSnapshot ${header.zxid} ${[...nodes].length}`);
  }
}

function harness(log: DurableLog) {
  const persisted: number[] = [];
  const failed: string[] = [];
  const persister = new Persister(log, {
    persisted: (writeSeq) => persisted.push(writeSeq),
    failed: (writeSeq, reason) => failed.push(`${writeSeq}: ${reason}`),
    retry: () => {},
    log: () => {},
  });
  return { persister, persisted, failed };
}

/** Releases the log's calls one by one until `done` (bounded). */
async function pump(log: ScriptedLog, done: () => boolean): Promise<void> {
  await waitFor(() => {
    log.releaseAll();
    return done();
  }, { timeoutMs: 5000, what: "the persister to finish", intervalMs: 1 });
}

describe("persister", () => {
  test("Zab writes run in writeSeq order between group-committed appends", async () => {
    const log = new ScriptedLog();
    const { persister, persisted } = harness(log);
    const requests: PersistRequest[] = [
      { kind: "append", entries: [entry(1)] },
      { kind: "append", entries: [entry(2)] },
      { kind: "truncate", zxid: 1 },
      { kind: "append", entries: [entry(3), entry(4)] },
      { kind: "epochs", acceptedEpoch: 2 },
      { kind: "installSnapshot", header: { zxid: 9, sessions: [] }, nodes: [] },
      { kind: "epochs", currentEpoch: 2 },
    ];
    persister.write(1, requests[0]!);
    // 2..7 arrive while the first round's append is under way: they form the second round.
    for (let seq = 2; seq <= 7; seq++) persister.write(seq, requests[seq - 1]!);
    await pump(log, () => persisted.includes(7));
    assert.deepEqual(log.calls, [
      "append 1",
      "sync",
      "append 2",
      "truncateAfter 1",
      "append 3,4",
      'writeEpochs {"acceptedEpoch":2}',
      "installSnapshot 9 0",
      'writeEpochs {"currentEpoch":2}',
    ], "no sync after a round that ends with a write that is durable on its own");
    assert.deepEqual(persisted, [1, 7]);
    await persister.close();
  });

  test("a failed Zab write fails its round from the round's first writeSeq", async () => {
    const log = new ScriptedLog();
    log.failOn = "truncateAfter";
    const { persister, persisted, failed } = harness(log);
    persister.write(1, { kind: "append", entries: [entry(1)] });
    persister.write(2, { kind: "truncate", zxid: 0 });
    persister.write(3, { kind: "append", entries: [entry(2)] });
    await pump(log, () => failed.length > 0);
    // Round one (seq 1) was under way when 2 and 3 arrived; round two fails from 2 on.
    assert.deepEqual(persisted, [1]);
    assert.match(failed[0]!, /^2: truncateAfter 0 failed/);
    assert.ok(log.calls.includes("discardUnsynced"));
    await persister.close();
  });

  test("a log without Zab support refuses Zab writes with a clear reason", async () => {
    const plain: DurableLog = {
      append: () => Promise.resolve(),
      sync: () => Promise.resolve(),
      discardUnsynced: () => Promise.resolve(),
      writeSnapshot: () => Promise.resolve({ path: "", bytes: 0, nodes: 0 }),
    };
    const { persister, failed } = harness(plain);
    persister.write(1, { kind: "epochs", currentEpoch: 1 });
    await waitFor(() => failed.length > 0, { timeoutMs: 5000, what: "the failure" });
    assert.match(failed[0]!, /cannot write epochs: it is not an ensemble member's store/);
    await persister.close();
  });
});
