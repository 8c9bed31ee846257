/**
 * An independent model of what ZooKeeper answers to each request (protocol reference §3–§9), for the
 * simulator's checkers. Given the committed order of writes, it says what every write must have
 * done and replied, and what every read must see. It imports only plain records and constants from
 * src/core, never the server's prep, tree or ACL logic: a wrong semantics there cannot hide behind a
 * replay that shares it.
 *
 * Covered: create (all modes and opcodes, sequential names, validation order §7.6), delete, setData,
 * setACL, check and multi (all-or-nothing, per-op results), closeSession and expiry (ephemerals),
 * the container/TTL reaper's deleteContainer (a client's op 20 is refused), reconfig (model_reconfig.ts:
 * given the committed txn, since some answers depend on the ensemble), and the reads (getData, exists, getChildren(2),
 * getACL, getAllChildrenNumber, getEphemerals, multiRead, sync). Versions, cversion, pzxid, mzxid,
 * ctime/mtime (the txn's time), aversion, ACLs with digest/ip/world/auth/super.
 */
import { Code } from "../../core/errors.ts";
import type {
  ACL,
  CreateRequest,
  Id,
  MultiWriteOp,
  OpResult,
  PathWatchRequest,
  ReconfigRequest,
  Request,
  Response,
} from "../../core/records.ts";
import {
  type AclConfig,
  ADMIN,
  CREATE,
  DELETE,
  fixupAcl,
  isAllowed,
  maskedAcl,
  READ,
  WRITE,
} from "./model_acl.ts";
import { isValidPath, parentPath, sequenceSuffix, SYSTEM_PATHS } from "./model_path.ts";
import { type CommittedReconfig, judgeReconfig, type ReconfigSettings } from "./model_reconfig.ts";
import {
  blankNode,
  type ModelChange,
  type ModelNode,
  type NodeKind,
  plusOne,
  ZnodeTree,
} from "./znode_tree.ts";

/** Where ZooKeeper keeps the membership (ZooDefs.CONFIG_NODE). */
export const CONFIG_PATH = "/zookeeper/config";

export interface ModelConfig extends AclConfig, ReconfigSettings {
  /**
   * The membership zoo.cfg gives, as /zookeeper/config holds it before any reconfig (mzxid 0;
   * its mtime is each server's start time, which the checkers leave out). Absent: empty.
   */
  quorumConfigText?: Uint8Array;
  /** `zookeeper.extendedTypesEnabled`: TTL nodes allowed. */
  extendedTypesEnabled: boolean;
  /**
   * `localSessionsEnabled`: a session the history never created is a member's local one, whose
   * writes pass the session check but which may not own an ephemeral.
   */
  localSessions?: boolean;
}

/** Who sends a write, and the txn it became: its zxid and the leader's time. */
export interface WriteContext {
  sessionId: bigint;
  identities: readonly Id[];
  zxid: number;
  time: number;
}

/** What a client must be told: the ReplyHeader's err and the body. */
export interface ModelReply {
  err: number;
  body: Response | null;
}

export interface WriteOutcome extends ModelReply {
  /** Watch triggers, in firing order (empty when nothing changed). */
  changes: ModelChange[];
}

const TTL_MAX = 0xff_ffff_ffffn;

class Refused {
  constructor(readonly code: number) {}
}

function refuse(code: number): never {
  throw new Refused(code);
}

type CreateOpcode = "create" | "create2" | "createContainer" | "createTTL";

export class ZnodeModel {
  readonly tree = new ZnodeTree();
  readonly #config: ModelConfig;

  constructor(config: ModelConfig) {
    this.#config = config;
    if (config.quorumConfigText !== undefined) {
      // As ZooKeeper's initConfigInZKDatabase sets it: a setData with version -1 at zxid 0.
      const node = this.tree.mutable(CONFIG_PATH);
      node.data = config.quorumConfigText;
      node.version = -1;
    }
  }

  /** True for the request kinds `write` models. */
  static isWrite(kind: Request["kind"]): boolean {
    return WRITE_KINDS.has(kind);
  }

  openSession(sessionId: bigint): void {
    this.tree.openSession(sessionId);
  }

  /** The session expired: the server closed it (no client request). */
  expireSession(sessionId: bigint, zxid: number): ModelChange[] {
    const changes: ModelChange[] = [];
    this.tree.closeSession(sessionId, zxid, changes);
    return changes;
  }

