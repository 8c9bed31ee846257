/**
 * Replays the final committed history into a fresh tree (the reference), and along the way:
 * - checks every read a client got against the reference state at the read's zxid (a replica must
 *   serve exactly the committed state it claims to be at: no uncommitted, lost or mixed state);
 * - checks that ephemerals live and die with their session (deleted in the very txn that closes it,
 *   never created for a session that is not open);
 * - records which txns trigger which watches (for the watch checker) and digests at chosen zxids.
 */
import { DataTree, type TreeChange } from "../../core/data_tree.ts";
import { Code } from "../../core/errors.ts";
import type { Stat } from "../../core/records.ts";
import { nodeKindOf, type TxnEntry } from "../../core/txn.ts";
import { simTreeDigest } from "../sim_digest.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import { canonical } from "../canonical.ts";
import type { OpRecord } from "../history.ts";
import type { Report } from "./violation.ts";

export interface ReferenceReplay {
  tree: DataTree;
  /** Position of each zxid in the history. */
  index: Map<Zxid, number>;
  /** path → zxids (ascending) of changes that fire a data watch (created, dataChanged, deleted). */
  dataTriggers: Map<string, Zxid[]>;
  /** path → zxids (ascending) of changes that fire a child watch (childrenChanged, deleted). */
  childTriggers: Map<string, Zxid[]>;
  /** `${zxid} ${path}` → the change types that txn made there. */
  changeTypes: Map<string, Set<TreeChange["type"]>>;
  /** Sessions by the zxid that created and (if any) closed them. */
  sessionCreated: Map<bigint, Zxid>;
  sessionClosed: Map<bigint, Zxid>;
  /** Reference digests at the zxids asked for. */
  digests: Map<Zxid, bigint>;
}

const READ_KINDS = new Set(["getData", "exists", "getChildren", "getChildren2"]);

export function replayReference(
  entries: readonly TxnEntry[],
  options: {
    ops: readonly OpRecord[];
    digestAt: ReadonlySet<Zxid>;
    report: Report;
    /** zoo.cfg's membership, in /zookeeper/config before any reconfig (the servers' start). */
    quorumConfigText?: Uint8Array;
  },
): ReferenceReplay {
  const { report } = options;
  const tree = new DataTree();
  if (options.quorumConfigText !== undefined) tree.setQuorumConfig(options.quorumConfigText, 0, 0);
  const result: ReferenceReplay = {
    tree,
    index: new Map(entries.map((entry, position) => [entry.header.zxid, position])),
    dataTriggers: new Map(),
    childTriggers: new Map(),
    changeTypes: new Map(),
    sessionCreated: new Map(),
    sessionClosed: new Map(),
    digests: new Map(),
  };
  const reads = readsByZxid(options.ops, result.index, report);
  let nextRead = 0;
  const checkReadsBefore = (zxid: Zxid) => {
    for (; nextRead < reads.length && reads[nextRead]!.reply!.header.zxid < zxid; nextRead++) checkRead(tree, reads[nextRead]!, report);
  };
  if (options.digestAt.has(0)) result.digests.set(0, simTreeDigest(tree));
  for (const entry of entries) {
    const { zxid, sessionId } = entry.header;
    checkReadsBefore(zxid);
    checkEphemeralOwners(entry, result, report);
    const changes: TreeChange[] = [];
    tree.apply(entry.header, entry.txn, changes);
    for (const change of changes) recordChange(result, zxid, change);
    if (entry.txn.type === "createSession" && !result.sessionCreated.has(sessionId)) result.sessionCreated.set(sessionId, zxid);
    if (entry.txn.type === "closeSession") {
      if (!result.sessionClosed.has(sessionId)) result.sessionClosed.set(sessionId, zxid);
      // Look at the nodes themselves, not the tree's index of ephemerals (which the close clears).
      const left = [...tree.snapshotNodes()].filter((node) => node.ephemeralOwner === sessionId).map((node) => node.path);
      if (left.length > 0) {
        report("ephemerals die with their session", `the closeSession txn ${zxidHex(zxid)} of 0x${hex(sessionId)} left its ephemerals ${left.join(", ")}`);
      }
    }
    if (options.digestAt.has(zxid)) result.digests.set(zxid, simTreeDigest(tree));
  }
  checkReadsBefore(Number.POSITIVE_INFINITY);
  return result;
}

