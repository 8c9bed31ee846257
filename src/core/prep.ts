/**
 * Request preparation: turns a write request into a txn against the pending view, checking exactly
 * what ZooKeeper's PrepRequestProcessor checks, in the same order (the order decides which error a
 * client sees). A request that fails becomes an error txn: it still consumes a zxid.
 */
import { checkAllowed, fixupAcl } from "./acl.ts";
import { Code, KeeperCodeError } from "./errors.ts";
import { isSystemPath, parentOf, pathProblem, sequenceSuffix } from "./path.ts";
import type { NodeView, PendingChanges } from "./pending_changes.ts";
import type {
  ACL,
  CheckRequest,
  CreateRequest,
  DeleteRequest,
  Id,
  MultiWriteOp,
  ReconfigRequest,
  SetACLRequest,
  SetDataRequest,
} from "./records.ts";
import { CreateFlags, Perms } from "./records.ts";
import { prepareReconfig, type ReconfigSettings } from "./reconfig_prep.ts";
import type { SessionTracker } from "./session_tracker.ts";
import { CONTAINER_OWNER, type CreateTxn, nodeKindOf, TTL_MAX, ttlOwner, type Txn } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

export interface PrepContext {
  zxid: Zxid;
  sessionId: bigint;
  identities: readonly Id[];
  pending: PendingChanges;
  sessions: SessionTracker;
  extendedTypesEnabled: boolean;
  /** SASL is configured: `sasl` ACL ids are valid (ZooKeeper's SASLAuthenticationProvider). */
  saslEnabled?: boolean;
  /** Whether the x509 ACL scheme is valid (ServerConfig.x509). */
  x509Enabled?: boolean;
  /**
   * A local session's request (local_sessions.ts) at the leader, made here or at another member:
   * it passes the session check though the ensemble does not know it, but may not own an ephemeral
   * (ZooKeeper: EPHEMERALONLOCALSESSION for the leader's own, whose upgrade check failed here;
   * SESSIONEXPIRED for another member's, from its checkGlobalSession). Absent: the ensemble's.
   */
  localSession?: "here" | "elsewhere";
  /** Dynamic reconfiguration's settings and the leader's view (reconfig_prep.ts); absent: disabled. */
  reconfig?: ReconfigSettings;
}

/** A write request as prep receives it. */
export type WriteRequest = MultiWriteOp | SetACLRequest | { kind: "multi"; ops: MultiWriteOp[] } | ReconfigRequest;

/** Prepares one write; failures come back as error txns, never as exceptions. */
export function prepareWrite(request: WriteRequest, context: PrepContext): Txn {
  if (request.kind === "multi") return prepareMulti(request.ops, context);
  try {
    return prepareOne(request, context);
  } catch (error) {
    if (error instanceof KeeperCodeError) return { type: "error", err: error.code };
    throw error;
  }
}

function prepareOne(request: Exclude<WriteRequest, { kind: "multi" }>, context: PrepContext): Txn {
  switch (request.kind) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return prepareCreate(request, context, request.kind);
    case "delete":
      return prepareDelete(request, context);
    case "setData":
      return prepareSetData(request, context);
    case "setACL":
      return prepareSetAcl(request, context);
    case "check":
      return prepareCheck(request, context);
    case "reconfig":
      return prepareReconfig(request, context);
  }
}

function prepareMulti(ops: MultiWriteOp[], context: PrepContext): Txn {
  const mark = context.pending.mark();
  const txns: Txn[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      txns.push(prepareOne(multiCreateAsExecuted(ops[i]!), context));
    } catch (error) {
      if (!(error instanceof KeeperCodeError)) throw error;
      context.pending.rollback(mark);
      const codes = ops.map((_, j) => j < i ? Code.OK : j === i ? error.code : Code.RUNTIMEINCONSISTENCY);
      return { type: "multiError", codes };
    }
  }
  return { type: "multi", txns };
}

/** Inside a multi the flags, not the opcode, decide container-ness (and op 21 without TTL flags is a plain create). */
function multiCreateAsExecuted(op: MultiWriteOp): MultiWriteOp {
  if (op.kind !== "create" && op.kind !== "create2" && op.kind !== "createContainer" && op.kind !== "createTTL") {
    return op;
  }
  if (op.flags === CreateFlags.CONTAINER) return { ...op, kind: "createContainer" };
  if (op.kind === "createContainer") return { ...op, kind: "create2" };
  if (op.kind === "createTTL" && !isTtlFlags(op.flags)) {
    const flags = op.flags >= 0 && op.flags <= CreateFlags.CONTAINER ? op.flags : CreateFlags.PERSISTENT;
    return { ...op, kind: "create2", flags };
  }
  return op;
}

