/**
 * The replicated state: znodes with ZooKeeper's exact Stat bookkeeping, applied one txn at a time.
 * The tree knows nothing of connections or watches; applying a txn reports which paths changed so
 * that the watch manager can notify, in order, before any reply goes out.
 */
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from "./acl.ts";
import { Code } from "./errors.ts";
import { nameOf, parentOf } from "./path.ts";
import type { SnapshotNode } from "./persistence.ts";
import type { ACL, OpResult, Stat } from "./records.ts";
import { nodeKindOf, type Txn, type TxnHeader } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

/**
 * A znode in memory: the persisted fields a snapshot stores (StatPersisted, data, ACL; `cversion` is
 * the create counter C, clients see 2·C − numChildren) plus its children's names.
 */
export interface DataNode extends Omit<SnapshotNode, "path"> {
  /** Most znodes are leaves: they share NO_CHILDREN until their first child (saves ~150 B each). */
  children: ReadonlySet<string>;
}

const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

/**
 * The system nodes' data: empty, as ZooKeeper's (getData answers a zero-length buffer, not -1).
 * Shared: setData replaces arrays, never writes into them.
 */
const SYSTEM_DATA = new Uint8Array(0);

/** Where ZooKeeper 3.5+ keeps the ensemble's membership (ZooDefs.CONFIG_NODE). */
export const CONFIG_NODE = "/zookeeper/config";

function addChild(node: DataNode, name: string): void {
  if (node.children === NO_CHILDREN) node.children = new Set([name]);
  else (node.children as Set<string>).add(name);
}

function removeChild(node: DataNode, name: string): void {
  if (node.children.size <= 1 && node.children.has(name)) node.children = NO_CHILDREN;
  else (node.children as Set<string>).delete(name);
}

/**
 * Identical ACL lists share one frozen array, as ZooKeeper's ACL cache does: most trees use a
 * handful of lists. Bounded; past the bound lists are simply not shared.
 */
const ACL_CACHE_MAX = 10_000;

/** A change that watches may care about. `acl` decides who may be told (READ needed). */
export interface TreeChange {
  type: "created" | "deleted" | "dataChanged" | "childrenChanged";
  path: string;
  acl: readonly ACL[];
}

/** What applying one txn produced for the reply. */
export type ApplyResult =
  | { err: number }
  | { err: 0; path: string; stat: Stat | null }
  | { err: 0; stat: Stat }
  | { err: 0; results: OpResult[] };

function newNode(acl: readonly ACL[], overrides: Partial<DataNode> = {}): DataNode {
  return {
    data: null,
    acl,
    czxid: 0,
    mzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: 0,
    children: NO_CHILDREN,
    ...overrides,
  };
}

export class DataTree {
  #nodes = new Map<string, DataNode>();
  #ephemerals = new Map<bigint, Set<string>>();
  /** Containers and TTL nodes, for the reaper. */
  #reapable = new Set<string>();
  #dataSize = 0;
  #aclCache = new Map<string, readonly ACL[]>();
  lastZxid: Zxid = 0;

  constructor() {
    // The system nodes exactly as a fresh ZooKeeper has them: children added without create txns,
    // so "/" shows cversion -1 and "/zookeeper" -2; /zookeeper/config is READ-only with aversion -1.
    const root = newNode(OPEN_ACL_UNSAFE, { data: SYSTEM_DATA });
    const zookeeper = newNode(OPEN_ACL_UNSAFE, { data: SYSTEM_DATA });
    this.#insert("/", root);
    this.#insert("/zookeeper", zookeeper);
    this.#insert("/zookeeper/quota", newNode(OPEN_ACL_UNSAFE, { data: SYSTEM_DATA }));
    this.#insert(CONFIG_NODE, newNode(READ_ACL_UNSAFE, { data: SYSTEM_DATA, aversion: -1 }));
    addChild(root, "zookeeper");
    addChild(zookeeper, "quota");
    addChild(zookeeper, "config");
  }

  /**
   * Puts an ensemble's membership into /zookeeper/config as ZooKeeper does at start and after each
   * sync with a leader (ZKDatabase.initConfigInZKDatabase): a plain setData outside any txn, so
   * mzxid is the config's version, version becomes -1 and mtime the wall clock now; nothing else
   * (czxid, ACL, aversion) changes. No watch fires: no client is served at those moments.
   */
  setQuorumConfig(data: Uint8Array, version: Zxid, nowMs: number): void {
    const node = this.#nodes.get(CONFIG_NODE);
    if (node === undefined) {
      // A snapshot from before the node existed: add it back as a fresh tree has it.
      const zookeeper = this.#nodes.get("/zookeeper");
      if (zookeeper === undefined) throw new Error("the tree has no /zookeeper node to hold /zookeeper/config");
      this.#insert(CONFIG_NODE, newNode(READ_ACL_UNSAFE, { data: SYSTEM_DATA, aversion: -1 }));
      addChild(zookeeper, "config");
      return this.setQuorumConfig(data, version, nowMs);
    }
    this.#dataSize += data.length - (node.data?.length ?? 0);
    node.data = data;
    node.mzxid = version;
    node.mtime = nowMs;
    node.version = -1;
  }

