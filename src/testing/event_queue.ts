/**
 * Virtual time for the simulator: a priority queue of callbacks ordered by (time, insertion order).
 * Ties are broken by insertion order, so a run is a pure function of the seed. Nothing here reads a
 * real clock.
 */

interface Scheduled {
  atMs: number;
  seq: number;
  run: () => void;
}

/** What components need from the simulator's time: the current instant and a way to be called later. */
export interface Scheduler {
  readonly nowMs: number;
  /** Runs `run` at virtual time `atMs` (clamped to now: nothing is scheduled in the past). */
  at(atMs: number, run: () => void): void;
  /** Runs `run` after `delayMs` of virtual time. */
  after(delayMs: number, run: () => void): void;
}

export class EventQueue implements Scheduler {
  #heap: Scheduled[] = [];
  #seq = 0;
  #nowMs: number;
  #executed = 0;

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  /** Events run so far. */
  get executed(): number {
    return this.#executed;
  }

  get size(): number {
    return this.#heap.length;
  }

  at(atMs: number, run: () => void): void {
    if (!Number.isFinite(atMs)) throw new RangeError(`cannot schedule an event at ${atMs}`);
    this.#push({ atMs: Math.max(atMs, this.#nowMs), seq: this.#seq++, run });
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.#nowMs + Math.max(0, delayMs), run);
  }

  /**
   * Runs events in order until the next one is later than `untilMs` (time then stands at `untilMs`)
   * or `eventsMax` events ran. Returns the number of events run.
   */
  runUntil(untilMs: number, eventsMax: number): number {
    let ran = 0;
    while (ran < eventsMax && this.#heap.length > 0 && this.#heap[0]!.atMs <= untilMs) {
      const next = this.#pop();
      this.#nowMs = next.atMs;
      this.#executed++;
      ran++;
      next.run();
    }
    if (ran < eventsMax && untilMs > this.#nowMs) this.#nowMs = untilMs;
    return ran;
  }

  #push(item: Scheduled): void {
    const heap = this.#heap;
    heap.push(item);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  #pop(): Scheduled {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