function isTtlFlags(flags: number): boolean {
  return flags === CreateFlags.PERSISTENT_WITH_TTL || flags === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/** True when a multi must be refused whole (MARSHALLINGERROR): TTL flags on a non-TTL create op. */
export function multiHasMisplacedTtl(ops: MultiWriteOp[]): boolean {
  return ops.some((op) => (op.kind === "create" || op.kind === "create2" || op.kind === "createContainer") &&
    isTtlFlags(op.flags));
}

/** SESSIONEXPIRED unless the request's session is open (a local session passes: see PrepContext). */
export function checkSession(context: PrepContext): void {
  if (context.localSession !== undefined) return;
  const session = context.sessions.get(context.sessionId);
  if (!session || session.closing) throw new KeeperCodeError(Code.SESSIONEXPIRED);
}

function requireNode(context: PrepContext, path: string) {
  const node = context.pending.get(path);
  if (node === null) throw new KeeperCodeError(Code.NONODE, path);
  return node;
}

function requireValidPath(path: string): void {
  const problem = pathProblem(path);
  if (problem !== null) throw new KeeperCodeError(Code.BADARGUMENTS, `${problem}: ${path}`);
}

/** The parent path of a create/delete; "has a / and no NUL" is all that is checked up front. */
function parentOfRequested(path: string): string {
  if (path.lastIndexOf("/") < 0 || path.includes("\0")) {
    throw new KeeperCodeError(Code.BADARGUMENTS, `invalid path ${JSON.stringify(path)}`);
  }
  return parentOf(path);
}

function nextVersion(version: number): number {
  return (version + 1) | 0;
}

function prepareCreate(request: CreateRequest, context: PrepContext, kind: CreateRequest["kind"]): Txn {
  const { flags } = request;
  if (!Number.isInteger(flags) || flags < 0 || flags > CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL) {
    throw new KeeperCodeError(Code.BADARGUMENTS, `invalid create flags ${flags}`);
  }
  // ZooKeeper's order (protocol reference §7.6): a TTL mode while TTL is disabled is UNIMPLEMENTED,
  // whatever the opcode; then the mode must match the opcode (BADARGUMENTS), whether TTL is on or not.
  if (isTtlFlags(flags) && !context.extendedTypesEnabled) {
    throw new KeeperCodeError(Code.UNIMPLEMENTED, "TTL nodes are disabled (extendedTypesEnabled)");
  }
  if (kind === "createTTL") {
    if (!isTtlFlags(flags)) throw new KeeperCodeError(Code.BADARGUMENTS, "createTTL needs a TTL create mode");
    if (request.ttl <= 0n || request.ttl > TTL_MAX) {
      throw new KeeperCodeError(Code.BADARGUMENTS, `ttl ${request.ttl} out of range`);
    }
  } else if (isTtlFlags(flags)) {
    throw new KeeperCodeError(Code.BADARGUMENTS, "TTL create modes need the createTTL operation");
  }
  const container = kind === "createContainer";
  const ephemeral = !container && (flags === CreateFlags.EPHEMERAL || flags === CreateFlags.EPHEMERAL_SEQUENTIAL);
  if (ephemeral && context.localSession !== undefined) {
    throw new KeeperCodeError(context.localSession === "here" ? Code.EPHEMERALONLOCALSESSION : Code.SESSIONEXPIRED, request.path);
  }
  // Opcode 19 makes a container whatever the flags, but sequential flags still append the suffix.
  const sequential = (flags === CreateFlags.PERSISTENT_SEQUENTIAL || flags === CreateFlags.EPHEMERAL_SEQUENTIAL ||
      flags === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL);
  checkSession(context);

  const parentPath = parentOfRequested(request.path);
  const acl = fixupAcl(request.acl, context.identities, context.saslEnabled, context.x509Enabled);
  const parent = context.pending.get(parentPath);
  if (parent === null) throw new KeeperCodeError(Code.NONODE, parentPath);
  checkAllowed(parent.acl, Perms.CREATE, context.identities, parentPath);
  const path = sequential ? request.path + sequenceSuffix(parent.cversion) : request.path;
  requireValidPath(path);
  if (context.pending.get(path) !== null) throw new KeeperCodeError(Code.NODEEXISTS, path);
  if (nodeKindOf(parent.ephemeralOwner) === "ephemeral") {
    throw new KeeperCodeError(Code.NOCHILDRENFOREPHEMERALS, parentPath);
  }

  const ephemeralOwner = container
    ? CONTAINER_OWNER
    : kind === "createTTL"
    ? ttlOwner(request.ttl)
    : ephemeral
    ? context.sessionId
    : 0n;
  const parentCVersion = parent.cversion + 1;
  const txn: CreateTxn = {
    type: "create",
    path,
    data: request.data,
    acl,
    ephemeralOwner,
    parentCVersion,
    replyKind: kind === "create" ? "create" : "create2",
  };
  context.pending.set(context.zxid, parentPath, {
    ...parent,
    cversion: parentCVersion,
    numChildren: parent.numChildren + 1,
  });
  context.pending.set(context.zxid, path, {
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    numChildren: 0,
    acl,
  });
  return txn;
}

function prepareDelete(request: DeleteRequest, context: PrepContext): Txn {
  checkSession(context);
  const { path } = request;
  const parentPath = parentOfRequested(path);
  if (isSystemPath(path)) throw new KeeperCodeError(Code.BADARGUMENTS, `cannot delete ${path}`);
  const parent = requireNode(context, parentPath);
  checkAllowed(parent.acl, Perms.DELETE, context.identities, parentPath);
  const node = requireNode(context, path);
  if (request.version !== -1 && request.version !== node.version) {
    throw new KeeperCodeError(Code.BADVERSION, path);
  }
  if (node.numChildren > 0) throw new KeeperCodeError(Code.NOTEMPTY, path);
  context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });
  context.pending.set(context.zxid, path, null);
  return { type: "delete", path };
}

