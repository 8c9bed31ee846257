/**
 * The storage layer's only window on files. Two implementations: NodeFileSystem (node:fs/promises,
 * which Node, Deno and Bun all provide) and MemoryFileSystem (tests and the simulator, with faults).
 * Keeping the surface this small is what lets the simulator model every durability rule the real
 * disk has: appended bytes are durable only after `sync`, a new name only after its directory is
 * synced.
 */

/** A file opened for appending. Writes go to the end; `size` counts unsynced bytes too. */
export interface StorageFile {
  /**
   * Once the promise settles the file no longer reads `bytes`: the caller may reuse the buffer. On
   * failure the file may hold any prefix of `bytes`, and `size` may not count it (a runtime's write
   * may not say how much it wrote): truncate to a known size before appending again.
   */
  append(bytes: Uint8Array): Promise<void>;
  /** fdatasync: everything appended (and any truncation) so far becomes durable. */
  sync(): Promise<void>;
  /** The current length in bytes, including bytes not yet synced. */
  readonly size: number;
  close(): Promise<void>;
  /** Cuts the file to `size` bytes; later appends continue from there. */
  truncate(size: number): Promise<void>;
}

export interface FileSystem {
  /** Names (not paths) of the entries in `dir`; [] when the directory does not exist. */
  list(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  /** Opens (creating it if needed, and then syncing its directory) a file for appending. */
  openAppend(path: string): Promise<StorageFile>;
  /**
   * Writes `chunks` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
   * the directory, so `path` holds either the old content or all of the new one. Returns the bytes
   * written.
   */
  writeFileAtomic(
    path: string,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<number>;
  /**
   * Renames `from` to `to` atomically, replacing `to` if it exists. Like a removal, the change is
   * durable only once the directory is synced (before that a power loss may undo it).
   */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file; no error if it does not exist. Durable once the directory is synced. */
  remove(path: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** fsync of a directory: makes created, renamed and removed names in it durable. */
  syncDir(dir: string): Promise<void>;
  join(...parts: string[]): string;
}

/** The suffix writeFileAtomic gives its temporary files; leftovers of a crash may be removed. */
export const TEMPORARY_SUFFIX = ".tmp";

/** Error codes the storage layer reacts to, as Node reports them in `error.code`. */
export type FileErrorCode = "ENOSPC" | "EIO" | "ENOENT" | "EBADF";

/** An error with a Node-style `code`, thrown by MemoryFileSystem for injected faults. */
export class FileSystemError extends Error {
  readonly code: FileErrorCode;
  readonly path: string;

  constructor(code: FileErrorCode, path: string, message: string) {
    super(`${code}: ${message} (${path})`);
    this.name = "FileSystemError";
    this.code = code;
    this.path = path;
  }
}

/** The `code` of an error thrown by a file system (Node's or ours), if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
