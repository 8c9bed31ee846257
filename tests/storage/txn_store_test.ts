import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { zxidOf } from "../../src/core/zxid.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { StorageError, TxnStore } from "../../src/storage/txn_store.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { entryOf, nodeFor, randomEntries, RecoveredState } from "./support/entries.ts";
import {
  appendSynced,
  DATA_DIR,
  openRecovered,
  range,
  recoverOnce,
  snapshotOf,
} from "./support/store_helpers.ts";

describe("TxnStore", () => {
  test("an empty store recovers nothing", async () => {
    const fs = new MemoryFileSystem();
    const { state, result } = await recoverOnce(fs);
    assert.deepStrictEqual(result, { snapshotZxid: 0, lastZxid: 0, acceptedEpoch: 0, currentEpoch: 0 });
    assert.equal(state.header, null);
    assert.deepStrictEqual(await fs.list(DATA_DIR), ["corral_storage_format"]);
  });

  test("txns round-trip across many segments and restarts", async () => {
    const fs = new MemoryFileSystem();
    const entries = randomEntries(createPrng(7), 1, 600);
    let { store } = await openRecovered(fs, { segmentBytesMax: 4096 });
    await appendSynced(store, entries.slice(0, 300), 7);
    await store.close();
    const second = await openRecovered(fs, { segmentBytesMax: 4096 });
    assert.deepStrictEqual(second.state.txns, entries.slice(0, 300));
    store = second.store;
    await appendSynced(store, entries.slice(300), 13);
    await store.close();
    const { state, result } = await recoverOnce(fs);
    assert.deepStrictEqual(state.txns, entries);
    assert.deepStrictEqual(result, { snapshotZxid: 0, lastZxid: 600, acceptedEpoch: 0, currentEpoch: 0 });
    const logs = (await fs.list(DATA_DIR)).filter((name) => name.startsWith("log."));
    assert.ok(logs.length > 5, `segments rolled: ${logs}`);
    assert.equal(logs[0], "log.0000000000000001");
    assert.ok(logs.every((name) => /^log\.[0-9a-f]{16}$/.test(name)));
  });

  test("dataLogDir holds the log apart from snapshots", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs, { dataLogDir: "/log" });
    await appendSynced(store, randomEntries(createPrng(1), 1, 20));
    await store.writeSnapshot(snapshotOf(20, range(1, 20)));
    await store.close();
    assert.deepStrictEqual(await fs.list("/log"), ["corral_storage_format", "log.0000000000000001"]);
    assert.ok((await fs.list(DATA_DIR)).includes("snapshot.0000000000000014"));
    const { result } = await recoverOnce(fs, { dataLogDir: "/log" });
    assert.deepStrictEqual(result, { snapshotZxid: 20, lastZxid: 20, acceptedEpoch: 0, currentEpoch: 0 });
  });

  test("append requires recover() first and zxids that continue the log", async () => {
    const fs = new MemoryFileSystem();
    const store = await TxnStore.open({ fs, dataDir: DATA_DIR });
    await assert.rejects(store.append([entryOf(1, { type: "delete", path: "/a" })]), StorageError);
    await store.recover(new RecoveredState());
    await assert.rejects(store.recover(new RecoveredState()));
    await store.append([entryOf(5, { type: "delete", path: "/a" })]);
    await assert.rejects(store.append([entryOf(7, { type: "delete", path: "/a" })]), /does not follow/);
    await assert.rejects(store.append([entryOf(5, { type: "delete", path: "/a" })]), /does not follow/);
    // A new epoch may start its counter anywhere above.
    await store.append([
      entryOf(6, { type: "delete", path: "/a" }),
      entryOf(zxidOf(1, 1), { type: "delete", path: "/b" }),
    ]);
    await store.sync();
    await store.close();
    await assert.rejects(store.sync(), /closed/);
    const { state } = await recoverOnce(fs);
    assert.deepStrictEqual(state.zxids, [5, 6, zxidOf(1, 1)]);
  });

  test("snapshot + log replay gives the same txns (fuzzy: appends go on while it is written)", async () => {
    const fs = new MemoryFileSystem();
    const entries = randomEntries(createPrng(3), 1, 400);
    let next = 0;
    // Every yield of the snapshot lets the "server" commit another batch.
    const yieldToEventLoop = async () => {
      await opened.store.append(entries.slice(next, next + 10));
      await opened.store.sync();
      next += 10;
    };
    const opened = await openRecovered(fs, { segmentBytesMax: 2048, yieldToEventLoop });
    const { store } = opened;
    await appendSynced(store, entries.slice(0, 100));
    next = 100;
    const result = await store.writeSnapshot(snapshotOf(100, range(1, 100)), {
      nodesPerRecord: 7,
      yieldEvery: 5,
    });
    assert.deepStrictEqual(result.nodes, 100);
    assert.equal(result.path, `${DATA_DIR}/snapshot.0000000000000064`);
    assert.equal(next, 300);
    await appendSynced(store, entries.slice(300));
    await store.close();
    const { state, result: recovered } = await recoverOnce(fs);
    assert.deepStrictEqual(recovered, {
      snapshotZxid: 100,
      lastZxid: 400,
      acceptedEpoch: 0,
      currentEpoch: 0,
    });
    assert.deepStrictEqual(state.header, { zxid: 100, sessions: [{ sessionId: -5n, timeoutMs: 3000 }] });
    assert.deepStrictEqual(state.nodes, range(1, 100).map((zxid) => nodeFor(zxid)));
    assert.deepStrictEqual(state.txns, entries.slice(100));
  });

  test("snapshot nodes keep data, ACLs and owners exactly; shared ACLs are stored once", async () => {
    const fs = new MemoryFileSystem();
    const { store } = await openRecovered(fs);
    const acl = [{ perms: 3, id: { scheme: "digest", id: "bob:x" } }];
    const nodes = [
      { ...nodeFor(1), data: null, ephemeralOwner: -3n },
      { ...nodeFor(2), acl },
      { ...nodeFor(3), acl: [...acl], data: new Uint8Array(0), ephemeralOwner: 0x7fff_ffff_ffff_ffffn },
      { ...nodeFor(4), acl: [] },
    ];
    const header = {
      zxid: 0,
      sessions: [{ sessionId: -(2n ** 63n), timeoutMs: 1 }, { sessionId: 9n, timeoutMs: 2 }],
    };
    await store.writeSnapshot({ header, nodes: nodes[Symbol.iterator]() });
    await store.close();
    const { state } = await recoverOnce(fs);
    assert.deepStrictEqual(state.header, header);
    assert.deepStrictEqual(state.nodes, nodes);
    assert.equal(state.nodes[1]!.acl, state.nodes[2]!.acl);
  });

  test("purge keeps snapRetainCount snapshots and the segments recovery from the oldest needs", async () => {
    const fs = new MemoryFileSystem();
    const entries = randomEntries(createPrng(11), 1, 1000);
    const { store, lines } = await openRecovered(fs, { segmentBytesMax: 1500, snapRetainCount: 1 });
    for (let index = 0; index < 10; index++) {
      await appendSynced(store, entries.slice(index * 100, index * 100 + 100), 9);
      // A snapshot of the state a little behind the log, as a fuzzy one is.
      const zxid = index * 100 + 95;
      await store.writeSnapshot(snapshotOf(zxid, range(1, zxid)));
    }
    await store.close();
    const names = await fs.list(DATA_DIR);
    assert.deepStrictEqual(names.filter((name) => name.startsWith("snapshot.")), [
      "snapshot.000000000000031b",
      "snapshot.000000000000037f",
      "snapshot.00000000000003e3",
    ]);
    assert.ok(lines.some((line) => line.startsWith("info: purged ")));
    const logs = names.filter((name) => name.startsWith("log."));
    const firstKept = parseInt(logs[0]!.slice(4), 16);
    assert.ok(firstKept > 1 && firstKept <= 795 + 1, `first kept segment ${logs[0]}`);
    // Recovery from each kept snapshot (newer ones damaged) still yields every txn.
    for (
      const [snapshot, zxid] of [["snapshot.00000000000003e3", 995], [
        "snapshot.000000000000037f",
        895,
      ]] as const
    ) {
      const { state, result } = await recoverOnce(fs);
      assert.equal(result.snapshotZxid, zxid);
      assert.equal(result.lastZxid, 1000);
      assert.deepStrictEqual(state.txns, entries.slice(zxid));
      fs.flipByte(`${DATA_DIR}/${snapshot}`, 20);
    }
    const { state, result } = await recoverOnce(fs);
    assert.equal(result.snapshotZxid, 795);
    assert.deepStrictEqual(state.txns, entries.slice(795));
  });
});
