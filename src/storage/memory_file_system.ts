/**
 * An in-memory FileSystem for tests and the simulator that models what a disk may do on power loss
 * and lets tests inject faults:
 * - killProcess(): open handles die, unsynced bytes stay (a later crash() may still drop them).
 * - crash(): every file keeps only what was synced (or, with tearLastWrite, a seeded random prefix
 *   of its unsynced tail); a name whose directory was never synced vanishes, and a name removed or
 *   renamed away since its directory was last synced comes back; a truncation not yet synced is
 *   undone; open handles die.
 * - flipByte(), failNextWrites(), failWhen(): silent corruption and ENOSPC/EIO errors. A failed
 *   append writes part of its bytes first: a seeded random prefix, or exactly as many as failWhen()
 *   says ({ code, bytesWritten }); with unreportedPartialWrites the handle's `size` does not count
 *   them, as under Deno, whose write throws "no space" without saying how much it wrote.
 * - latencyMs with an injectable `sleep` (told which operation waits), so the simulator can run it
 *   on virtual time.
 * - For the simulator: crash() may be told how many unsynced bytes each file keeps (a torn write
 *   of any byte length), setLyingSync() makes a file's sync report success without making anything
 *   durable (a disk that lies about fsync), flipBit() corrupts one bit, and files() lists what is
 *   stored and how much of it is durable.
 */
import { createPrng } from "../testing/prng.ts";
import type { Prng } from "../testing/prng.ts";
import { FileSystemError, TEMPORARY_SUFFIX } from "./file_system.ts";
import type { FileSystem, StorageFile } from "./file_system.ts";

export type FaultOp =
  | "openAppend"
  | "append"
  | "sync"
  | "truncate"
  | "writeFileAtomic"
  | "syncDir"
  | "rename"
  | "remove";
export interface FaultContext {
  op: FaultOp;
  path: string;
  /** Bytes the operation writes (append, writeFileAtomic). */
  bytes?: number;
}
export type InjectedErrorCode = "ENOSPC" | "EIO";
/** A failure of an append part-way through: `bytesWritten` of its bytes reach the file first. */
export interface PartialWriteFault {
  code: InjectedErrorCode;
  bytesWritten: number;
}
/**
 * Decides whether an operation fails: return a code to fail it (a failed append then writes a
 * random prefix of its bytes), a PartialWriteFault to fail an append after exactly that many
 * bytes, anything else to let it run.
 */
export type FaultPredicate = (
  context: FaultContext,
) => InjectedErrorCode | PartialWriteFault | undefined | false;

export interface MemoryFileSystemOptions {
  /** Seeds the PRNG behind torn writes and partial failed appends. Default 1. */
  seed?: number;
  /** On crash(), keep a random prefix of each file's unsynced tail instead of dropping all of it. */
  tearLastWrite?: boolean;
  /** Delay of every operation, awaited through `sleep`. Default 0. */
  latencyMs?: number;
  /**
   * How to wait latencyMs; default resolves at once, so tests need no timers. `op` names the
   * operation waiting ("read" for list, readFile, mkdirp and close), so a simulated disk can give
   * an fsync a different latency than a write.
   */
  sleep?: (ms: number, op: FaultOp | "read") => Promise<void>;
  /**
   * The bytes a failed append wrote stay in the file, but the handle's `size` does not count them
   * (until its next truncate): what Deno's write does on ENOSPC. Default false (size is exact).
   */
  unreportedPartialWrites?: boolean;
}

/** An injected failure; for an append, how many of its bytes were written before it (if decided). */
class InjectedFault extends FileSystemError {
  readonly bytesWritten: number | undefined;

  constructor(code: InjectedErrorCode, path: string, op: FaultOp, bytesWritten: number | undefined) {
    super(code, path, `injected fault on ${op}`);
    this.bytesWritten = bytesWritten;
  }
}

/** What crash() keeps of a file's unsynced tail: a byte count, clamped to [0, unsyncedBytes]. */
export type KeepUnsynced = (path: string, unsyncedBytes: number) => number;

/** A stored file as files() reports it. */
export interface StoredFileInfo {
  path: string;
  length: number;
  /** Bytes that would survive a crash now. */
  synced: number;
}

/** Operations failNextWrites() counts. */
const WRITE_OPS: ReadonlySet<FaultOp> = new Set(["append", "sync", "writeFileAtomic"]);

