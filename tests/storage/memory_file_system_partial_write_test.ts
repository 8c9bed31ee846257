/**
 * MemoryFileSystem's part-way write failures: an append that writes exactly n of its bytes and then
 * fails, and (unreportedPartialWrites) a handle whose `size` does not count those bytes, as Deno's
 * write does when the disk fills (it throws "no space" without saying how much it wrote).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { errorCodeOf } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";

const BYTES = new Uint8Array(100).map((_, index) => index + 1);

async function freshFile(fs: MemoryFileSystem) {
  await fs.mkdirp("/d");
  const file = await fs.openAppend("/d/f");
  await file.append(BYTES.subarray(0, 10));
  await file.sync();
  return file;
}

describe("MemoryFileSystem part-way write failures", () => {
  test("failWhen({ code, bytesWritten }) writes exactly that many bytes, then fails", async () => {
    for (const bytesWritten of [0, 1, 37, 99, 100, 500]) {
      const fs = new MemoryFileSystem();
      const file = await freshFile(fs);
      fs.failWhen((context) => context.op === "append" && { code: "ENOSPC", bytesWritten });
      await assert.rejects(file.append(BYTES), (error: unknown) => errorCodeOf(error) === "ENOSPC");
      const kept = Math.min(bytesWritten, BYTES.length);
      assert.deepStrictEqual(await fs.readFile("/d/f"), new Uint8Array([...BYTES.subarray(0, 10), ...BYTES.subarray(0, kept)]));
      // By default the handle's size is exact.
      assert.equal(file.size, 10 + kept);
    }
  });

  test("with unreportedPartialWrites the size leaves out a failed append's bytes until a truncate", async () => {
    const fs = new MemoryFileSystem({ unreportedPartialWrites: true });
    const file = await freshFile(fs);
    fs.failWhen((context) => context.op === "append" && { code: "ENOSPC", bytesWritten: 37 });
    await assert.rejects(file.append(BYTES), (error: unknown) => errorCodeOf(error) === "ENOSPC");
    fs.failWhen(null);
    assert.equal((await fs.readFile("/d/f")).length, 47, "the partial bytes are in the file");
    assert.equal(file.size, 10, "but the handle does not know");
    await file.append(BYTES.subarray(0, 5));
    assert.equal(file.size, 15);
    assert.equal((await fs.readFile("/d/f")).length, 52, "appended behind the partial bytes");
    await file.truncate(10);
    assert.equal(file.size, 10);
    assert.equal((await fs.readFile("/d/f")).length, 10);
  });
});
