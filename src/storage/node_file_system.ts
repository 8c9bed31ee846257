/**
 * FileSystem on node:fs/promises, which Node, Deno and Bun all implement, so one adapter serves the
 * three runtimes. Durability: FileHandle.datasync() for appends, fsync of the file before a rename,
 * and fsync of the directory after a file is created or renamed (otherwise the new name itself can
 * vanish on power loss).
 */
import { mkdir, open, readdir, readFile, rename as renameFile, stat, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errorCodeOf, TEMPORARY_SUFFIX } from "./file_system.ts";
import type { FileSystem, StorageFile } from "./file_system.ts";

class NodeStorageFile implements StorageFile {
  #handle: FileHandle;
  #size: number;

  constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  async append(bytes: Uint8Array): Promise<void> {
    // The file is opened with O_APPEND, so the position argument is ignored; loop because a
    // write may be short.
    let written = 0;
    try {
      while (written < bytes.length) {
        const { bytesWritten } = await this.#handle.write(bytes, written, bytes.length - written);
        if (bytesWritten <= 0) throw new Error("write made no progress");
        written += bytesWritten;
        this.#size += bytesWritten;
      }
    } catch (error) {
      // Deno's write throws "no space" without saying how many bytes it wrote before: ask the file.
      // (Callers cut the file back to a size they know anyway; this keeps `size` honest meanwhile.)
      await this.#handle.stat().then((stats) => this.#size = stats.size, () => {});
      throw error;
    }
  }

  async sync(): Promise<void> {
    await this.#handle.datasync();
  }

  async truncate(size: number): Promise<void> {
    await this.#handle.truncate(size);
    this.#size = size;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errorCodeOf(error) === "ENOENT") return false;
    throw error;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
    if (bytesWritten <= 0) throw new Error("write made no progress");
    written += bytesWritten;
  }
}

export class NodeFileSystem implements FileSystem {
  async list(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if (errorCodeOf(error) === "ENOENT") return [];
      throw error;
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    const buffer = await readFile(path);
    // A plain Uint8Array view, so decoders and deepEqual never see a Buffer.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  async openAppend(path: string): Promise<StorageFile> {
    const existed = await fileExists(path);
    const handle = await open(path, "a");
    try {
      const { size } = await handle.stat();
      if (!existed) await this.syncDir(dirname(path));
      return new NodeStorageFile(handle, size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async writeFileAtomic(
    path: string,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<number> {
    const temporary = path + TEMPORARY_SUFFIX;
    const handle = await open(temporary, "w");
    let total = 0;
    try {
      for await (const chunk of chunks) {
        await writeAll(handle, chunk);
        total += chunk.length;
      }
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => {});
      await this.remove(temporary).catch(() => {});
      throw error;
    }
    await handle.close();
    await renameFile(temporary, path);
    await this.syncDir(dirname(path));
    return total;
  }

  async rename(from: string, to: string): Promise<void> {
    await renameFile(from, to);
  }

  async remove(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (error) {
      if (errorCodeOf(error) !== "ENOENT") throw error;
    }
  }

  async mkdirp(dir: string): Promise<void> {
    const created = await mkdir(dir, { recursive: true });
    // mkdir returns the first directory it created: its parent must learn the new name durably.
    if (created !== undefined) await this.syncDir(dirname(created));
  }

  async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  join(...parts: string[]): string {
    return join(...parts);
  }
}
