/** Building the public WatchEvent objects from protocol numbers. */
import { EventType } from "../core/records.ts";
import type { KeeperStateName, NodeWatchEvent, StateWatchEvent, WatchRemovedEventType } from "./types.ts";
import type { WatchListName } from "./watch_registry.ts";

const nodeEventNames = new Map<number, NodeWatchEvent["type"]>([
  [EventType.NodeCreated, "NodeCreated"],
  [EventType.NodeDeleted, "NodeDeleted"],
  [EventType.NodeDataChanged, "NodeDataChanged"],
  [EventType.NodeChildrenChanged, "NodeChildrenChanged"],
]);

/** A server notification as a NodeWatchEvent; null for a type no server sends. */
export function nodeEvent(type: number, path: string, zxid: number): NodeWatchEvent | null {
  const name = nodeEventNames.get(type);
  if (name === undefined) return null;
  return { type: name, state: "SyncConnected", path, zxid: zxid > 0 ? zxid : -1 };
}

export function stateEvent(state: KeeperStateName): StateWatchEvent {
  return { type: "None", state, path: null, zxid: -1 };
}

/** The event a listener gets when its watch in `list` is removed on request. */
export function removedEvent(list: WatchListName, path: string): NodeWatchEvent {
  return { type: removedTypeOf(list), state: "SyncConnected", path, zxid: -1 };
}

function removedTypeOf(list: WatchListName): WatchRemovedEventType {
  switch (list) {
    case "data":
    case "exist":
      return "DataWatchRemoved";
    case "child":
      return "ChildWatchRemoved";
    case "persistent":
    case "persistentRecursive":
      return "PersistentWatchRemoved";
  }
}
