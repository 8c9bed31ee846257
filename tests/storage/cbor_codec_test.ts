import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeTxnEntry, encodeTxnEntry } from "../../src/storage/cbor_codec.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { TxnStore } from "../../src/storage/txn_store.ts";
import { entryOf, everyTxnVariant, RecoveredState } from "./support/entries.ts";

const SESSION_IDS = [0n, 1n, -1n, 0x7fff_ffff_ffff_ffffn, -0x8000_0000_0000_0000n, 0x1234_5678_9abcn];

describe("TxnEntry encoding", () => {
  test("every Txn variant round-trips exactly, bigint and Uint8Array included", () => {
    everyTxnVariant().forEach((txn, index) => {
      const entry = entryOf(2 ** 40 + index, txn, SESSION_IDS[index % SESSION_IDS.length]);
      const decoded = decodeTxnEntry(encodeTxnEntry(entry));
      assert.deepStrictEqual(decoded, entry);
    });
  });

  test("decoded byte strings are plain Uint8Arrays and ids stay bigint", () => {
    const entry = entryOf(5, { type: "setData", path: "/x", data: new Uint8Array([1, 2]), version: 0 }, -7n);
    const decoded = decodeTxnEntry(encodeTxnEntry(entry));
    assert.equal(typeof decoded.header.sessionId, "bigint");
    assert.equal(decoded.header.sessionId, -7n);
    assert.ok(decoded.txn.type === "setData" && decoded.txn.data?.constructor === Uint8Array);
  });

  test("the encoding is the same bytes on every runtime", () => {
    const entry = entryOf(0x1_0000_0002, { type: "check", path: "/a", version: 1 }, -2n);
    const hex = Array.from(encodeTxnEntry(entry), (byte) => byte.toString(16).padStart(2, "0")).join("");
    assert.equal(
      hex,
      "b9000266686561646572b900046973657373696f6e49643b0000000000000001646378696419012a647a786964" +
        "fb41f00000002000006474696d65fb4278ccfe568020006374786eb90003647479706565636865636b6470617468622f616776657273696f6e01",
    );
  });

  test("every Txn variant round-trips through the log of a TxnStore", async () => {
    const fs = new MemoryFileSystem();
    const store = await TxnStore.open({ fs, dataDir: "/data" });
    await store.recover(new RecoveredState());
    const entries = everyTxnVariant().map((txn, index) => entryOf(index + 1, txn, SESSION_IDS[index % 6]));
    await store.append(entries);
    await store.sync();
    await store.close();
    const reopened = await TxnStore.open({ fs, dataDir: "/data" });
    const state = new RecoveredState();
    assert.deepStrictEqual(await reopened.recover(state), {
      snapshotZxid: 0,
      lastZxid: entries.length,
      acceptedEpoch: 0,
      currentEpoch: 0,
    });
    assert.deepStrictEqual(state.txns, entries);
  });
});
