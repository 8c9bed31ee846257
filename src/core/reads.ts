/**
 * Read-side operations, executed against the applied tree when they reach the head of their
 * connection's queue (so a session always reads its own earlier writes). They register watches and
 * may queue notifications (setWatches catch-up), but never change the tree.
 */
import { inZooKeeperOrder, isAllowed, maskDigests, userNameOf } from "./acl.ts";
import type { DataTree } from "./data_tree.ts";
import { Code } from "./errors.ts";
import type {
  ClientInfo,
  Id,
  OpResult,
  PathWatchRequest,
  Request,
  Response,
  SetWatchesRequest,
} from "./records.ts";
import { AddWatchMode, EventType, Perms } from "./records.ts";
import type { ConnectionId } from "./server_io.ts";
import { type WatchManager, WatchMode } from "./watch_manager.ts";

export interface ReadContext {
  tree: DataTree;
  watches: WatchManager;
  connection: ConnectionId;
  sessionId: bigint;
  identities: readonly Id[];
}

export interface ReadResult {
  err: number;
  body: Response | null;
  /** Notifications to send before the reply (setWatches catch-up; zxid -1). */
  events?: Array<{ type: number; path: string }>;
}

const OK_EMPTY: ReadResult = { err: Code.OK, body: null };

function failed(err: number): ReadResult {
  return { err, body: null };
}

/** Executes a read-side request. Write kinds never come here. */
export function executeRead(request: Request, context: ReadContext): ReadResult {
  switch (request.kind) {
    case "exists":
      return exists(request, context);
    case "getData":
    case "getChildren":
    case "getChildren2":
      return readNode(request, context, request.watch);
    case "getACL":
      return getAcl(request.path, context);
    case "getAllChildrenNumber": {
      const node = context.tree.get(request.path);
      if (!node) return failed(Code.NONODE);
      if (!isAllowed(node.acl, Perms.READ, context.identities)) return failed(Code.NOAUTH);
      return { err: Code.OK, body: { kind: "getAllChildrenNumber", totalNumber: context.tree.countDescendants(request.path) } };
    }
    case "getEphemerals":
      return getEphemerals(request.prefixPath, context);
    case "whoAmI":
      return { err: Code.OK, body: { kind: "whoAmI", clientInfo: whoAmI(context.identities) } };
    case "checkWatches":
      return failed(context.watches.check(request.path, context.connection, request.type));
    case "removeWatches":
      return failed(context.watches.remove(request.path, context.connection, request.type));
    case "addWatch":
      if (request.mode !== AddWatchMode.PERSISTENT && request.mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
        return failed(Code.MARSHALLINGERROR);
      }
      context.watches.addPersistentWatch(
        request.path,
        context.connection,
        request.mode === AddWatchMode.PERSISTENT_RECURSIVE,
      );
      return { err: Code.OK, body: { kind: "errorResponse", err: 0 } };
    case "setWatches":
    case "setWatches2":
      return { err: Code.OK, body: null, events: setWatches(request, context) };
    case "multiRead":
      return { err: Code.OK, body: { kind: "multi", results: request.ops.map((op) => multiReadOp(op, context)) } };
    case "ping":
      return OK_EMPTY;
    default:
      return failed(Code.UNIMPLEMENTED);
  }
}

function exists(request: PathWatchRequest, context: ReadContext): ReadResult {
  if (request.path.includes("\0")) return failed(Code.BADARGUMENTS);
  const node = context.tree.get(request.path);
  if (node && !isAllowed(node.acl, Perms.READ, context.identities)) return failed(Code.NOAUTH);
  // Registered even for a missing node: it fires later as NodeCreated.
  if (request.watch) context.watches.addDataWatch(request.path, context.connection, WatchMode.STANDARD);
  if (!node) return failed(Code.NONODE);
  return { err: Code.OK, body: { kind: "stat", stat: context.tree.statOf(node) } };
}

