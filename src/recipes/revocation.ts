/**
 * Lock revocation, compatible with Curator's Revocable/Revoker: anyone may ask the holder of a lock
 * to give it up by setting the holder's lock node data to the bytes "__REVOKE__"; a holder that made
 * its lock revocable (the `onRevoke` option of Mutex and ReadWriteLock) watches its node's data and
 * is called back. Revocation is cooperative: the holder decides whether, and when, to release.
 *
 * @example
 * // The holder
 * const mutex = new Mutex(client, "/locks/printer", {
 *   onRevoke: (lock) => void finishPageThenRelease(lock),
 * });
 * const lock = await mutex.acquire();
 *
 * // Someone else (a Java service can call Curator's Revoker.attemptRevoke on the same node)
 * const [holder] = await new Mutex(admin, "/locks/printer").participants();
 * await revokeLock(admin, holder);
 */
import { KeeperError } from "../client/mod.ts";
import type { LockHandle } from "./lock_internals.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { retrying } from "./waiting.ts";

/** Curator's LockInternals.REVOKE_MESSAGE: the data a revoker writes into the holder's lock node. */
export const REVOKE_MESSAGE = "__REVOKE__";

const REVOKE_BYTES = new TextEncoder().encode(REVOKE_MESSAGE);

/** Called (once per lock) when a revoker asks the holder to release. */
export type RevocationListener = (lock: LockHandle) => void;

/**
 * Asks the holder of the lock node `lockNodePath` (from `participants()`) to release it, as Curator's
 * Revoker.attemptRevoke does. Resolves true when the request was written, false when the node no
 * longer exists (the lock was released meanwhile: nothing to revoke).
 */
export async function revokeLock(client: RecipeClient, lockNodePath: string): Promise<boolean> {
  try {
    await retrying(client, () => client.setData(lockNodePath, REVOKE_BYTES));
    return true;
  } catch (error) {
    if (KeeperError.is(error, "NONODE")) return false;
    throw error;
  }
}

/** Rejects options that make a lock revocable and also give it node data (the revoke channel). */
export function checkRevocable(options: { data?: unknown; onRevoke?: unknown }, recipe: string): void {
  if (options.onRevoke === undefined) return;
  if (typeof options.onRevoke !== "function") {
    throw new TypeError(`${recipe}: onRevoke must be a function, got ${typeof options.onRevoke}`);
  }
  if (options.data !== undefined) {
    throw new TypeError(
      `${recipe}: a revocable lock keeps its node data empty (a revoker writes "${REVOKE_MESSAGE}" ` +
        "there, as with Curator); drop the data option or the onRevoke option",
    );
  }
}

/** True when `data` is the revocation request. */
export function isRevokeMessage(data: Uint8Array): boolean {
  return data.length === REVOKE_BYTES.length && data.every((byte, index) => byte === REVOKE_BYTES[index]);
}

/**
 * Watches the data of the lock node `path` while `active()` holds, and calls `onRequest` once when
 * it reads "__REVOKE__" (also when the request was written while the lock was still being waited
 * for). Resolves once the first read is done and its watch armed.
 */
export async function watchRevocation(
  client: RecipeClient,
  path: string,
  options: { active: () => boolean; onRequest: () => void },
): Promise<void> {
  let notified = false;
  const read = async (): Promise<void> => {
    if (notified || !options.active()) return;
    let data: Uint8Array;
    try {
      ({ data } = await retrying(client, () => client.getData(path, { watch: onEvent })));
    } catch (error) {
      // NONODE: the node is gone, and the lock's own watch reports that as lost.
      if (KeeperError.is(error, "NONODE") || !options.active()) return;
      throw error;
    }
    if (notified || !options.active() || !isRevokeMessage(data)) return;
    notified = true;
    options.onRequest();
  };
  const onEvent = (event: { type: string }) => {
    // Each data change uses up the watch: read again (and re-arm) unless the node went away.
    if (event.type === "NodeDataChanged") read().catch(() => undefined);
  };
  await read();
}

/** Calls a revocation listener; a throwing listener must not break the lock, so its error is
 * rethrown on a fresh task, where the runtime reports it like any uncaught error. */
export function callRevocationListener(listener: RevocationListener, lock: LockHandle): void {
  try {
    listener(lock);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
