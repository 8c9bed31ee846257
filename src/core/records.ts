/**
 * The ZooKeeper client protocol's records, decoded. The jute codec in src/wire turns these into bytes
 * and back; the core and the client speak only these types. Field names and order follow
 * zookeeper.jute so that the codec is a straight transcription.
 *
 * Numbers: zxids, times and versions are JS numbers (a zxid is epoch·2^32 + counter with epoch < 2^21,
 * so it stays a safe integer); session ids and TTLs are bigint because they use all 64 bits.
 */

/** Opcodes of the client protocol (ZooDefs.OpCode). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCodeName = keyof typeof OpCode;

/** Special xids (ClientCnxn). */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** Permission bits (ZooDefs.Perms). */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** Create flags (CreateMode). */
export const CreateFlags = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

/** Watcher.Event.EventType. */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

/** Watcher.Event.KeeperState. */
export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;

/** WatcherType used by checkWatches / removeWatches. */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;

/** AddWatchMode. */
export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;

export interface Id {
  scheme: string;
  id: string;
}

export interface ACL {
  perms: number;
  id: Id;
}

/** The 68-byte Stat record as clients see it. */
export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

// ---------------------------------------------------------------------------------------------------
// Handshake

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** undefined when the client did not send the optional trailing byte (then the reply omits it). */
  readOnly: boolean | undefined;
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** undefined: do not write the trailing byte (the request had none). */
  readOnly: boolean | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Requests. `kind` is the opcode's name; the codec maps it to and from OpCode.

export type CreateKind = "create" | "create2" | "createContainer" | "createTTL";

export interface CreateRequest {
  kind: CreateKind;
  path: string;
  data: Uint8Array | null;
  acl: ACL[] | null;
  flags: number;
  /** Only for createTTL; 0n otherwise. */
  ttl: bigint;
}
export interface DeleteRequest {
  kind: "delete";
  path: string;
  version: number;
}
export interface CheckRequest {
  kind: "check";
  path: string;
  version: number;
}
export interface SetDataRequest {
  kind: "setData";
  path: string;
  data: Uint8Array | null;
  version: number;
}
export interface SetACLRequest {
  kind: "setACL";
  path: string;
  acl: ACL[] | null;
  version: number;
}
export interface PathWatchRequest {
  kind: "exists" | "getData" | "getChildren" | "getChildren2";
  path: string;
  watch: boolean;
}
export interface PathRequest {
  kind: "getACL" | "sync" | "getAllChildrenNumber" | "deleteContainer";
  path: string;
}
export interface GetEphemeralsRequest {
  kind: "getEphemerals";
  prefixPath: string | null;
}
export interface WatchesRequest {
  kind: "checkWatches" | "removeWatches";
  path: string;
  type: number;
}
export interface AddWatchRequest {
  kind: "addWatch";
  path: string;
  mode: number;
}
export interface SetWatchesRequest {
  /** setWatches (101) carries no persistent lists; they are then empty. */
  kind: "setWatches" | "setWatches2";
  relativeZxid: number;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export interface MultiRequest {
  kind: "multi";
  ops: MultiWriteOp[];
}
export interface MultiReadRequest {
  kind: "multiRead";
  ops: PathWatchRequest[];
}
export interface ReconfigRequest {
  kind: "reconfig";
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}
export interface AuthRequest {
  kind: "auth";
  type: number;
  scheme: string;
  auth: Uint8Array | null;
}
export interface SaslRequest {
  kind: "sasl";
  token: Uint8Array | null;
}
export interface EmptyRequest {
  kind: "ping" | "closeSession" | "whoAmI";
}

export type MultiWriteOp = CreateRequest | DeleteRequest | SetDataRequest | CheckRequest;

export type Request =
  | CreateRequest
  | DeleteRequest
  | CheckRequest
  | SetDataRequest
  | SetACLRequest
  | PathWatchRequest
  | PathRequest
  | GetEphemeralsRequest
  | WatchesRequest
  | AddWatchRequest
  | SetWatchesRequest
  | MultiRequest
  | MultiReadRequest
  | ReconfigRequest
  | AuthRequest
  | SaslRequest
  | EmptyRequest;

export type RequestKind = Request["kind"];

export interface RequestHeader {
  xid: number;
  type: number;
}

// ---------------------------------------------------------------------------------------------------
// Responses (the body after a ReplyHeader with err = 0).

export type Response =
  | { kind: "create"; path: string }
  | { kind: "create2"; path: string; stat: Stat }
  | { kind: "stat"; stat: Stat }
  | { kind: "getData"; data: Uint8Array | null; stat: Stat }
  | { kind: "getACL"; acl: ACL[]; stat: Stat }
  | { kind: "getChildren"; children: string[] }
  | { kind: "getChildren2"; children: string[]; stat: Stat }
  | { kind: "sync"; path: string }
  | { kind: "multi"; results: OpResult[] }
  | { kind: "getEphemerals"; ephemerals: string[] }
  | { kind: "getAllChildrenNumber"; totalNumber: number }
  | { kind: "errorResponse"; err: number }
  | { kind: "whoAmI"; clientInfo: ClientInfo[] }
  | { kind: "sasl"; token: Uint8Array | null };

/** One result inside a MultiResponse. */
export type OpResult =
  | { type: "create"; path: string }
  | { type: "create2"; path: string; stat: Stat }
  | { type: "delete" }
  | { type: "setData"; stat: Stat }
  | { type: "check" }
  | { type: "getChildren"; children: string[] }
  | { type: "getData"; data: Uint8Array | null; stat: Stat }
  | { type: "error"; err: number };

export interface ReplyHeader {
  xid: number;
  zxid: number;
  err: number;
}

/** A reply: header plus an optional body (absent for errors and body-less operations). */
export interface Reply {
  header: ReplyHeader;
  body: Response | null;
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}
