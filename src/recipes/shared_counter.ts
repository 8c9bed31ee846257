/**
 * A shared counter: one znode holding a big-endian integer, changed with a versioned setData loop
 * (read value and version, write the new value only if the version is unchanged, else read again).
 * The default layout is Curator's SharedCount (4 bytes); `encoding: "int64"` is Curator's
 * DistributedAtomicLong (8 bytes, limited here to safe integers). Empty data reads as 0.
 *
 * @example
 * const visits = new SharedCounter(client, "/counters/visits");
 * const { value } = await visits.add(1);
 * console.log(`visitor number ${value}`);
 *
 * A lost connection while the write is in flight rejects with CONNECTIONLOSS: the increment may or
 * may not have happened (retrying it could count twice). Reads are retried.
 */
import { CreateMode, KeeperError } from "../client/mod.ts";
import { checkRecipePath, ensurePath, parentPath } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { retrying, throwIfAborted } from "./waiting.ts";

export interface SharedCounterOptions {
  /** "int32" (Curator SharedCount, default) or "int64" (Curator DistributedAtomicLong). */
  encoding?: "int32" | "int64";
  /** The value a missing node starts from; default 0. */
  initial?: number;
  /** Conflicting writes tolerated in one update before giving up; default 10000. */
  maxAttempts?: number;
}

/** A value and the node version it was read at (or written as). */
export interface CounterValue {
  value: number;
  /** The node's data version: pass it to trySet() to update only if nobody wrote meanwhile. */
  version: number;
}

export class SharedCounter {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #width: 4 | 8;
  readonly #initial: number;
  readonly #maxAttempts: number;

  constructor(client: RecipeClient, path: string, options: SharedCounterOptions = {}) {
    this.path = checkRecipePath(path, "SharedCounter");
    this.#client = client;
    this.#width = options.encoding === "int64" ? 8 : 4;
    this.#initial = options.initial ?? 0;
    this.#checkValue(this.#initial);
    this.#maxAttempts = options.maxAttempts ?? 10_000;
  }

  /** The current value (the initial value, version -1, when the node does not exist). */
  async get(): Promise<CounterValue> {
    try {
      const { data, stat } = await retrying(this.#client, () => this.#client.getData(this.path));
      return { value: this.#decode(data), version: stat.version };
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) return { value: this.#initial, version: -1 };
      throw error;
    }
  }

  /** Adds `delta` (may be negative) and returns the new value; retries on conflicting writes. */
  async add(delta: number, options: { signal?: AbortSignal } = {}): Promise<CounterValue> {
    return await this.update((value) => value + delta, options);
  }

  /** Sets the value unconditionally. */
  set(value: number, options: { signal?: AbortSignal } = {}): Promise<CounterValue> {
    return this.update(() => value, options);
  }

  /**
   * Writes `value` only if the node is still at `version` (from get(); -1 = does not exist yet).
   * Resolves with the new value and version, or null when someone wrote first.
   */
  async trySet(value: number, version: number): Promise<CounterValue | null> {
    this.#checkValue(value);
    try {
      const stat = version === -1
        ? (await this.#create(value)).stat
        : await this.#client.setData(this.path, this.#encode(value), { version });
      return { value, version: stat.version };
    } catch (error) {
      if (KeeperError.is(error, "BADVERSION") || KeeperError.is(error, "NODEEXISTS")) return null;
      if (KeeperError.is(error, "NONODE")) return null;
      throw error;
    }
  }

  /** Applies `change` to the current value with the versioned write loop; returns the new value. */
  async update(
    change: (value: number) => number,
    options: { signal?: AbortSignal } = {},
  ): Promise<CounterValue> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      throwIfAborted([options.signal]);
      const current = await this.get();
      const written = await this.trySet(change(current.value), current.version);
      if (written !== null) return written;
    }
    throw new Error(
      `counter ${this.path}: ${this.#maxAttempts} conflicting writes in a row; too much contention (raise maxAttempts)`,
    );
  }

  async #create(value: number) {
    const client = this.#client;
    try {
      return await client.create2(this.path, this.#encode(value));
    } catch (error) {
      if (!KeeperError.is(error, "NONODE")) throw error;
      await retrying(
        client,
        () => ensurePath(client, parentPath(this.path), { mode: CreateMode.PERSISTENT }),
      );
      return await client.create2(this.path, this.#encode(value));
    }
  }

  #encode(value: number): Uint8Array {
    const bytes = new Uint8Array(this.#width);
    const view = new DataView(bytes.buffer);
    if (this.#width === 4) view.setInt32(0, value);
    else view.setBigInt64(0, BigInt(value));
    return bytes;
  }

  #decode(data: Uint8Array): number {
    if (data.length === 0) return 0;
    if (data.length !== this.#width) {
      throw new RangeError(
        `counter ${this.path}: the node holds ${data.length} bytes, expected ${this.#width} (check the encoding option)`,
      );
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (this.#width === 4) return view.getInt32(0);
    const value = view.getBigInt64(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`counter ${this.path}: ${value} is beyond JavaScript's safe integers`);
    }
    return Number(value);
  }

  #checkValue(value: number): void {
    const ok = this.#width === 4
      ? Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31
      : Number.isSafeInteger(value);
    if (!ok) {
      throw new RangeError(
        `counter ${this.path}: ${value} does not fit the ${this.#width === 4 ? "int32" : "int64"} encoding`,
      );
    }
  }
}
