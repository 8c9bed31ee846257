/**
 * A recipe's own ephemeral znode: creating one with a fixed name safely across a lost connection,
 * and noticing when someone else deletes it.
 */
import { CreateMode, KeeperError, type NodeData } from "../client/mod.ts";
import { type SessionGuard, timersOf } from "./lost.ts";
import { ensurePath, parentPath } from "./paths.ts";
import type { CreatedNode } from "./protected_create.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { retrying } from "./waiting.ts";

/**
 * Creates the ephemeral node `path` (missing parents as containers). A NODEEXISTS owned by our own
 * session is ours (a create whose reply was lost with the connection); one owned by another session
 * rejects with a clear error.
 */
export async function createOwnedEphemeral(
  client: RecipeClient,
  path: string,
  data: NodeData | null,
  what: string,
): Promise<CreatedNode> {
  const name = path.substring(path.lastIndexOf("/") + 1);
  try {
    const created = await retrying(client, async () => {
      try {
        return await client.create2(path, data, { mode: CreateMode.EPHEMERAL });
      } catch (error) {
        if (!KeeperError.is(error, "NONODE")) throw error;
        await ensurePath(client, parentPath(path), { mode: CreateMode.CONTAINER });
        return await client.create2(path, data, { mode: CreateMode.EPHEMERAL });
      }
    });
    return { path, name, stat: created.stat };
  } catch (error) {
    if (!KeeperError.is(error, "NODEEXISTS")) throw error;
    const stat = await retrying(client, () => client.exists(path));
    if (stat === null || stat.ephemeralOwner !== client.sessionId) {
      throw new KeeperError(error.code, {
        operation: what,
        path,
        detail: "the node already exists and belongs to another session (is the name taken?)",
      });
    }
    return { path, name, stat };
  }
}

/**
 * Fires `guard` with "nodeDeleted" when `path` is deleted while the guard lives. Resolves once the
 * watch is armed (or the node was found already gone).
 */
export async function loseWhenDeleted(
  client: RecipeClient,
  path: string,
  guard: SessionGuard,
): Promise<void> {
  const onEvent = (event: { type: string }) => {
    if (guard.lost || event.type === "None") return;
    // Closing the client deletes our ephemerals too, and the server tells us before it confirms the
    // close: wait a turn so that the session's end, if that is what this is, is reported as such.
    if (event.type === "NodeDeleted") timersOf(client).setTimeout(() => guard.lose("nodeDeleted"), 0);
    else loseWhenDeleted(client, path, guard).catch(() => undefined); // a data change used up the watch
  };
  const stat = await retrying(client, () => client.exists(path, { watch: onEvent }));
  if (stat === null) guard.lose("nodeDeleted");
}
