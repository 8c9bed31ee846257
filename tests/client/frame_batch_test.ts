import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FRAME_BATCH_BYTES_MAX, FrameBatch } from "../../src/client/frame_batch.ts";

function recorder(): { writes: { attempt: number; bytes: Uint8Array }[]; batch: FrameBatch } {
  const writes: { attempt: number; bytes: Uint8Array }[] = [];
  return { writes, batch: new FrameBatch((attempt, bytes) => writes.push({ attempt, bytes })) };
}

function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/** Resolves after the microtasks queued so far (the batch's flush among them) have run. */
function afterMicrotasks(): Promise<void> {
  return Promise.resolve();
}

describe("FrameBatch", () => {
  test("frames added in one synchronous stretch go out as one write, in order, after it", async () => {
    const { writes, batch } = recorder();
    batch.add(1, Uint8Array.of(1, 2));
    batch.add(1, Uint8Array.of(3));
    batch.add(1, Uint8Array.of(4, 5, 6));
    assert.equal(writes.length, 0, "nothing is written while the stretch runs");
    await afterMicrotasks();
    assert.deepEqual(writes, [{ attempt: 1, bytes: Uint8Array.of(1, 2, 3, 4, 5, 6) }]);
    batch.add(1, Uint8Array.of(7));
    await afterMicrotasks();
    assert.equal(writes.length, 2, "a later stretch gets its own write");
  });

  test("a lone frame is written as it is, without a copy", async () => {
    const { writes, batch } = recorder();
    const frame = Uint8Array.of(9, 9);
    batch.add(3, frame);
    await afterMicrotasks();
    assert.equal(writes.length, 1);
    assert.equal(writes[0]!.bytes, frame);
  });

  test("a batch is written early once it would exceed the bound, keeping the order", async () => {
    const { writes, batch } = recorder();
    const half = FRAME_BATCH_BYTES_MAX / 2;
    batch.add(1, bytes(half, 1));
    batch.add(1, bytes(half, 2));
    assert.equal(writes.length, 0, "exactly the bound still waits");
    batch.add(1, bytes(10, 3));
    assert.equal(writes.length, 1, "the full batch went out before the frame that did not fit");
    assert.equal(writes[0]!.bytes.length, FRAME_BATCH_BYTES_MAX);
    await afterMicrotasks();
    assert.deepEqual(writes[1]!.bytes, bytes(10, 3));
  });

  test("a frame as large as the bound is written at once, after what was held", () => {
    const { writes, batch } = recorder();
    const large = bytes(FRAME_BATCH_BYTES_MAX, 7);
    batch.add(1, Uint8Array.of(1));
    batch.add(1, large);
    assert.deepEqual(writes.map((write) => write.bytes.length), [1, FRAME_BATCH_BYTES_MAX]);
    assert.equal(writes[1]!.bytes, large);
  });

  test("frames of another connection attempt never share a write", async () => {
    const { writes, batch } = recorder();
    batch.add(1, Uint8Array.of(1));
    batch.add(2, Uint8Array.of(2));
    batch.add(2, Uint8Array.of(3));
    await afterMicrotasks();
    assert.deepEqual(writes, [
      { attempt: 1, bytes: Uint8Array.of(1) },
      { attempt: 2, bytes: Uint8Array.of(2, 3) },
    ]);
  });

  test("flush() writes at once; the scheduled flush then finds nothing", async () => {
    const { writes, batch } = recorder();
    batch.add(1, Uint8Array.of(1));
    batch.add(1, Uint8Array.of(2));
    batch.flush();
    assert.deepEqual(writes, [{ attempt: 1, bytes: Uint8Array.of(1, 2) }]);
    await afterMicrotasks();
    assert.equal(writes.length, 1);
  });
});
