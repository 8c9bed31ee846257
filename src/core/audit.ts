/**
 * The audit log (ZooKeeper 3.6+'s `audit.enable`): who changed what, from where, with what result.
 * The same operations, fields and values as ZooKeeper's AuditHelper: on the member holding the
 * client's connection, one event per create, delete, setData, setAcl and reconfig answered there
 * (success or failure), one per changed node of a multi that succeeded, one `multiOperation` failure
 * for a multi that did not; on every member, one per ephemeral node a closed or expired session
 * loses. Pure: the server emits events, the driver writes them (one JSON line each).
 */
import { inZooKeeperOrder, userNameOf } from "./acl.ts";
import { type ACL, type Id, type OpResult, Perms, type Reply, type Request } from "./records.ts";

export interface AuditEvent {
  /** The session, "0x…" (ZooKeeper's getSessionIdHex). */
  session: string;
  /** The connection's users, comma-separated (ZooKeeper's AuthUtil.getUsers); null: the server itself. */
  user: string | null;
  /** The client's address; null for the server's own deletions. */
  ip: string | null;
  operation: AuditOperation;
  znode?: string;
  /** For creations: CreateMode's name in lower case ("persistent", "ephemeral_sequential", …). */
  znode_type?: string;
  /** For setAcl: the new ACL as ZooKeeper's ZKUtil.aclToString writes it ("world:anyone:cdrwa"). */
  acl?: string;
  result: "success" | "failure";
}

export type AuditOperation =
  | "create"
  | "delete"
  | "setData"
  | "setAcl"
  | "multiOperation"
  | "reconfig"
  | "ephemeralZNodeDeletionOnSessionCloseOrExpire";

/** Who asked: the session, the connection's identities and its address. */
export interface Requester {
  sessionId: bigint;
  identities: readonly Id[];
  ip: string;
}

/** Whether a request kind is audited (so the server keeps the request until it is answered). */
export function isAudited(kind: Request["kind"]): boolean {
  return AUDITED.has(kind);
}

const AUDITED = new Set<Request["kind"]>([
  "create", "create2", "createContainer", "createTTL", "delete", "deleteContainer", "setData", "setACL", "multi", "reconfig",
]);

/** The events for an audited write and the reply it got. */
export function auditEventsOf(request: Request, reply: Reply, who: Requester): AuditEvent[] {
  const base = { session: sessionHex(who.sessionId), user: usersOf(who.identities), ip: who.ip };
  const result = reply.header.err === 0 ? "success" : "failure";
  switch (request.kind) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL": {
      const created = reply.body?.kind === "create" || reply.body?.kind === "create2" ? reply.body.path : request.path;
      return [{ ...base, operation: "create", znode: created, znode_type: createModeName(request.kind === "createContainer" ? 4 : request.flags), result }];
    }
    case "delete":
    case "deleteContainer":
      return [{ ...base, operation: "delete", znode: request.path, result }];
    case "setData":
      return [{ ...base, operation: "setData", znode: request.path, result }];
    case "setACL":
      return [{ ...base, operation: "setAcl", znode: request.path, acl: aclString(request.acl), result }];
    case "reconfig":
      return [{ ...base, operation: "reconfig", znode: "/zookeeper/config", result }];
    case "multi": {
      const results: OpResult[] = reply.body?.kind === "multi" ? reply.body.results : [];
      if (result === "failure" || results.length !== request.ops.length || results.some((op) => op.type === "error")) {
        return [{ ...base, operation: "multiOperation", result: "failure" }];
      }
      return request.ops.flatMap((op, index): AuditEvent[] => {
        const done = results[index]!;
        switch (op.kind) {
          case "create":
          case "create2":
          case "createContainer":
          case "createTTL": {
            const path = done.type === "create" || done.type === "create2" ? done.path : op.path;
            return [{ ...base, operation: "create", znode: path, znode_type: createModeName(op.kind === "createContainer" ? 4 : op.flags), result: "success" }];
          }
          case "delete":
            return [{ ...base, operation: "delete", znode: op.path, result: "success" }];
          case "setData":
            return [{ ...base, operation: "setData", znode: op.path, result: "success" }];
          default:
            return [];
        }
      });
    }
    default:
      return [];
  }
}

/** The ephemeral nodes a closed or expired session lost, on every member (user null: the server). */
export function ephemeralDeletionEvents(sessionId: bigint, paths: readonly string[]): AuditEvent[] {
  return paths.map((path) => ({
    session: sessionHex(sessionId),
    user: null,
    ip: null,
    operation: "ephemeralZNodeDeletionOnSessionCloseOrExpire",
    znode: path,
    result: "success",
  }));
}

function sessionHex(sessionId: bigint): string {
  return `0x${BigInt.asUintN(64, sessionId).toString(16)}`;
}

/** ZooKeeper's AuthUtil.getUsers: each identity's user name, empty ones left out; null if none. */
function usersOf(identities: readonly Id[]): string | null {
  const users = inZooKeeperOrder(identities).map(userNameOf).filter((user) => user.trim() !== "");
  return users.length === 0 ? null : users.join(",");
}

/** CreateMode.fromFlag(flags).toString().toLowerCase(). */
function createModeName(flags: number): string {
  return CREATE_MODES[flags] ?? `unknown_${flags}`;
}

const CREATE_MODES: readonly string[] = [
  "persistent",
  "ephemeral",
  "persistent_sequential",
  "ephemeral_sequential",
  "container",
  "persistent_with_ttl",
  "persistent_sequential_with_ttl",
];

/** ZKUtil.aclToString: scheme:id:perms for each entry, with no separator between entries (as ZooKeeper writes it). */
function aclString(acl: readonly ACL[] | null): string {
  return (acl ?? []).map(({ id, perms }) => `${id.scheme}:${id.id}:${permString(perms)}`).join("");
}

function permString(perms: number): string {
  // ZooKeeper's order: create, delete, read, write, admin.
  let text = "";
  if ((perms & Perms.CREATE) !== 0) text += "c";
  if ((perms & Perms.DELETE) !== 0) text += "d";
  if ((perms & Perms.READ) !== 0) text += "r";
  if ((perms & Perms.WRITE) !== 0) text += "w";
  if ((perms & Perms.ADMIN) !== 0) text += "a";
  return text;
}
