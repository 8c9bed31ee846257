/**
 * The model's znode tree: nodes with the Stat fields as clients see them (protocol reference §4),
 * sessions, and an undo journal so that a failed multi leaves nothing behind. Mutations record the
 * watch triggers they cause. Knows nothing of requests (see znode_model.ts for those).
 */
import type { ACL, Stat } from "../../core/records.ts";
import { WORLD_ANYONE } from "./model_acl.ts";
import { lastSegment, parentPath } from "./model_path.ts";

export type NodeKind = "persistent" | "ephemeral" | "container" | "ttl";

export interface ModelNode {
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** The client-visible cversion: +1 for every child created and every child deleted. */
  cversion: number;
  aversion: number;
  kind: NodeKind;
  /** The owning session of an ephemeral, else 0n. */
  owner: bigint;
  /** Time to live of a TTL node (ms). */
  ttlMs: number;
  /** Children ever created here (deletes not counted): the next sequential suffix. */
  created: number;
  children: Set<string>;
}

export type ChangeType = "created" | "deleted" | "dataChanged" | "childrenChanged";

/** One watch trigger, in the order ZooKeeper fires them within a txn. */
export interface ModelChange {
  path: string;
  type: ChangeType;
}

/** Signed 32-bit increment, as Java's int arithmetic does it (3.8: -2 + 1 is -1). */
export function plusOne(value: number): number {
  return (value + 1) | 0;
}

export function blankNode(path: string, acl: ACL[], fields: Partial<ModelNode> = {}): ModelNode {
  return {
    path,
    data: null,
    acl,
    czxid: 0,
    mzxid: 0,
    pzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    kind: "persistent",
    owner: 0n,
    ttlMs: 0,
    created: 0,
    children: new Set(),
    ...fields,
  };
}

export class ZnodeTree {
  readonly #nodes = new Map<string, ModelNode>();
  /** Session id → open (true) or closed (false). */
  readonly #sessions = new Map<bigint, boolean>();
  /** Saved originals while a txn runs (null: the path did not exist), for rollback. */
  #journal: Map<string, ModelNode | null> | null = null;

  constructor() {
    // A fresh server (§4.2): children given without create txns, hence cversion -1 and -2.
    const all: ACL[] = [{ perms: 31, id: WORLD_ANYONE }];
    // Their data is empty, not null (the spec's system-node table; getData answers a zero-length buffer).
    const empty = new Uint8Array(0);
    this.#nodes.set("/", blankNode("/", all, { data: empty, cversion: -1, children: new Set(["zookeeper"]) }));
    this.#nodes.set(
      "/zookeeper",
      blankNode("/zookeeper", all, { data: empty, cversion: -2, children: new Set(["quota", "config"]) }),
    );
    this.#nodes.set("/zookeeper/quota", blankNode("/zookeeper/quota", all, { data: empty }));
    this.#nodes.set(
      "/zookeeper/config",
      blankNode("/zookeeper/config", [{ perms: 1, id: WORLD_ANYONE }], { data: empty, aversion: -1 }),
    );
  }

  get(path: string): ModelNode | undefined {
    return this.#nodes.get(path);
  }

  nodes(): IterableIterator<ModelNode> {
    return this.#nodes.values();
  }

  statOf(node: ModelNode): Stat {
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      ctime: node.ctime,
      mtime: node.mtime,
      version: node.version,
      cversion: node.cversion,
      aversion: node.aversion,
      ephemeralOwner: node.kind === "ephemeral" ? node.owner : 0n, // containers and TTL nodes show 0
      dataLength: node.data === null ? 0 : node.data.length,
      numChildren: node.children.size,
      pzxid: node.pzxid,
    };
  }

  isOpen(sessionId: bigint): boolean {
    return this.#sessions.get(sessionId) === true;
  }

  /** Known to the model: created, and maybe closed since. */
  isKnown(sessionId: bigint): boolean {
    return this.#sessions.has(sessionId);
  }

  openSession(sessionId: bigint): void {
    this.#sessions.set(sessionId, true);
  }

  /** Closes a session and deletes its ephemerals with the closing txn's zxid. */
  closeSession(sessionId: bigint, zxid: number, changes: ModelChange[]): void {
    if (this.#sessions.has(sessionId)) this.#sessions.set(sessionId, false);
    const doomed = [...this.#nodes.values()].filter((node) =>
      node.kind === "ephemeral" && node.owner === sessionId
    );
    for (const node of doomed.sort((a, b) => (a.path < b.path ? -1 : 1))) {
      this.remove(node.path, zxid, changes);
    }
  }

  ephemeralsOf(sessionId: bigint): string[] {
    return [...this.#nodes.values()].filter((node) => node.kind === "ephemeral" && node.owner === sessionId)
      .map((node) => node.path);
  }

  // ------------------------------------------------------------------------------------------------
  // Mutations (callers validate first)

  insert(node: ModelNode, changes: ModelChange[]): void {
    const parent = this.#touch(parentPath(node.path))!;
    this.#touch(node.path);
    this.#nodes.set(node.path, node);
    parent.children.add(lastSegment(node.path));
    parent.created = plusOne(parent.created);
    parent.cversion = plusOne(parent.cversion);
    parent.pzxid = node.czxid;
    changes.push({ path: node.path, type: "created" }, { path: parent.path, type: "childrenChanged" });
  }

  remove(path: string, zxid: number, changes: ModelChange[]): void {
    const parent = this.#touch(parentPath(path))!;
    this.#touch(path);
    this.#nodes.delete(path);
    parent.children.delete(lastSegment(path));
    parent.cversion = plusOne(parent.cversion);
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    changes.push({ path, type: "deleted" }, { path: parent.path, type: "childrenChanged" });
  }

  /** The node at `path`, saved for rollback first: mutate only what this returns. */
  mutable(path: string): ModelNode {
    return this.#touch(path)!;
  }

  // ------------------------------------------------------------------------------------------------
  // All-or-nothing

  begin(): void {
    this.#journal = new Map();
  }

  commit(): void {
    this.#journal = null;
  }

  rollback(): void {
    const journal = this.#journal;
    this.#journal = null;
    if (journal === null) return;
    for (const [path, saved] of journal) {
      if (saved === null) this.#nodes.delete(path);
      else this.#nodes.set(path, saved);
    }
  }

  #touch(path: string): ModelNode | undefined {
    const node = this.#nodes.get(path);
    if (this.#journal === null || this.#journal.has(path)) return node;
    if (node === undefined) {
      this.#journal.set(path, null);
      return undefined;
    }
    const copy = { ...node, acl: [...node.acl], children: new Set(node.children) };
    this.#journal.set(path, node);
    this.#nodes.set(path, copy);
    return copy;
  }
}
