/**
 * Which local watch lists a removeWatches/removeAllWatches type covers, and which WatcherType to send
 * so that the server drops exactly the watches no remaining local listener needs (wire protocol §6.4).
 */
import { Code } from "../core/errors.ts";
import { WatcherType } from "../core/records.ts";
import { KeeperError } from "./keeper_error.ts";
import type { WatcherTypeName, WatchListener } from "./types.ts";
import type { WatchListName, WatchRegistry } from "./watch_registry.ts";

/** The local lists a WatcherType names. Throws KeeperError BADARGUMENTS for an unknown type. */
export function listsOf(type: WatcherTypeName): WatchListName[] {
  switch (type) {
    case "children":
      return ["child"];
    case "data":
      return ["data", "exist"];
    case "persistent":
      return ["persistent"];
    case "persistentRecursive":
      return ["persistentRecursive"];
    case "any":
      return ["data", "exist", "child", "persistent", "persistentRecursive"];
    default:
      throw new KeeperError(Code.BADARGUMENTS, {
        operation: "removeWatches",
        detail: `unknown watcher type ${JSON.stringify(type)}`,
      });
  }
}

/** The WatcherType number sent in removeWatches (4 and 5 need ZooKeeper 3.9+). */
export function watcherTypeOf(type: WatcherTypeName): number {
  switch (type) {
    case "children":
      return WatcherType.Children;
    case "data":
      return WatcherType.Data;
    case "any":
      return WatcherType.Any;
    case "persistent":
      return WatcherType.Persistent;
    case "persistentRecursive":
      return WatcherType.PersistentRecursive;
  }
}

/**
 * The WatcherType that makes the server drop what no remaining local listener needs once `listener`
 * leaves `lists` at `path`, or null when every server-side watch there is still needed. The server
 * keeps a data table (data/exist one-shots, persistent, recursive) and a child table (child
 * one-shots, persistent):
 * - nothing needed in either → Any (3), which clears both on 3.8 and 3.9;
 * - nothing needed in the data table → Data (2); 3.8 clears the whole table, 3.9 only its one-shots
 *   (a leftover persistent mode then sends events that find no listener and are dropped);
 * - nothing needed in the child table → Children (1), likewise.
 */
export function serverRemovalType(
  registry: WatchRegistry,
  path: string,
  lists: readonly WatchListName[],
  listener: WatchListener,
): number | null {
  const remains = (list: WatchListName) =>
    registry.listenersAt(list, path).some((other) => !(other === listener && lists.includes(list)));
  const needData = remains("data") || remains("exist") || remains("persistent") ||
    remains("persistentRecursive");
  const needChild = remains("child") || remains("persistent");
  if (!needData && !needChild) return WatcherType.Any;
  if (!needData) return WatcherType.Data;
  if (!needChild) return WatcherType.Children;
  return null;
}
