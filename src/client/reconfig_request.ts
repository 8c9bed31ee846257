/**
 * Building a reconfig request (opcode 16) from Client.reconfig()'s options, as ZooKeeperAdmin's
 * reconfigure(joining, leaving, members, fromConfig) does: lists are joined with commas, an absent
 * list is null on the wire, fromConfig defaults to -1 (any config version).
 *
 * Unlike ZooKeeperAdmin (which sends whatever it is given), three requests are refused here with a
 * TypeError before anything is sent, as zkCli's `reconfig` refuses the first two:
 * - members with joining/leaving: ZooKeeper 3.8 silently ignores joining/leaving then;
 * - none of the three: ZooKeeper 3.8 commits the same membership under a new version;
 * - empty members: ZooKeeper 3.8 answers MARSHALLINGERROR (its parser throws).
 */
import { Code } from "../core/errors.ts";
import type { ReconfigRequest } from "../core/records.ts";
import type { CallOptions } from "./client_options.ts";
import { KeeperError } from "./keeper_error.ts";

export interface ReconfigOptions extends CallOptions {
  /**
   * Incremental: servers to add (or whose role/addresses change), each as a zoo.cfg line, e.g.
   * `server.4=10.0.0.4:2888:3888:observer;10.0.0.4:2181`. Not with `members`.
   */
  joining?: string | readonly string[] | null;
  /** Incremental: ids of servers to remove, e.g. [3, 5] or "3,5". Not with `members`. */
  leaving?: string | readonly (string | number)[] | null;
  /** Non-incremental: the whole new membership as server lines. Not with `joining`/`leaving`. */
  members?: string | readonly string[] | null;
  /**
   * Apply only if the current config version (the `version=<hex>` of getConfig(), as a number) is
   * this one; else the server answers BADVERSION. Default -1: whatever the current config is.
   */
  fromConfig?: bigint | number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The wire request for `options`; throws TypeError for arguments no server could accept. */
export function reconfigRequest(options: ReconfigOptions): ReconfigRequest {
  if (options === null || typeof options !== "object") {
    throw new TypeError("reconfig needs an options object: { joining, leaving } or { members }");
  }
  const joiningServers = listOf(options.joining, "joining", serverLine);
  const leavingServers = listOf(options.leaving, "leaving", serverId);
  const newMembers = listOf(options.members, "members", serverLine);
  if (newMembers !== null && (joiningServers !== null || leavingServers !== null)) {
    throw new TypeError(
      "reconfig: `members` (non-incremental) cannot be combined with `joining`/`leaving` (incremental); " +
        "ZooKeeper would ignore joining/leaving. Pass either members, or joining and/or leaving.",
    );
  }
  if (newMembers === null && joiningServers === null && leavingServers === null) {
    throw new TypeError(
      "reconfig: nothing to change; pass joining and/or leaving, or members (joining: [] commits the " +
        "same membership under a new version, if that is what you want)",
    );
  }
  if (newMembers === "") {
    throw new TypeError("reconfig: members is empty; a membership needs at least one voting server line");
  }
  return {
    kind: "reconfig",
    joiningServers,
    leavingServers,
    newMembers,
    curConfigId: configId(options.fromConfig),
  };
}

/** A comma-joined list, or null when absent. */
function listOf<T>(
  value: string | readonly T[] | null | undefined,
  name: string,
  item: (entry: T, name: string) => string,
): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) {
    throw new TypeError(`reconfig: ${name} must be a string or an array, got ${typeof value}`);
  }
  return value.map((entry) => item(entry, name)).join(",");
}

function serverLine(entry: unknown, name: string): string {
  if (typeof entry !== "string") throw new TypeError(`reconfig: every ${name} entry must be a string`);
  return entry;
}

function serverId(entry: unknown, name: string): string {
  if (typeof entry === "number") {
    if (!Number.isSafeInteger(entry) || entry < 0) {
      throw new TypeError(`reconfig: ${name} server id ${entry} is not a non-negative integer`);
    }
    return String(entry);
  }
  return serverLine(entry, name);
}

function configId(fromConfig: bigint | number | undefined): bigint {
  if (fromConfig === undefined) return -1n;
  if (typeof fromConfig === "number" && !Number.isSafeInteger(fromConfig)) {
    throw new TypeError(
      `reconfig: fromConfig ${fromConfig} is not an integer; pass a bigint for large versions`,
    );
  }
  if (typeof fromConfig !== "number" && typeof fromConfig !== "bigint") {
    throw new TypeError(`reconfig: fromConfig must be a bigint or a number, got ${typeof fromConfig}`);
  }
  const id = BigInt(fromConfig);
  if (id < INT64_MIN || id > INT64_MAX) {
    throw new TypeError(`reconfig: fromConfig ${id} is outside a 64-bit long`);
  }
  return id;
}

const hints = new Map<number, string>([
  [Code.RECONFIGDISABLED, "dynamic reconfiguration is disabled on the server (reconfigEnabled=false)"],
  [Code.UNIMPLEMENTED, "a standalone server cannot be reconfigured (standaloneEnabled=false is needed)"],
  [Code.RECONFIGINPROGRESS, "another reconfig is in progress; retry once it has committed"],
  [
    Code.NEWCONFIGNOQUORUM,
    "no quorum of the new config is connected and synced to the leader; nothing changed",
  ],
  [Code.BADVERSION, "the config changed since fromConfig; read getConfig() again and retry"],
  [Code.BADARGUMENTS, "the server rejected the server lines, ids or the resulting membership"],
  [Code.NOAUTH, "reconfig needs WRITE on /zookeeper/config: authenticate as a super user"],
]);

/** A reconfig failure with a hint that says what the code means for a reconfig. */
export function reconfigError(error: unknown): unknown {
  if (!(error instanceof KeeperError)) return error;
  const detail = hints.get(error.code);
  if (detail === undefined) return error;
  return new KeeperError(error.code, { operation: "reconfig", path: error.path, detail, cause: error });
}
