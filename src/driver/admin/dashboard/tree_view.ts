/**
 * The dashboard's tree browser reads, with ZooKeeper's read rules applied to the viewer: Stat as
 * `exists` gives it (no permission needed), the ACL as `getACL` (READ or ADMIN; digest ids masked
 * without ADMIN), data and children as `getData`/`getChildren` (READ). The viewer's identities come
 * from an `Authorization: digest user:password` (or `ip`) header, as the admin snapshot command
 * reads them; without one the viewer is world:anyone and nothing else. Never writes.
 */
import { authenticate, isAllowed, maskDigests } from "../../../core/acl.ts";
import { pathProblem } from "../../../core/path.ts";
import type { SnapshotSource } from "../../../core/persistence.ts";
import { type ACL, type Id, Perms, type Stat } from "../../../core/records.ts";
import { nodeKindOf } from "../../../core/txn.ts";
import type { JsonValue } from "../admin_json.ts";

/** One znode as the browser needs it. */
export interface TreeNodeRecord {
  data: Uint8Array | null;
  acl: readonly ACL[];
  stat: Stat;
  children: Iterable<string>;
}

/** Reads one znode of the served tree, or undefined when there is none at `path`. */
export interface TreeReader {
  read(path: string): TreeNodeRecord | undefined;
}

/** The shape of core's DataTree that the fast reader needs (get + statOf). */
export interface LiveTree {
  get(path: string): { data: Uint8Array | null; acl: readonly ACL[]; children: ReadonlySet<string> } | undefined;
  statOf(node: never): Stat;
}

/** Bounds of one answer: the page shows a prefix, and says how much was left out. */
export const TREE_DATA_SHOWN_BYTES_MAX = 16 * 1024;
export const TREE_CHILDREN_SHOWN_MAX = 1000;
/** A scan of a snapshot source gives up past this many nodes (the fallback reader; see below). */
export const TREE_SCAN_NODES_MAX = 2_000_000;

/** The fast reader: a live DataTree (O(1) per read). */
export function liveTreeReader(tree: () => LiveTree): TreeReader {
  return {
    read(path) {
      const current = tree();
      const node = current.get(path);
      if (node === undefined) return undefined;
      return { data: node.data, acl: node.acl, stat: current.statOf(node as never), children: node.children };
    },
  };
}

/**
 * The fallback reader over a consistent snapshot source (what the admin snapshot command already
 * has): one pass over the nodes per read, bounded by TREE_SCAN_NODES_MAX. Used when the server did
 * not hand the AdminServer its live tree.
 */
export function snapshotTreeReader(source: () => SnapshotSource): TreeReader {
  return {
    read(path) {
      const prefix = path === "/" ? "/" : `${path}/`;
      const children: string[] = [];
      let found: TreeNodeRecord | undefined;
      let scanned = 0;
      const nodes = source().nodes;
      for (let next = nodes.next(); !next.done; next = nodes.next()) {
        if (++scanned > TREE_SCAN_NODES_MAX) throw new Error(`the tree has more than ${TREE_SCAN_NODES_MAX} nodes; the dashboard cannot browse it without the live tree`);
        const node = next.value;
        if (node.path === path) {
          found = {
            data: node.data,
            acl: node.acl,
            stat: {
              czxid: node.czxid, mzxid: node.mzxid, ctime: node.ctime, mtime: node.mtime, version: node.version,
              cversion: node.cversion, aversion: node.aversion, dataLength: node.data?.length ?? 0, numChildren: 0, pzxid: node.pzxid,
              ephemeralOwner: nodeKindOf(node.ephemeralOwner) === "ephemeral" ? node.ephemeralOwner : 0n,
            },
            children,
          };
        } else if (node.path.startsWith(prefix) && node.path.length > prefix.length && !node.path.includes("/", prefix.length)) {
          children.push(node.path.slice(prefix.length));
        }
      }
      if (found === undefined) return undefined;
      // The snapshot keeps the create counter; clients see 2·C − numChildren, as DataTree.statOf.
      found.stat = { ...found.stat, numChildren: children.length, cversion: found.stat.cversion * 2 - children.length };
      return found;
    },
  };
}

