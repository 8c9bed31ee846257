/**
 * Watches: per-connection state of one server, never replicated. Two tables (data and child) map a
 * path to the connections watching it and their modes, as ZooKeeper 3.9's WatchManager: a connection
 * may hold a one-shot and a persistent watch on one path at once.
 */
import { Code } from "./errors.ts";
import { ancestorsOf } from "./path.ts";
import type { ACL } from "./records.ts";
import { EventType, WatcherType } from "./records.ts";
import type { TreeChange } from "./data_tree.ts";
import type { ConnectionId } from "./server_io.ts";

/** Mode bits; a connection's entry for a path is their union. */
export const WatchMode = {
  STANDARD: 1,
  PERSISTENT: 2,
  PERSISTENT_RECURSIVE: 4,
} as const;

type Table = Map<string, Map<ConnectionId, number>>;

export interface WatchDelivery {
  connection: ConnectionId;
  type: number;
  path: string;
}

function deliver(
  into: WatchDelivery[],
  connections: Set<ConnectionId>,
  type: number,
  change: TreeChange,
  canRead: (connection: ConnectionId, acl: readonly ACL[]) => boolean,
): void {
  for (const connection of connections) {
    if (canRead(connection, change.acl)) into.push({ connection, type, path: change.path });
  }
}

export class WatchManager {
  #data: Table = new Map();
  #child: Table = new Map();
  #pathsByConnection = new Map<ConnectionId, { data: Set<string>; child: Set<string> }>();
  #recursiveCount = 0;

  addDataWatch(path: string, connection: ConnectionId, mode: number): void {
    this.#add(this.#data, "data", path, connection, mode);
  }

  addChildWatch(path: string, connection: ConnectionId, mode: number): void {
    this.#add(this.#child, "child", path, connection, mode);
  }

  /** addWatch: PERSISTENT goes in both tables, PERSISTENT_RECURSIVE in the data table only. */
  addPersistentWatch(path: string, connection: ConnectionId, recursive: boolean): void {
    if (recursive) {
      this.addDataWatch(path, connection, WatchMode.PERSISTENT_RECURSIVE);
    } else {
      this.addDataWatch(path, connection, WatchMode.PERSISTENT);
      this.addChildWatch(path, connection, WatchMode.PERSISTENT);
    }
  }

