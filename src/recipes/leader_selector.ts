/**
 * Leader election that hands leadership on, znode-compatible with Curator's LeaderSelector: the
 * candidates queue on a mutex at `<path>` (`_c_<uuid>-lock-<seq>`, data = participant id); the holder
 * runs `lead(term)`; when `lead` returns (or throws) it releases the mutex, the next candidate in
 * line leads, and — with `autoRequeue`, the default — the old leader queues up again at the end.
 *
 * @example
 * const selector = new LeaderSelector(client, "/election/scheduler", {
 *   id: "node-a",
 *   async lead(term) {
 *     // Lead for one shift, or until the term is lost; then the next candidate takes over.
 *     await runScheduler({ signal: AbortSignal.any([term.lost, AbortSignal.timeout(60_000)]) });
 *   },
 * });
 * selector.start();
 * // ...
 * await selector.close();
 *
 * `lead` must return soon after `term.lost` aborts: another candidate may already be leading.
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { KeeperError } from "../client/mod.ts";
import type { LeadershipTerm, Participant } from "./leadership.ts";
import { readParticipants, TermControl } from "./leadership.ts";
import type { LockHandle } from "./lock_internals.ts";
import { clientEnded, LostError } from "./lost.ts";
import { Mutex, MUTEX_LOCK_NAME } from "./mutex.ts";
import { checkRecipePath, sortKey } from "./paths.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { waitConnected } from "./waiting.ts";

export interface LeaderSelectorOptions extends HoldOptions {
  /** Runs while this instance leads; leadership passes on when it settles. */
  lead: (term: LeadershipTerm) => Promise<void> | void;
  /** This participant's id, stored in its node. Default: a uuid. */
  id?: string;
  /** Queue up again after leading (default true); false leads at most once. */
  autoRequeue?: boolean;
  /** Told about errors from `lead` and from the election itself; default: ignored. */
  onError?: (error: unknown) => void;
}

/** Consecutive failed attempts to join the line before the selector stops. */
const MAX_CONSECUTIVE_FAILURES = 10;
/** Bound on terms served in one lifetime. */
const MAX_TERMS = 1_000_000;

export class LeaderSelector {
  readonly path: string;
  readonly id: string;
  readonly #client: RecipeClient;
  readonly #options: LeaderSelectorOptions;
  readonly #mutex: Mutex;
  readonly #closing = new AbortController();
  #loop: Promise<void> | null = null;
  #term: TermControl | null = null;

  constructor(client: RecipeClient, path: string, options: LeaderSelectorOptions) {
    this.path = checkRecipePath(path, "LeaderSelector");
    if (typeof options.lead !== "function") {
      throw new TypeError("LeaderSelector: the lead option must be a function");
    }
    this.#client = client;
    this.#options = options;
    this.id = options.id ?? uuidFrom(options.random);
    this.#mutex = new Mutex(client, this.path, {
      data: this.id,
      random: options.random,
      loseOnDisconnect: options.loseOnDisconnect,
    });
  }

  /** Joins the line in the background. Call once. */
  start(): void {
    if (this.#loop !== null || this.#closing.signal.aborted) {
      throw new Error(`LeaderSelector ${this.path}: start() may be called only once, before close()`);
    }
    this.#loop = this.#run();
  }

  /** True while `lead` runs for a live term. */
  get hasLeadership(): boolean {
    return this.#term !== null && !this.#term.ended;
  }

  /** Resolves when the selector has stopped (closed, session lost, or autoRequeue off and done). */
  get stopped(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** The candidates in line order (the leader first), with their ids. */
  participants(): Promise<Participant[]> {
    return readParticipants(
      this.#client,
      this.path,
      (name) => sortKey(name, MUTEX_LOCK_NAME),
      MUTEX_LOCK_NAME,
    );
  }

  async getLeader(): Promise<Participant | null> {
    return (await this.participants())[0] ?? null;
  }

  /**
   * Leaves the line. A running term's `lost` fires ("released"); close waits for `lead` to return,
   * then deletes our node.
   */
  async close(): Promise<void> {
    this.#closing.abort(new Error(`LeaderSelector ${this.path} was closed`));
    this.#term?.end("released");
    await this.#loop;
  }

  /** close(), for `await using selector = ...`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    let failures = 0;
    for (let terms = 0; terms < MAX_TERMS && !this.#closing.signal.aborted; terms++) {
      let lock: LockHandle;
      try {
        lock = await this.#mutex.acquire({ signal: this.#closing.signal });
        failures = 0;
      } catch (error) {
        if (this.#closing.signal.aborted || clientEnded(this.#client)) return;
        this.#report(error);
        if (++failures >= MAX_CONSECUTIVE_FAILURES) return;
        if (KeeperError.is(error, "CONNECTIONLOSS") || LostError.is(error)) {
          await waitConnected(this.#client, { signal: this.#closing.signal }).catch(() => undefined);
        }
        continue;
      }
      await this.#serve(lock);
      if (this.#options.autoRequeue === false || clientEnded(this.#client)) return;
    }
  }

  async #serve(lock: LockHandle): Promise<void> {
    const control = new TermControl(`leadership of ${this.path}`, {
      id: this.id,
      path: lock.path,
      sequence: lock.sequence,
      fencingToken: lock.fencingToken,
    });
    this.#term = control;
    // The term ends with the lock (session lost, node deleted) or with close().
    const onLost = () =>
      control.end(LostError.is(lock.lost.reason) ? lock.lost.reason.why : "sessionExpired");
    lock.lost.addEventListener("abort", onLost, { once: true });
    if (this.#closing.signal.aborted) control.end("released");
    try {
      await Promise.resolve().then(() => this.#options.lead(control.term));
    } catch (error) {
      this.#report(error);
    } finally {
      lock.lost.removeEventListener("abort", onLost);
      control.end("released");
      await lock.release().catch((error: unknown) => this.#report(error));
    }
  }

  #report(error: unknown): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // The error handler's own failure has nowhere else to go.
    }
  }
}
