/** ZooKeeper path rules (PathUtils.validatePath) and path arithmetic. */

/** Why `path` is not a valid znode path, or null when it is. */
export function pathProblem(path: string | null): string | null {
  if (path === null || path.length === 0) return "path must not be empty";
  if (path.charCodeAt(0) !== 0x2f) return "path must start with /";
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return "path must not end with /";
  let previous = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && previous === 0x2f) return `empty node name specified @${i}`;
    if (
      (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0
    ) {
      return `invalid character @${i}`;
    }
    previous = c;
  }
  if (path.includes("/.")) {
    for (const segment of path.split("/")) {
      if (segment === "." || segment === "..") return "relative paths not allowed";
    }
  }
  return null;
}

/** The text before the last "/" ("/" for top-level nodes), as PrepRequestProcessor computes it. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.substring(0, slash);
}

/** The last segment ("" for "/"). */
export function nameOf(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === "/" ? "/" + name : parent + "/" + name;
}

/** The system nodes that can never be deleted. */
export function isSystemPath(path: string): boolean {
  return path === "/" || path === "/zookeeper" || path === "/zookeeper/quota" || path === "/zookeeper/config";
}

/** `%010d` of a signed 32-bit counter, as Java's String.format pads it (sign counts toward 10). */
export function sequenceSuffix(counter: number): string {
  if (counter < 0) return "-" + String(-counter).padStart(9, "0");
  return String(counter).padStart(10, "0");
}

/** Each proper ancestor of `path`, nearest first, ending with "/". */
export function* ancestorsOf(path: string): Generator<string> {
  let current = path;
  while (current !== "/") {
    current = parentOf(current);
    yield current;
  }
}
