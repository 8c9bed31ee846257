/**
 * Path rules of the model, written from the protocol reference (§7.5, §7.6): ZooKeeper's
 * PathUtils.validatePath, the parent of a path as the server computes it, and the `%010d` suffix
 * of sequential nodes. Deliberately not shared with src/core/path.ts: the model must not inherit a
 * bug from the code it checks.
 */

/** True when `path` is a valid znode path (§7.5). */
export function isValidPath(path: string): boolean {
  if (path.length === 0 || path[0] !== "/") return false;
  if (path === "/") return true;
  if (path.endsWith("/")) return false;
  for (let i = 1; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 0) return false;
    if (code === 0x2f && path.charCodeAt(i - 1) === 0x2f) return false;
    if (
      code <= 0x1f || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xf8ff) || code >= 0xfff0
    ) return false;
  }
  return path.split("/").every((segment) => segment !== "." && segment !== "..");
}

/** The text before the last "/", with "/" for top-level nodes (the server's parent lookup). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Java's `String.format("%010d", n)` of a signed 32-bit n: the sign counts toward the width. */
export function sequenceSuffix(counter: number): string {
  const digits = String(Math.abs(counter));
  return counter < 0 ? "-" + digits.padStart(9, "0") : digits.padStart(10, "0");
}

/** The four nodes every server starts with and no client may delete. */
export const SYSTEM_PATHS: ReadonlySet<string> = new Set([
  "/",
  "/zookeeper",
  "/zookeeper/quota",
  "/zookeeper/config",
]);
