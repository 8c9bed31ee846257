/**
 * A distributed queue whose items are delayed until a given time; znode-compatible with Curator's
 * DistributedDelayQueue: each put is a persistent sequential
 * `<path>/_c_<uuid>-queue-|<epoch>|<seq>` (`queue-|<epoch>|<seq>` with protectedNames off), where
 * <epoch> is the due time in milliseconds since 1970 as upper-case hex of at least 8 digits, and the
 * data is Curator's item framing. Consumers take the item due first, once it is due.
 *
 * @example
 * const reminders = new DistributedDelayQueue(client, "/queues/reminders");
 * await reminders.put("renew the certificate", Date.now() + 24 * 3600_000);
 *
 * // a worker: waits until the first reminder is due (or a new one arrives)
 * const message = await reminders.take({ signal: shutdown });
 * message.delayUntilMs; // when it was due
 *
 * Due times are wall-clock (Date.now(), as Curator's System.currentTimeMillis()): producers' and
 * consumers' clocks must roughly agree; an item is never taken before its due time by the
 * consumer's clock. A waiting consumer wakes when the first item is due and when the queue changes.
 * Delivery and protection are as in DistributedQueue (Curator consumers need `protectedNames: false`).
 */
import type { NodeData } from "../client/mod.ts";
import { checkRecipePath } from "./paths.ts";
import { DistributedQueue, type PutResult, type QueueMessage, type QueueOptions } from "./queue.ts";
import { fieldOf, fieldSegment, sequenceKey } from "./queue_names.ts";
import { isQueueNode, QUEUE_ITEM_NAME, type QueueOrder, takeHead } from "./queue_take.ts";
import type { RecipeClient } from "./recipe_client.ts";

export interface DelayQueueOptions extends QueueOptions {
  /** The wall clock, in milliseconds since 1970; default Date.now. */
  now?: () => number;
}

/** A taken (or peeked) delay queue node. */
export interface DelayQueueMessage extends QueueMessage {
  /** When the item was due, in milliseconds since 1970 (0 for a node put without a due time). */
  delayUntilMs: number;
}

/** Curator's epochToString: "%08X" (upper-case hex, zero-padded to 8 digits). */
export function encodeDelay(delayUntilMs: number): string {
  if (!Number.isSafeInteger(delayUntilMs) || delayUntilMs <= 0) {
    throw new RangeError(
      `a delay queue's due time must be a positive integer of milliseconds since 1970, got ${delayUntilMs}`,
    );
  }
  return delayUntilMs.toString(16).toUpperCase().padStart(8, "0");
}

/** The due time in a delay queue node's name, or 0 when it has none (due at once, as in Curator). */
export function delayOf(name: string): number {
  const field = fieldOf(name);
  if (field === null || !/^[0-9A-Fa-f]{1,13}$/.test(field)) return 0;
  return Number.parseInt(field, 16);
}

export class DistributedDelayQueue {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #queue: DistributedQueue;
  readonly #order: QueueOrder;

  constructor(client: RecipeClient, path: string, options: DelayQueueOptions = {}) {
    this.path = checkRecipePath(path, "DistributedDelayQueue");
    this.#client = client;
    this.#queue = new DistributedQueue(client, path, options);
    const now = options.now ?? Date.now;
    this.#order = {
      // Earliest due time first; FIFO among items due at the same millisecond.
      sort: (children) =>
        children.filter(isQueueNode)
          .map((name) => ({ name, due: delayOf(name), sequence: sequenceKey(name) }))
          .sort((a, b) => a.due - b.due || (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0))
          .map((entry) => entry.name),
      dueInMs: (name) => delayOf(name) - now(),
    };
  }

  /** Adds an item that becomes available at `delayUntil` (milliseconds since 1970, or a Date). */
  put(item: NodeData, delayUntil: number | Date): Promise<PutResult> {
    return this.#queue.putNode(nodeName(delayUntil), [item]);
  }

  /** Adds several items, due together, as one node. */
  putMulti(items: readonly NodeData[], delayUntil: number | Date): Promise<PutResult> {
    if (items.length === 0) throw new RangeError("putMulti: give at least one item");
    return this.#queue.putNode(nodeName(delayUntil), items);
  }

  /**
   * Removes and returns the item due first, waiting until it is due (or for one to be put).
   * Rejects with the signal's reason.
   */
  async take(options: { signal?: AbortSignal } = {}): Promise<DelayQueueMessage> {
    const message = await takeHead(this.#client, this.path, {
      remove: true,
      wait: true,
      signal: options.signal,
      order: this.#order,
    });
    return withDelay(message!);
  }

  /** Removes and returns an item that is due now, or null when none is. */
  async poll(): Promise<DelayQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, {
      remove: true,
      wait: false,
      order: this.#order,
    });
    return message === null ? null : withDelay(message);
  }

  /** The item due first, due yet or not, without removing it; null when the queue is empty. */
  async peek(): Promise<DelayQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, {
      remove: false,
      wait: false,
      order: this.#order,
      ignoreDue: true,
    });
    return message === null ? null : withDelay(message);
  }

  /** How many items are queued now, due or not. */
  size(): Promise<number> {
    return this.#queue.size();
  }
}

function nodeName(delayUntil: number | Date): string {
  const ms = delayUntil instanceof Date ? delayUntil.getTime() : delayUntil;
  return QUEUE_ITEM_NAME + fieldSegment(encodeDelay(ms));
}

function withDelay(message: QueueMessage): DelayQueueMessage {
  return { ...message, delayUntilMs: delayOf(message.name) };
}
