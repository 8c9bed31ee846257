/**
 * Creating sequential znodes safely across a lost connection, the way Curator's `withProtection()`
 * does: the name carries a per-create uuid (`<parent>/_c_<uuid>-<name><seq>`), so when a create
 * fails with CONNECTIONLOSS — it may or may not have happened — the recipe lists the parent and
 * looks for its own uuid before trying again. Without this a retry can leave an orphan ephemeral
 * znode that blocks a lock until the session ends.
 *
 * @example
 * // For recipes of your own: a ticket in a line, created exactly once.
 * const ticket = await createProtected(client, "/lines/printer", "ticket-", { uuid: crypto.randomUUID() });
 * ticket.name; // "_c_<uuid>-ticket-0000000042"
 */
import { Code, CreateMode, KeeperError, type NodeData, type Stat } from "../client/mod.ts";
import { ensurePath, joinPath, nodeName } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { clientEnded } from "./lost.ts";
import { CONNECTION_LOSS_RETRIES, retrying, waitConnected } from "./waiting.ts";

/** Curator's protected-name marker: `_c_<uuid>-`. */
export const PROTECTED_PREFIX = "_c_";

/** The name prefix of a protected create with this uuid. */
export function protectedPrefix(uuid: string): string {
  return `${PROTECTED_PREFIX}${uuid}-`;
}

/** A znode a recipe created. */
export interface CreatedNode {
  path: string;
  /** The last path segment. */
  name: string;
  stat: Stat;
}

export interface ProtectedCreateOptions {
  /** A CreateMode; default EPHEMERAL_SEQUENTIAL. */
  mode?: number;
  data?: NodeData | null;
  /** The uuid for the name; one per logical create (a retry reuses it). */
  uuid: string;
  /** How missing parents are created: CreateMode.CONTAINER (default) or PERSISTENT. */
  parentMode?: number;
  /** Whether to use the protected prefix at all (default true). */
  protect?: boolean;
}

/** How many times a create is attempted in all (connection losses, parents reaped meanwhile). */
const CREATE_ATTEMPTS = CONNECTION_LOSS_RETRIES + 1;
/**
 * How many reconnect waits (each up to twice the session timeout) a create whose reply was lost
 * sits through before giving up on finding out whether it happened: far longer than any outage the
 * session itself survives.
 */
const LOOKUP_ATTEMPTS_MAX = 1_000;

/**
 * Creates `<parent>/_c_<uuid>-<name>` (sequential by default) and returns it with its stat.
 * - NONODE: the parent is missing (or a container parent was just reaped): create it, try again.
 * - CONNECTIONLOSS: wait for the reconnect — for as long as the session lives, since giving up
 *   could leave our node behind, blocking a lock line until the session ends — then look for a child
 *   starting with `_c_<uuid>-`; found → that is ours; not found → the create never happened: try
 *   again. Rejects once the client has ended (its ephemeral nodes went with the session).
 * Deliberately takes no AbortSignal: abandoning a create half-way could orphan a node. Callers check
 * their signal afterwards and delete the node if they no longer want it.
 */
export async function createProtected(
  client: RecipeClient,
  parent: string,
  name: string,
  options: ProtectedCreateOptions,
): Promise<CreatedNode> {
  const protect = options.protect ?? true;
  const prefix = protect ? protectedPrefix(options.uuid) : "";
  const mode = options.mode ?? CreateMode.EPHEMERAL_SEQUENTIAL;
  const target = joinPath(parent, prefix + name);
  let lastError: unknown = null;
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    try {
      const created = await client.create2(target, options.data ?? null, { mode });
      return { path: created.path, name: nodeName(created.path), stat: created.stat };
    } catch (error) {
      lastError = error;
      if (KeeperError.is(error, "NONODE")) {
        await retrying(client, () => ensurePath(client, parent, { mode: options.parentMode }));
        continue;
      }
      if (!KeeperError.is(error, "CONNECTIONLOSS") || !protect) throw error;
      const found = await findAfterReconnect(client, parent, prefix);
      if (found !== null) return found;
    }
  }
  throw lastError;
}

/**
 * findProtected once the client is connected again, waiting through reconnect timeouts and further
 * connection losses while the session lives (a bounded number of times). Rejects with the
 * CONNECTIONLOSS of the last attempt when the client has ended or the bound is reached.
 */
async function findAfterReconnect(
  client: RecipeClient,
  parent: string,
  prefix: string,
): Promise<CreatedNode | null> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < LOOKUP_ATTEMPTS_MAX && !clientEnded(client); attempt++) {
    // A timeout only means no server answered yet; the client keeps trying, and so do we.
    await waitConnected(client).catch((error: unknown) => void (lastError = error));
    if (clientEnded(client)) break;
    try {
      return await findProtected(client, parent, prefix);
    } catch (error) {
      if (!KeeperError.is(error, "CONNECTIONLOSS")) throw error;
      lastError = error;
    }
  }
  throw lastError ?? new KeeperError(Code.CONNECTIONLOSS, {
    operation: "create",
    path: joinPath(parent, prefix),
    detail: "the client ended before it could tell whether the create happened",
  });
}

/**
 * The child of `parent` whose name starts with `prefix`, with its stat, or null. Used after a lost
 * connection, and by recipes cleaning up after an aborted wait.
 */
export async function findProtected(
  client: RecipeClient,
  parent: string,
  prefix: string,
): Promise<CreatedNode | null> {
  let children: string[];
  try {
    children = await retrying(client, () => client.getChildren(parent));
  } catch (error) {
    if (KeeperError.is(error, "NONODE")) return null;
    throw error;
  }
  const name = children.find((child) => child.startsWith(prefix));
  if (name === undefined) return null;
  const path = joinPath(parent, name);
  const stat = await retrying(client, () => client.exists(path));
  return stat === null ? null : { path, name, stat };
}
