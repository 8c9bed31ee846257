/**
 * Setting both Zab epochs goes through an intent file (epochs.pending, see epoch_files.ts). Once
 * writeEpochs resolves the write is finished, and finished durably: removing the intent is a
 * directory change, so the directory must be synced after it, or a power loss brings the intent
 * back. The epochs it would rewrite are the same, but the restart then has to write before it can
 * read (two atomic file writes and a removal), which fails on a full or failing disk: a replica that
 * acknowledged its epochs and lost power could not start again until space is freed. These tests use
 * MemoryFileSystem's crash model, in which a removal not followed by a directory sync is undone.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "../../src/storage/crc32c.ts";
import { EPOCHS_PENDING_NAME } from "../../src/storage/epoch_files.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { DATA_DIR, openRecovered } from "./support/store_helpers.ts";

async function pendingIntent(fs: MemoryFileSystem): Promise<boolean> {
  return (await fs.list(DATA_DIR)).includes(EPOCHS_PENDING_NAME);
}

/** A store that durably set both epochs to `epoch`, then lost power. */
async function bothEpochsSetThenPowerLoss(epoch: number): Promise<MemoryFileSystem> {
  const fs = new MemoryFileSystem();
  const { store } = await openRecovered(fs);
  await store.writeEpochs({ acceptedEpoch: epoch, currentEpoch: epoch });
  assert.equal(await pendingIntent(fs), false, "the intent is gone once writeEpochs resolves");
  fs.crash();
  return fs;
}

describe("a finished write of both epochs leaves no intent behind a power loss", () => {
  test("after writeEpochs resolves, a crash does not bring epochs.pending back", async () => {
    const fs = await bothEpochsSetThenPowerLoss(7);
    assert.equal(await pendingIntent(fs), false, "the intent's removal was made durable (directory synced)");
    const { store, result } = await openRecovered(fs);
    assert.equal(result.acceptedEpoch, 7);
    assert.equal(result.currentEpoch, 7);
    await store.close();
  });

  test("so a restart on a full disk reads the epochs without having to write them again", async () => {
    const fs = await bothEpochsSetThenPowerLoss(9);
    const refused: string[] = [];
    fs.failWhen((context) => {
      if (context.op !== "writeFileAtomic") return undefined;
      refused.push(context.path);
      return "ENOSPC";
    });
    let opened: Awaited<ReturnType<typeof openRecovered>>;
    try {
      opened = await openRecovered(fs);
    } catch (error) {
      assert.fail(`recovery had to write ${refused.join(", ")} and failed: ${String(error)}`);
    }
    assert.deepEqual(refused, [], "nothing was left to redo");
    assert.equal(opened.result.acceptedEpoch, 9);
    assert.equal(opened.result.currentEpoch, 9);
    fs.failWhen(null);
    await opened.store.close();
  });

  test("the same holds when recovery itself finished an interrupted write", async () => {
    const fs = new MemoryFileSystem();
    const first = await openRecovered(fs);
    await first.store.close();
    // A crash right after the intent was written: recovery must complete it, durably.
    await fs.writeFileAtomic(`${DATA_DIR}/${EPOCHS_PENDING_NAME}`, [
      new TextEncoder().encode(intentLine(4, 3)),
    ]);
    fs.crash();
    const second = await openRecovered(fs);
    assert.equal(second.result.acceptedEpoch, 4);
    assert.equal(second.result.currentEpoch, 3);
    await second.store.close();
    fs.crash();
    assert.equal(await pendingIntent(fs), false, "the completed intent stays removed across a power loss");
  });
});

/** The intent's line as epoch_files.ts writes it: "<accepted> <current> crc32c:<hex>". */
function intentLine(accepted: number, current: number): string {
  const text = `${accepted} ${current}`;
  return `${text} crc32c:${crc32cHex(text)}\n`;
}

function crc32cHex(text: string): string {
  return crc32c(new TextEncoder().encode(text)).toString(16).padStart(8, "0");
}
