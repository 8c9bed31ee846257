/**
 * What the core asks storage to make durable, and what a snapshot holds, in the core's own terms.
 * The core numbers its writes (writeSeq) and withholds every reply that depends on a write until the
 * driver reports `persisted(writeSeq)`: the driver has no ordering rule to get wrong, and group commit
 * falls out (one fsync covers every write issued while the previous fsync ran).
 */
import type { ACL } from "./records.ts";
import type { TxnEntry } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

/** One numbered write. Writes must become durable in writeSeq order. */
export type PersistRequest =
  | { kind: "append"; entries: TxnEntry[] }
  /** Zab TRUNC: drop every logged txn after `zxid` (uncommitted history of an old epoch). */
  | { kind: "truncate"; zxid: Zxid }
  /** Zab epochs (acceptedEpoch / currentEpoch files); either may be absent. */
  | { kind: "epochs"; acceptedEpoch?: number; currentEpoch?: number }
  /**
   * Zab SNAP: replace everything on disk with this state (a snapshot at header.zxid and an empty
   * log after it).
   */
  | { kind: "installSnapshot"; header: SnapshotHeader; nodes: SnapshotNode[] };

/** A session as a snapshot records it. */
export interface SnapshotSession {
  sessionId: bigint;
  timeoutMs: number;
}

/** Everything a snapshot holds besides the nodes. */
export interface SnapshotHeader {
  /** The last zxid applied when the snapshot began: replay starts after it. */
  zxid: Zxid;
  sessions: SnapshotSession[];
}

/** One znode as stored (StatPersisted plus data, ACL and the path). */
export interface SnapshotNode {
  path: string;
  data: Uint8Array | null;
  acl: readonly ACL[];
  czxid: Zxid;
  mzxid: Zxid;
  ctime: number;
  mtime: number;
  version: number;
  /** The persisted create counter, not the client-visible cversion. */
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: Zxid;
}

/**
 * A fuzzy snapshot in progress: the header is taken at the start; `nodes` walks the live tree, so
 * nodes changed while it runs may be captured before or after the change. Replaying the log from
 * header.zxid (txns are idempotent) makes the result exact.
 */
export interface SnapshotSource {
  header: SnapshotHeader;
  nodes: Iterator<SnapshotNode>;
}
