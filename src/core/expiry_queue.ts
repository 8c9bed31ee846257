/**
 * Deadlines rounded up to a fixed interval and kept in buckets (ZooKeeper's ExpiryQueue), so that
 * touching an item is O(1) and a tick expires whole buckets. Time is whatever the caller passes in.
 */
export class ExpiryQueue<T> {
  readonly #intervalMs: number;
  #deadlineOf = new Map<T, number>();
  #buckets = new Map<number, Set<T>>();
  #nextDeadline: number;

  constructor(intervalMs: number, nowMs: number) {
    if (!(intervalMs > 0)) throw new RangeError(`expiry interval must be positive, got ${intervalMs}`);
    this.#intervalMs = intervalMs;
    this.#nextDeadline = this.#roundUp(nowMs);
  }

  /** Sets `item` to expire `timeoutMs` after `nowMs`, rounded up to the next interval boundary. */
  touch(item: T, nowMs: number, timeoutMs: number): number {
    const deadline = this.#roundUp(nowMs + timeoutMs);
    const previous = this.#deadlineOf.get(item);
    if (previous === deadline) return deadline;
    if (previous !== undefined) this.#bucketDelete(previous, item);
    let bucket = this.#buckets.get(deadline);
    if (!bucket) this.#buckets.set(deadline, bucket = new Set());
    bucket.add(item);
    this.#deadlineOf.set(item, deadline);
    return deadline;
  }

  remove(item: T): void {
    const deadline = this.#deadlineOf.get(item);
    if (deadline === undefined) return;
    this.#bucketDelete(deadline, item);
    this.#deadlineOf.delete(item);
  }

  deadlineOf(item: T): number | undefined {
    return this.#deadlineOf.get(item);
  }

  /** Removes and returns every item whose deadline is at or before `nowMs`. */
  expire(nowMs: number): T[] {
    const expired: T[] = [];
    // Bounded: at most one step per interval elapsed, and we jump over long gaps in one go.
    if (nowMs < this.#nextDeadline) return expired;
    const lastDue = this.#roundUp(nowMs) - this.#intervalMs;
    if (this.#buckets.size > 0 && (lastDue - this.#nextDeadline) / this.#intervalMs > this.#buckets.size) {
      for (const deadline of [...this.#buckets.keys()].sort((a, b) => a - b)) {
        if (deadline <= nowMs) this.#takeBucket(deadline, expired);
      }
    } else {
      for (let deadline = this.#nextDeadline; deadline <= nowMs; deadline += this.#intervalMs) {
        this.#takeBucket(deadline, expired);
      }
    }
    this.#nextDeadline = lastDue + this.#intervalMs;
    return expired;
  }

  /**
   * The earliest bucket's deadline, or null when nothing is queued: when `expire` next has work.
   * ZooKeeper's expiry thread sleeps until exactly then; a driver that wakes the core at this time
   * expires sessions on the same instants. O(buckets): at most one per tick of the longest timeout.
   */
  get nextDeadlineMs(): number | null {
    let earliest: number | null = null;
    for (const deadline of this.#buckets.keys()) if (earliest === null || deadline < earliest) earliest = deadline;
    return earliest;
  }

  get size(): number {
    return this.#deadlineOf.size;
  }

  /** Buckets in deadline order, for the `dump` four-letter word. */
  buckets(): Array<{ deadlineMs: number; items: T[] }> {
    return [...this.#buckets.entries()].sort((a, b) => a[0] - b[0]).map(([deadlineMs, items]) => ({
      deadlineMs,
      items: [...items],
    }));
  }

  #takeBucket(deadline: number, into: T[]): void {
    const bucket = this.#buckets.get(deadline);
    if (!bucket) return;
    this.#buckets.delete(deadline);
    for (const item of bucket) {
      this.#deadlineOf.delete(item);
      into.push(item);
    }
  }

  #bucketDelete(deadline: number, item: T): void {
    const bucket = this.#buckets.get(deadline);
    if (!bucket) return;
    bucket.delete(item);
    if (bucket.size === 0) this.#buckets.delete(deadline);
  }

  #roundUp(timeMs: number): number {
    return (Math.floor(timeMs / this.#intervalMs) + 1) * this.#intervalMs;
  }
}