interface MemoryNode {
  bytes: Uint8Array;
  length: number;
  /** Bytes that survive a crash. */
  synced: number;
  /** After a truncation below `synced` and until the next sync: what a crash leaves instead. */
  beforeTruncation?: Uint8Array;
  /** Whether the name survives a crash (its directory was synced after it appeared). */
  nameDurable: boolean;
}

function normalize(path: string): string {
  const collapsed = path.replace(/\/+/g, "/");
  return collapsed.length > 1 && collapsed.endsWith("/") ? collapsed.slice(0, -1) : collapsed;
}

function parentOf(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  return index === 0 ? "/" : path.slice(0, index);
}

function writeInto(node: MemoryNode, bytes: Uint8Array): void {
  const needed = node.length + bytes.length;
  if (needed > node.bytes.length) {
    const grown = new Uint8Array(Math.max(needed, node.bytes.length * 2, 256));
    grown.set(node.bytes.subarray(0, node.length));
    node.bytes = grown;
  }
  node.bytes.set(bytes, node.length);
  node.length = needed;
}

export class MemoryFileSystem implements FileSystem {
  readonly #files = new Map<string, MemoryNode>();
  readonly #dirs = new Set<string>(["/", "."]);
  /** Durable names removed (or renamed away, or replaced) since their directory was last synced. */
  readonly #undoable = new Map<string, MemoryNode>();
  readonly #prng: Prng;
  readonly #tearLastWrite: boolean;
  readonly #latencyMs: number;
  readonly #sleep: (ms: number, op: FaultOp | "read") => Promise<void>;
  readonly #unreportedPartialWrites: boolean;
  #generation = 0;
  #failCount = 0;
  #failCode: InjectedErrorCode = "EIO";
  #predicate: FaultPredicate | null = null;
  #lyingSync = false;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.#prng = createPrng(options.seed ?? 1);
    this.#tearLastWrite = options.tearLastWrite ?? false;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#sleep = options.sleep ?? (() => Promise.resolve());
    this.#unreportedPartialWrites = options.unreportedPartialWrites ?? false;
  }

  /**
   * Power loss: unsynced bytes and undurable names go; handles opened before become unusable.
   * `keepUnsynced` decides, per file, how many bytes of its unsynced tail reach the platter anyway
   * (default: a random prefix with tearLastWrite, else none).
   */
  crash(keepUnsynced?: KeepUnsynced): void {
    this.#generation++;
    for (const [path, node] of this.#files) if (!node.nameDurable) this.#files.delete(path);
    const present = new Set(this.#files.values());
    for (const [path, node] of this.#undoable) {
      if (this.#files.has(path) || present.has(node)) continue;
      this.#files.set(path, node);
      present.add(node);
    }
    this.#undoable.clear();
    for (const [path, node] of this.#files) {
      node.nameDurable = true;
      if (node.beforeTruncation !== undefined) {
        node.bytes = node.beforeTruncation;
        node.length = node.synced = node.bytes.length;
        delete node.beforeTruncation;
        continue;
      }
      const unsynced = node.length - node.synced;
      const kept = unsynced <= 0
        ? 0
        : keepUnsynced !== undefined
        ? Math.max(0, Math.min(unsynced, Math.floor(keepUnsynced(path, unsynced))))
        : this.#tearLastWrite
        ? this.#prng.int(unsynced + 1)
        : 0;
      node.length = node.synced + kept;
      node.synced = node.length;
    }
  }

  /**
   * kill -9 without power loss: open handles die, but written bytes stay (in the page cache), still
   * unsynced, so a later crash() can drop them.
   */
  killProcess(): void {
    this.#generation++;
  }

  /** Silent corruption: inverts every bit of one byte. */
  flipByte(path: string, offset: number): void {
    const node = this.#node(normalize(path));
    if (!(offset >= 0 && offset < node.length)) {
      throw new RangeError(`flipByte: offset ${offset} is outside ${path} (${node.length} bytes)`);
    }
    node.bytes[offset] = node.bytes[offset]! ^ 0xff;
  }

  /** Silent corruption of one bit (0 = least significant) of one byte. */
  flipBit(path: string, offset: number, bit: number): void {
    const node = this.#node(normalize(path));
    if (!(offset >= 0 && offset < node.length)) {
      throw new RangeError(`flipBit: offset ${offset} is outside ${path} (${node.length} bytes)`);
    }
    node.bytes[offset] = node.bytes[offset]! ^ (1 << (bit & 7));
  }

  /**
   * While on, a file's sync() succeeds without making anything durable (a disk or a virtual
   * machine that acknowledges fsync from a volatile cache): a crash then loses what it "synced".
   */
  setLyingSync(lying: boolean): void {
    this.#lyingSync = lying;
  }

  /** Every stored file, in path order, with how much of it is durable. */
  files(): StoredFileInfo[] {
    return [...this.#files.entries()]
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([path, node]) => ({ path, length: node.length, synced: node.synced }));
  }

  /** The next `count` appends, syncs and writeFileAtomic calls fail with `code`. */
  failNextWrites(count: number, code: InjectedErrorCode): void {
    this.#failCount = count;
    this.#failCode = code;
  }

  /** Fails every operation for which `predicate` returns a code; null removes it. */
  failWhen(predicate: FaultPredicate | null): void {
    this.#predicate = predicate;
  }

  /** Bytes of a file that would survive a crash now (for tests). */
  syncedSize(path: string): number {
    return this.#node(normalize(path)).synced;
  }

  async list(dir: string): Promise<string[]> {
    await this.#delay("read");
    const base = normalize(dir);
    const names: string[] = [];
    for (const path of [...this.#files.keys(), ...this.#dirs]) {
      if (path !== base && parentOf(path) === base) names.push(path.slice(path.lastIndexOf("/") + 1));
    }
    return names.sort();
  }

  async readFile(path: string): Promise<Uint8Array> {
    await this.#delay("read");
    const node = this.#node(normalize(path));
    return node.bytes.slice(0, node.length);
  }

  async openAppend(path: string): Promise<StorageFile> {
    const target = normalize(path);
    const generation = await this.#begin({ op: "openAppend", path: target });
    let node = this.#files.get(target);
    if (node === undefined) {
      this.#requireDir(parentOf(target), target);
      node = { bytes: new Uint8Array(0), length: 0, synced: 0, nameDurable: false };
      this.#files.set(target, node);
      // Like NodeFileSystem: the directory is synced after creating; a crash in between loses the name.
      await this.#delay("syncDir");
      this.#checkGeneration(generation, target);
      this.#directorySynced(parentOf(target));
    }
    return this.#handle(target, node, generation);
  }

  async writeFileAtomic(
    path: string,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<number> {
    const target = normalize(path);
    this.#requireDir(parentOf(target), target);
    const generation = this.#generation;
    const node: MemoryNode = { bytes: new Uint8Array(0), length: 0, synced: 0, nameDurable: true };
    for await (const chunk of chunks) writeInto(node, chunk);
    await this.#begin({ op: "writeFileAtomic", path: target, bytes: node.length });
    this.#checkGeneration(generation, target + TEMPORARY_SUFFIX);
    node.synced = node.length;
    this.#files.set(target, node);
    this.#directorySynced(parentOf(target));
    return node.length;
  }

  async rename(from: string, to: string): Promise<void> {
    const source = normalize(from);
    const target = normalize(to);
    await this.#begin({ op: "rename", path: source });
    const node = this.#node(source);
    this.#requireDir(parentOf(target), target);
    this.#unlink(target);
    this.#unlink(source);
    // The same inode under a new name, which needs a directory sync like any new name.
    node.nameDurable = false;
    this.#files.set(target, node);
  }

  async remove(path: string): Promise<void> {
    const target = normalize(path);
    await this.#begin({ op: "remove", path: target });
    this.#unlink(target);
  }

  async mkdirp(dir: string): Promise<void> {
    await this.#delay("read");
    for (let path = normalize(dir); !this.#dirs.has(path); path = parentOf(path)) this.#dirs.add(path);
  }

  async syncDir(dir: string): Promise<void> {
    const base = normalize(dir);
    await this.#begin({ op: "syncDir", path: base });
    this.#directorySynced(base);
  }

  join(...parts: string[]): string {
    return normalize(parts.join("/"));
  }

  #handle(path: string, node: MemoryNode, generation: number): StorageFile {
    let closed = false;
    /** Bytes in the file this handle's `size` does not count (unreportedPartialWrites). */
    let unreported = 0;
    const unreportedPartialWrites = this.#unreportedPartialWrites;
    const begin = async (op: FaultOp, bytes?: number): Promise<void> => {
      if (closed) throw new FileSystemError("EBADF", path, `${op} on a closed file`);
      this.#checkGeneration(generation, path);
      const context: FaultContext = bytes === undefined ? { op, path } : { op, path, bytes };
      await this.#begin(context, generation);
    };
    // A failed write may still have written part of the bytes, as a real disk can.
    const writePartially = (error: unknown, bytes: Uint8Array): void => {
      if (error instanceof FileSystemError && error.code !== "EBADF" && this.#generation === generation) {
        const decided = error instanceof InjectedFault ? error.bytesWritten : undefined;
        const count = decided === undefined
          ? this.#prng.int(bytes.length + 1)
          : Math.max(0, Math.min(bytes.length, decided));
        writeInto(node, bytes.subarray(0, count));
        if (unreportedPartialWrites) unreported += count;
      }
    };
    const delay = () => this.#delay("read");
    const lying = () => this.#lyingSync;
    return {
      get size(): number {
        return node.length - unreported;
      },
      async append(bytes: Uint8Array): Promise<void> {
        try {
          await begin("append", bytes.length);
        } catch (error) {
          writePartially(error, bytes);
          throw error;
        }
        writeInto(node, bytes);
      },
      async sync(): Promise<void> {
        await begin("sync");
        if (lying()) return;
        node.synced = node.length;
        delete node.beforeTruncation;
      },
      async truncate(size: number): Promise<void> {
        await begin("truncate");
        if (!(size >= 0 && size <= node.length)) throw new RangeError(`truncate: ${size} > ${node.length}`);
        unreported = 0;
        // Like ftruncate: the cut is metadata that only a sync makes durable.
        if (size < node.synced) node.beforeTruncation ??= node.bytes.slice(0, node.synced);
        node.length = size;
        node.synced = Math.min(node.synced, size);
      },
      async close(): Promise<void> {
        closed = true;
        await delay();
      },
    };
  }

  async #delay(op: FaultOp | "read"): Promise<void> {
    if (this.#latencyMs > 0) await this.#sleep(this.#latencyMs, op);
    else await Promise.resolve();
  }

  /** Waits the latency, then fails the operation if a crash happened meanwhile or a fault says so. */
  async #begin(context: FaultContext, generation = this.#generation): Promise<number> {
    await this.#delay(context.op);
    this.#checkGeneration(generation, context.path);
    const fault = this.#faultFor(context);
    if (fault !== undefined) {
      const partial = typeof fault === "object" && context.op === "append" ? fault.bytesWritten : undefined;
      throw new InjectedFault(typeof fault === "object" ? fault.code : fault, context.path, context.op, partial);
    }
    return generation;
  }

  #faultFor(context: FaultContext): InjectedErrorCode | PartialWriteFault | undefined {
    const decided = this.#predicate?.(context);
    if (decided) return decided;
    if (this.#failCount > 0 && WRITE_OPS.has(context.op)) {
      this.#failCount--;
      return this.#failCode;
    }
    return undefined;
  }

  #checkGeneration(generation: number, path: string): void {
    if (generation !== this.#generation) {
      throw new FileSystemError("EIO", path, "the file system crashed during the operation");
    }
  }

  /** Every name in `dir` (new, removed, renamed) is now as durable as the files' bytes. */
  #directorySynced(dir: string): void {
    for (const [path, node] of this.#files) if (parentOf(path) === dir) node.nameDurable = true;
    for (const path of [...this.#undoable.keys()]) if (parentOf(path) === dir) this.#undoable.delete(path);
  }

  /** Drops a name; a crash before its directory is synced brings a durable one back. */
  #unlink(path: string): void {
    const node = this.#files.get(path);
    if (node === undefined) return;
    if (node.nameDurable && !this.#undoable.has(path)) this.#undoable.set(path, node);
    this.#files.delete(path);
  }

  #requireDir(dir: string, path: string): void {
    if (!this.#dirs.has(dir)) throw new FileSystemError("ENOENT", path, "no such directory");
  }

  #node(path: string): MemoryNode {
    const node = this.#files.get(path);
    if (node === undefined) throw new FileSystemError("ENOENT", path, "no such file");
    return node;
  }
}
