/**
 * The last committed txns a replica remembers so its leader can DIFF a learner (ZooKeeper's
 * committedLog, zookeeper.commitLogCount). Always exactly the newest `max` entries, oldest first.
 *
 * An array trimmed with splice(0, 1) at every commit moves the whole window each time; here the
 * oldest entries are dropped by moving a head index, and the array is compacted once the dropped
 * part is as long as the window (amortised O(1) per commit).
 */
import type { TxnEntry } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

export class CommittedLog {
  readonly #max: number;
  /** Slots before #head are dropped (set to undefined so their txns can be collected). */
  #entries: Array<TxnEntry | undefined> = [];
  #head = 0;

  /** @param max entries kept (0 keeps none: every learner behind the leader gets a SNAP). */
  constructor(max: number) {
    if (!(Number.isInteger(max) && max >= 0)) throw new RangeError(`committedLogMax must be an integer ≥ 0, got ${max}`);
    this.#max = max;
  }

  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** The oldest entry kept, if any. */
  first(): TxnEntry | undefined {
    return this.#entries[this.#head];
  }

  push(entry: TxnEntry): void {
    this.#entries.push(entry);
    // Bounded: at most one entry over the window per push.
    while (this.length > this.#max) this.#entries[this.#head++] = undefined;
    if (this.#head >= this.#max && this.#head >= 64) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#entries = [];
    this.#head = 0;
  }

  /** Whether an entry with this zxid is kept. */
  hasZxid(zxid: Zxid): boolean {
    for (let index = this.#head; index < this.#entries.length; index++) {
      if (this.#entries[index]!.header.zxid === zxid) return true;
    }
    return false;
  }

  /** The entries after `zxid`, oldest first (a new array). */
  after(zxid: Zxid): TxnEntry[] {
    const entries: TxnEntry[] = [];
    for (let index = this.#head; index < this.#entries.length; index++) {
      const entry = this.#entries[index]!;
      if (entry.header.zxid > zxid) entries.push(entry);
    }
    return entries;
  }
}