  /**
   * The notifications one tree change causes, at most one per connection for the changed path.
   * One-shot watches are consumed here even if `canRead` then withholds the event (ZooKeeper 3.8.4+).
   */
  trigger(change: TreeChange, canRead: (connection: ConnectionId, acl: readonly ACL[]) => boolean): WatchDelivery[] {
    const deliveries: WatchDelivery[] = [];
    // Most changes have no watcher at all: return before allocating anything more.
    if (this.#data.size === 0 && this.#child.size === 0) return deliveries;
    switch (change.type) {
      case "created":
        deliver(deliveries, this.#fire(this.#data, change.path, true), EventType.NodeCreated, change, canRead);
        break;
      case "dataChanged":
        deliver(deliveries, this.#fire(this.#data, change.path, true), EventType.NodeDataChanged, change, canRead);
        break;
      case "childrenChanged":
        deliver(deliveries, this.#fire(this.#child, change.path, false), EventType.NodeChildrenChanged, change, canRead);
        break;
      case "deleted": {
        const viaData = this.#fire(this.#data, change.path, true);
        const viaChild = this.#fire(this.#child, change.path, false);
        for (const connection of viaData) viaChild.delete(connection);
        deliver(deliveries, viaData, EventType.NodeDeleted, change, canRead);
        deliver(deliveries, viaChild, EventType.NodeDeleted, change, canRead);
        break;
      }
    }
    return deliveries;
  }

  /** Connections to notify for `path` in `table`; one-shot entries at the exact path are consumed. */
  #fire(table: Table, path: string, withAncestors: boolean): Set<ConnectionId> {
    const notified = new Set<ConnectionId>();
    const exact = table.get(path);
    if (exact) {
      for (const [connection, modes] of exact) {
        notified.add(connection);
        if (modes & WatchMode.STANDARD) {
          this.#removeModes(table, table === this.#data ? "data" : "child", path, connection, WatchMode.STANDARD);
        }
      }
    }
    if (withAncestors && this.#recursiveCount > 0) {
      for (const ancestor of ancestorsOf(path)) {
        const watchers = table.get(ancestor);
        if (!watchers) continue;
        for (const [connection, modes] of watchers) {
          if (modes & WatchMode.PERSISTENT_RECURSIVE) notified.add(connection);
        }
      }
    }
    return notified;
  }

  /** checkWatches: OK, NOWATCHER or MARSHALLINGERROR (unknown type). */
  check(path: string, connection: ConnectionId, type: number): number {
    const data = this.#data.get(path)?.get(connection) ?? 0;
    const child = this.#child.get(path)?.get(connection) ?? 0;
    let found: boolean;
    switch (type) {
      case WatcherType.Children:
        found = (child & WatchMode.STANDARD) !== 0;
        break;
      case WatcherType.Data:
        found = (data & WatchMode.STANDARD) !== 0;
        break;
      case WatcherType.Any:
        found = data !== 0 || child !== 0;
        break;
      case WatcherType.Persistent:
        found = (data & WatchMode.PERSISTENT) !== 0;
        break;
      case WatcherType.PersistentRecursive:
        found = (data & WatchMode.PERSISTENT_RECURSIVE) !== 0;
        break;
      default:
        return Code.MARSHALLINGERROR;
    }
    return found ? Code.OK : Code.NOWATCHER;
  }

  /** removeWatches: OK when something was removed, NOWATCHER, or MARSHALLINGERROR. */
  remove(path: string, connection: ConnectionId, type: number): number {
    const verdict = this.check(path, connection, type);
    if (verdict !== Code.OK) return verdict;
    const all = WatchMode.STANDARD | WatchMode.PERSISTENT | WatchMode.PERSISTENT_RECURSIVE;
    switch (type) {
      case WatcherType.Children:
        this.#removeModes(this.#child, "child", path, connection, WatchMode.STANDARD);
        break;
      case WatcherType.Data:
        this.#removeModes(this.#data, "data", path, connection, WatchMode.STANDARD);
        break;
      case WatcherType.Any:
        this.#removeModes(this.#data, "data", path, connection, all);
        this.#removeModes(this.#child, "child", path, connection, all);
        break;
      case WatcherType.Persistent:
        this.#removeModes(this.#data, "data", path, connection, WatchMode.PERSISTENT);
        this.#removeModes(this.#child, "child", path, connection, WatchMode.PERSISTENT);
        break;
      case WatcherType.PersistentRecursive:
        this.#removeModes(this.#data, "data", path, connection, WatchMode.PERSISTENT_RECURSIVE);
        break;
    }
    return Code.OK;
  }

  /** Drops every watch of a connection (it closed, or its session was re-established elsewhere). */
  removeConnection(connection: ConnectionId): void {
    const paths = this.#pathsByConnection.get(connection);
    if (!paths) return;
    const all = WatchMode.STANDARD | WatchMode.PERSISTENT | WatchMode.PERSISTENT_RECURSIVE;
    for (const path of [...paths.data]) this.#removeModes(this.#data, "data", path, connection, all);
    for (const path of [...paths.child]) this.#removeModes(this.#child, "child", path, connection, all);
    this.#pathsByConnection.delete(connection);
  }

  /** Watch count over both tables (entries, not modes). */
  get count(): number {
    let total = 0;
    for (const watchers of this.#data.values()) total += watchers.size;
    for (const watchers of this.#child.values()) total += watchers.size;
    return total;
  }

  /** The data table as path → connections, for `wchs`, `wchc` and `wchp`. */
  dataWatchers(): Map<string, ConnectionId[]> {
    const result = new Map<string, ConnectionId[]>();
    for (const [path, watchers] of this.#data) result.set(path, [...watchers.keys()]);
    return result;
  }

  watchCountOf(connection: ConnectionId): number {
    const paths = this.#pathsByConnection.get(connection);
    return paths ? paths.data.size + paths.child.size : 0;
  }

  #add(table: Table, which: "data" | "child", path: string, connection: ConnectionId, mode: number): void {
    let watchers = table.get(path);
    if (!watchers) table.set(path, watchers = new Map());
    const before = watchers.get(connection) ?? 0;
    if (mode & WatchMode.PERSISTENT_RECURSIVE && !(before & WatchMode.PERSISTENT_RECURSIVE)) this.#recursiveCount++;
    watchers.set(connection, before | mode);
    let paths = this.#pathsByConnection.get(connection);
    if (!paths) this.#pathsByConnection.set(connection, paths = { data: new Set(), child: new Set() });
    paths[which].add(path);
  }

  #removeModes(table: Table, which: "data" | "child", path: string, connection: ConnectionId, modes: number): void {
    const watchers = table.get(path);
    const before = watchers?.get(connection);
    if (!watchers || before === undefined) return;
    if (before & modes & WatchMode.PERSISTENT_RECURSIVE) this.#recursiveCount--;
    const after = before & ~modes;
    if (after !== 0) {
      watchers.set(connection, after);
      return;
    }
    watchers.delete(connection);
    if (watchers.size === 0) table.delete(path);
    this.#pathsByConnection.get(connection)?.[which].delete(path);
  }
}
