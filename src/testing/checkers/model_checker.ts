/**
 * Checks what the clients saw against the independent model (src/testing/model/): walks the final
 * committed history in zxid order and, for each txn, applies the *request* it came from (found by
 * session id and xid in the clients' history) to the model, then checks
 * - that the committed txn is what ZooKeeper makes of that request in that state (success or the
 *   same error code, the same created paths, the same per-op codes of a failed multi) — this holds
 *   the txns no client heard about to account too;
 * - that the reply, when the client got one, is exactly the model's: error code, created path with
 *   its sequential suffix, every Stat field, multi results — and carries the txn's zxid;
 * - every read against the model state at the read's zxid (a replica serves exactly the committed
 *   state it claims to be at), with the connection's identities for ACLs;
 * - reaper deletions (deleteContainer) only of empty containers that have had a child and of TTL
 *   nodes; SESSIONEXPIRED only for sessions that are closed or closing;
 * - optionally, the final tree node by node.
 * Session-level refusals (SESSIONMOVED, SESSIONEXPIRED) depend on where and when a request was
 * prepared, which no model of the tree can know: such txns change nothing and are only checked for
 * plausibility. It returns the watch triggers, for the watch checker.
 */
import { Code, codeName } from "../../core/errors.ts";
import type { ACL, Id, OpResult, Reply, Stat } from "../../core/records.ts";
import type { Txn, TxnEntry } from "../../core/txn.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import { canonical } from "../canonical.ts";
import type { OpRecord } from "../history.ts";
import { identitiesOfAuth } from "../model/model_acl.ts";
import { CONFIG_PATH, type ModelConfig, type ModelReply, ZnodeModel } from "../model/znode_model.ts";
import type { ModelChange } from "../model/znode_tree.ts";
import type { Report } from "./violation.ts";
import { isEpochStart, isStaticMembership } from "../sim_reconfig.ts";

/** A node of a server's tree, as the final comparison reads it. */
export interface ObservedNode {
  path: string;
  data: Uint8Array | null;
  acl: readonly ACL[];
  stat: Stat;
  children: Iterable<string>;
}

export interface ModelCheckOptions {
  entries: readonly TxnEntry[];
  ops: readonly OpRecord[];
  config: ModelConfig;
  /** The address simulated clients connect from: their `ip` identity. */
  clientAddress: string;
  report: Report;
  /** The servers' final tree, compared node by node with the model's. */
  finalTree?: Iterable<ObservedNode>;
}

/** Which txns fire which watches, as the watch checker reads them. */
export interface ModelTriggers {
  /** path → zxids (ascending) of changes that fire a data watch (created, dataChanged, deleted). */
  dataTriggers: Map<string, Zxid[]>;
  /** path → zxids (ascending) of changes that fire a child watch (childrenChanged, deleted). */
  childTriggers: Map<string, Zxid[]>;
  /** `${zxid} ${path}` → the change types that txn made there. */
  changeTypes: Map<string, Set<ModelChange["type"]>>;
  /**
   * `${zxid} ${path}` → the ACL that decides who is told of that change (3.8.4+: only connections
   * with READ on it; a one-shot watch of another is consumed silently): the node's ACL after the
   * txn, or before it for a deleted node; for a children change the parent's (the change's path).
   */
  changeAcls: Map<string, readonly ACL[]>;
}

/** Refusals that depend on session ownership and timing, not on the tree. */
const SESSION_LEVEL: ReadonlySet<number> = new Set([Code.SESSIONMOVED, Code.SESSIONEXPIRED, Code.EPHEMERALONLOCALSESSION]);
/** Read outcomes that the tree decides (others: the connection or session failed). */
const TREE_READ_CODES: ReadonlySet<number> = new Set([Code.OK, Code.NONODE, Code.NOAUTH]);
const READ_KINDS: ReadonlySet<string> = new Set([
  "getData",
  "exists",
  "getChildren",
  "getChildren2",
  "getACL",
  "getAllChildrenNumber",
  "getEphemerals",
  "multiRead",
  "sync",
]);
/** Write failures ZooKeeper decides in prep, so each is a committed (error) txn. */
const PREP_ERRORS: ReadonlySet<number> = new Set([
  Code.NONODE,
  Code.NODEEXISTS,
  Code.BADVERSION,
  Code.NOTEMPTY,
  Code.NOAUTH,
  Code.NOCHILDRENFOREPHEMERALS,
  Code.INVALIDACL,
  Code.BADARGUMENTS,
]);

