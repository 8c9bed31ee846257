/** The one error type every client operation rejects with (apart from AbortSignal reasons). */
import { Code, type CodeName, codeName } from "../core/errors.ts";
import type { MultiOpResult } from "./types.ts";

export interface KeeperErrorOptions {
  /** The client-side path the operation was about. */
  path?: string;
  /** What was being done, e.g. "create"; used in the message. */
  operation?: string;
  /** Extra text for the message (replaces the default hint). */
  detail?: string;
  /** For a failed multi: the result of every op (the first non-zero code is `code`). */
  results?: MultiOpResult[];
  cause?: unknown;
}

/**
 * A ZooKeeper error: the server's error code, or one raised by the client itself (CONNECTIONLOSS,
 * SESSIONEXPIRED, AUTHFAILED, BADARGUMENTS for paths rejected before sending, NOWATCHER).
 *
 *   try { await client.create("/a", data); }
 *   catch (error) { if (error instanceof KeeperError && error.codeName === "NODEEXISTS") ... }
 */
export class KeeperError extends Error {
  /** The numeric code (Code.NONODE = -101, ...). */
  readonly code: number;
  /** The code's name, e.g. "NONODE"; "UNKNOWN(n)" for a code ZooKeeper does not define. */
  readonly codeName: string;
  readonly path: string | undefined;
  /** Every op's result when a multi failed; undefined otherwise. */
  readonly results: MultiOpResult[] | undefined;

  constructor(code: number, options: KeeperErrorOptions = {}) {
    super(messageOf(code, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KeeperError";
    this.code = code;
    this.codeName = codeName(code);
    this.path = options.path;
    this.results = options.results;
  }

  /** True when `error` is a KeeperError with the given code name (or any code when omitted). */
  static is(error: unknown, name?: CodeName): error is KeeperError {
    return error instanceof KeeperError && (name === undefined || error.code === Code[name]);
  }
}

function messageOf(code: number, options: KeeperErrorOptions): string {
  const what = [options.operation, options.path].filter((part) => part !== undefined).join(" ");
  const head = what === "" ? codeName(code) : `${what}: ${codeName(code)}`;
  const tail = options.detail ?? hintFor(code);
  return tail === "" ? head : `${head}: ${tail}`;
}

const hints = new Map<number, string>([
  [Code.NONODE, "the node does not exist (for create: its parent does not)"],
  [Code.NODEEXISTS, "the node already exists"],
  [Code.BADVERSION, "the node changed since the version you passed; read it again and retry"],
  [Code.NOTEMPTY, "the node has children; delete them first"],
  [Code.NOAUTH, "the ACL does not allow this; add credentials with addAuth() or change the ACL"],
  [Code.NOCHILDRENFOREPHEMERALS, "ephemeral nodes cannot have children"],
  [Code.INVALIDACL, "the ACL is empty or malformed (an `auth` entry needs addAuth() first)"],
  [Code.BADARGUMENTS, "the server rejected the arguments (path, flags or TTL)"],
  [
    Code.CONNECTIONLOSS,
    "the connection was lost before the reply; the operation may or may not have been applied; retry once reconnected",
  ],
  [Code.SESSIONEXPIRED, "the session expired: its ephemerals and watches are gone; create a new client"],
  [Code.AUTHFAILED, "the server rejected the credentials; the client is closed"],
  [Code.NOWATCHER, "there is no such watch"],
  [Code.UNIMPLEMENTED, "the server does not implement this operation (older ZooKeeper?)"],
  [Code.MARSHALLINGERROR, "the server could not parse the request (unsupported by this server version?)"],
  [Code.NOTREADONLY, "the server is in read-only mode; writes need a quorum"],
]);

function hintFor(code: number): string {
  return hints.get(code) ?? "";
}
