/**
 * Building requests from the client API's arguments: path checks, data conversion, create modes,
 * multi ops, and turning multi results into the public shape.
 */
import { Code, codeName } from "../core/errors.ts";
import { pathProblem } from "../core/path.ts";
import {
  type ACL,
  CreateFlags,
  type CreateRequest,
  type MultiWriteOp,
  type OpResult,
  type PathWatchRequest,
  Perms,
  type Response,
} from "../core/records.ts";
import type { Chroot } from "./chroot.ts";
import { KeeperError } from "./keeper_error.ts";
import type {
  CreateNodeOptions,
  MultiOp,
  MultiOpResult,
  MultiReadResult,
  NodeData,
  ReadOp,
} from "./types.ts";

/** CreateMode values, for `create(path, data, { mode: CreateMode.EPHEMERAL })`. */
export const CreateMode = CreateFlags;

/** world:anyone with every permission: ZooKeeper's OPEN_ACL_UNSAFE, the default ACL. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{
  perms: Perms.ALL,
  id: { scheme: "world", id: "anyone" },
}]);
/** world:anyone, read only. */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{
  perms: Perms.READ,
  id: { scheme: "world", id: "anyone" },
}]);
/** Every permission for the identities the session has authenticated (needs addAuth first). */
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{
  perms: Perms.ALL,
  id: { scheme: "auth", id: "" },
}]);

/** The shape of `op` (spelled out so that JSR's type checks need no inference). */
export interface OpBuilders {
  create(path: string, data?: NodeData | null, options?: CreateNodeOptions): MultiOp;
  delete(path: string, version?: number): MultiOp;
  setData(path: string, data: NodeData | null, version?: number): MultiOp;
  check(path: string, version?: number): MultiOp;
  getData(path: string): ReadOp;
  getChildren(path: string): ReadOp;
}

/** Builders for multi() and multiRead() ops. */
export const op: Readonly<OpBuilders> = {
  create(path: string, data: NodeData | null = new Uint8Array(0), options: CreateNodeOptions = {}): MultiOp {
    return { type: "create", path, data, ...options };
  },
  delete(path: string, version = -1): MultiOp {
    return { type: "delete", path, version };
  },
  setData(path: string, data: NodeData | null, version = -1): MultiOp {
    return { type: "setData", path, data, version };
  },
  /** Fails the multi unless the node exists and (for version ≠ -1) has this version. */
  check(path: string, version = -1): MultiOp {
    return { type: "check", path, version };
  },
  getData(path: string): ReadOp {
    return { type: "getData", path };
  },
  getChildren(path: string): ReadOp {
    return { type: "getChildren", path };
  },
};

const encoder = new TextEncoder();

/**
 * Bytes as a plain Uint8Array: transports may hand out Node Buffers, which compare unequal to
 * Uint8Arrays in deepStrictEqual and behave differently in slice(). A view, not a copy.
 */
