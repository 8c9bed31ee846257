/** Public types of the client: session states, watch events, op results. */
import type { ACL, Stat } from "../core/records.ts";

/**
 * Where the session stands. "connecting" only before the first connection; "disconnected" while
 * reconnecting (the session may still be alive on the servers); the last three are terminal.
 */
export type SessionState =
  | "connecting"
  | "connected"
  | "connectedReadOnly"
  | "disconnected"
  | "expired"
  | "authFailed"
  | "closed";

/** Node events sent by the server. */
export type NodeEventType = "NodeCreated" | "NodeDeleted" | "NodeDataChanged" | "NodeChildrenChanged";

/** Raised by the client itself when a watch is removed with removeWatches/removeAllWatches. */
export type WatchRemovedEventType = "DataWatchRemoved" | "ChildWatchRemoved" | "PersistentWatchRemoved";

/** ZooKeeper's KeeperState names, as carried by state events. */
export type KeeperStateName =
  | "SyncConnected"
  | "Disconnected"
  | "Expired"
  | "AuthFailed"
  | "ConnectedReadOnly"
  /** After the SyncConnected of a connection whose SASL exchange succeeded (ClientOptions.sasl). */
  | "SaslAuthenticated"
  | "Closed";

/** A change to a watched node (or the removal of a watch). `path` is client-relative (chroot stripped). */
export interface NodeWatchEvent {
  type: NodeEventType | WatchRemovedEventType;
  state: "SyncConnected";
  path: string;
  /** The triggering transaction's zxid (ZooKeeper 3.9+); -1 when the server does not say (3.8). */
  zxid: number;
}

/**
 * A connection state change, delivered (as in ZooKeeper) to every registered watch listener:
 * Disconnected, SyncConnected/ConnectedReadOnly on reconnect, and the terminal Expired, AuthFailed and
 * Closed, after which the watch is gone.
 */
export interface StateWatchEvent {
  type: "None";
  state: KeeperStateName;
  path: null;
  zxid: -1;
}

export type WatchEvent = NodeWatchEvent | StateWatchEvent;

/** A watch callback. Called synchronously, in event order, before the reply that reveals the change. */
export type WatchListener = (event: WatchEvent) => void;

/** addWatch modes (AddWatchMode). */
export type AddWatchModeName = "persistent" | "persistentRecursive";

/** Watcher kinds for removeWatches/removeAllWatches (WatcherType). */
export type WatcherTypeName = "children" | "data" | "any" | "persistent" | "persistentRecursive";

/** Node data as given by callers: bytes, or a string sent as UTF-8. */
export type NodeData = Uint8Array | string;

export interface CreateNodeOptions {
  /** A CreateMode value (CreateMode.EPHEMERAL, ...); default PERSISTENT. */
  mode?: number;
  /** Default OPEN_ACL_UNSAFE (world:anyone, all permissions). */
  acl?: ACL[];
  /** Time to live for the TTL modes, in ms (the server needs zookeeper.extendedTypesEnabled=true). */
  ttlMs?: number;
}

/** One write op of a multi; build them with `op.create(...)`, `op.delete(...)`, ... */
export type MultiOp =
  | ({ type: "create"; path: string; data: NodeData | null } & CreateNodeOptions)
  | { type: "delete"; path: string; version: number }
  | { type: "setData"; path: string; data: NodeData | null; version: number }
  | { type: "check"; path: string; version: number };

/** One read op of a multiRead; build them with `op.getData(path)`, `op.getChildren(path)`. */
export type ReadOp = { type: "getData"; path: string } | { type: "getChildren"; path: string };

/** One result of a multi. A create result has a stat when the server sent one (create2-style ops). */
export type MultiOpResult =
  | { type: "create"; path: string; stat: Stat | null }
  | { type: "delete" }
  | { type: "setData"; stat: Stat }
  | { type: "check" }
  | { type: "error"; code: number; codeName: string };

/** One result of a multiRead: reads are independent, so some may fail while others succeed. */
export type MultiReadResult =
  | { type: "getData"; data: Uint8Array; stat: Stat }
  | { type: "getChildren"; children: string[] }
  | { type: "error"; code: number; codeName: string };
