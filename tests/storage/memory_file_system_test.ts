import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FileSystemError } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof FileSystemError && error.code === code);
}

/** A sleep on virtual time: each call waits until the test releases it. */
class VirtualSleep {
  #waiting: Array<() => void> = [];
  sleep = (_ms: number): Promise<void> => new Promise<void>((resolve) => this.#waiting.push(resolve));

  releaseOne(): void {
    this.#waiting.shift()?.();
  }

  async flush(): Promise<void> {
    for (let turn = 0; turn < 20; turn++) await Promise.resolve();
  }

  /** Releases sleeps one by one until `promise` settles (bounded). */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => settled = true);
    watched.catch(() => {});
    for (let step = 0; step < 100 && !settled; step++) {
      await this.flush();
      this.releaseOne();
    }
    return watched;
  }
}

describe("MemoryFileSystem", () => {
  test("crash() keeps exactly what was synced and kills open handles", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/d");
    const file = await fs.openAppend("/d/f");
    await file.append(bytes(1, 2, 3));
    await file.sync();
    await file.append(bytes(4, 5));
    assert.equal(file.size, 5);
    fs.crash();
    assert.deepStrictEqual(await fs.readFile("/d/f"), bytes(1, 2, 3));
    await rejectsWithCode(file.append(bytes(6)), "EIO");
    const reopened = await fs.openAppend("/d/f");
    assert.equal(reopened.size, 3);
  });

  test("tearLastWrite keeps a seeded random prefix of the unsynced tail", async () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const fs = new MemoryFileSystem({ seed, tearLastWrite: true });
      await fs.mkdirp("/d");
      const file = await fs.openAppend("/d/f");
      await file.append(bytes(1));
      await file.sync();
      await file.append(bytes(2, 3, 4, 5, 6, 7, 8, 9));
      fs.crash();
      const after = await fs.readFile("/d/f");
      assert.deepStrictEqual(after, bytes(1, 2, 3, 4, 5, 6, 7, 8, 9).subarray(0, after.length));
      kept.add(after.length);
    }
    assert.ok(kept.size > 3, `torn lengths vary with the seed: ${[...kept]}`);
  });

  test("a name created but never synced into its directory vanishes on crash", async () => {
    const clock = new VirtualSleep();
    const fs = new MemoryFileSystem({ latencyMs: 1, sleep: clock.sleep });
    await clock.drive(fs.mkdirp("/d"));
    const opening = fs.openAppend("/d/new");
    // openAppend waits once before creating the file and once more before syncing the directory.
    await clock.flush();
    clock.releaseOne();
    await clock.flush();
    fs.crash();
    await assert.rejects(clock.drive(opening), (error: unknown) => error instanceof FileSystemError);
    assert.deepStrictEqual(await clock.drive(fs.list("/d")), []);
  });

  test("flipByte() corrupts one byte; writeFileAtomic() replaces a file whole", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/d");
    assert.equal(await fs.writeFileAtomic("/d/s", [bytes(1, 2), bytes(3)]), 3);
    fs.flipByte("/d/s", 1);
    assert.deepStrictEqual(await fs.readFile("/d/s"), bytes(1, 0xfd, 3));
    assert.throws(() => fs.flipByte("/d/s", 3), RangeError);
    fs.crash();
    assert.deepStrictEqual(await fs.list("/d"), ["s"]);
    await fs.remove("/d/s");
    await fs.remove("/d/s");
    assert.deepStrictEqual(await fs.list("/d"), []);
  });

  test("removals and renames are undone by a crash until the directory is synced", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/d");
    await fs.writeFileAtomic("/d/a", [bytes(1)]);
    await fs.writeFileAtomic("/d/b", [bytes(2)]);
    await fs.writeFileAtomic("/d/c", [bytes(3)]);
    await fs.remove("/d/a");
    await fs.rename("/d/b", "/d/c");
    assert.deepStrictEqual(await fs.list("/d"), ["c"]);
    assert.deepStrictEqual(await fs.readFile("/d/c"), bytes(2));
    fs.crash();
    assert.deepStrictEqual(await fs.list("/d"), ["a", "b", "c"]);
    assert.deepStrictEqual(await fs.readFile("/d/c"), bytes(3));
    await fs.remove("/d/a");
    await fs.rename("/d/b", "/d/c");
    await fs.syncDir("/d");
    fs.crash();
    assert.deepStrictEqual(await fs.list("/d"), ["c"]);
    assert.deepStrictEqual(await fs.readFile("/d/c"), bytes(2));
    await rejectsWithCode(fs.rename("/d/missing", "/d/x"), "ENOENT");
  });

  test("a truncation is undone by a crash until the file is synced", async () => {
    const fs = new MemoryFileSystem({ tearLastWrite: true });
    await fs.mkdirp("/d");
    const file = await fs.openAppend("/d/f");
    await file.append(bytes(1, 2, 3, 4));
    await file.sync();
    await file.truncate(1);
    await file.append(bytes(9));
    fs.crash();
    assert.deepStrictEqual(await fs.readFile("/d/f"), bytes(1, 2, 3, 4));
    const again = await fs.openAppend("/d/f");
    await again.truncate(2);
    await again.sync();
    fs.crash();
    assert.deepStrictEqual(await fs.readFile("/d/f"), bytes(1, 2));
  });

  test("failNextWrites() fails appends with a Node-style code, possibly after a partial write", async () => {
    const fs = new MemoryFileSystem({ seed: 3 });
    await fs.mkdirp("/d");
    const file = await fs.openAppend("/d/f");
    fs.failNextWrites(2, "ENOSPC");
    await rejectsWithCode(file.append(bytes(1, 2, 3, 4)), "ENOSPC");
    await rejectsWithCode(file.sync(), "ENOSPC");
    assert.ok(file.size <= 4);
    await file.truncate(0);
    await file.append(bytes(7));
    await file.sync();
    assert.deepStrictEqual(await fs.readFile("/d/f"), bytes(7));
  });

  test("failWhen() fails the operations its predicate picks until removed", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/d");
    const file = await fs.openAppend("/d/f");
    fs.failWhen((context) => context.op === "sync" && "EIO");
    await file.append(bytes(1));
    await rejectsWithCode(file.sync(), "EIO");
    await rejectsWithCode(fs.writeFileAtomic("/d/g", [bytes(1)]).then(() => file.sync()), "EIO");
    fs.failWhen(null);
    await file.sync();
    assert.equal(fs.syncedSize("/d/f"), 1);
  });

  test("latency goes through the injected sleep (virtual time)", async () => {
    const slept: number[] = [];
    const fs = new MemoryFileSystem({ latencyMs: 7, sleep: (ms) => (slept.push(ms), Promise.resolve()) });
    await fs.mkdirp("/d");
    const file = await fs.openAppend("/d/f");
    await file.append(bytes(1));
    await file.sync();
    assert.ok(slept.length >= 4 && slept.every((ms) => ms === 7));
  });

  test("list() shows files and subdirectories, and join() normalizes", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/a/b/c");
    await fs.writeFileAtomic(fs.join("/a/", "b", "x"), [bytes(1)]);
    assert.equal(fs.join("/a/", "b/", "x"), "/a/b/x");
    assert.deepStrictEqual(await fs.list("/a/b"), ["c", "x"]);
    assert.deepStrictEqual(await fs.list("/missing"), []);
  });
});
