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
import { CreateMode, KeeperError, type NodeData } from "../client/mod.ts";
import { ClientEnd } from "./lost.ts";
import { checkRecipePath, joinPath, sequenceOf, sortChildren, sortKey } from "./paths.ts";
import { createProtected } from "./protected_create.ts";
import { type RandomOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { decodeQueueItems, encodeQueueItems } from "./queue_items.ts";
import {
  childrenOrEmpty,
  CONNECTION_LOSS_RETRIES,
  raceSignals,
  retrying,
  throwIfAborted,
  Trigger,
  waitConnected,
} from "./waiting.ts";

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

/** Curator's queue node name. */
export const QUEUE_ITEM_NAME = "queue-";
/** Bound on watch rounds in one take(). */
const MAX_ROUNDS = 1_000_000;

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

function isQueueNode(name: string): boolean {
  return name.includes(QUEUE_ITEM_NAME);
}

function queueKey(name: string): string {
  return sortKey(name, QUEUE_ITEM_NAME);
}

/**
 * The head of the queue at `path` (lowest sort key after "queue-"): removed when `remove`, waited
 * for when `wait`. Nodes another consumer takes first are skipped.
 */
export async function takeHead(
  client: RecipeClient,
  path: string,
  options: { remove: boolean; wait: boolean; signal?: AbortSignal },
): Promise<QueueMessage | null> {
  const end = new ClientEnd(client);
  try {
    return await takeHeadUntil(client, path, options, [options.signal, end.signal]);
  } finally {
    end.dispose();
  }
}

async function takeHeadUntil(
  client: RecipeClient,
  path: string,
  options: { remove: boolean; wait: boolean },
  signals: (AbortSignal | undefined)[],
): Promise<QueueMessage | null> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    throwIfAborted(signals);
    // Look first without a watch; arm one only when about to wait (and look again, as the watch
    // only covers changes after it is set).
    const trigger = round === 0 ? null : new Trigger();
    const children = trigger === null
      ? await childrenOrEmpty(client, path)
      : await watchChildren(client, path, trigger);
    for (const name of sortChildren(children.filter(isQueueNode), queueKey)) {
      const message = await claim(client, joinPath(path, name), options.remove);
      if (message !== null) return message;
    }
    if (!options.wait) return null;
    if (trigger !== null) await raceSignals(trigger.fired, signals);
  }
  throw new Error(`queue ${path}: gave up after ${MAX_ROUNDS} changes`);
}

/** getChildren with a watch; when the queue node does not exist yet, watches for its creation. */
async function watchChildren(client: RecipeClient, path: string, trigger: Trigger): Promise<string[]> {
  try {
    return await retrying(client, () => client.getChildren(path, { watch: trigger.listener }));
  } catch (error) {
    if (!KeeperError.is(error, "NONODE")) throw error;
    const stat = await retrying(client, () => client.exists(path, { watch: trigger.listener }));
    return stat === null ? [] : retrying(client, () => client.getChildren(path));
  }
}

/** Reads (and deletes, when `remove`) one queue node; null when another consumer got it first. */
async function claim(client: RecipeClient, path: string, remove: boolean): Promise<QueueMessage | null> {
  try {
    const { data, stat } = await retrying(client, () => client.getData(path));
    if (remove && !(await deleteExactly(client, path, stat.version))) return null;
    const name = path.substring(path.lastIndexOf("/") + 1);
    const items = itemsOf(data);
    return {
      path,
      name,
      sequence: sequenceOf(name),
      czxid: stat.czxid,
      items,
      data: items[0] ?? new Uint8Array(0),
    };
  } catch (error) {
    if (KeeperError.is(error, "NONODE") || KeeperError.is(error, "BADVERSION")) return null;
    throw error;
  }
}

/**
 * Deletes `path` at `version`; true when this call deleted it. After a lost connection the node is
 * looked up: still there → delete again; gone → we cannot tell whether we or another consumer took
 * it, and only one may return it, so it counts as not ours (at most once).
 */
async function deleteExactly(client: RecipeClient, path: string, version: number): Promise<boolean> {
  for (let attempt = 0; attempt <= CONNECTION_LOSS_RETRIES; attempt++) {
    try {
      await client.delete(path, { version });
      return true;
    } catch (error) {
      if (!KeeperError.is(error, "CONNECTIONLOSS")) throw error;
      await waitConnected(client);
      const stat = await retrying(client, () => client.exists(path));
      if (stat === null || stat.version !== version) return false;
    }
  }
  return false;
}

/** Curator's framing, or — for nodes other producers wrote as plain bytes — the data as one item. */
function itemsOf(data: Uint8Array): Uint8Array[] {
  try {
    return decodeQueueItems(data);
  } catch {
    return [data];
  }
}