function readsByZxid(ops: readonly OpRecord[], index: ReadonlyMap<Zxid, number>, report: Report): OpRecord[] {
  const reads: OpRecord[] = [];
  for (const op of ops) {
    const reply = op.reply;
    if (reply === null || !READ_KINDS.has(op.request.kind)) continue;
    if (reply.header.err !== Code.OK && reply.header.err !== Code.NONODE) continue;
    const zxid = reply.header.zxid;
    if (zxid !== 0 && !index.has(zxid)) {
      report(
        "reads come from the committed history",
        `client ${op.client} (session 0x${hex(op.sessionId)}) read ${op.request.kind} ${pathOf(op)} from server ${op.sid} at ${zxidHex(zxid)}, a zxid that is not in the committed history`,
      );
      continue;
    }
    reads.push(op);
  }
  return reads.sort((a, b) => a.reply!.header.zxid - b.reply!.header.zxid || a.index - b.index);
}

function checkRead(tree: DataTree, op: OpRecord, report: Report): void {
  const reply = op.reply!;
  const path = pathOf(op);
  const node = tree.get(path);
  const where = `client ${op.client} (session 0x${hex(op.sessionId)}) ${op.request.kind} ${path} on server ${op.sid} at ${zxidHex(reply.header.zxid)}`;
  const fail = (what: string) => report("reads match the committed state at their zxid", `${where}: ${what}`);
  if (reply.header.err === Code.NONODE) {
    if (node !== undefined) fail(`got NONODE but the node exists there (mzxid ${zxidHex(node.mzxid)})`);
    return;
  }
  if (node === undefined) {
    fail("got the node but it does not exist there");
    return;
  }
  const body = reply.body;
  const stat = tree.statOf(node);
  if (body?.kind === "getData") {
    if (!sameStat(body.stat, stat)) fail(`stat ${canonical(body.stat)} differs from ${canonical(stat)}`);
    if (canonical(body.data) !== canonical(node.data)) fail(`data ${canonical(body.data)} differs from ${canonical(node.data)}`);
  } else if (body?.kind === "stat") {
    if (!sameStat(body.stat, stat)) fail(`stat ${canonical(body.stat)} differs from ${canonical(stat)}`);
  } else if (body?.kind === "getChildren" || body?.kind === "getChildren2") {
    const got = [...body.children].sort().join(",");
    const expected = [...node.children].sort().join(",");
    if (got !== expected) fail(`children [${got}] differ from [${expected}]`);
  }
}

function sameStat(a: Stat, b: Stat): boolean {
  return canonical(a) === canonical(b);
}

/** An ephemeral may only be created for a session that is open at that point of the history. */
function checkEphemeralOwners(entry: TxnEntry, result: ReferenceReplay, report: Report): void {
  const creates = entry.txn.type === "multi" ? entry.txn.txns : [entry.txn];
  for (const txn of creates) {
    if (txn.type !== "create" || nodeKindOf(txn.ephemeralOwner) !== "ephemeral") continue;
    const owner = txn.ephemeralOwner;
    const open = result.sessionCreated.has(owner) && !result.sessionClosed.has(owner);
    if (!open) {
      report(
        "ephemerals die with their session",
        `txn ${zxidHex(entry.header.zxid)} creates ephemeral ${txn.path} for session 0x${hex(owner)}, which is ${result.sessionClosed.has(owner) ? "closed" : "not open"} at that point`,
      );
    }
  }
}

function recordChange(result: ReferenceReplay, zxid: Zxid, change: TreeChange): void {
  const key = `${zxid} ${change.path}`;
  let types = result.changeTypes.get(key);
  if (!types) result.changeTypes.set(key, types = new Set());
  types.add(change.type);
  const push = (table: Map<string, Zxid[]>) => {
    let list = table.get(change.path);
    if (!list) table.set(change.path, list = []);
    if (list[list.length - 1] !== zxid) list.push(zxid);
  };
  if (change.type !== "childrenChanged") push(result.dataTriggers);
  if (change.type === "childrenChanged" || change.type === "deleted") push(result.childTriggers);
}

function pathOf(op: OpRecord): string {
  return "path" in op.request ? String(op.request.path) : "?";
}

export function hex(sessionId: bigint): string {
  return BigInt.asUintN(64, sessionId).toString(16);
}