  /** Applies a write request as ZooKeeper would, at `context.zxid`, and says what it replies. */
  write(request: Request, context: WriteContext): WriteOutcome {
    return this.#atomically((changes) => this.#write(request, context, changes));
  }

  /**
   * A reconfig, judged against what its committed txn says (success with a membership text, or an
   * error): the answer is the committed one when ZooKeeper may give it in this state, else the
   * model's; `problem` says what is wrong with a success's membership text.
   */
  reconfig(request: ReconfigRequest, context: WriteContext, committed: CommittedReconfig): WriteOutcome & { problem: string | null } {
    const node = this.tree.get(CONFIG_PATH);
    const verdict = judgeReconfig(request, {
      configText: node?.data ?? null,
      version: node?.mzxid ?? 0,
      allowed: node !== undefined && isAllowed(node.acl, WRITE, context.identities),
      zxid: context.zxid,
    }, this.#config, committed);
    const outcome = this.#atomically((changes) => {
      if (verdict.err !== Code.OK) refuse(verdict.err);
      // A success of the model with an error committed is the checker's to report; apply nothing.
      if ("err" in committed) return null;
      const config = this.tree.mutable(CONFIG_PATH);
      config.data = committed.data;
      config.version = -1;
      config.mzxid = context.zxid;
      config.mtime = context.time;
      changes.push({ path: CONFIG_PATH, type: "dataChanged" });
      return { kind: "getData", data: committed.data, stat: this.tree.statOf(config) };
    });
    return { ...outcome, problem: verdict.problem };
  }

  /** The container/TTL reaper's deleteContainer txn (no session, no ACL, no version). */
  reap(path: string, context: WriteContext): WriteOutcome {
    return this.#atomically((changes) => {
      this.#deleteContainer(path, context, changes);
      return null;
    });
  }

  /** Runs one txn: all of it, or (refused) none of it. */
  #atomically(run: (changes: ModelChange[]) => Response | null): WriteOutcome {
    const changes: ModelChange[] = [];
    this.tree.begin();
    try {
      const body = run(changes);
      this.tree.commit();
      return { err: Code.OK, body, changes };
    } catch (error) {
      this.tree.rollback();
      if (error instanceof Refused) return { err: error.code, body: null, changes: [] };
      throw error;
    }
  }

  /** Why the server's reaper may delete `path` now, or null when it may not (§7.4). */
  reapable(path: string): string | null {
    const node = this.tree.get(path);
    if (node === undefined || node.children.size > 0) return null;
    if (node.kind === "container" && node.created > 0) return "an empty container that has had a child";
    if (node.kind === "ttl") return "an empty TTL node";
    return null;
  }

  #write(request: Request, context: WriteContext, changes: ModelChange[]): Response | null {
    switch (request.kind) {
      case "create":
      case "create2":
      case "createContainer":
      case "createTTL":
        return this.#create(request, request.kind, context, changes).body;
      case "delete":
        this.#delete(request.path, request.version, context, changes);
        return null;
      case "setData": {
        const node = this.#setData(request.path, request.data, request.version, context, changes);
        return { kind: "stat", stat: this.tree.statOf(node) };
      }
      case "setACL":
        return {
          kind: "stat",
          stat: this.tree.statOf(this.#setAcl(request.path, request.acl, request.version, context)),
        };
      case "multi":
        return this.#multi(request.ops, context, changes);
      case "closeSession":
        this.tree.closeSession(context.sessionId, context.zxid, changes);
        return null;
      case "deleteContainer":
        // Server-internal (see reap): ZooKeeper 3.8 takes a client's op 20 body whole as the path,
        // which always holds a NUL, so a client always gets BADARGUMENTS.
        return refuse(Code.BADARGUMENTS);
      case "reconfig":
        // Dynamic reconfiguration is off unless reconfigEnabled=true (ZooKeeper's default), and
        // that is checked before anything else. When it is on, the answer depends on the
        // ensemble too: see reconfig(), which takes the committed txn.
        if (this.#config.reconfigEnabled === true) throw new Error("a reconfig with reconfiguration enabled needs ZnodeModel.reconfig (the committed txn)");
        return refuse(Code.RECONFIGDISABLED);
      default:
        throw new Error(`the model does not know the write ${request.kind}`);
    }
  }

  #checkSession(context: WriteContext): void {
    if (this.tree.isOpen(context.sessionId)) return;
    if (this.#config.localSessions === true && !this.tree.isKnown(context.sessionId)) return;
    refuse(Code.SESSIONEXPIRED);
  }

  #require(path: string): ModelNode {
    return this.tree.get(path) ?? refuse(Code.NONODE);
  }

  #create(
    request: CreateRequest,
    opcode: CreateOpcode,
    context: WriteContext,
    changes: ModelChange[],
  ): { body: Response; result: OpResult } {
    const { flags, path } = request;
    if (!Number.isInteger(flags) || flags < 0 || flags > 6) refuse(Code.BADARGUMENTS);
    const ttlMode = flags === 5 || flags === 6;
    if (ttlMode && !this.#config.extendedTypesEnabled) refuse(Code.UNIMPLEMENTED);
    if (opcode === "createTTL" ? !ttlMode || request.ttl <= 0n || request.ttl > TTL_MAX : ttlMode) {
      refuse(Code.BADARGUMENTS);
    }
    // A local session may not own an ephemeral: the leader's checkGlobalSession (or, for its own
    // local sessions, EPHEMERALONLOCALSESSION: a session-level refusal, judged for plausibility).
    if ((flags === 1 || flags === 3) && opcode !== "createContainer" && !this.tree.isOpen(context.sessionId)) refuse(Code.SESSIONEXPIRED);
    this.#checkSession(context);
    if (path.lastIndexOf("/") < 0 || path.includes("\0")) refuse(Code.BADARGUMENTS);
    const acl = fixupAcl(request.acl, context.identities) ?? refuse(Code.INVALIDACL);
    const parent = this.#require(parentPath(path));
    if (!isAllowed(parent.acl, CREATE, context.identities)) refuse(Code.NOAUTH);
    const sequential = flags === 2 || flags === 3 || flags === 6;
    const fullPath = sequential ? path + sequenceSuffix(parent.created) : path;
    if (!isValidPath(fullPath)) refuse(Code.BADARGUMENTS);
    if (this.tree.get(fullPath) !== undefined) refuse(Code.NODEEXISTS);
    if (parent.kind === "ephemeral") refuse(Code.NOCHILDRENFOREPHEMERALS);
    // The opcode decides containers and TTL nodes; the flags decide ephemeral and sequential.
    const kind: NodeKind = opcode === "createContainer"
      ? "container"
      : opcode === "createTTL"
      ? "ttl"
      : flags === 1 || flags === 3
      ? "ephemeral"
      : "persistent";
    const node = blankNode(fullPath, acl, {
      data: request.data,
      czxid: context.zxid,
      mzxid: context.zxid,
      pzxid: context.zxid,
      ctime: context.time,
      mtime: context.time,
      kind,
      owner: kind === "ephemeral" ? context.sessionId : 0n,
      ttlMs: kind === "ttl" ? Number(request.ttl) : 0,
    });
    this.tree.insert(node, changes);
    if (opcode === "create") {
      return { body: { kind: "create", path: fullPath }, result: { type: "create", path: fullPath } };
    }
    const stat = this.tree.statOf(node);
    return {
      body: { kind: "create2", path: fullPath, stat },
      result: { type: "create2", path: fullPath, stat },
    };
  }

  #delete(path: string, version: number, context: WriteContext, changes: ModelChange[]): void {
    this.#checkSession(context);
    if (path.lastIndexOf("/") < 0 || path.includes("\0") || SYSTEM_PATHS.has(path)) refuse(Code.BADARGUMENTS);
    const parent = this.#require(parentPath(path));
    if (!isAllowed(parent.acl, DELETE, context.identities)) refuse(Code.NOAUTH);
    const node = this.#require(path);
    if (version !== -1 && version !== node.version) refuse(Code.BADVERSION);
    if (node.children.size > 0) refuse(Code.NOTEMPTY);
    this.tree.remove(path, context.zxid, changes);
  }

  #setData(
    path: string,
    data: Uint8Array | null,
    version: number,
    context: WriteContext,
    changes: ModelChange[],
  ): ModelNode {
    this.#checkSession(context);
    if (!isValidPath(path)) refuse(Code.BADARGUMENTS);
    const current = this.#require(path);
    if (!isAllowed(current.acl, WRITE, context.identities)) refuse(Code.NOAUTH);
    if (version !== -1 && version !== current.version) refuse(Code.BADVERSION);
    const node = this.tree.mutable(path);
    node.data = data;
    node.version = plusOne(node.version); // identical data still counts as a change
    node.mzxid = context.zxid;
    node.mtime = context.time;
    changes.push({ path, type: "dataChanged" });
    return node;
  }

  #setAcl(path: string, acl: ACL[] | null, version: number, context: WriteContext): ModelNode {
    this.#checkSession(context);
    if (!isValidPath(path)) refuse(Code.BADARGUMENTS);
    const fixed = fixupAcl(acl, context.identities) ?? refuse(Code.INVALIDACL);
    const current = this.#require(path);
    if (!isAllowed(current.acl, ADMIN, context.identities)) refuse(Code.NOAUTH);
    if (version !== -1 && version !== current.aversion) refuse(Code.BADVERSION);
    const node = this.tree.mutable(path);
    node.acl = fixed;
    node.aversion = plusOne(node.aversion); // mzxid and mtime stay: setACL is not a data change
    return node;
  }

  #check(path: string, version: number, context: WriteContext): void {
    this.#checkSession(context);
    if (!isValidPath(path)) refuse(Code.BADARGUMENTS);
    const node = this.#require(path);
    if (!isAllowed(node.acl, READ, context.identities)) refuse(Code.NOAUTH);
    if (version !== -1 && version !== node.version) refuse(Code.BADVERSION);
  }

  #deleteContainer(path: string, context: WriteContext, changes: ModelChange[]): void {
    if (path.lastIndexOf("/") < 0 || path.includes("\0") || SYSTEM_PATHS.has(path)) refuse(Code.BADARGUMENTS);
    const node = this.#require(path);
    if (node.children.size > 0) refuse(Code.NOTEMPTY);
    if (node.kind === "ephemeral") refuse(Code.BADVERSION);
    this.#require(parentPath(path));
    this.tree.remove(path, context.zxid, changes);
  }

  /**
   * multi (§9.2): every op validated against the effects of the ops before it, one zxid and time;
   * the first failure undoes everything and the results read 0 … code … -2. TTL create flags on a
   * non-TTL create op refuse the whole request (MARSHALLINGERROR).
   */
  #multi(ops: readonly MultiWriteOp[], context: WriteContext, changes: ModelChange[]): Response {
    const misplacedTtl = ops.some((op) =>
      (op.kind === "create" || op.kind === "create2" || op.kind === "createContainer") &&
      (op.flags === 5 || op.flags === 6)
    );
    if (misplacedTtl) refuse(Code.MARSHALLINGERROR);
    const results: OpResult[] = [];
    const own: ModelChange[] = [];
    for (const op of ops) {
      try {
        results.push(this.#multiOp(op, context, own));
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        // Undo the ops before the failure: the tree rolls back to before the multi, and the multi
        // still "succeeds" as a request (ReplyHeader err 0) with per-op error results.
        this.tree.rollback();
        this.tree.begin();
        const failed = results.length;
        return {
          kind: "multi",
          results: ops.map((_, i): OpResult => ({
            type: "error",
            err: i < failed ? Code.OK : i === failed ? error.code : Code.RUNTIMEINCONSISTENCY,
          })),
        };
      }
    }
    changes.push(...own);
    return { kind: "multi", results };
  }

  #multiOp(op: MultiWriteOp, context: WriteContext, changes: ModelChange[]): OpResult {
    switch (op.kind) {
      case "create":
      case "create2":
      case "createContainer":
      case "createTTL": {
        const normalized = multiCreate(op);
        return this.#create(normalized.op, normalized.opcode, context, changes).result;
      }
      case "delete":
        this.#delete(op.path, op.version, context, changes);
        return { type: "delete" };
      case "setData":
        return {
          type: "setData",
          stat: this.tree.statOf(this.#setData(op.path, op.data, op.version, context, changes)),
        };
      case "check":
        this.#check(op.path, op.version, context);
        return { type: "check" };
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Reads

  /** What a read must return in the current state; null for requests that are not modelled reads. */
  read(request: Request, sessionId: bigint, identities: readonly Id[]): ModelReply | null {
    switch (request.kind) {
      case "getData":
      case "exists":
      case "getChildren":
      case "getChildren2":
        return this.#pathRead(request, identities);
      case "getACL": {
        const node = this.tree.get(request.path);
        if (node === undefined) return { err: Code.NONODE, body: null };
        const admin = isAllowed(node.acl, ADMIN, identities);
        if (!admin && !isAllowed(node.acl, READ, identities)) return { err: Code.NOAUTH, body: null };
        return {
          err: Code.OK,
          body: { kind: "getACL", acl: admin ? node.acl : maskedAcl(node.acl), stat: this.tree.statOf(node) },
        };
      }
      case "getAllChildrenNumber": {
        const node = this.tree.get(request.path);
        if (node === undefined) return { err: Code.NONODE, body: null };
        if (!isAllowed(node.acl, READ, identities)) return { err: Code.NOAUTH, body: null };
        return { err: Code.OK, body: { kind: "getAllChildrenNumber", totalNumber: this.#descendants(node) } };
      }
      case "getEphemerals": {
        const prefix = request.prefixPath?.trim() ?? "";
        const all = this.tree.ephemeralsOf(sessionId);
        const ephemerals = prefix === "" || prefix === "/"
          ? all
          : all.filter((path) => path.startsWith(request.prefixPath!));
        return { err: Code.OK, body: { kind: "getEphemerals", ephemerals: ephemerals.sort() } };
      }
      case "multiRead": {
        const results = request.ops.map((op): OpResult => {
          const reply = this.#pathRead(op, identities);
          if (reply.err !== Code.OK) return { type: "error", err: reply.err };
          const body = reply.body!;
          if (body.kind === "getData") return { type: "getData", data: body.data, stat: body.stat };
          return { type: "getChildren", children: body.kind === "getChildren" ? body.children : [] };
        });
        return { err: Code.OK, body: { kind: "multi", results } };
      }
      case "sync":
        return { err: Code.OK, body: { kind: "sync", path: request.path } };
      default:
        return null;
    }
  }

  #pathRead(request: PathWatchRequest, identities: readonly Id[]): ModelReply {
    const node = this.tree.get(request.path);
    if (node === undefined) return { err: Code.NONODE, body: null };
    if (!isAllowed(node.acl, READ, identities)) return { err: Code.NOAUTH, body: null };
    const stat = this.tree.statOf(node);
    const children = () => [...node.children].sort();
    switch (request.kind) {
      case "getData":
        return { err: Code.OK, body: { kind: "getData", data: node.data, stat } };
      case "exists":
        return { err: Code.OK, body: { kind: "stat", stat } };
      case "getChildren":
        return { err: Code.OK, body: { kind: "getChildren", children: children() } };
      case "getChildren2":
        return { err: Code.OK, body: { kind: "getChildren2", children: children(), stat } };
    }
  }

  #descendants(node: ModelNode): number {
    let count = 0;
    const prefix = node.path === "/" ? "/" : node.path + "/";
    for (const other of this.tree.nodes()) {
      if (other.path !== node.path && other.path.startsWith(prefix)) count++;
    }
    return count;
  }
}

const WRITE_KINDS = new Set<Request["kind"]>([
  "create",
  "create2",
  "createContainer",
  "createTTL",
  "delete",
  "setData",
  "setACL",
  "multi",
  "closeSession",
  "deleteContainer",
  "reconfig",
]);

/**
 * Inside a multi the flags decide the op (§7.2): CONTAINER flags make any create op a container
 * create; a createContainer op without them is a plain create2; a createTTL op without TTL flags is
 * a plain create (unknown flags: PERSISTENT).
 */
function multiCreate(op: CreateRequest): { op: CreateRequest; opcode: CreateOpcode } {
  if (op.kind === "createTTL" && (op.flags === 5 || op.flags === 6)) return { op, opcode: "createTTL" };
  if (op.flags === 4) return { op, opcode: "createContainer" };
  if (op.kind === "createContainer") return { op, opcode: "create2" };
  if (op.kind === "createTTL") {
    return { op: { ...op, flags: op.flags >= 0 && op.flags <= 3 ? op.flags : 0 }, opcode: "create" };
  }
  return { op, opcode: op.kind };
}
