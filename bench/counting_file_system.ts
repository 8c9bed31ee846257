/**
 * A FileSystem that passes everything to another one and counts the syncs, so a benchmark can tell
 * how many txns each log fsync carried (group commit) without reaching into the storage layer.
 */
import type { FileSystem, StorageFile } from "../src/storage/file_system.ts";

export interface SyncCounts {
  /** StorageFile.sync calls: the log's fdatasyncs (group commit batches, segment rolls). */
  fileSyncs: number;
  /** syncDir calls: new or renamed names made durable (segments, snapshots). */
  dirSyncs: number;
}

class CountingFile implements StorageFile {
  readonly #file: StorageFile;
  readonly #counts: SyncCounts;

  constructor(file: StorageFile, counts: SyncCounts) {
    this.#file = file;
    this.#counts = counts;
  }

  get size(): number {
    return this.#file.size;
  }

  append(bytes: Uint8Array): Promise<void> {
    return this.#file.append(bytes);
  }

  async sync(): Promise<void> {
    await this.#file.sync();
    this.#counts.fileSyncs++;
  }

  truncate(size: number): Promise<void> {
    return this.#file.truncate(size);
  }

  close(): Promise<void> {
    return this.#file.close();
  }
}

export class CountingFileSystem implements FileSystem {
  readonly #inner: FileSystem;
  /** Running totals; read them before and after a phase and subtract. */
  readonly counts: SyncCounts = { fileSyncs: 0, dirSyncs: 0 };

  constructor(inner: FileSystem) {
    this.#inner = inner;
  }

  list(dir: string): Promise<string[]> {
    return this.#inner.list(dir);
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#inner.readFile(path);
  }

  async openAppend(path: string): Promise<StorageFile> {
    return new CountingFile(await this.#inner.openAppend(path), this.counts);
  }

  writeFileAtomic(path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    return this.#inner.writeFileAtomic(path, chunks);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#inner.rename(from, to);
  }

  remove(path: string): Promise<void> {
    return this.#inner.remove(path);
  }

  mkdirp(dir: string): Promise<void> {
    return this.#inner.mkdirp(dir);
  }

  async syncDir(dir: string): Promise<void> {
    await this.#inner.syncDir(dir);
    this.counts.dirSyncs++;
  }

  join(...parts: string[]): string {
    return this.#inner.join(...parts);
  }
}
