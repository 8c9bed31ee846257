/** A first-in first-out queue with O(1) push and shift (Array.shift is O(n) on long queues). */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    // Compact once the dead prefix dominates, keeping the amortized cost constant.
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes `item` (its first occurrence); O(n), for rare operations such as aborts. */
  remove(item: T): boolean {
    const index = this.#items.indexOf(item, this.#head);
    if (index === -1) return false;
    this.#items.splice(index, 1);
    return true;
  }

  /** Empties the queue and returns what it held, oldest first. */
  takeAll(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}
