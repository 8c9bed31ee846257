/**
 * A distributed queue whose items carry an id, so that queued items can be removed by id before a
 * consumer takes them; znode-compatible with Curator's DistributedIdQueue: each put is a persistent
 * sequential `<path>/_c_<uuid>-queue-|<id>|<seq>` (`queue-|<id>|<seq>` with protectedNames off) in
 * Curator's item framing, taken in sequence (FIFO) order.
 *
 * @example
 * const jobs = new DistributedIdQueue(client, "/queues/renders");
 * await jobs.put(JSON.stringify({ scene: 42 }), "scene-42");
 * // The user cancelled: drop it if no worker took it yet.
 * const removed = await jobs.remove("scene-42"); // 1, or 0 if a worker got it first
 *
 * // a worker
 * const message = await jobs.take({ signal: shutdown });
 * message.id; // "scene-42"
 *
 * Ids are stored in the node name, so "/" and "|" in an id become "_" (as Curator does): "a/b" and
 * "a_b" are the same id. Several items may share an id; remove() removes all of them. Delivery and
 * protection are as in DistributedQueue (Curator consumers need `protectedNames: false`).
 */
import type { NodeData } from "../client/mod.ts";
import { KeeperError } from "../client/mod.ts";
import { checkRecipePath, joinPath, sortChildren } from "./paths.ts";
import { DistributedQueue, type PutResult, type QueueMessage, type QueueOptions } from "./queue.ts";
import { fieldOf, fieldSegment, QUEUE_FIELD_SEPARATOR, sequenceKey } from "./queue_names.ts";
import { isQueueNode, QUEUE_ITEM_NAME, type QueueOrder, takeHead } from "./queue_take.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { childrenOrEmpty, retrying } from "./waiting.ts";

/** A taken (or peeked) id queue node. */
export interface IdQueueMessage extends QueueMessage {
  /** The item's id as stored ("/" and "|" replaced by "_"); null for a node put without one. */
  id: string | null;
}

/** Curator's fixId: the id as it appears in node names. */
export function queueIdOf(id: string): string {
  if (typeof id !== "string" || id === "") {
    throw new TypeError(`an id queue item needs a non-empty string id, got ${JSON.stringify(id)}`);
  }
  return id.replaceAll("/", "_").replaceAll(QUEUE_FIELD_SEPARATOR, "_");
}

/** FIFO over every queue node, by sequence number whatever the id. */
const ID_QUEUE_ORDER: QueueOrder = {
  sort: (children) => sortChildren(children.filter(isQueueNode), sequenceKey),
};

export class DistributedIdQueue {
  readonly path: string;
  readonly #client: RecipeClient;
  readonly #queue: DistributedQueue;

  constructor(client: RecipeClient, path: string, options: QueueOptions = {}) {
    this.path = checkRecipePath(path, "DistributedIdQueue");
    this.#client = client;
    this.#queue = new DistributedQueue(client, path, options);
  }

  /** Adds an item under `id`. */
  put(item: NodeData, id: string): Promise<PutResult> {
    return this.#queue.putNode(QUEUE_ITEM_NAME + fieldSegment(queueIdOf(id)), [item]);
  }

  /** Removes and returns the head, waiting for one. Rejects with the signal's reason. */
  async take(options: { signal?: AbortSignal } = {}): Promise<IdQueueMessage> {
    const message = await takeHead(this.#client, this.path, {
      remove: true,
      wait: true,
      signal: options.signal,
      order: ID_QUEUE_ORDER,
    });
    return withId(message!);
  }

  /** Removes and returns the head, or null when the queue is empty. */
  async poll(): Promise<IdQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, {
      remove: true,
      wait: false,
      order: ID_QUEUE_ORDER,
    });
    return message === null ? null : withId(message);
  }

  /** The head without removing it, or null. */
  async peek(): Promise<IdQueueMessage | null> {
    const message = await takeHead(this.#client, this.path, {
      remove: false,
      wait: false,
      order: ID_QUEUE_ORDER,
    });
    return message === null ? null : withId(message);
  }

  /**
   * Removes every queued item with this id; resolves how many this call removed (0 when consumers
   * took them first, or none was queued).
   */
  async remove(id: string): Promise<number> {
    const nodes = await this.#nodesWithId(queueIdOf(id));
    const removed = await Promise.all(nodes.map((name) => this.#deleteNode(joinPath(this.path, name))));
    return removed.filter(Boolean).length;
  }

  /** True when an item with this id is queued now. */
  async has(id: string): Promise<boolean> {
    return (await this.#nodesWithId(queueIdOf(id))).length > 0;
  }

  /** How many items are queued now. */
  size(): Promise<number> {
    return this.#queue.size();
  }

  async #nodesWithId(storedId: string): Promise<string[]> {
    const children = await childrenOrEmpty(this.#client, this.path);
    return children.filter((name) => isQueueNode(name) && fieldOf(name) === storedId);
  }

  /** True when this call deleted the node; false when it was gone (taken by a consumer). */
  async #deleteNode(path: string): Promise<boolean> {
    try {
      await retrying(this.#client, () => this.#client.delete(path));
      return true;
    } catch (error) {
      // After a lost connection, NONODE may also mean our own first attempt deleted it; the count
      // then errs low, never high.
      if (KeeperError.is(error, "NONODE")) return false;
      throw error;
    }
  }
}

function withId(message: QueueMessage): IdQueueMessage {
  return { ...message, id: fieldOf(message.name) };
}
