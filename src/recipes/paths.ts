/**
 * Path helpers: joining, the last segment, sequence numbers, Curator's sort order for lock-style
 * children, and creating a path's missing ancestors (as containers, the way Curator does).
 */
import { CreateMode, KeeperError } from "../client/mod.ts";
import type { RecipeClient } from "./recipe_client.ts";

/** `parent + "/" + name`, without doubling the slash under the root. */
export function joinPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The last segment of a path ("/a/b" → "b"). */
export function nodeName(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

/** The parent of a path ("/a/b" → "/a", "/a" → "/"). */
export function parentPath(path: string): string {
  const index = path.lastIndexOf("/");
  return index <= 0 ? "/" : path.substring(0, index);
}

/** Checks a recipe's base path early, with an error that names the recipe. */
export function checkRecipePath(path: string, recipe: string): string {
  if (typeof path !== "string" || !path.startsWith("/") || (path.length > 1 && path.endsWith("/"))) {
    throw new TypeError(
      `${recipe}: path must be absolute without a trailing slash, got ${JSON.stringify(path)}`,
    );
  }
  return path;
}

/**
 * The sequence number ZooKeeper appended to a sequential node's name (its last 10 characters,
 * "%010d"; after 2^31 creates under one parent the counter wraps and goes negative).
 */
export function sequenceOf(name: string): number {
  // "%010d": ten digits, or a minus sign and nine digits once the counter has wrapped.
  const suffix = name.slice(-10);
  if (!/^(-\d{9}|\d{10})$/.test(suffix)) {
    throw new Error(
      `${JSON.stringify(name)} is not a sequential node name (no 10-character sequence suffix)`,
    );
  }
  return Number(suffix);
}

/**
 * Curator's sort key for lock-style children (StandardLockInternalsDriver.fixForSorting): the part of
 * the name after the last occurrence of `lockName`, or the whole name when it does not occur. Sorting
 * by this key orders protected (`_c_<uuid>-lock-N`) and plain (`lock-N`) names by sequence number.
 */
export function sortKey(name: string, lockName: string): string {
  const index = name.lastIndexOf(lockName);
  return index < 0 ? name : name.substring(index + lockName.length);
}

/** Children sorted the way Curator sorts them for `lockName` (code-unit order of sortKey). */
export function sortChildren(children: readonly string[], key: (name: string) => string): string[] {
  return [...children].sort((left, right) => {
    const a = key(left);
    const b = key(right);
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * Creates `path` and any missing ancestors (as `mode`, default CONTAINER, Curator's
 * creatingParentContainersIfNeeded). The creates are pipelined: FIFO order makes each parent exist
 * before its child's create runs, so this costs one round trip. Existing nodes are fine.
 */
export async function ensurePath(
  client: RecipeClient,
  path: string,
  options: { mode?: number } = {},
): Promise<void> {
  if (path === "/") return;
  const mode = options.mode ?? CreateMode.CONTAINER;
  const prefixes: string[] = [];
  for (let index = path.indexOf("/", 1); index > 0; index = path.indexOf("/", index + 1)) {
    prefixes.push(path.substring(0, index));
  }
  prefixes.push(path);
  const outcomes = await Promise.allSettled(prefixes.map((prefix) => client.create(prefix, null, { mode })));
  const last = outcomes[outcomes.length - 1]!;
  if (last.status === "fulfilled" || KeeperError.is(last.reason, "NODEEXISTS")) return;
  // The path itself failed; an ancestor's failure (NOAUTH on a read-only parent, say) explains it
  // better than the NONODE it caused, unless that ancestor simply existed.
  const cause = outcomes.find((outcome) =>
    outcome.status === "rejected" && !KeeperError.is(outcome.reason, "NODEEXISTS")
  ) as PromiseRejectedResult | undefined;
  throw cause?.reason ?? last.reason;
}