/** The viewer's identities from the Authorization header; a string is the refusal to send (401). */
export function viewerIdentities(header: string | undefined, context: { remoteAddress: string; superDigest: string | null }): Id[] | string {
  if (header === undefined || header === "") return [];
  const space = header.indexOf(" ");
  const scheme = space < 0 ? header : header.slice(0, space);
  const auth = space < 0 ? null : new TextEncoder().encode(header.slice(space + 1));
  if (scheme !== "digest" && scheme !== "ip") return `unsupported Authorization scheme ${JSON.stringify(scheme.slice(0, 32))}: send "digest user:password"`;
  if (scheme === "digest" && (auth === null || !header.slice(space + 1).includes(":"))) return 'the digest Authorization header must be "digest user:password"';
  const identities = authenticate(scheme, auth, context);
  if (identities === null || identities.length === 0) return "Not authenticated";
  return identities;
}

/** What the tree browser shows of `path` to a viewer holding `identities`, as JSON. */
export function viewNode(reader: TreeReader, path: string, identities: readonly Id[]): Record<string, JsonValue> {
  const problem = path === "/" ? null : pathProblem(path);
  if (problem !== null) return { path, error: `invalid path: ${problem}` };
  const node = reader.read(path);
  if (node === undefined) return { path, exists: false };
  const readable = isAllowed(node.acl, Perms.READ, identities);
  const admin = isAllowed(node.acl, Perms.ADMIN, identities);
  const view: Record<string, JsonValue> = { path, exists: true, stat: statJson(node.stat), readable };
  view["acl"] = readable || admin ? (admin ? [...node.acl] : maskDigests(node.acl)).map(aclJson) : null;
  if (!readable) return { ...view, data: null, children: null, hidden: "no READ permission for this viewer: authenticate as a user the node's ACL allows" };
  return { ...view, data: dataJson(node.data), ...childrenJson(node.children) };
}

function statJson(stat: Stat): Record<string, JsonValue> {
  return {
    czxid: zxidHex(stat.czxid), mzxid: zxidHex(stat.mzxid), pzxid: zxidHex(stat.pzxid), ctime: stat.ctime, mtime: stat.mtime,
    version: stat.version, cversion: stat.cversion, aversion: stat.aversion, ephemeralOwner: `0x${BigInt.asUintN(64, stat.ephemeralOwner).toString(16)}`,
    dataLength: stat.dataLength, numChildren: stat.numChildren,
  };
}

export function zxidHex(zxid: number): string {
  return `0x${zxid.toString(16)}`;
}

function aclJson(entry: ACL): Record<string, JsonValue> {
  const letters = [[Perms.CREATE, "c"], [Perms.DELETE, "d"], [Perms.READ, "r"], [Perms.WRITE, "w"], [Perms.ADMIN, "a"]] as const;
  return { perms: letters.map(([bit, letter]) => (entry.perms & bit) !== 0 ? letter : "").join(""), scheme: entry.id.scheme, id: entry.id.id };
}

/** UTF-8 text when the bytes are text, else a hex dump; either way at most TREE_DATA_SHOWN_BYTES_MAX bytes. */
function dataJson(data: Uint8Array | null): Record<string, JsonValue> | null {
  if (data === null) return null;
  const shown = data.subarray(0, TREE_DATA_SHOWN_BYTES_MAX);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(shown);
  // Control characters other than tab/newline/CR, or invalid UTF-8 (U+FFFD), mean binary.
  // deno-lint-ignore no-control-regex -- matching control characters is the point here
  const binary = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/.test(text);
  const hex = binary ? [...shown.subarray(0, 1024)].map((byte) => byte.toString(16).padStart(2, "0")).join(" ") : null;
  return { bytes: data.length, truncated: data.length > shown.length, binary, text: binary ? null : text, hex };
}

function childrenJson(children: Iterable<string>): Record<string, JsonValue> {
  const names: string[] = [];
  let total = 0;
  for (const name of children) {
    total++;
    // Keep the first names in sort order without holding more than twice the bound.
    names.push(name);
    if (names.length >= TREE_CHILDREN_SHOWN_MAX * 2) names.sort().length = TREE_CHILDREN_SHOWN_MAX;
  }
  names.sort();
  if (names.length > TREE_CHILDREN_SHOWN_MAX) names.length = TREE_CHILDREN_SHOWN_MAX;
  return { children: names, childrenTotal: total };
}
