/**
 * A watch as an async iterator: `for await (const event of client.watch("/config")) ...`.
 *
 * Events are buffered in a bounded queue between the client (which pushes them synchronously, in
 * order) and the consumer. Overflow policy: when the consumer falls more than `maxQueued` events
 * behind, the stream does not drop events silently — it stops, yields what it buffered, then throws
 * WatchOverflowError from next(). Re-read the state you watch and open a new stream.
 */
import type { WatchEvent } from "./types.ts";

/** The consumer of a WatchStream fell too far behind; events after the buffered ones were lost. */
export class WatchOverflowError extends Error {
  readonly path: string;
  constructor(path: string, maxQueued: number) {
    super(
      `watch on ${path}: more than ${maxQueued} events queued unread, so the stream stopped; ` +
        `read the data again and open a new watch (or raise maxQueued)`,
    );
    this.name = "WatchOverflowError";
    this.path = path;
  }
}

const TERMINAL_STATES = new Set(["Expired", "AuthFailed", "Closed"]);

export class WatchStream implements AsyncIterableIterator<WatchEvent> {
  /** The watched (client) path. */
  readonly path: string;
  /** Resolves once the server registered the watch; rejects when it could not. */
  readonly ready: Promise<void>;
  readonly #maxQueued: number;
  readonly #unregister: () => Promise<void>;
  #queue: WatchEvent[] = [];
  #waiter:
    | { resolve: (result: IteratorResult<WatchEvent>) => void; reject: (error: unknown) => void }
    | null = null;
  /** Set once no more events will be queued; thrown after the queue drains when not null. */
  #ended = false;
  #error: unknown = null;
  #closed: Promise<void> | null = null;

  constructor(
    options: { path: string; maxQueued: number; ready: Promise<void>; unregister: () => Promise<void> },
  ) {
    if (!Number.isInteger(options.maxQueued) || options.maxQueued < 1) {
      throw new RangeError(`maxQueued must be a positive integer, got ${options.maxQueued}`);
    }
    this.path = options.path;
    this.#maxQueued = options.maxQueued;
    this.#unregister = options.unregister;
    this.ready = options.ready;
    // A failed registration ends the stream with that error (and is not an unhandled rejection).
    this.ready.catch((error: unknown) => this.#finish(error));
  }

  /** Called by the client for each event the watch receives. */
  push(event: WatchEvent): void {
    if (this.#ended) return;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve({ value: event, done: false });
    } else if (this.#queue.length >= this.#maxQueued) {
      this.#finish(new WatchOverflowError(this.path, this.#maxQueued));
      void this.#unregisterOnce();
      return;
    } else {
      this.#queue.push(event);
    }
    if (event.type === "None" && TERMINAL_STATES.has(event.state)) this.#finish(null);
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    if (this.#waiter !== null) {
      throw new Error(`watch on ${this.path}: next() called again before the previous call settled`);
    }
    if (!this.#ended && this.#queue.length === 0) {
      try {
        await this.ready;
      } catch {
        // The constructor's handler has already ended the stream with this error.
      }
    }
    const event = this.#queue.shift();
    if (event !== undefined) return { value: event, done: false };
    if (this.#ended) {
      if (this.#error !== null) {
        const error = this.#error;
        this.#error = null;
        throw error;
      }
      return { value: undefined, done: true };
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Ends the iteration (a `break` in for-await calls this) and removes the watch. */
  async return(): Promise<IteratorResult<WatchEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Stops the stream and removes its watch from the client (and, when possible, the server). */
  close(): Promise<void> {
    this.#finish(null);
    this.#queue = [];
    this.#error = null;
    return this.#unregisterOnce();
  }

  #unregisterOnce(): Promise<void> {
    this.#closed ??= this.ready.then(() => this.#unregister(), () => undefined).catch(() => undefined);
    return this.#closed;
  }

  [Symbol.asyncIterator](): WatchStream {
    return this;
  }

  #finish(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter === null) return;
    if (error !== null) {
      this.#error = null;
      waiter.reject(error);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }
}
