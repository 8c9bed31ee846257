/**
 * What Zab needs from the store: truncating the log after a zxid (TRUNC), installing a leader's
 * snapshot (SNAP) and the acceptedEpoch / currentEpoch files. Each round-trips through recovery,
 * appends continue after it, and failures leave the store usable.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { zxidOf } from "../../src/core/zxid.ts";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { StorageError } from "../../src/storage/txn_store.ts";
import { nodeFor } from "./support/entries.ts";
import {
  appendSynced,
  DATA_DIR,
  openRecovered,
  range,
  recoverOnce,
  snapshotOf,
} from "./support/store_helpers.ts";
import type { StoreOptions } from "./support/store_helpers.ts";
import { epochEntries, leaderSnapshot, namesWith, zxidOfName, zxidsOf } from "./support/zab_helpers.ts";

const STORE: StoreOptions = { segmentBytesMax: 1500 };
/** Epoch 1, counters 1..200. */
const HISTORY = epochEntries(1, 1, 200);
const z1 = (counter: number) => zxidOf(1, counter);

async function filled(options: StoreOptions = STORE) {
  const fs = new MemoryFileSystem();
  const opened = await openRecovered(fs, options);
  await appendSynced(opened.store, HISTORY, 9);
  return { fs, store: opened.store };
}

describe("TxnStore.truncateAfter", () => {
  test("cuts inside a segment, removes the later ones, and appends continue after the zxid", async () => {
    const { fs, store } = await filled();
    const before = await namesWith(fs, "log.");
    assert.ok(before.length >= 5, `segments: ${before}`);
    await store.truncateAfter(z1(120));
    const after = await namesWith(fs, "log.");
    assert.ok(after.every((name) => zxidOfName(name) <= z1(120)), `${after}`);
    assert.deepStrictEqual(after, before.filter((name) => zxidOfName(name) <= z1(120)));
    assert.deepStrictEqual(await namesWith(fs, "truncate."), []);
    // The next zxid must follow the truncation point: a new history from there, or a new epoch.
    await assert.rejects(store.append(epochEntries(1, 125, 1, 9)), /does not follow/);
    const diverged = [...epochEntries(1, 121, 10, 9), ...epochEntries(2, 1, 5)];
    await appendSynced(store, diverged, 4);
    await store.close();
    const { state, result } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.txns, [...HISTORY.slice(0, 120), ...diverged]);
    assert.equal(result.lastZxid, zxidOf(2, 5));
  });

  test("at a segment boundary, at the snapshot's zxid, at 0 and beyond the end", async () => {
    const { fs, store } = await filled();
    const second = zxidOfName((await namesWith(fs, "log."))[1]!);
    await store.truncateAfter(second - 1);
    assert.deepStrictEqual(await namesWith(fs, "log."), ["log.0000000100000001"]);
    await store.writeSnapshot(snapshotOf(z1(30), range(1, 30)));
    await store.truncateAfter(z1(30));
    await store.close();
    let recovered = await recoverOnce(fs, STORE);
    assert.equal(recovered.result.snapshotZxid, z1(30));
    assert.deepStrictEqual(recovered.state.txns, []);
    assert.equal(recovered.result.lastZxid, z1(30));
    // Beyond the end nothing goes, and the log still continues after its real end.
    const { store: again } = await openRecovered(fs, STORE);
    await again.truncateAfter(z1(500));
    await assert.rejects(again.append(epochEntries(1, 501, 1)), /does not follow/);
    await appendSynced(again, HISTORY.slice(30, 40));
    await again.close();
    recovered = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(recovered.state.txns, HISTORY.slice(30, 40));
    // Without snapshots, truncating after 0 empties the log; any zxid may come next.
    const empty = await filled();
    await empty.store.truncateAfter(0);
    assert.deepStrictEqual(await namesWith(empty.fs, "log."), []);
    await appendSynced(empty.store, epochEntries(3, 7, 3));
    await empty.store.close();
    assert.deepStrictEqual(
      zxidsOf((await recoverOnce(empty.fs)).state.txns),
      range(7, 9).map((c) => zxidOf(3, c)),
    );
  });

  test("syncs earlier appends first: those at or below the zxid survive a power loss", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs, STORE);
    await appendSynced(store, HISTORY.slice(0, 20));
    await store.append(HISTORY.slice(20, 60));
    await store.truncateAfter(z1(45));
    fs.crash();
    const { store: again, state, result } = await openRecovered(fs, STORE);
    assert.deepStrictEqual(state.txns, HISTORY.slice(0, 45));
    assert.equal(result.lastZxid, z1(45));
    // Also when there is nothing to drop.
    await again.append(HISTORY.slice(45, 50));
    await again.truncateAfter(z1(60));
    fs.crash();
    assert.deepStrictEqual((await recoverOnce(fs, STORE)).state.txns, HISTORY.slice(0, 50));
  });

  test("below a snapshot it is refused, naming the snapshot, and nothing changes", async () => {
    const { fs, store } = await filled();
    await store.writeSnapshot(snapshotOf(z1(150), range(1, 150)));
    const error = await store.truncateAfter(z1(149)).then(() => null, (error: unknown) => error);
    assert.ok(error instanceof StorageError);
    assert.equal(error.file, `${DATA_DIR}/snapshot.0000000100000096`);
    assert.match(error.message, /installSnapshot/);
    await assert.rejects(store.truncateAfter(-1), RangeError);
    await store.truncateAfter(z1(180));
    await appendSynced(store, HISTORY.slice(180, 190));
    await store.close();
    const { state } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.txns, HISTORY.slice(150, 190));
  });

  test("an error after the commit point: the next operation completes the truncation first", async () => {
    const { fs, store } = await filled();
    fs.failWhen((context) => context.op === "truncate" && "EIO");
    await assert.rejects(store.truncateAfter(z1(100)), (error: unknown) => errorCodeOf(error) === "EIO");
    fs.failWhen(null);
    assert.deepStrictEqual(await namesWith(fs, "truncate."), ["truncate.0000000100000064"]);
    await appendSynced(store, epochEntries(2, 1, 3));
    assert.deepStrictEqual(await namesWith(fs, "truncate."), []);
    fs.crash();
    const { state } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.txns, [...HISTORY.slice(0, 100), ...epochEntries(2, 1, 3)]);
  });

  test("an error before the commit point changes nothing", async () => {
    const { fs, store } = await filled();
    fs.failWhen((context) => context.op === "writeFileAtomic" && "ENOSPC");
    await assert.rejects(store.truncateAfter(z1(100)), (error: unknown) => errorCodeOf(error) === "ENOSPC");
    fs.failWhen(null);
    await appendSynced(store, epochEntries(1, 201, 3));
    fs.crash();
    const { state } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.txns, [...HISTORY, ...epochEntries(1, 201, 3)]);
  });
});

