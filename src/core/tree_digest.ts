/**
 * A digest of the whole tree (paths, data, ACLs and persisted Stat fields), independent of insertion
 * order: two replicas — or a server and its recovered self — hold the same state iff digests match.
 * Used by tests and the simulator's checkers; O(nodes), so not for the request path.
 */
import type { DataTree } from "./data_tree.ts";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();

function fnv1a(bytes: Uint8Array, hash = FNV_OFFSET): bigint {
  for (let i = 0; i < bytes.length; i++) hash = ((hash ^ BigInt(bytes[i]!)) * FNV_PRIME) & MASK_64;
  return hash;
}

/** Per-node hashes are summed, so the order in which nodes are visited does not matter. */
export function treeDigest(tree: DataTree): bigint {
  let sum = 0n;
  for (const node of tree.snapshotNodes()) {
    const fields = [
      node.path,
      node.czxid,
      node.mzxid,
      node.ctime,
      node.mtime,
      node.version,
      node.cversion,
      node.aversion,
      node.ephemeralOwner,
      node.pzxid,
      node.acl.map((entry) => `${entry.perms}:${entry.id.scheme}:${entry.id.id}`).join(","),
      node.data === null ? "null" : node.data.length,
    ].join("|");
    let hash = fnv1a(utf8.encode(fields));
    if (node.data !== null) hash = fnv1a(node.data, hash);
    sum = (sum + hash) & MASK_64;
  }
  return sum;
}
