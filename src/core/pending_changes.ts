/**
 * Prep's view of the tree: the applied tree plus the effects of txns prepared but not yet applied
 * (ZooKeeper's outstandingChanges). Each write is validated against this view, so requests can be
 * prepared while earlier ones are still being made durable or replicated.
 */
import type { DataTree } from "./data_tree.ts";
import type { ACL } from "./records.ts";
import { nodeKindOf } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

/** What prep needs to know of a node. */
export interface NodeView {
  version: number;
  /** The persisted create counter C. */
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  numChildren: number;
  acl: readonly ACL[];
}

interface ChangeRecord {
  zxid: Zxid;
  path: string;
  /** null: the node is deleted. */
  node: NodeView | null;
  /** The record this one shadows, to roll back a failed multi. */
  previous: ChangeRecord | undefined;
}

export class PendingChanges {
  readonly #tree: DataTree;
  #latest = new Map<string, ChangeRecord>();
  #records: ChangeRecord[] = [];
  #head = 0;

  constructor(tree: DataTree) {
    this.#tree = tree;
  }

  /** The node at `path` as prep sees it, or null when it does not exist. */
  get(path: string): NodeView | null {
    const record = this.#latest.get(path);
    if (record) return record.node;
    const node = this.#tree.get(path);
    if (!node) return null;
    return {
      version: node.version,
      cversion: node.cversion,
      aversion: node.aversion,
      ephemeralOwner: node.ephemeralOwner,
      numChildren: node.children.size,
      acl: node.acl,
    };
  }

  /** Whether a prepared txn not applied yet changed (or created, or deleted) the node at `path`. */
  changedSinceApplied(path: string): boolean {
    return this.#latest.has(path);
  }

  set(zxid: Zxid, path: string, node: NodeView | null): void {
    const record: ChangeRecord = { zxid, path, node, previous: this.#latest.get(path) };
    this.#records.push(record);
    this.#latest.set(path, record);
  }

  /** A point to roll back to (a multi's start). */
  mark(): number {
    return this.#records.length;
  }

  rollback(mark: number): void {
    while (this.#records.length > mark) {
      const record = this.#records.pop()!;
      if (record.previous) this.#latest.set(record.path, record.previous);
      else this.#latest.delete(record.path);
    }
  }

  /** Forgets records whose txns have been applied to the tree. */
  applied(zxid: Zxid): void {
    while (this.#head < this.#records.length && this.#records[this.#head]!.zxid <= zxid) {
      const record = this.#records[this.#head++]!;
      if (this.#latest.get(record.path) === record) this.#latest.delete(record.path);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Forgets every pending change (after storage lost them: the tree is the truth again). */
  reset(): void {
    this.#latest.clear();
    this.#records = [];
    this.#head = 0;
  }

  get size(): number {
    return this.#records.length - this.#head;
  }

  /** The session's ephemerals as prep sees them: applied ones plus pending creates, minus deletes. */
  ephemeralsOf(sessionId: bigint): string[] {
    const paths = new Set(this.#tree.ephemeralsOf(sessionId));
    for (const [path, record] of this.#latest) {
      if (record.node !== null && record.node.ephemeralOwner === sessionId) paths.add(path);
      else paths.delete(path);
    }
    return [...paths].filter((path) => nodeKindOf(this.get(path)?.ephemeralOwner ?? 0n) === "ephemeral")
      .sort();
  }
}
