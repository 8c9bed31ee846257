/**
 * Transactions: what prep makes of a write request, and what the tree applies. Every txn is
 * idempotent given the tree it was prepared against (ZooKeeper's fuzzy-snapshot rule): it carries
 * final values (new versions, the parent's new create counter), never increments.
 */
import type { ACL } from "./records.ts";
import type { Zxid } from "./zxid.ts";

export interface TxnHeader {
  sessionId: bigint;
  cxid: number;
  zxid: Zxid;
  /** Wall-clock ms taken when the request was prepared (ctime/mtime). */
  time: number;
}

export interface CreateTxn {
  type: "create";
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  /** Internal owner: session id, CONTAINER_OWNER, or TTL_OWNER_BASE | ttl; 0n for persistent. */
  ephemeralOwner: bigint;
  /** The parent's persisted create counter after this create. */
  parentCVersion: number;
  /** What the reply looks like: create → path only, the others → path + stat. */
  replyKind: "create" | "create2";
}

export type Txn =
  | { type: "createSession"; timeoutMs: number }
  /** Deletes exactly these ephemerals (sorted), then forgets the session. */
  | { type: "closeSession"; paths: string[] }
  | CreateTxn
  | { type: "delete"; path: string }
  | { type: "deleteContainer"; path: string }
  | { type: "setData"; path: string; data: Uint8Array | null; version: number }
  | { type: "setACL"; path: string; acl: ACL[]; aversion: number }
  | { type: "check"; path: string; version: number }
  /**
   * A dynamic reconfiguration: /zookeeper/config becomes `data` (the new membership's text, whose
   * version= is this txn's zxid), as ZooKeeper's reconfig SetDataTxn with version -1.
   */
  | { type: "reconfig"; data: Uint8Array }
  | { type: "multi"; txns: Txn[] }
  /** A failed multi: the per-op codes (0 before the failure, the code, -2 after). */
  | { type: "multiError"; codes: number[] }
  | { type: "error"; err: number };

export interface TxnEntry {
  header: TxnHeader;
  txn: Txn;
}

/**
 * ephemeralOwner markers (EphemeralType). Like every session id in the core they are signed 64-bit
 * values, as Java's long and the jute wire format carry them.
 */
export const CONTAINER_OWNER = BigInt.asIntN(64, 0x8000_0000_0000_0000n);
export const TTL_OWNER_BASE = BigInt.asIntN(64, 0xff00_0000_0000_0000n);
export const TTL_MAX = 0xff_ffff_ffffn; // 2^40 - 1

export type NodeKind = "persistent" | "ephemeral" | "container" | "ttl";

/** Which kind of node an internal ephemeralOwner denotes. */
export function nodeKindOf(ephemeralOwner: bigint): NodeKind {
  if (ephemeralOwner === 0n) return "persistent";
  if (ephemeralOwner === CONTAINER_OWNER) return "container";
  if (BigInt.asUintN(64, ephemeralOwner) >> 56n === 0xffn) return "ttl";
  return "ephemeral";
}

export function ttlOwner(ttlMs: bigint): bigint {
  return TTL_OWNER_BASE | ttlMs;
}

export function ttlOf(ephemeralOwner: bigint): number {
  return Number(BigInt.asUintN(64, ephemeralOwner) & TTL_MAX);
}