export function plainBytes(data: Uint8Array | null): Uint8Array {
  if (data === null) return new Uint8Array(0);
  if (Object.getPrototypeOf(data) === Uint8Array.prototype) return data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
const EMPTY = new Uint8Array(0);
const TTL_MS_MAX = 2 ** 40 - 1;

export function toBytes(data: NodeData | null | undefined): Uint8Array | null {
  if (data === undefined) return EMPTY;
  if (data === null) return null;
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * The server path for a client path, after the Java client's checks (PathUtils.validatePath; for
 * sequential creates the path plus a digit, so "/queue/" is allowed). Throws KeeperError BADARGUMENTS.
 */
export function serverPath(chroot: Chroot, path: string, operation: string, sequential = false): string {
  const problem = typeof path === "string"
    ? pathProblem(sequential ? path + "1" : path)
    : "path must be a string";
  if (problem !== null) {
    throw new KeeperError(Code.BADARGUMENTS, {
      operation,
      path: String(path),
      detail: `invalid path: ${problem}`,
    });
  }
  return chroot.toServer(path);
}

function isSequential(mode: number): boolean {
  return mode === CreateFlags.PERSISTENT_SEQUENTIAL || mode === CreateFlags.EPHEMERAL_SEQUENTIAL ||
    mode === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

function isTtlMode(mode: number): boolean {
  return mode === CreateFlags.PERSISTENT_WITH_TTL || mode === CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/**
 * A create request. The opcode follows the mode as in the Java client: containers use
 * createContainer (19), TTL modes createTTL (21), others create (1) or, with `withStat`, create2 (15).
 */
export function createRequest(
  chroot: Chroot,
  path: string,
  data: NodeData | null | undefined,
  options: CreateNodeOptions & { withStat?: boolean; operation?: string },
): CreateRequest {
  const operation = options.operation ?? "create";
  const mode = options.mode ?? CreateFlags.PERSISTENT;
  if (!Number.isInteger(mode) || mode < 0 || mode > 6) {
    throw badArgument(operation, path, `unknown create mode ${mode}; use CreateMode.*`);
  }
  const acl = options.acl === undefined ? [...OPEN_ACL_UNSAFE] : [...options.acl];
  if (acl.length === 0) {
    throw badArgument(operation, path, "the ACL is empty; pass OPEN_ACL_UNSAFE or a list of entries");
  }
  const target = serverPath(chroot, path, operation, isSequential(mode));
  const bytes = toBytes(data);
  if (isTtlMode(mode)) {
    const ttl = options.ttlMs;
    if (ttl === undefined || !Number.isInteger(ttl) || ttl <= 0 || ttl > TTL_MS_MAX) {
      throw badArgument(operation, path, `TTL modes need ttlMs, an integer in [1, 2^40-1], got ${ttl}`);
    }
    return { kind: "createTTL", path: target, data: bytes, acl, flags: mode, ttl: BigInt(ttl) };
  }
  if (options.ttlMs !== undefined) {
    throw badArgument(
      operation,
      path,
      "ttlMs is only allowed with CreateMode.PERSISTENT_WITH_TTL or PERSISTENT_SEQUENTIAL_WITH_TTL",
    );
  }
  if (mode === CreateFlags.CONTAINER) {
    return { kind: "createContainer", path: target, data: bytes, acl, flags: mode, ttl: 0n };
  }
  return {
    kind: options.withStat === true ? "create2" : "create",
    path: target,
    data: bytes,
    acl,
    flags: mode,
    ttl: 0n,
  };
}

function badArgument(operation: string, path: string, detail: string): KeeperError {
  return new KeeperError(Code.BADARGUMENTS, { operation, path, detail });
}

/** The wire ops of a multi, in order. Throws KeeperError BADARGUMENTS for an invalid op. */
export function multiRequestOps(chroot: Chroot, ops: readonly MultiOp[]): MultiWriteOp[] {
  return ops.map((item) => {
    switch (item.type) {
      case "create":
        return createRequest(chroot, item.path, item.data, { ...item, operation: "multi create" });
      case "delete":
        return { kind: "delete", path: serverPath(chroot, item.path, "multi delete"), version: item.version };
      case "setData":
        return {
          kind: "setData",
          path: serverPath(chroot, item.path, "multi setData"),
          data: toBytes(item.data),
          version: item.version,
        };
      case "check":
        return { kind: "check", path: serverPath(chroot, item.path, "multi check"), version: item.version };
      default:
        throw new KeeperError(Code.BADARGUMENTS, {
          operation: "multi",
          detail: `unknown op ${JSON.stringify(item)}; build ops with op.*`,
        });
    }
  });
}

export function multiReadRequestOps(chroot: Chroot, ops: readonly ReadOp[]): PathWatchRequest[] {
  return ops.map((item) => {
    if (item.type !== "getData" && item.type !== "getChildren") {
      throw new KeeperError(Code.BADARGUMENTS, {
        operation: "multiRead",
        detail: `unknown op ${JSON.stringify(item)}; use op.getData/op.getChildren`,
      });
    }
    return { kind: item.type, path: serverPath(chroot, item.path, `multiRead ${item.type}`), watch: false };
  });
}

export function multiResultOf(result: OpResult): MultiOpResult {
  switch (result.type) {
    case "create":
      return { type: "create", path: result.path, stat: null };
    case "create2":
      return { type: "create", path: result.path, stat: result.stat };
    case "delete":
      return { type: "delete" };
    case "setData":
      return { type: "setData", stat: result.stat };
    case "check":
      return { type: "check" };
    case "error":
      return { type: "error", code: result.err, codeName: codeName(result.err) };
    default:
      // getData/getChildren results never answer a write multi; report them as a protocol error.
      return { type: "error", code: Code.MARSHALLINGERROR, codeName: codeName(Code.MARSHALLINGERROR) };
  }
}

export function multiReadResultOf(result: OpResult): MultiReadResult {
  switch (result.type) {
    case "getData":
      return { type: "getData", data: plainBytes(result.data), stat: result.stat };
    case "getChildren":
      return { type: "getChildren", children: result.children };
    case "error":
      return { type: "error", code: result.err, codeName: codeName(result.err) };
    default:
      return { type: "error", code: Code.MARSHALLINGERROR, codeName: codeName(Code.MARSHALLINGERROR) };
  }
}

/** The first failed op of a multi: its index and code, or null when all succeeded. */
export function firstMultiError(results: readonly MultiOpResult[]): { index: number; code: number } | null {
  for (let index = 0; index < results.length; index++) {
    const result = results[index]!;
    if (result.type === "error" && result.code !== 0) return { index, code: result.code };
  }
  return null;
}

/** Credentials as bytes: strings are sent as UTF-8 ("user:password" for digest). */
export function authBytes(auth: string | Uint8Array): Uint8Array {
  return typeof auth === "string" ? encoder.encode(auth) : auth;
}

/** The response narrowed to the expected kinds; anything else is a protocol error. */
export function expectResponse<K extends Response["kind"]>(
  response: Response | null,
  ...kinds: K[]
): Extract<Response, { kind: K }> {
  if (response !== null && (kinds as string[]).includes(response.kind)) {
    return response as Extract<Response, { kind: K }>;
  }
  throw new KeeperError(Code.MARSHALLINGERROR, {
    detail: `expected a ${kinds.join(" or ")} reply, got ${response === null ? "no body" : response.kind}`,
  });
}
