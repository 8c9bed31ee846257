/**
 * The client's watch tables (wire protocol §6.7): which listeners wait on which client path, per kind.
 * Pure bookkeeping; the session machine decides when to add, fire and remove.
 */
import { ancestorsOf } from "../core/path.ts";
import { EventType, type Request } from "../core/records.ts";
import type { WatchPaths } from "./set_watches.ts";
import type { WatchListener } from "./types.ts";

/**
 * data: getData, or exists on an existing node; exist: exists on a missing node; child: getChildren;
 * persistent / persistentRecursive: addWatch. One-shot kinds are cleared when they fire.
 */
export type WatchListName = "data" | "exist" | "child" | "persistent" | "persistentRecursive";

export const WATCH_LIST_NAMES: readonly WatchListName[] = [
  "data",
  "exist",
  "child",
  "persistent",
  "persistentRecursive",
];

export class WatchRegistry {
  readonly #lists = new Map<WatchListName, Map<string, Set<WatchListener>>>(
    WATCH_LIST_NAMES.map((name) => [name, new Map()]),
  );

  add(list: WatchListName, path: string, listener: WatchListener): void {
    const table = this.#table(list);
    let listeners = table.get(path);
    if (listeners === undefined) {
      listeners = new Set();
      table.set(path, listeners);
    }
    listeners.add(listener);
  }

  /** Removes one listener; true when it was there. */
  remove(list: WatchListName, path: string, listener: WatchListener): boolean {
    const table = this.#table(list);
    const listeners = table.get(path);
    if (listeners === undefined || !listeners.delete(listener)) return false;
    if (listeners.size === 0) table.delete(path);
    return true;
  }

  /** Removes and returns every listener of `list` at `path`. */
  removeAll(list: WatchListName, path: string): WatchListener[] {
    const table = this.#table(list);
    const listeners = table.get(path);
    table.delete(path);
    return listeners === undefined ? [] : [...listeners];
  }

  /**
   * Removes `listener` (or every listener) from `lists` at `path`. Returns how many registrations
   * went, and each removed listener once with the first list it was found in (for its event).
   */
  removeMatching(
    path: string,
    lists: readonly WatchListName[],
    listener?: WatchListener,
  ): { count: number; first: { listener: WatchListener; list: WatchListName }[] } {
    let count = 0;
    const first = new Map<WatchListener, WatchListName>();
    for (const list of lists) {
      const removed = listener === undefined
        ? this.removeAll(list, path)
        : (this.remove(list, path, listener) ? [listener] : []);
      for (const each of removed) {
        count++;
        if (!first.has(each)) first.set(each, list);
      }
    }
    return { count, first: [...first].map(([each, list]) => ({ listener: each, list })) };
  }

  /** Whether `list` has `listener` (or any listener) at `path`. */
  has(list: WatchListName, path: string, listener?: WatchListener): boolean {
    const listeners = this.#table(list).get(path);
    if (listeners === undefined) return false;
    return listener === undefined ? listeners.size > 0 : listeners.has(listener);
  }

  /**
   * The listeners a server notification of `type` at `path` reaches, each once, with one-shot
   * watches cleared (the Java client's dispatch rules, §6.7).
   */
  take(type: number, path: string): WatchListener[] {
    // Helpers are methods, not closures: this runs once per notification.
    const reached = new Set<WatchListener>();
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        this.#takeOneShot(reached, "data", path);
        this.#takeOneShot(reached, "exist", path);
        this.#keep(reached, "persistent", path);
        this.#keepRecursive(reached, path);
        break;
      case EventType.NodeChildrenChanged:
        this.#takeOneShot(reached, "child", path);
        this.#keep(reached, "persistent", path);
        break;
      case EventType.NodeDeleted:
        this.#takeOneShot(reached, "data", path);
        this.#takeOneShot(reached, "exist", path);
        this.#takeOneShot(reached, "child", path);
        this.#keep(reached, "persistent", path);
        this.#keepRecursive(reached, path);
        break;
      default:
        // Types 5-7 are client-local and -1 is never sent by a server: nothing to reach.
        break;
    }
    return [...reached];
  }

  /** The listeners of `list` at `path`. */
  listenersAt(list: WatchListName, path: string): WatchListener[] {
    const listeners = this.#table(list).get(path);
    return listeners === undefined ? [] : [...listeners];
  }

  /** Every registered listener once, for state events. */
  listeners(): WatchListener[] {
    const all = new Set<WatchListener>();
    for (const table of this.#lists.values()) {
      for (const listeners of table.values()) for (const listener of listeners) all.add(listener);
    }
    return [...all];
  }

  /** The paths that have at least one listener in `list`. */
  paths(list: WatchListName): string[] {
    return [...this.#table(list).keys()];
  }

  /** Every watched path per list, mapped to server paths, for setWatches. */
  serverPaths(toServer: (path: string) => string): WatchPaths {
    const of = (list: WatchListName) => this.paths(list).map(toServer);
    return {
      data: of("data"),
      exist: of("exist"),
      child: of("child"),
      persistent: of("persistent"),
      persistentRecursive: of("persistentRecursive"),
    };
  }

  /** Number of (list, path, listener) registrations. */
  get size(): number {
    let total = 0;
    for (const table of this.#lists.values()) for (const listeners of table.values()) total += listeners.size;
    return total;
  }

  clear(): void {
    for (const table of this.#lists.values()) table.clear();
  }

  /** One-shot listeners of `list` at `path` join `reached` and are cleared. */
  #takeOneShot(reached: Set<WatchListener>, list: WatchListName, path: string): void {
    for (const listener of this.removeAll(list, path)) reached.add(listener);
  }

  /** Listeners of `list` at `at` join `reached` and stay. */
  #keep(reached: Set<WatchListener>, list: WatchListName, at: string): void {
    const listeners = this.#table(list).get(at);
    if (listeners !== undefined) { for (const listener of listeners) reached.add(listener); }
  }

  /** Recursive watches at `path` or any ancestor. */
  #keepRecursive(reached: Set<WatchListener>, path: string): void {
    this.#keep(reached, "persistentRecursive", path);
    for (const ancestor of ancestorsOf(path)) this.#keep(reached, "persistentRecursive", ancestor);
  }

  #table(list: WatchListName): Map<string, Set<WatchListener>> {
    return this.#lists.get(list)!;
  }
}

/** Which list a successful watching request registers in (exists on a missing node: "exist"). */
export function watchListOf(request: Request): WatchListName | null {
  switch (request.kind) {
    case "exists":
    case "getData":
      return "data";
    case "getChildren":
    case "getChildren2":
      return "child";
    case "addWatch":
      return request.mode === 1 ? "persistentRecursive" : "persistent";
    default:
      return null;
  }
}