/** A txn's or the model's outcome, in the terms both can be compared in. */
type Outcome =
  | { kind: "ok"; created: string[] }
  | { kind: "error"; err: number }
  | { kind: "multiError"; codes: number[] };

export function checkAgainstModel(options: ModelCheckOptions): ModelTriggers {
  return new ModelWalk(options).run();
}

class ModelWalk {
  readonly #options: ModelCheckOptions;
  readonly #report: Report;
  readonly #model: ZnodeModel;
  readonly #triggers: ModelTriggers = {
    dataTriggers: new Map(),
    childTriggers: new Map(),
    changeTypes: new Map(),
    changeAcls: new Map(),
  };
  /** `${sessionId} ${xid}` → the write request. */
  readonly #writes = new Map<string, OpRecord>();
  readonly #matched = new Set<OpRecord>();
  /** Session id → zxid of its last closeSession txn. */
  readonly #closedAt = new Map<bigint, Zxid>();
  /** Connection → its auth requests, in order. */
  readonly #auths = new Map<number, OpRecord[]>();

  constructor(options: ModelCheckOptions) {
    this.#options = options;
    this.#report = options.report;
    this.#model = new ZnodeModel(options.config);
    for (const op of options.ops) {
      if (op.xid > 0 && ZnodeModel.isWrite(op.request.kind)) {
        this.#writes.set(`${op.sessionId} ${op.xid}`, op);
      }
      if (op.request.kind === "auth") {
        let list = this.#auths.get(op.connection);
        if (!list) this.#auths.set(op.connection, list = []);
        list.push(op);
      }
    }
    for (const entry of options.entries) {
      if (entry.txn.type === "closeSession") this.#closedAt.set(entry.header.sessionId, entry.header.zxid);
    }
  }

  run(): ModelTriggers {
    const reads = this.#readsByZxid();
    let next = 0;
    const readsBefore = (zxid: Zxid) => {
      for (; next < reads.length && reads[next]!.reply!.header.zxid < zxid; next++) {
        this.#checkRead(reads[next]!);
      }
    };
    for (const entry of this.#options.entries) {
      readsBefore(entry.header.zxid);
      const aclsBefore = new Map<string, readonly ACL[]>();
      for (const node of this.#model.tree.nodes()) aclsBefore.set(node.path, node.acl);
      for (const change of this.#apply(entry)) this.#recordChange(entry.header.zxid, change, aclsBefore);
    }
    readsBefore(Number.POSITIVE_INFINITY);
    this.#checkUnmatchedFailures();
    if (this.#options.finalTree !== undefined) this.#compareFinalTree(this.#options.finalTree);
    return this.#triggers;
  }

  #apply(entry: TxnEntry): ModelChange[] {
    const { sessionId, cxid, zxid, time } = entry.header;
    const txn = entry.txn;
    if (txn.type === "createSession") {
      this.#model.openSession(sessionId);
      return [];
    }
    if (cxid <= 0) return this.#applyServerTxn(entry);
    const op = this.#writes.get(`${sessionId} ${cxid}`);
    if (op === undefined) {
      this.#report(
        "every committed txn comes from a request",
        `txn ${zxidHex(zxid)} (${txn.type}) of session 0x${
          hex(sessionId)
        } xid ${cxid} matches no request a client sent`,
      );
      return [];
    }
    this.#matched.add(op);
    const committed = txnOutcome(txn);
    if (isSessionLevel(committed)) {
      this.#checkSessionLevel(op, committed, zxid);
      return [];
    }
    const context = { sessionId, identities: this.#identities(op), zxid, time };
    let outcome: ReturnType<ZnodeModel["write"]>;
    if (op.request.kind === "reconfig" && this.#options.config.reconfigEnabled === true) {
      // Some answers depend on the ensemble: the model judges the committed one (model_reconfig.ts).
      const said = txn.type === "reconfig" ? { data: txn.data } : txn.type === "error" ? { err: txn.err } : { err: Code.SYSTEMERROR };
      const judged = this.#model.reconfig(op.request, context, said);
      if (judged.problem !== null) {
        this.#report("committed reconfigs follow ZooKeeper's semantics", `${describe(op)} was committed at ${zxidHex(zxid)}, but ${judged.problem}`);
      }
      outcome = judged;
    } else {
      outcome = this.#model.write(op.request, context);
    }
    const expected = replyOutcome(outcome);
    if (canonical(committed) !== canonical(expected)) {
      this.#report(
        "committed writes follow ZooKeeper's semantics",
        `${describe(op)} was committed at ${zxidHex(zxid)} as ${
          showOutcome(committed)
        }, but in that state ZooKeeper's answer is ${showOutcome(expected)}`,
      );
    }
    if (op.reply !== null) this.#checkWriteReply(op, outcome, zxid);
    return outcome.changes;
  }

  /** Txns no client asked for: a session expiring, the reaper deleting a container or TTL node. */
  #applyServerTxn(entry: TxnEntry): ModelChange[] {
    const { sessionId, zxid, time } = entry.header;
    const txn = entry.txn;
    if (txn.type === "closeSession") return this.#model.expireSession(sessionId, zxid);
    if (txn.type === "error") return []; // a reaper's deleteContainer that lost a race: no effect
    if (txn.type !== "deleteContainer") {
      this.#report(
        "every committed txn comes from a request",
        `txn ${zxidHex(zxid)} (${txn.type}) of session 0x${
          hex(sessionId)
        } carries no client xid and is not a server's own txn`,
      );
      return [];
    }
    if (this.#model.reapable(txn.path) === null) {
      const node = this.#model.tree.get(txn.path);
      const what = node === undefined
        ? "does not exist"
        : `is a ${node.kind} node with ${node.children.size} children, ${node.created} ever created`;
      this.#report(
        "the reaper deletes only empty used containers and TTL nodes",
        `txn ${zxidHex(zxid)} deletes ${txn.path}, which ${what}`,
      );
    }
    const outcome = this.#model.reap(txn.path, { sessionId, identities: [], zxid, time });
    if (outcome.err !== Code.OK) {
      this.#report(
        "committed writes follow ZooKeeper's semantics",
        `the reaper's txn ${zxidHex(zxid)} deletes ${txn.path}, but ZooKeeper's answer is ${
          codeName(outcome.err)
        }`,
      );
    }
    return outcome.changes;
  }

  /** SESSIONEXPIRED only once the session is closing: closed before, or by a later txn. */
  #checkSessionLevel(op: OpRecord, committed: Outcome, zxid: Zxid): void {
    const expired = committed.kind === "error"
      ? committed.err === Code.SESSIONEXPIRED
      : committed.kind === "multiError" && committed.codes.includes(Code.SESSIONEXPIRED);
    if (!expired) return;
    const closed = this.#closedAt.get(op.sessionId);
    if (this.#model.tree.isOpen(op.sessionId) && (closed === undefined || closed < zxid)) {
      this.#report(
        "SESSIONEXPIRED only for a closing session",
        `${describe(op)} was committed at ${
          zxidHex(zxid)
        } as SESSIONEXPIRED, but its session is open there and ${
          closed === undefined ? "never closes" : "was not being closed"
        }`,
      );
    }
  }

  #checkWriteReply(op: OpRecord, expected: ModelReply, zxid: Zxid): void {
    const reply = op.reply!;
    if (reply.header.zxid !== zxid) {
      this.#report(
        "a write's reply carries its txn's zxid",
        `${describe(op)} was committed at ${zxidHex(zxid)} but its reply carries ${
          zxidHex(reply.header.zxid)
        }`,
      );
    }
    if (reply.header.err !== expected.err || canonical(reply.body) !== canonical(expected.body)) {
      this.#report(
        "replies follow ZooKeeper's semantics",
        `${describe(op)}, committed at ${zxidHex(zxid)}, got ${
          showReply(reply.header.err, reply.body)
        }; ZooKeeper replies ${showReply(expected.err, expected.body)}`,
      );
    }
  }

  /** A failure that ZooKeeper decides in prep is always a committed txn. */
  #checkUnmatchedFailures(): void {
    for (const op of this.#writes.values()) {
      if (this.#matched.has(op) || op.reply === null || !PREP_ERRORS.has(op.reply.header.err)) continue;
      this.#report(
        "every committed txn comes from a request",
        `${describe(op)} failed with ${codeName(op.reply.header.err)} at ${
          zxidHex(op.reply.header.zxid)
        }, but no txn of it is in the committed history`,
      );
    }
  }

  #readsByZxid(): OpRecord[] {
    const known = new Set(this.#options.entries.map((entry) => entry.header.zxid));
    const reads: OpRecord[] = [];
    for (const op of this.#options.ops) {
      const reply = op.reply;
      if (reply === null || !READ_KINDS.has(op.request.kind) || !TREE_READ_CODES.has(reply.header.err)) {
        continue;
      }
      if (reply.header.zxid !== 0 && !known.has(reply.header.zxid)) {
        this.#report(
          "reads come from the committed history",
          `${describe(op)} read at ${
            zxidHex(reply.header.zxid)
          }, a zxid that is not in the committed history`,
        );
        continue;
      }
      reads.push(op);
    }
    return reads.sort((a, b) => a.reply!.header.zxid - b.reply!.header.zxid || a.index - b.index);
  }

  #checkRead(op: OpRecord): void {
    const expected = this.#model.read(op.request, op.sessionId, this.#identities(op));
    if (expected === null) return;
    const reply = op.reply!;
    const got = this.#staticConfigTime(op, normalize(reply.body));
    if (reply.header.err !== expected.err || canonical(got) !== canonical(normalize(expected.body))) {
      this.#report(
        "reads match the model at their zxid",
        `${describe(op)} at ${zxidHex(reply.header.zxid)} got ${
          showReply(reply.header.err, got)
        }; the state there gives ${showReply(expected.err, expected.body)}`,
      );
    }
  }

  /**
   * zoo.cfg's membership in /zookeeper/config is written outside any txn (version 0, or stamped
   * with an established epoch's first zxid) with each server's own clock as mtime, which no history
   * holds: a read that shows exactly that membership is compared as the model holds it (mzxid and
   * mtime 0). Once a reconfig set the node, everything is the txn's and compared as is.
   */
  #staticConfigTime(op: OpRecord, body: Reply["body"]): Reply["body"] {
    const request = op.request;
    const staticText = this.#options.config.quorumConfigText;
    if (staticText === undefined || !("path" in request) || request.path !== CONFIG_PATH) return body;
    if (body === null || !("stat" in body) || body.stat === null || !isEpochStart(body.stat.mzxid)) return body;
    if (body.kind === "getData" && !isStaticMembership(body.data, body.stat.mzxid, staticText)) return body;
    const stat = { ...body.stat, mzxid: 0, mtime: 0, dataLength: staticText.length };
    return (body.kind === "getData" ? { ...body, data: staticText, stat } : { ...body, stat }) as Reply["body"];
  }

  /** The connection's `ip` identity plus what its earlier auth requests added. */
  #identities(op: OpRecord): Id[] {
    const address = this.#options.clientAddress;
    const identities: Id[] = [{ scheme: "ip", id: address }];
    for (const auth of this.#auths.get(op.connection) ?? []) {
      if (auth.index > op.index) break;
      if (auth.request.kind !== "auth" || (auth.reply !== null && auth.reply.header.err !== Code.OK)) {
        continue;
      }
      identities.push(
        ...(identitiesOfAuth(auth.request.scheme, auth.request.auth, address, this.#options.config) ?? []),
      );
    }
    return identities;
  }

  #recordChange(zxid: Zxid, change: ModelChange, aclsBefore: ReadonlyMap<string, readonly ACL[]>): void {
    const key = `${zxid} ${change.path}`;
    const acl = change.type === "deleted"
      ? aclsBefore.get(change.path)
      : this.#model.tree.get(change.path)?.acl ?? aclsBefore.get(change.path);
    if (acl !== undefined && !this.#triggers.changeAcls.has(key)) this.#triggers.changeAcls.set(key, acl);
    let types = this.#triggers.changeTypes.get(key);
    if (!types) this.#triggers.changeTypes.set(key, types = new Set());
    types.add(change.type);
    const push = (table: Map<string, Zxid[]>) => {
      let list = table.get(change.path);
      if (!list) table.set(change.path, list = []);
      if (list[list.length - 1] !== zxid) list.push(zxid);
    };
    if (change.type !== "childrenChanged") push(this.#triggers.dataTriggers);
    if (change.type === "childrenChanged" || change.type === "deleted") push(this.#triggers.childTriggers);
  }

  #compareFinalTree(observed: Iterable<ObservedNode>): void {
    const theirs = new Map<string, ObservedNode>();
    for (const node of observed) theirs.set(node.path, node);
    const tree = this.#model.tree;
    for (const node of tree.nodes()) {
      const other = theirs.get(node.path);
      theirs.delete(node.path);
      if (other === undefined) {
        this.#report(
          "the final tree matches the model",
          `${node.path} exists in the model but not on the servers`,
        );
        continue;
      }
      const mine = {
        data: node.data,
        acl: node.acl,
        stat: tree.statOf(node),
        children: [...node.children].sort(),
      };
      const got = {
        data: other.data,
        acl: other.acl,
        stat: other.stat,
        children: [...other.children].sort(),
      };
      if (canonical(mine) !== canonical(got)) {
        this.#report(
          "the final tree matches the model",
          `${node.path} on the servers is ${canonical(got)}; the model has ${canonical(mine)}`,
        );
      }
    }
    for (const path of theirs.keys()) {
      this.#report("the final tree matches the model", `${path} exists on the servers but not in the model`);
    }
  }
}