describe("TxnStore epochs", () => {
  test("acceptedEpoch and currentEpoch round-trip, one or both at a time, 0 when absent", async () => {
    const fs = new MemoryFileSystem();
    let { store, result } = await openRecovered(fs);
    assert.deepStrictEqual([result.acceptedEpoch, result.currentEpoch], [0, 0]);
    await store.writeEpochs({ acceptedEpoch: 3 });
    await store.close();
    ({ store, result } = await openRecovered(fs));
    assert.deepStrictEqual([result.acceptedEpoch, result.currentEpoch], [3, 0]);
    await store.writeEpochs({ currentEpoch: 3 });
    await store.writeEpochs({ acceptedEpoch: 0x1f_ffff, currentEpoch: 4 });
    await store.writeEpochs({});
    fs.crash();
    ({ store, result } = await openRecovered(fs));
    assert.deepStrictEqual([result.acceptedEpoch, result.currentEpoch], [0x1f_ffff, 4]);
    assert.deepStrictEqual(await namesWith(fs, "acceptedEpoch"), ["acceptedEpoch"]);
    assert.deepStrictEqual(await namesWith(fs, "epochs."), []);
    const text = new TextDecoder().decode(await fs.readFile(`${DATA_DIR}/currentEpoch`));
    assert.match(text, /^4 crc32c:[0-9a-f]{8}\n$/);
    for (const bad of [-1, 1.5, 2 ** 21, Number.NaN]) {
      await assert.rejects(store.writeEpochs({ acceptedEpoch: bad }), RangeError);
    }
    await store.close();
  });

  test("writeEpochs syncs earlier appends first", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    await store.append(HISTORY.slice(0, 30));
    await store.writeEpochs({ currentEpoch: 1 });
    fs.crash();
    const { state, result } = await recoverOnce(fs);
    assert.deepStrictEqual(state.txns, HISTORY.slice(0, 30));
    assert.equal(result.currentEpoch, 1);
  });

  test("a damaged epoch file stops recovery with a StorageError naming it", async () => {
    const cases: Array<[string, (fs: MemoryFileSystem, path: string) => Promise<unknown>]> = [
      ["currentEpoch", async (fs, path) => fs.flipByte(path, 0)],
      ["acceptedEpoch", async (fs, path) => fs.flipByte(path, 4)],
      ["acceptedEpoch", (fs, path) => fs.writeFileAtomic(path, [new TextEncoder().encode("5\n")])],
      ["epochs.pending", (fs, path) => fs.writeFileAtomic(path, [new TextEncoder().encode("")])],
    ];
    for (const [name, damage] of cases) {
      const fs = new MemoryFileSystem();
      const { store } = await openRecovered(fs);
      await store.writeEpochs({ acceptedEpoch: 12, currentEpoch: 11 });
      await store.close();
      await damage(fs, `${DATA_DIR}/${name}`);
      await assert.rejects(
        openRecovered(fs),
        (error: unknown) =>
          error instanceof StorageError && error.file === `${DATA_DIR}/${name}` &&
          /damaged/.test(error.message),
        name,
      );
    }
  });
});

