/**
 * What the server needs to know about each kind of request: which opcodes are valid, which kinds
 * are writes, their short names for `cons`, how a write is prepared, and what its reply carries.
 */
import type { ApplyResult } from "./data_tree.ts";
import { Code } from "./errors.ts";
import {
  multiHasMisplacedTtl,
  prepareCloseSession,
  prepareWrite,
  type PrepContext,
  type WriteRequest,
} from "./prep.ts";
import type { Request, Response } from "./records.ts";
import type { Txn } from "./txn.ts";

/** Opcodes a client may send (Request.isValid), auth and sasl included. */
export const VALID_OPCODES = new Set<number>([
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  11,
  12,
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  22,
  100,
  101,
  102,
  103,
  104,
  105,
  106,
  107,
  -11,
]);

export const WRITE_KINDS = new Set<Request["kind"]>([
  "create",
  "create2",
  "createContainer",
  "createTTL",
  "delete",
  "setData",
  "setACL",
  "multi",
  "reconfig",
  "deleteContainer",
  "closeSession",
]);

/** Short op names for `cons` (lop=...). */
export const OP_ABBREVIATIONS: Partial<Record<Request["kind"], string>> = {
  create: "CREA",
  create2: "CREA",
  createContainer: "CREA",
  createTTL: "CREA",
  delete: "DELE",
  setData: "SETD",
  getData: "GETD",
  exists: "EXIS",
  getChildren: "GETC",
  getChildren2: "GETC",
  setACL: "SETA",
  getACL: "GETA",
  sync: "SYNC",
  ping: "PING",
  closeSession: "CLOS",
  multi: "MULT",
  multiRead: "MLTR",
  setWatches: "SETW",
  setWatches2: "STW2",
  addWatch: "ADDW",
  checkWatches: "CHKW",
  removeWatches: "REMW",
  getEphemerals: "GETE",
  getAllChildrenNumber: "GETACN",
  whoAmI: "HOMI",
  reconfig: "RECO",
};

/**
 * Prepares any client write request: the same for local requests and those a learner forwarded.
 * (The container reaper does not come here: it calls prepareDeleteContainer itself.)
 */
export function prepareForwarded(request: Request, context: PrepContext): Txn {
  if (request.kind === "closeSession") return prepareCloseSession(context);
  // deleteContainer (20) is the reaper's txn and checks no ACL, so from a client it would delete any
  // empty node. ZooKeeper 3.8 reads a client's op 20 as a path that always holds a NUL and answers
  // BADARGUMENTS (an error txn: a zxid is consumed, nothing is deleted), whatever the node or identity.
  if (request.kind === "deleteContainer") return { type: "error", err: Code.BADARGUMENTS };
  if (request.kind === "multi" && multiHasMisplacedTtl(request.ops)) {
    return { type: "error", err: Code.MARSHALLINGERROR };
  }
  return prepareWrite(request as WriteRequest, context);
}

/** Roughly what a txn costs in the log (paths and data), for the snapshot size trigger. */
export function approximateTxnBytes(txn: Txn): number {
  switch (txn.type) {
    case "create":
    case "setData":
      return 64 + txn.path.length + (txn.data?.length ?? 0);
    case "multi":
      return txn.txns.reduce((sum, sub) => sum + approximateTxnBytes(sub), 16);
    default:
      return 64;
  }
}

/** The reply body of a successfully applied write. */
export function replyBody(txn: Txn, result: ApplyResult): Response | null {
  if ("results" in result) return { kind: "multi", results: result.results };
  if (txn.type === "create" && "path" in result) {
    return result.stat === null
      ? { kind: "create", path: result.path }
      : { kind: "create2", path: result.path, stat: result.stat };
  }
  // ZooKeeper answers a reconfig with a GetDataResponse: the new membership and the node's Stat.
  if (txn.type === "reconfig" && "stat" in result && result.stat !== null) return { kind: "getData", data: txn.data, stat: result.stat };
  if ((txn.type === "setData" || txn.type === "setACL") && "stat" in result && result.stat !== null) {
    return { kind: "stat", stat: result.stat };
  }
  return null;
}