function txnOutcome(txn: Txn): Outcome {
  if (txn.type === "error") return { kind: "error", err: txn.err };
  if (txn.type === "multiError") return { kind: "multiError", codes: [...txn.codes] };
  const subs = txn.type === "multi" ? txn.txns : [txn];
  return { kind: "ok", created: subs.flatMap((sub) => (sub.type === "create" ? [sub.path] : [])) };
}

function replyOutcome(reply: ModelReply): Outcome {
  if (reply.err !== Code.OK) return { kind: "error", err: reply.err };
  const body = reply.body;
  if (body?.kind === "multi") {
    if (body.results.some((result) => result.type === "error")) {
      return {
        kind: "multiError",
        codes: body.results.map((result) => (result.type === "error" ? result.err : Code.OK)),
      };
    }
    return {
      kind: "ok",
      created: body.results.flatMap((
        result,
      ) => (result.type === "create" || result.type === "create2" ? [result.path] : [])),
    };
  }
  return { kind: "ok", created: body?.kind === "create" || body?.kind === "create2" ? [body.path] : [] };
}

function isSessionLevel(outcome: Outcome): boolean {
  if (outcome.kind === "error") return SESSION_LEVEL.has(outcome.err);
  return outcome.kind === "multiError" && outcome.codes.some((code) => SESSION_LEVEL.has(code));
}