function readNode(request: PathWatchRequest, context: ReadContext, watch: boolean): ReadResult {
  const node = context.tree.get(request.path);
  if (!node) return failed(Code.NONODE);
  if (!isAllowed(node.acl, Perms.READ, context.identities)) return failed(Code.NOAUTH);
  if (request.kind === "getData") {
    if (watch) context.watches.addDataWatch(request.path, context.connection, WatchMode.STANDARD);
    return { err: Code.OK, body: { kind: "getData", data: node.data, stat: context.tree.statOf(node) } };
  }
  if (watch) context.watches.addChildWatch(request.path, context.connection, WatchMode.STANDARD);
  const children = [...node.children];
  if (request.kind === "getChildren") return { err: Code.OK, body: { kind: "getChildren", children } };
  return { err: Code.OK, body: { kind: "getChildren2", children, stat: context.tree.statOf(node) } };
}

function multiReadOp(op: PathWatchRequest, context: ReadContext): OpResult {
  // multiRead is not atomic and sets no watches; each op succeeds or fails on its own.
  const result = readNode(op, context, false);
  if (result.err !== Code.OK || result.body === null) return { type: "error", err: result.err };
  const body = result.body;
  if (body.kind === "getData") return { type: "getData", data: body.data, stat: body.stat };
  if (body.kind === "getChildren") return { type: "getChildren", children: body.children };
  return { type: "error", err: Code.MARSHALLINGERROR };
}

function getAcl(path: string, context: ReadContext): ReadResult {
  const node = context.tree.get(path);
  if (!node) return failed(Code.NONODE);
  const admin = isAllowed(node.acl, Perms.ADMIN, context.identities);
  if (!admin && !isAllowed(node.acl, Perms.READ, context.identities)) return failed(Code.NOAUTH);
  const acl = admin ? [...node.acl] : maskDigests(node.acl);
  return { err: Code.OK, body: { kind: "getACL", acl, stat: context.tree.statOf(node) } };
}

function getEphemerals(prefix: string | null, context: ReadContext): ReadResult {
  const all = [...context.tree.ephemeralsOf(context.sessionId)];
  const everything = prefix === null || prefix.trim() === "" || prefix === "/";
  const ephemerals = everything ? all : all.filter((path) => path.startsWith(prefix));
  return { err: Code.OK, body: { kind: "getEphemerals", ephemerals } };
}

function whoAmI(identities: readonly Id[]): ClientInfo[] {
  const seen = new Set<string>();
  const infos: ClientInfo[] = [];
  for (const { scheme, id } of inZooKeeperOrder(identities)) {
    const user = userNameOf({ scheme, id });
    const key = scheme + "\0" + user;
    if (seen.has(key)) continue;
    seen.add(key);
    infos.push({ authScheme: scheme, user });
  }
  return infos;
}

/** Re-arms a reconnecting client's watches; returns what changed meanwhile, to fire at once. */
function setWatches(request: SetWatchesRequest, context: ReadContext): Array<{ type: number; path: string }> {
  const { tree, watches, connection } = context;
  const since = request.relativeZxid;
  const events: Array<{ type: number; path: string }> = [];
  for (const path of request.dataWatches) {
    const node = tree.get(path);
    if (!node) events.push({ type: EventType.NodeDeleted, path });
    else if (node.mzxid > since) events.push({ type: EventType.NodeDataChanged, path });
    else watches.addDataWatch(path, connection, WatchMode.STANDARD);
  }
  for (const path of request.existWatches) {
    if (tree.get(path)) events.push({ type: EventType.NodeCreated, path });
    else watches.addDataWatch(path, connection, WatchMode.STANDARD);
  }
  for (const path of request.childWatches) {
    const node = tree.get(path);
    if (!node) events.push({ type: EventType.NodeDeleted, path });
    else if (node.pzxid > since) events.push({ type: EventType.NodeChildrenChanged, path });
    else watches.addChildWatch(path, connection, WatchMode.STANDARD);
  }
  for (const path of request.persistentWatches) watches.addPersistentWatch(path, connection, false);
  for (const path of request.persistentRecursiveWatches) watches.addPersistentWatch(path, connection, true);
  return events;
}
