/**
 * A distributed FIFO queue, znode-compatible with Curator's DistributedQueue: each put is a
 * persistent sequential `<path>/_c_<uuid>-queue-<seq>` (or `queue-<seq>` with protectedNames off)
 * holding Curator's item framing; consumers take the node with the lowest sequence: read it, delete
 * it (with its version, so two consumers cannot both take it), return it.
 *
 * @example
 * const jobs = new DistributedQueue(client, "/queues/jobs");
 * await jobs.put(JSON.stringify({ resize: "cat.png" }));
 *
 * // a worker
 * const message = await jobs.take({ signal: shutdown });
 * await handle(JSON.parse(new TextDecoder().decode(message.data)));
 *
 * Delivery is at most once: a message is deleted before it is handed over, so a consumer that
 * crashes while handling it loses it (Curator's default; its lock-safe mode is not implemented).
 * Puts are protected against connection loss by the uuid in the name; a put whose connection is
 * lost and whose item a consumer takes before the retry looks for it is put twice. Curator
 * consumers skip names that do not start with "queue-": set `protectedNames: false` when they read
 * this queue (a put that loses its connection then rejects, as it may or may not have happened).
 */
import { CreateMode, type NodeData } from "../client/mod.ts";
import { checkRecipePath, sequenceOf } from "./paths.ts";
import { createProtected } from "./protected_create.ts";
import { type RandomOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { encodeQueueItems } from "./queue_items.ts";
import { isQueueNode, QUEUE_ITEM_NAME, takeHead } from "./queue_take.ts";
import { childrenOrEmpty } from "./waiting.ts";

export { QUEUE_ITEM_NAME };

export interface QueueOptions extends RandomOptions {
  /** Put items under protected names (`_c_<uuid>-queue-`); default true. See the module doc. */
  protectedNames?: boolean;
}

/** A taken (or peeked) queue node. */
export interface QueueMessage {
  path: string;
  name: string;
  /** The node's sequence number: the FIFO order within this queue. */
  sequence: number;
  /** The node's czxid. */
  czxid: number;
  /** Every item in the node (put() stores one, putMulti() several). */
  items: Uint8Array[];
  /** The first item (empty when none). */
  data: Uint8Array;
}

/** Where a put landed. */
export interface PutResult {
  path: string;
  sequence: number;
}

export class DistributedQueue {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #options: QueueOptions;

  constructor(client: RecipeClient, path: string, options: QueueOptions = {}) {
    this.path = checkRecipePath(path, "DistributedQueue");
    this.#client = client;
    this.#options = options;
  }

  /** Adds one item. */
  put(item: NodeData): Promise<PutResult> {
    return this.putNode(QUEUE_ITEM_NAME, [item]);
  }

  /** Adds several items as one node: a consumer takes them together. */
  putMulti(items: readonly NodeData[]): Promise<PutResult> {
    if (items.length === 0) throw new RangeError("putMulti: give at least one item");
    return this.putNode(QUEUE_ITEM_NAME, items);
  }

  /** Removes and returns the head, waiting for one. Rejects with the signal's reason. */
  async take(options: { signal?: AbortSignal } = {}): Promise<QueueMessage> {
    return (await takeHead(this.#client, this.path, { remove: true, wait: true, signal: options.signal }))!;
  }

  /** Removes and returns the head, or null when the queue is empty. */
  poll(): Promise<QueueMessage | null> {
    return takeHead(this.#client, this.path, { remove: true, wait: false });
  }

  /** Returns the head without removing it, or null when the queue is empty. */
  peek(): Promise<QueueMessage | null> {
    return takeHead(this.#client, this.path, { remove: false, wait: false });
  }

  /** How many queue nodes there are now. */
  async size(): Promise<number> {
    return (await childrenOrEmpty(this.#client, this.path)).filter(isQueueNode).length;
  }

  /** Creates one queue node named `<name><seq>` (protected unless configured off). */
  async putNode(name: string, items: readonly NodeData[]): Promise<PutResult> {
    const node = await createProtected(this.#client, this.path, name, {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
      data: encodeQueueItems(items),
      uuid: uuidFrom(this.#options.random),
      protect: this.#options.protectedNames ?? true,
      parentMode: CreateMode.PERSISTENT,
    });
    return { path: node.path, sequence: sequenceOf(node.name) };
  }
}
