/**
 * Telling a holder that what it holds is gone. Every held thing (lock, lease, leadership term,
 * membership) exposes `lost: AbortSignal`; it aborts with a LostError saying why. Pass it to the
 * work the lock guards (`fetch(url, { signal: lock.lost })`) so that work stops when the lock does.
 */
import { Code, KeeperError } from "../client/mod.ts";
import { DEFAULT_TIMERS, type Timers } from "../client/client_options.ts";
import type { RecipeClient } from "./recipe_client.ts";

/**
 * Why something held ended:
 * - "released": the holder let it go (release(), close(), leave()).
 * - "sessionExpired": the servers expired the session; its ephemeral znodes are gone.
 * - "sessionTimeout": disconnected for longer than the session timeout; the servers have probably
 *   expired the session, so another holder may already exist.
 * - "disconnected": the connection was lost and `loseOnDisconnect` was set.
 * - "clientClosed": the client was closed.
 * - "authFailed": the client was refused (and is closed).
 * - "nodeDeleted": someone deleted the znode that represented the hold.
 */
export type LostReason =
  | "released"
  | "sessionExpired"
  | "sessionTimeout"
  | "disconnected"
  | "clientClosed"
  | "authFailed"
  | "nodeDeleted";

const explanations: Record<LostReason, string> = {
  released: "it was released",
  sessionExpired: "the session expired and its ephemeral znodes are gone",
  sessionTimeout:
    "the client was disconnected for longer than the session timeout, so the session has probably expired",
  disconnected: "the connection was lost (loseOnDisconnect is set)",
  clientClosed: "the client was closed",
  authFailed: "the server refused the client's credentials and the client is closed",
  nodeDeleted: "its znode was deleted by someone else",
};

/** The reason a `lost` signal aborts with, and what waiting calls reject with when the hold ends. */
export class LostError extends Error {
  /** Why it ended. */
  readonly why: LostReason;
  /** What was held, e.g. "lock /locks/db". */
  readonly what: string;

  constructor(what: string, why: LostReason) {
    const advice = why === "released" ? "" : "; stop using what it guarded";
    super(`${what} lost: ${explanations[why]}${advice}`);
    this.name = "LostError";
    this.why = why;
    this.what = what;
  }

  /** True when `error` is a LostError (with this `why`, when given). */
  static is(error: unknown, why?: LostReason): error is LostError {
    return error instanceof LostError && (why === undefined || error.why === why);
  }
}

/**
 * The clock and timers of `client` (Client.timers, from ClientOptions.timers), so that a recipe's
 * waits run on the same time as its client: virtual time in the simulator. A wrapper client
 * without them gets the runtime's.
 */
export function timersOf(client: RecipeClient): Timers {
  return (client as { readonly timers?: Timers }).timers ?? DEFAULT_TIMERS;
}

/** True once the client can never work again (expired, authFailed, closed). */
export function clientEnded(client: RecipeClient): boolean {
  const state = client.state;
  return state === "expired" || state === "closed" || state === "authFailed";
}

/**
 * Watches the client's session for one holder and aborts `signal` once the hold must be considered
 * lost. Holders call lose() for their own reasons (released, nodeDeleted). Disposes itself on firing.
 */
export class SessionGuard {
  readonly #client: RecipeClient;
  readonly #what: string;
  readonly #loseOnDisconnect: boolean;
  readonly #controller = new AbortController();
  #unsubscribe: (() => void) | null;
  #timer: unknown = null;

  constructor(client: RecipeClient, what: string, options: { loseOnDisconnect?: boolean } = {}) {
    this.#client = client;
    this.#what = what;
    this.#loseOnDisconnect = options.loseOnDisconnect === true;
    this.#unsubscribe = client.on("state", (state) => this.#onState(state));
    this.#onState(client.state);
  }

  /** Aborts (with a LostError) when the hold is lost. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get lost(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Ends the hold for `why` (only the first call counts) and stops watching the session. */
  lose(why: LostReason): void {
    this.dispose();
    if (!this.#controller.signal.aborted) this.#controller.abort(new LostError(this.#what, why));
  }

  /** Stops watching the session without firing (the hold never started). */
  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#clearTimer();
  }

  #onState(state: string): void {
    switch (state) {
      case "expired":
        return this.lose("sessionExpired");
      case "closed":
        return this.lose("clientClosed");
      case "authFailed":
        return this.lose("authFailed");
      case "disconnected":
      case "connecting":
        if (this.#loseOnDisconnect) return this.lose("disconnected");
        return this.#startTimer();
      case "connected":
      case "connectedReadOnly":
        return this.#clearTimer();
    }
  }

  #startTimer(): void {
    if (this.#timer !== null || this.#unsubscribe === null) return;
    // The servers expire a session a session-timeout after they last heard from it, and the client
    // noticed the disconnect at or after that moment: so this fires no earlier than the servers
    // could expire the session, possibly later (up to 2/3 of a timeout, for a silent partition).
    // That gap is what fencing tokens and `loseOnDisconnect` are for (Curator makes the same choice);
    // tests/testing/recipe_mutex_test.ts shows both: the gap by default, none with loseOnDisconnect.
    const timeoutMs = this.#client.sessionTimeoutMs > 0 ? this.#client.sessionTimeoutMs : 30_000;
    this.#timer = timersOf(this.#client).setTimeout(() => {
      this.#timer = null;
      this.lose("sessionTimeout");
    }, timeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer === null) return;
    timersOf(this.#client).clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * An AbortSignal that aborts when the client ends for good (expired, closed, authFailed), with the
 * KeeperError its calls would now fail with. For waits on watches that hold nothing (barriers, queues,
 * configuration), which would otherwise wait forever on a dead client. Call dispose() when done.
 */
export class ClientEnd {
  readonly #controller = new AbortController();
  #unsubscribe: (() => void) | null;

  constructor(client: RecipeClient) {
    const check = (state: string) => {
      if (state === "expired") this.#end(Code.SESSIONEXPIRED, "the session expired");
      else if (state === "closed") this.#end(Code.CONNECTIONLOSS, "the client is closed");
      else if (state === "authFailed") this.#end(Code.AUTHFAILED, "the client was refused and is closed");
    };
    this.#unsubscribe = client.on("state", check);
    check(client.state);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #end(code: number, detail: string): void {
    this.dispose();
    this.#controller.abort(new KeeperError(code, { operation: "waiting for a watch", detail }));
  }
}

/**
 * The error a waiting recipe call should reject with: a LostError when `error` comes from the
 * session ending (expired, closed, refused), so callers see one kind of error for "the session is
 * gone"; otherwise `error` itself.
 */
export function asLostError(client: RecipeClient, what: string, error: unknown): unknown {
  if (error instanceof LostError) return error;
  if (KeeperError.is(error, "SESSIONEXPIRED")) return new LostError(what, "sessionExpired");
  if (!(error instanceof KeeperError)) return error;
  switch (client.state) {
    case "expired":
      return new LostError(what, "sessionExpired");
    case "closed":
      return new LostError(what, "clientClosed");
    case "authFailed":
      return new LostError(what, "authFailed");
    default:
      return error;
  }
}
