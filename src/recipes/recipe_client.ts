/**
 * What the recipes need from a client, and the options every recipe shares.
 *
 * Recipes take a `RecipeClient` rather than the `Client` class so that a test (or an application
 * with its own retry or metrics layer) can pass a wrapper: any object with these members works.
 */
import type { Client } from "../client/mod.ts";

/** The slice of Corral's Client the recipes use. A connected `Client` is one. */
export type RecipeClient = Pick<
  Client,
  | "create"
  | "create2"
  | "delete"
  | "exists"
  | "getData"
  | "setData"
  | "getChildren"
  | "addWatch"
  | "removeWatches"
  | "on"
  | "state"
  | "sessionId"
  | "sessionTimeoutMs"
>;

/** Options shared by the recipes that create protected (uuid-prefixed) or uuid-named znodes. */
export interface RandomOptions {
  /**
   * Returns a fresh unique id for protected names (`_c_<uuid>-lock-...`) and member names.
   * Default: crypto.randomUUID() where the runtime has it, else a random v4 uuid from
   * crypto.getRandomValues. Must not contain "/".
   */
  random?: () => string;
}

/** Options of the recipes that hold something (a lock, a lease, leadership, membership). */
export interface HoldOptions extends RandomOptions {
  /**
   * When true, a lost connection counts as losing what is held at once (Curator's "suspended is
   * lost" policy): safest for fencing-sensitive work, but a brief network blip ends the lock.
   * Default false: the holder is told when the session expired, or once it has been disconnected
   * for longer than the session timeout (by then the servers may have expired it, possibly a little
   * earlier: guard external resources with the fencing token).
   */
  loseOnDisconnect?: boolean;
}

/** A uuid from `random`, checked to be usable inside a znode name. */
export function uuidFrom(random: (() => string) | undefined): string {
  const uuid = (random ?? defaultRandomUuid)();
  if (typeof uuid !== "string" || uuid === "" || uuid.includes("/")) {
    throw new TypeError(
      `the random option must return a non-empty string without "/", got ${JSON.stringify(uuid)}`,
    );
  }
  return uuid;
}

/** crypto.randomUUID() when available; otherwise a v4 uuid built from crypto.getRandomValues. */
export function defaultRandomUuid(): string {
  const crypto = globalThis.crypto;
  if (crypto !== undefined && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  if (crypto === undefined || typeof crypto.getRandomValues !== "function") {
    throw new Error(
      "no crypto.randomUUID or crypto.getRandomValues here; pass a `random` option to the recipe",
    );
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
