/**
 * Taking the head of a Curator-style queue: list the queue's children, order them the way the
 * queue's flavour wants (sequence, priority, id queue, delay), then read and delete the first one
 * no other consumer got first. With `wait`, a children watch (and, for delayed items, a timer until
 * the first one is due) wakes the consumer. Shared by DistributedQueue, PriorityQueue,
 * DistributedIdQueue and DistributedDelayQueue.
 */
import { KeeperError } from "../client/mod.ts";
import { ClientEnd, timersOf } from "./lost.ts";
import { joinPath, sequenceOf, sortChildren, sortKey } from "./paths.ts";
import type { QueueMessage } from "./queue.ts";
import { decodeQueueItems } from "./queue_items.ts";
import type { RecipeClient } from "./recipe_client.ts";
import {
  childrenOrEmpty,
  CONNECTION_LOSS_RETRIES,
  dropWatch,
  raceSignals,
  retrying,
  throwIfAborted,
  Trigger,
  waitConnected,
} from "./waiting.ts";

/** Curator's queue node name. */
export const QUEUE_ITEM_NAME = "queue-";

/** How a queue flavour orders its nodes, and (for the delay queue) when each becomes due. */
export interface QueueOrder {
  /** The queue nodes among `children`, in the order they are to be taken. */
  sort(children: readonly string[]): string[];
  /** Milliseconds until `name` may be taken (0 or less: now). Absent: every node is due. */
  dueInMs?(name: string): number;
}

/** Plain and priority queues: Curator's order, by the name after "queue-". */
export const SEQUENCE_ORDER: QueueOrder = {
  sort: (children) => sortChildren(children.filter(isQueueNode), (name) => sortKey(name, QUEUE_ITEM_NAME)),
};

/** True for the names queue flavours create (protected or not); other children are foreign. */
export function isQueueNode(name: string): boolean {
  return name.includes(QUEUE_ITEM_NAME);
}

export interface TakeOptions {
  /** Delete the node (take/poll) or only read it (peek). */
  remove: boolean;
  /** Wait for a due node rather than resolve null. */
  wait: boolean;
  signal?: AbortSignal | undefined;
  order?: QueueOrder;
  /** Take a node even if it is not due yet (peek at a delay queue). */
  ignoreDue?: boolean;
}

/** Bound on watch rounds in one take(). */
const MAX_ROUNDS = 1_000_000;
/** Longest single timer wait for a delayed node; longer delays are waited for in steps. */
const DUE_WAIT_MS_MAX = 60_000;

/**
 * The head of the queue at `path`: removed when `remove`, waited for when `wait`. Nodes another
 * consumer takes first are skipped. Rejects with the signal's reason, or with the KeeperError the
 * client's calls now fail with once its session has ended.
 */
export async function takeHead(
  client: RecipeClient,
  path: string,
  options: TakeOptions,
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
  options: TakeOptions,
  signals: (AbortSignal | undefined)[],
): Promise<QueueMessage | null> {
  const order = options.order ?? SEQUENCE_ORDER;
  let trigger: Trigger | null = null;
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      throwIfAborted(signals);
      // Look first without a watch; arm one only when about to wait (and look again, as the watch
      // only covers changes after it is set). A watch still armed from a timer wake-up is kept.
      let children: string[];
      if (round === 0) children = await childrenOrEmpty(client, path);
      else if (trigger !== null && !trigger.hasFired) children = await childrenOrEmpty(client, path);
      else {
        trigger = new Trigger();
        children = await watchChildren(client, path, trigger);
      }
      let dueInMs = 0;
      for (const name of order.sort(children)) {
        dueInMs = options.ignoreDue === true ? 0 : order.dueInMs?.(name) ?? 0;
        if (dueInMs > 0) break; // sorted by due time: the rest are later still
        const message = await claim(client, joinPath(path, name), options.remove);
        if (message !== null) return message;
      }
      if (!options.wait) return null;
      if (trigger !== null) await waitForChange(client, trigger, dueInMs, signals);
    }
    throw new Error(`queue ${path}: gave up after ${MAX_ROUNDS} changes`);
  } finally {
    if (trigger !== null && !trigger.hasFired) dropWatch(client, path, trigger.listener);
  }
}

/** Waits for the children watch, or — when the head is delayed — at most until it is due. */
async function waitForChange(
  client: RecipeClient,
  trigger: Trigger,
  dueInMs: number,
  signals: (AbortSignal | undefined)[],
): Promise<void> {
  if (dueInMs <= 0) {
    await raceSignals(trigger.fired, signals);
    return;
  }
  const timers = timersOf(client);
  let timer: unknown = undefined;
  const due = new Promise<void>((resolve) => {
    timer = timers.setTimeout(resolve, Math.min(Math.ceil(dueInMs), DUE_WAIT_MS_MAX));
  });
  try {
    await raceSignals(Promise.race([trigger.fired, due]), signals);
  } finally {
    timers.clearTimeout(timer);
  }
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
export async function deleteExactly(client: RecipeClient, path: string, version: number): Promise<boolean> {
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