describe("TxnStore.installSnapshot", () => {
  test("replaces a diverged history: no old segment or snapshot (older or newer) comes back", async () => {
    const { fs, store } = await filled({ ...STORE, snapRetainCount: 5 });
    for (const counter of [50, 100, 180]) {
      await store.writeSnapshot(snapshotOf(z1(counter), range(1, counter)));
    }
    await store.writeEpochs({ acceptedEpoch: 2, currentEpoch: 1 });
    const leader = leaderSnapshot(z1(150), 40);
    await store.installSnapshot(leader.header, leader.nodes);
    assert.deepStrictEqual(await namesWith(fs, "snapshot."), ["snapshot.0000000100000096"]);
    assert.deepStrictEqual(await namesWith(fs, "log."), []);
    assert.deepStrictEqual(await namesWith(fs, "install."), []);
    // Appends continue after the snapshot: its epoch's next counter (or a later epoch).
    await assert.rejects(store.append(HISTORY.slice(151, 152)), /does not follow/);
    const next = [...epochEntries(1, 151, 20, 5), ...epochEntries(2, 1, 10)];
    await appendSynced(store, next, 6);
    await store.close();
    const { state, result } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.header, leader.header);
    assert.deepStrictEqual(state.nodes, leader.nodes);
    assert.deepStrictEqual(state.txns, next);
    assert.deepStrictEqual(result, {
      snapshotZxid: z1(150),
      lastZxid: zxidOf(2, 10),
      acceptedEpoch: 2,
      currentEpoch: 1,
    });
  });

  test("on an empty store, above everything, and twice in a row", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs, STORE);
    const first = leaderSnapshot(zxidOf(3, 9), 3);
    await store.installSnapshot(first.header, first.nodes);
    const second = leaderSnapshot(zxidOf(4, 2), 5);
    await store.installSnapshot(second.header, new Set(second.nodes));
    fs.crash();
    let recovered = await openRecovered(fs, STORE);
    assert.deepStrictEqual(recovered.state.nodes, second.nodes);
    assert.equal(recovered.result.lastZxid, zxidOf(4, 2));
    await appendSynced(recovered.store, epochEntries(4, 3, 5));
    const third = leaderSnapshot(zxidOf(4, 5), 0);
    await recovered.store.installSnapshot(third.header, []);
    await recovered.store.truncateAfter(zxidOf(4, 5));
    await recovered.store.close();
    recovered = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(recovered.state.nodes, []);
    assert.deepStrictEqual(recovered.state.txns, []);
    assert.equal(recovered.result.snapshotZxid, zxidOf(4, 5));
  });

  test("purge keeps working after an install", async () => {
    const fs = new MemoryFileSystem();
    const { store, lines } = await openRecovered(fs, { segmentBytesMax: 1200, snapRetainCount: 3 });
    await appendSynced(store, HISTORY.slice(0, 80));
    const leader = leaderSnapshot(z1(60), 10);
    await store.installSnapshot(leader.header, leader.nodes);
    const next = epochEntries(1, 61, 140, 6);
    for (let round = 0; round < 4; round++) {
      await appendSynced(store, next.slice(round * 35, round * 35 + 35), 7);
      const zxid = z1(60 + round * 35 + 30);
      await store.writeSnapshot(snapshotOf(zxid, range(1, 3)));
    }
    await store.close();
    assert.deepStrictEqual(
      (await namesWith(fs, "snapshot.")).map(zxidOfName),
      [z1(160), z1(195), z1(230)].map((z) => z - 35),
    );
    assert.ok(lines.some((line) => /purged .*snapshot\.000000010000003c/.test(line)), lines.join("\n"));
    const firstLog = zxidOfName((await namesWith(fs, "log."))[0]!);
    assert.ok(firstLog > z1(61) && firstLog <= z1(126), `first kept segment ${firstLog.toString(16)}`);
    const { state, result } = await recoverOnce(fs);
    assert.equal(result.snapshotZxid, z1(195));
    assert.deepStrictEqual(state.txns, next.slice(135));
    // Recovery can still fall back to the oldest kept snapshot.
    fs.flipByte(`${DATA_DIR}/snapshot.00000001000000c3`, 20);
    fs.flipByte(`${DATA_DIR}/snapshot.00000001000000a0`, 20);
    const fallback = await recoverOnce(fs);
    assert.equal(fallback.result.snapshotZxid, z1(125));
    assert.deepStrictEqual(fallback.state.txns, next.slice(65));
  });

  test("a snapshot being written when an install comes is abandoned, and its file never appears", async () => {
    const fs = new MemoryFileSystem();
    let install: Promise<void> | null = null;
    const leader = leaderSnapshot(z1(40), 4);
    const opened = await openRecovered(fs, {
      yieldToEventLoop: async () => {
        install ??= opened.store.installSnapshot(leader.header, leader.nodes);
      },
    });
    await appendSynced(opened.store, HISTORY.slice(0, 100));
    await assert.rejects(
      opened.store.writeSnapshot(snapshotOf(z1(100), range(1, 100)), { yieldEvery: 10 }),
      /abandoned/,
    );
    await install;
    // Called after the install, a snapshot is of the new state and goes through.
    await appendSynced(opened.store, epochEntries(1, 41, 5, 8));
    await opened.store.writeSnapshot(snapshotOf(z1(45), [1]));
    await opened.store.close();
    assert.deepStrictEqual(await namesWith(fs, "snapshot."), [
      "snapshot.0000000100000028",
      "snapshot.000000010000002d",
    ]);
    const { result, state } = await recoverOnce(fs);
    assert.equal(result.snapshotZxid, z1(45));
    assert.deepStrictEqual(state.nodes, [nodeFor(1)]);
  });

  test("a snapshot being written when a truncation comes is abandoned too", async () => {
    const fs = new MemoryFileSystem();
    let truncation: Promise<void> | null = null;
    const opened = await openRecovered(fs, {
      yieldToEventLoop: async () => {
        truncation ??= opened.store.truncateAfter(z1(50));
      },
    });
    await appendSynced(opened.store, HISTORY.slice(0, 100));
    await assert.rejects(
      opened.store.writeSnapshot(snapshotOf(z1(100), range(1, 100)), { yieldEvery: 10 }),
      /abandoned/,
    );
    await truncation;
    await opened.store.close();
    assert.deepStrictEqual(await namesWith(fs, "snapshot."), []);
    assert.deepStrictEqual((await recoverOnce(fs)).state.txns, HISTORY.slice(0, 50));
  });

  test("an error after the commit point: the next operation completes the install first", async () => {
    const { fs, store } = await filled();
    const leader = leaderSnapshot(z1(150), 10);
    fs.failWhen((context) => context.op === "rename" && "EIO");
    await assert.rejects(
      store.installSnapshot(leader.header, leader.nodes),
      (error: unknown) => errorCodeOf(error) === "EIO",
    );
    fs.failWhen(null);
    assert.deepStrictEqual(await namesWith(fs, "install."), ["install.0000000100000096"]);
    await store.writeEpochs({ currentEpoch: 1 });
    assert.deepStrictEqual(await namesWith(fs, "install."), []);
    await appendSynced(store, epochEntries(1, 151, 3, 4));
    fs.crash();
    const { state } = await recoverOnce(fs, STORE);
    assert.deepStrictEqual(state.nodes, leader.nodes);
    assert.deepStrictEqual(state.txns, epochEntries(1, 151, 3, 4));
  });

  test("an error before the commit point changes nothing; the old log goes on", async () => {
    const { fs, store } = await filled();
    const leader = leaderSnapshot(z1(150), 10);
    fs.failWhen((context) => context.op === "writeFileAtomic" && "ENOSPC");
    await assert.rejects(
      store.installSnapshot(leader.header, leader.nodes),
      (error: unknown) => errorCodeOf(error) === "ENOSPC",
    );
    fs.failWhen(null);
    await appendSynced(store, epochEntries(1, 201, 3));
    fs.crash();
    const { state } = await recoverOnce(fs, STORE);
    assert.equal(state.header, null);
    assert.deepStrictEqual(state.txns, [...HISTORY, ...epochEntries(1, 201, 3)]);
    await assert.rejects(store.installSnapshot({ zxid: -2, sessions: [] }, []), RangeError);
  });
});