/**
 * deleteContainer (op 20): what the reaper sends. Refuses non-empty nodes (NOTEMPTY) and ephemerals
 * (BADVERSION), as ZooKeeper does, and also any node that is not, in the pending view, what the
 * reaper may delete: the reaper picks its candidates from the applied tree, while writes prepared
 * since may have deleted the node and created another at the same path (SIM-13: a persistent node,
 * a user's data, was deleted). ZooKeeper 3.8 has the same race (it only refuses ephemerals); here
 * the request is refused like an ephemeral and the reaper looks again at its next check.
 */
export function prepareDeleteContainer(path: string, context: PrepContext): Txn {
  try {
    const parentPath = parentOfRequested(path);
    if (isSystemPath(path)) throw new KeeperCodeError(Code.BADARGUMENTS, `cannot delete ${path}`);
    const node = requireNode(context, path);
    if (node.numChildren > 0) throw new KeeperCodeError(Code.NOTEMPTY, path);
    if (nodeKindOf(node.ephemeralOwner) === "ephemeral") throw new KeeperCodeError(Code.BADVERSION, path);
    if (!reapableAsPrepared(path, node, context.pending)) throw new KeeperCodeError(Code.BADVERSION, path);
    const parent = requireNode(context, parentPath);
    context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });
    context.pending.set(context.zxid, path, null);
    return { type: "deleteContainer", path };
  } catch (error) {
    if (error instanceof KeeperCodeError) return { type: "error", err: error.code };
    throw error;
  }
}

/**
 * Whether the reaper may still delete `node` as prep sees it: a container that has had a child, or
 * a TTL node no prepared write touched since the reaper judged it expired from the applied tree's
 * mtime (a pending setData or re-create makes it fresh; the next check judges it again).
 */
function reapableAsPrepared(path: string, node: NodeView, pending: PendingChanges): boolean {
  const kind = nodeKindOf(node.ephemeralOwner);
  if (kind === "container") return node.cversion > 0;
  if (kind === "ttl") return !pending.changedSinceApplied(path);
  return false;
}

function prepareSetData(request: SetDataRequest, context: PrepContext): Txn {
  checkSession(context);
  const { path } = request;
  requireValidPath(path);
  const node = requireNode(context, path);
  checkAllowed(node.acl, Perms.WRITE, context.identities, path);
  if (request.version !== -1 && request.version !== node.version) {
    throw new KeeperCodeError(Code.BADVERSION, path);
  }
  const version = nextVersion(node.version);
  context.pending.set(context.zxid, path, { ...node, version });
  return { type: "setData", path, data: request.data, version };
}

function prepareSetAcl(request: SetACLRequest, context: PrepContext): Txn {
  checkSession(context);
  const { path } = request;
  requireValidPath(path);
  const acl: ACL[] = fixupAcl(request.acl, context.identities, context.saslEnabled, context.x509Enabled);
  const node = requireNode(context, path);
  checkAllowed(node.acl, Perms.ADMIN, context.identities, path);
  if (request.version !== -1 && request.version !== node.aversion) {
    throw new KeeperCodeError(Code.BADVERSION, path);
  }
  const aversion = nextVersion(node.aversion);
  context.pending.set(context.zxid, path, { ...node, aversion, acl });
  return { type: "setACL", path, acl, aversion };
}

function prepareCheck(request: CheckRequest, context: PrepContext): Txn {
  checkSession(context);
  const { path } = request;
  requireValidPath(path);
  const node = requireNode(context, path);
  checkAllowed(node.acl, Perms.READ, context.identities, path);
  if (request.version !== -1 && request.version !== node.version) {
    throw new KeeperCodeError(Code.BADVERSION, path);
  }
  return { type: "check", path, version: node.version };
}

/** closeSession: marks the session closing and lists the ephemerals its txn will delete. */
export function prepareCloseSession(context: PrepContext): Txn {
  context.sessions.setClosing(context.sessionId);
  const paths = context.pending.ephemeralsOf(context.sessionId);
  for (const path of paths) {
    const parentPath = parentOf(path);
    const parent = context.pending.get(parentPath);
    if (parent) context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });
    context.pending.set(context.zxid, path, null);
  }
  return { type: "closeSession", paths };
}
