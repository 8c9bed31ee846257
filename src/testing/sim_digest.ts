/**
 * The tree digest the simulator compares (core's treeDigest), with zoo.cfg's membership in
 * /zookeeper/config left out: a member writes it outside any txn (version 0 at start, stamped
 * with an epoch's first zxid once that epoch is established, as ZooKeeper's initConfigInZKDatabase)
 * and with its own clock as mtime, so equal histories differ there. Once a reconfig txn set the
 * node (its mzxid is the txn's), it counts like any other node.
 */
import { CONFIG_NODE, type DataTree } from "../core/data_tree.ts";
import type { SnapshotNode } from "../core/persistence.ts";
import { treeDigest } from "../core/tree_digest.ts";
import { isEpochStart } from "./sim_reconfig.ts";

export function simTreeDigest(tree: DataTree): bigint {
  const config = tree.get(CONFIG_NODE);
  if (config === undefined || !isEpochStart(config.mzxid) || (config.mtime === 0 && config.mzxid === 0 && (config.data?.length ?? 0) === 0)) {
    return treeDigest(tree);
  }
  // treeDigest reads nothing but snapshotNodes(): hand it the nodes with that one node blanked.
  const view = {
    *snapshotNodes(): Generator<SnapshotNode> {
      for (const node of tree.snapshotNodes()) {
        yield node.path === CONFIG_NODE ? { ...node, data: new Uint8Array(0), mzxid: 0, mtime: 0, version: -1 } : node;
      }
    },
  };
  return treeDigest(view as unknown as DataTree);
}