/** Children lists are unordered: compare them sorted. */
function normalize(body: Reply["body"]): Reply["body"] {
  if (body === null) return null;
  if (body.kind === "getChildren" || body.kind === "getChildren2") {
    return { ...body, children: [...body.children].sort() };
  }
  if (body.kind === "getEphemerals") return { ...body, ephemerals: [...body.ephemerals].sort() };
  if (body.kind === "multi") {
    return {
      ...body,
      results: body.results.map((
        result,
      ): OpResult => (result.type === "getChildren"
        ? { ...result, children: [...result.children].sort() }
        : result)
      ),
    };
  }
  return body;
}

function showOutcome(outcome: Outcome): string {
  if (outcome.kind === "error") return codeName(outcome.err);
  if (outcome.kind === "multiError") return `a failed multi [${outcome.codes.map(codeName).join(", ")}]`;
  return outcome.created.length === 0 ? "success" : `success creating ${outcome.created.join(", ")}`;
}

function showReply(err: number, body: Reply["body"]): string {
  return err === Code.OK ? `OK ${canonical(body)}` : codeName(err);
}

function describe(op: OpRecord): string {
  const request = op.request;
  const path = "path" in request ? ` ${request.path}` : "";
  const version = "version" in request ? ` version ${request.version}` : "";
  const ops = request.kind === "multi"
    ? ` [${
      request.ops.map((sub) => `${sub.kind} ${sub.path}${"version" in sub ? ` v${sub.version}` : ""}`).join(
        "; ",
      )
    }]`
    : "";
  return `client ${op.client} session 0x${
    hex(op.sessionId)
  } xid ${op.xid} ${request.kind}${path}${version}${ops} (server ${op.sid})`;
}

function hex(sessionId: bigint): string {
  return BigInt.asUintN(64, sessionId).toString(16);
}
