/** Txn entries for storage tests: every Txn variant, and seeded random workloads. */
import type { SnapshotHeader, SnapshotNode } from "../../../src/core/persistence.ts";
import type { ACL } from "../../../src/core/records.ts";
import { CONTAINER_OWNER, ttlOwner } from "../../../src/core/txn.ts";
import type { Txn, TxnEntry } from "../../../src/core/txn.ts";
import { zxidOf } from "../../../src/core/zxid.ts";
import type { Prng } from "../../../src/testing/prng.ts";
import type { RecoveryVisitor } from "../../../src/storage/txn_store.ts";

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const DIGEST_ACL: ACL[] = [
  { perms: 1, id: { scheme: "digest", id: "user:hash=" } },
  { perms: 31, id: { scheme: "ip", id: "10.0.0.0/8" } },
];

/** One of each Txn variant, with the awkward values (null data, negative and TTL owners). */
export function everyTxnVariant(): Txn[] {
  const create: Txn = {
    type: "create",
    path: "/a",
    data: new Uint8Array([0, 1, 255]),
    acl: OPEN_ACL,
    ephemeralOwner: 0n,
    parentCVersion: 3,
    replyKind: "create",
  };
  return [
    { type: "createSession", timeoutMs: 30000 },
    { type: "closeSession", paths: ["/e1", "/e2/x"] },
    { type: "closeSession", paths: [] },
    create,
    { ...create, path: "/n", data: null, replyKind: "create2" },
    { ...create, path: "/eph", ephemeralOwner: -0x1234_5678_9abc_def0n, acl: DIGEST_ACL },
    { ...create, path: "/big", ephemeralOwner: 0x7fff_ffff_ffff_ffffn, data: new Uint8Array(0) },
    { ...create, path: "/c", ephemeralOwner: CONTAINER_OWNER },
    { ...create, path: "/ttl", ephemeralOwner: ttlOwner(60_000n) },
    { type: "delete", path: "/a" },
    { type: "deleteContainer", path: "/c" },
    { type: "setData", path: "/a", data: new Uint8Array([9, 8, 7]), version: 4 },
    { type: "setData", path: "/a", data: null, version: -1 },
    { type: "setACL", path: "/a", acl: DIGEST_ACL, aversion: 2 },
    { type: "check", path: "/a", version: 7 },
    { type: "multi", txns: [create, { type: "delete", path: "/b" }, { type: "multi", txns: [] }] },
    { type: "multiError", codes: [0, -101, -2] },
    { type: "error", err: -110 },
  ];
}

export function entryOf(zxid: number, txn: Txn, sessionId = 0x1_0000_0001n): TxnEntry {
  return { header: { sessionId, cxid: zxid % 1000, zxid, time: 1_700_000_000_000 + zxid }, txn };
}

/** `count` txns with consecutive zxids from `firstZxid`, sized and typed by `prng`. */
export function randomEntries(prng: Prng, firstZxid: number, count: number): TxnEntry[] {
  const entries: TxnEntry[] = [];
  for (let index = 0; index < count; index++) {
    const zxid = firstZxid + index;
    const kind = prng.int(4);
    const txn: Txn = kind === 0
      ? { type: "setData", path: `/n${zxid}`, data: prng.bytes(prng.int(200)), version: zxid }
      : kind === 1
      ? {
        type: "create",
        path: `/n${zxid}`,
        data: prng.bytes(prng.int(50)),
        acl: OPEN_ACL,
        ephemeralOwner: BigInt.asIntN(64, BigInt(prng.int(2 ** 32)) << 31n),
        parentCVersion: zxid,
        replyKind: "create2",
      }
      : kind === 2
      ? { type: "delete", path: `/n${zxid}` }
      : { type: "createSession", timeoutMs: 4000 + prng.int(1000) };
    entries.push(entryOf(zxid, txn, BigInt.asIntN(64, BigInt(prng.int(2 ** 32)) * 0x1_0000_0003n)));
  }
  return entries;
}

export const EPOCH1 = zxidOf(1, 0);

/** A snapshot node whose czxid records which txn made it (the crash test rebuilds state from it). */
export function nodeFor(zxid: number, acl: ACL[] = OPEN_ACL): SnapshotNode {
  return {
    path: `/n${zxid}`,
    data: new Uint8Array([zxid & 0xff]),
    acl,
    czxid: zxid,
    mzxid: zxid,
    ctime: zxid,
    mtime: zxid,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: zxid,
  };
}

/** Collects what recovery hands over. */
export class RecoveredState implements RecoveryVisitor {
  header: SnapshotHeader | null = null;
  nodes: SnapshotNode[] = [];
  txns: TxnEntry[] = [];

  snapshot(header: SnapshotHeader): void {
    this.header = header;
  }
  node(node: SnapshotNode): void {
    this.nodes.push(node);
  }
  txn(entry: TxnEntry): void {
    this.txns.push(entry);
  }
  get zxids(): number[] {
    return this.txns.map((entry) => entry.header.zxid);
  }
}

/** A logger that keeps its lines. */
export function captureLog(): { lines: string[]; logger: (level: "info" | "warn", message: string) => void } {
  const lines: string[] = [];
  return { lines, logger: (level, message) => lines.push(`${level}: ${message}`) };
}
