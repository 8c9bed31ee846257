/**
 * A distributed priority queue, znode-compatible with Curator's DistributedPriorityQueue: the
 * priority is encoded in the node name before the sequence — `queue-<P><seq>`, where P is "1" or "0"
 * (non-negative or negative) followed by the priority's 32 bits in 8 hex digits — so sorting by name
 * gives lower priorities first and FIFO order within one priority.
 *
 * @example
 * const work = new PriorityQueue(client, "/queues/work");
 * await work.put("routine", 10);
 * await work.put("urgent", -5);
 * (await work.take()).priority; // -5
 *
 * Delivery and protection are as in DistributedQueue.
 */
import type { NodeData } from "../client/mod.ts";
import { checkRecipePath } from "./paths.ts";
import { DistributedQueue, type PutResult, type QueueMessage, type QueueOptions } from "./queue.ts";
import { QUEUE_ITEM_NAME, takeHead } from "./queue_take.ts";
import type { RecipeClient } from "./recipe_client.ts";

/** A queue message with the priority it was put with. */
export interface PriorityQueueMessage extends QueueMessage {
  priority: number;
}

/** Curator's priorityToString: "1"/"0" for sign, then the 32-bit two's complement in hex. */
export function encodePriority(priority: number): string {
  if (!Number.isInteger(priority) || priority < -(2 ** 31) || priority >= 2 ** 31) {
    throw new RangeError(`priority must be a 32-bit integer, got ${priority}`);
  }
  return (priority >= 0 ? "1" : "0") + (priority >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

/** The priority encoded in a priority-queue node name, or 0 for a plain queue node. */
export function priorityOf(name: string): number {
  const index = name.lastIndexOf(QUEUE_ITEM_NAME);
  const encoded = name.substring(index + QUEUE_ITEM_NAME.length);
  const match = /^[01]([0-9A-Fa-f]{8})\d{10}$/.exec(encoded);
  return match === null ? 0 : Number.parseInt(match[1]!, 16) | 0;
}

export class PriorityQueue {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #queue: DistributedQueue;

  constructor(client: RecipeClient, path: string, options: QueueOptions = {}) {
    this.path = checkRecipePath(path, "PriorityQueue");
    this.#client = client;
    this.#queue = new DistributedQueue(client, path, options);
  }

  /** Adds an item; lower priorities are taken first. */
  put(item: NodeData, priority: number): Promise<PutResult> {
    return this.#queue.putNode(QUEUE_ITEM_NAME + encodePriority(priority), [item]);
  }

  /** Adds several items with one priority, as one node. */
  putMulti(items: readonly NodeData[], priority: number): Promise<PutResult> {
    if (items.length === 0) throw new RangeError("putMulti: give at least one item");
    return this.#queue.putNode(QUEUE_ITEM_NAME + encodePriority(priority), items);
  }

  /** Removes and returns the most urgent item, waiting for one. */
  async take(options: { signal?: AbortSignal } = {}): Promise<PriorityQueueMessage> {
    const message = await takeHead(this.#client, this.path, {
      remove: true,
      wait: true,
      signal: options.signal,
    });
    return withPriority(message!);
  }

  /** Removes and returns the most urgent item, or null when empty. */
  async poll(): Promise<PriorityQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, { remove: true, wait: false });
    return message === null ? null : withPriority(message);
  }

  /** The most urgent item without removing it, or null. */
  async peek(): Promise<PriorityQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, { remove: false, wait: false });
    return message === null ? null : withPriority(message);
  }

  size(): Promise<number> {
    return this.#queue.size();
  }
}

function withPriority(message: QueueMessage): PriorityQueueMessage {
  return { ...message, priority: priorityOf(message.name) };
}