  get(path: string): DataNode | undefined {
    return this.#nodes.get(path);
  }

  /** As `srvr`'s "Node count": ZooKeeper stores the root under both "" and "/". */
  get nodeCount(): number {
    return this.#nodes.size + 1;
  }

  get approximateDataSize(): number {
    return this.#dataSize;
  }

  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.#ephemerals.get(sessionId) ?? new Set();
  }

  get ephemeralCount(): number {
    let count = 0;
    for (const paths of this.#ephemerals.values()) count += paths.size;
    return count;
  }

  sessionsWithEphemerals(): bigint[] {
    return [...this.#ephemerals.keys()];
  }

  reapableNodes(): ReadonlySet<string> {
    return this.#reapable;
  }

  /** All descendants of `path` (not counting itself); ZooKeeper's getAllChildrenNumber. */
  countDescendants(path: string): number {
    if (path === "/") return this.#nodes.size - 1; // ZooKeeper: node count (root twice) − 2
    let count = 0;
    const stack = [path];
    for (let steps = 0; stack.length > 0 && steps <= this.#nodes.size; steps++) {
      const current = stack.pop()!;
      const node = this.#nodes.get(current);
      if (!node) continue;
      for (const child of node.children) {
        count++;
        stack.push(current === "/" ? "/" + child : current + "/" + child);
      }
    }
    return count;
  }

  /**
   * The first broken link, or null when every node is listed by its parent and every listed child
   * exists: the shape a history of txns always leaves (checked by the simulator after recoveries,
   * whose fuzzy snapshots make the tree's contents, but never its shape, uncheckable).
   */
  linkProblem(): string | null {
    for (const [path, node] of this.#nodes) {
      if (path !== "/") {
        const parent = this.#nodes.get(parentOf(path));
        if (parent === undefined) return `${path} has no parent`;
        if (!parent.children.has(nameOf(path))) return `${path} is not among its parent's children`;
      }
      for (const name of node.children) {
        if (!this.#nodes.has(path === "/" ? `/${name}` : `${path}/${name}`)) return `${path} lists a child ${name} that does not exist`;
      }
    }
    return null;
  }

  statOf(node: DataNode): Stat {
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      ctime: node.ctime,
      mtime: node.mtime,
      version: node.version,
      cversion: node.cversion * 2 - node.children.size,
      aversion: node.aversion,
      ephemeralOwner: nodeKindOf(node.ephemeralOwner) === "ephemeral" ? node.ephemeralOwner : 0n,
      dataLength: node.data === null ? 0 : node.data.length,
      numChildren: node.children.size,
      pzxid: node.pzxid,
    };
  }

  /**
   * Applies one txn. Changes are appended to `changes` in the order watches must fire. Errors are
   * returned, not thrown: during replay of a fuzzy snapshot a create may meet an existing node.
   */
  apply(header: TxnHeader, txn: Txn, changes: TreeChange[]): ApplyResult {
    if (header.zxid > this.lastZxid) this.lastZxid = header.zxid;
    return this.#applyOne(header, txn, changes);
  }

  #applyOne(header: TxnHeader, txn: Txn, changes: TreeChange[]): ApplyResult {
    switch (txn.type) {
      case "create":
        return this.#create(header, txn, changes);
      case "delete":
      case "deleteContainer":
        return this.#delete(header.zxid, txn.path, changes);
      case "setData":
        return this.#setData(header, txn.path, txn.data, txn.version, changes);
      case "reconfig":
        return this.#setData(header, CONFIG_NODE, txn.data, -1, changes);
      case "setACL":
        return this.#setAcl(txn.path, txn.acl, txn.aversion);
      case "check":
        return { err: Code.OK };
      case "multi":
        return this.#multi(header, txn.txns, changes);
      case "multiError":
        return { err: 0, results: txn.codes.map((err) => ({ type: "error", err })) };
      case "error":
        return { err: txn.err };
      case "createSession":
        return { err: Code.OK };
      case "closeSession":
        for (const path of txn.paths) this.#delete(header.zxid, path, changes);
        this.#ephemerals.delete(header.sessionId);
        return { err: Code.OK };
    }
  }

  #create(header: TxnHeader, txn: Extract<Txn, { type: "create" }>, changes: TreeChange[]): ApplyResult {
    const parentPath = parentOf(txn.path);
    const parent = this.#nodes.get(parentPath);
    if (!parent) return { err: Code.NONODE };
    if (this.#nodes.has(txn.path)) {
      // Only during replay onto a fuzzy snapshot (prep rules it out otherwise): the node was captured
      // after this create, its parent maybe before; bring the parent's counter and pzxid forward.
      if (txn.parentCVersion > parent.cversion) {
        parent.cversion = txn.parentCVersion;
        parent.pzxid = header.zxid;
      }
      return { err: Code.NODEEXISTS };
    }
    const node = newNode(txn.acl, {
      data: txn.data,
      czxid: header.zxid,
      mzxid: header.zxid,
      pzxid: header.zxid,
      ctime: header.time,
      mtime: header.time,
      ephemeralOwner: txn.ephemeralOwner,
    });
    addChild(parent, nameOf(txn.path));
    if (txn.parentCVersion > parent.cversion) {
      parent.cversion = txn.parentCVersion;
      parent.pzxid = header.zxid;
    }
    this.#insert(txn.path, node);
    changes.push({ type: "created", path: txn.path, acl: node.acl });
    changes.push({ type: "childrenChanged", path: parentPath, acl: parent.acl });
    return { err: 0, path: txn.path, stat: txn.replyKind === "create2" ? this.statOf(node) : null };
  }

  #delete(zxid: Zxid, path: string, changes: TreeChange[]): ApplyResult {
    const node = this.#nodes.get(path);
    const parentPath = parentOf(path);
    const parent = this.#nodes.get(parentPath);
    if (!node || !parent) {
      // Replay onto a fuzzy snapshot that missed the child but caught its parent earlier.
      if (parent && zxid > parent.pzxid) parent.pzxid = zxid;
      return { err: Code.NONODE };
    }
    removeChild(parent, nameOf(path));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    // Children here are possible only when replaying onto a fuzzy snapshot (prep refuses NOTEMPTY):
    // the walk caught them after this delete, under the node a later txn re-created. Later txns in
    // the log create them again, so they go with it; left in place, they would linger without a
    // parent link and the re-created node would never list them (seed 365951221, 7v+2o).
    if (node.children.size > 0) this.#removeDescendants(path, node);
    this.#remove(path, node);
    changes.push({ type: "deleted", path, acl: node.acl });
    changes.push({ type: "childrenChanged", path: parentPath, acl: parent.acl });
    return { err: Code.OK };
  }

  #setData(
    header: TxnHeader,
    path: string,
    data: Uint8Array | null,
    version: number,
    changes: TreeChange[],
  ): ApplyResult {
    const node = this.#nodes.get(path);
    if (!node) return { err: Code.NONODE };
    this.#dataSize += (data?.length ?? 0) - (node.data?.length ?? 0);
    node.data = data;
    node.version = version;
    node.mzxid = header.zxid;
    node.mtime = header.time;
    changes.push({ type: "dataChanged", path, acl: node.acl });
    return { err: 0, stat: this.statOf(node) };
  }

  #setAcl(path: string, acl: ACL[], aversion: number): ApplyResult {
    const node = this.#nodes.get(path);
    if (!node) return { err: Code.NONODE };
    node.acl = this.#internAcl(acl);
    node.aversion = aversion;
    return { err: 0, stat: this.statOf(node) };
  }

  #multi(header: TxnHeader, txns: Txn[], changes: TreeChange[]): ApplyResult {
    const results: OpResult[] = [];
    for (const txn of txns) {
      const result = this.#applyOne(header, txn, changes);
      results.push(opResultOf(txn, result));
    }
    return { err: 0, results };
  }

  /** The live tree as snapshot records; nodes changed during the walk may be seen before or after. */
  *snapshotNodes(): Generator<SnapshotNode> {
    for (const [path, node] of this.#nodes) {
      yield {
        path,
        data: node.data,
        acl: node.acl,
        czxid: node.czxid,
        mzxid: node.mzxid,
        ctime: node.ctime,
        mtime: node.mtime,
        version: node.version,
        cversion: node.cversion,
        aversion: node.aversion,
        ephemeralOwner: node.ephemeralOwner,
        pzxid: node.pzxid,
      };
    }
  }

  /** Recovery: puts a snapshot node in place (children are linked by linkLoadedNodes). */
  loadNode(record: SnapshotNode): void {
    const existing = this.#nodes.get(record.path);
    if (existing) this.#remove(record.path, existing);
    // A literal in newNode's field order keeps one object shape for every node (V8 hidden classes):
    // spreading gave recovered nodes private shapes, twice the memory and slower reads.
    this.#insert(record.path, {
      data: record.data,
      acl: record.acl,
      czxid: record.czxid,
      mzxid: record.mzxid,
      ctime: record.ctime,
      mtime: record.mtime,
      version: record.version,
      cversion: record.cversion,
      aversion: record.aversion,
      ephemeralOwner: record.ephemeralOwner,
      pzxid: record.pzxid,
      children: NO_CHILDREN,
    });
  }

  /** Recovery: rebuilds child links after loading; nodes whose parent is missing are dropped. */
  linkLoadedNodes(): void {
    // A fuzzy snapshot can hold a node whose parent was deleted later; the log replay deletes it
    // anyway, so drop such orphans (and their descendants: one round per level, bounded by size).
    for (let round = 0; round <= this.#nodes.size; round++) {
      const orphans = [...this.#nodes.keys()].filter((path) => path !== "/" && !this.#nodes.has(parentOf(path)));
      if (orphans.length === 0) break;
      for (const path of orphans) this.#remove(path, this.#nodes.get(path)!);
    }
    for (const node of this.#nodes.values()) node.children = NO_CHILDREN;
    for (const path of this.#nodes.keys()) {
      if (path !== "/") addChild(this.#nodes.get(parentOf(path))!, nameOf(path));
    }
  }

  #internAcl(acl: readonly ACL[]): readonly ACL[] {
    const key = acl.map((entry) => `${entry.perms}\u0000${entry.id.scheme}\u0000${entry.id.id}`).join("\u0001");
    const cached = this.#aclCache.get(key);
    if (cached) return cached;
    if (this.#aclCache.size >= ACL_CACHE_MAX) return acl;
    const frozen = Object.freeze(acl.map((entry) => Object.freeze({ perms: entry.perms, id: Object.freeze({ ...entry.id }) })));
    this.#aclCache.set(key, frozen);
    return frozen;
  }

  #insert(path: string, node: DataNode): void {
    node.acl = this.#internAcl(node.acl);
    this.#nodes.set(path, node);
    this.#dataSize += path.length + (node.data?.length ?? 0);
    const kind = nodeKindOf(node.ephemeralOwner);
    if (kind === "ephemeral") {
      let paths = this.#ephemerals.get(node.ephemeralOwner);
      if (!paths) this.#ephemerals.set(node.ephemeralOwner, paths = new Set());
      paths.add(path);
    } else if (kind === "container" || kind === "ttl") {
      this.#reapable.add(path);
    }
  }

  /** Removes every node below `path` (iteratively: depth is bounded only by the tree's size). */
  #removeDescendants(path: string, node: DataNode): void {
    const stack: Array<[string, DataNode]> = [[path, node]];
    for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
      const [parentPath, parent] = entry;
      for (const name of parent.children) {
        const childPath = parentPath === "/" ? `/${name}` : `${parentPath}/${name}`;
        const child = this.#nodes.get(childPath);
        if (child === undefined) continue;
        stack.push([childPath, child]);
        this.#remove(childPath, child);
      }
      if (parent !== node) parent.children = NO_CHILDREN;
    }
    node.children = NO_CHILDREN;
  }

  #remove(path: string, node: DataNode): void {
    this.#nodes.delete(path);
    this.#dataSize -= path.length + (node.data?.length ?? 0);
    const kind = nodeKindOf(node.ephemeralOwner);
    if (kind === "ephemeral") {
      const paths = this.#ephemerals.get(node.ephemeralOwner);
      paths?.delete(path);
      if (paths?.size === 0) this.#ephemerals.delete(node.ephemeralOwner);
    } else if (kind === "container" || kind === "ttl") {
      this.#reapable.delete(path);
    }
  }
}

function opResultOf(txn: Txn, result: ApplyResult): OpResult {
  if (result.err !== 0) return { type: "error", err: result.err };
  switch (txn.type) {
    case "create": {
      const created = result as { path: string; stat: Stat | null };
      return created.stat === null
        ? { type: "create", path: created.path }
        : { type: "create2", path: created.path, stat: created.stat };
    }
    case "delete":
    case "deleteContainer":
      return { type: "delete" };
    case "setData":
      return { type: "setData", stat: (result as { stat: Stat }).stat };
    default:
      return { type: "check" };
  }
}

