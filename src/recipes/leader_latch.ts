/**
 * Leader election as a latch, znode-compatible with Curator's LeaderLatch: every candidate creates
 * `<path>/_c_<uuid>-latch-<seq>` (ephemeral, sequential, data = its id); the lowest sequence leads;
 * the others each watch the node just ahead (no herd). A leader stays leader until it closes the
 * latch or loses its session; then the next in line takes over.
 *
 * @example
 * const latch = new LeaderLatch(client, "/election/indexer", { id: "worker-7" });
 * await latch.start();
 * const term = await latch.awaitLeadership({ signal: shutdown });
 * while (!term.lost.aborted) await indexOneBatch({ fencingToken: term.fencingToken });
 * await latch.close();
 *
 * When the session is lost (or our node is deleted) while the client lives on, the latch rejoins at
 * the end of the line with a new node, as Curator's does; after the session expired the client is
 * finished, so the latch closes and awaitLeadership() rejects with the LostError.
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { Code, KeeperError } from "../client/mod.ts";
import {
  type LeadershipTerm,
  type Participant,
  readParticipants,
  TermControl,
  termFields,
} from "./leadership.ts";
import { asLostError, clientEnded, type LostError, SessionGuard } from "./lost.ts";
import { checkRecipePath, joinPath, sortChildren, sortKey } from "./paths.ts";
import { type CreatedNode, createProtected } from "./protected_create.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import {
  deleteQuietly,
  dropWatch,
  raceSignals,
  retrying,
  throwIfAborted,
  Trigger,
  waitConnected,
} from "./waiting.ts";

export interface LeaderLatchOptions extends HoldOptions {
  /** This participant's id, stored in its node (Curator's participant id). Default: a uuid. */
  id?: string;
}

/** Curator's LeaderLatch node name. */
export const LATCH_LOCK_NAME = "latch-";
/** Bound on the times the latch rejoins (new node) in one lifetime. */
const MAX_EPOCHS = 10_000;
/** Bound on line changes watched within one epoch. */
const MAX_ROUNDS = 1_000_000;

type Waiter = { resolve: (term: LeadershipTerm) => void; reject: (error: unknown) => void };

export class LeaderLatch {
  readonly path: string;
  readonly id: string;
  readonly #client: RecipeClient;
  readonly #options: LeaderLatchOptions;
  readonly #closing = new AbortController();
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(term: LeadershipTerm | null) => void>();
  #state: "latent" | "started" | "closed" = "latent";
  #term: TermControl | null = null;
  #failure: unknown = null;
  #loop: Promise<void> | null = null;

  constructor(client: RecipeClient, path: string, options: LeaderLatchOptions = {}) {
    this.path = checkRecipePath(path, "LeaderLatch");
    this.#client = client;
    this.#options = options;
    this.id = options.id ?? uuidFrom(options.random);
  }

  /** Joins the election; resolves once our node exists (leadership may come later). Call once. */
  async start(): Promise<void> {
    if (this.#state !== "latent") {
      throw new Error(`LeaderLatch ${this.path}: start() may be called only once`);
    }
    this.#state = "started";
    const guard = this.#newGuard();
    let node: CreatedNode;
    try {
      node = await this.#createNode();
    } catch (error) {
      guard.dispose();
      this.#finish(error);
      throw error;
    }
    if (this.#state !== "started") {
      // close() was called while the node was being created.
      guard.dispose();
      await deleteQuietly(this.#client, node.path);
      return;
    }
    this.#loop = this.#run({ guard, node });
  }

  /** True while this instance leads. */
  get isLeader(): boolean {
    return this.#term !== null && !this.#term.ended;
  }

  /** The current term, or null when not leading. */
  get term(): LeadershipTerm | null {
    return this.isLeader ? this.#term!.term : null;
  }

  /**
   * Resolves with the term once this instance leads (at once if it does). Rejects with the signal's
   * reason, or with the reason the latch closed (a LostError after session expiry).
   */
  awaitLeadership(options: { signal?: AbortSignal } = {}): Promise<LeadershipTerm> {
    const term = this.term;
    if (term !== null) return Promise.resolve(term);
    if (this.#state === "closed") return Promise.reject(this.#closedError());
    let waiter: Waiter | null = null;
    const promise = new Promise<LeadershipTerm>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#waiters.add(waiter);
    });
    return raceSignals(promise, [options.signal]).finally(() => this.#waiters.delete(waiter!));
  }

  /** Calls `listener` with the new term when leadership starts, and with null when it ends. */
  onChange(listener: (term: LeadershipTerm | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The candidates in line order (the leader first), with their ids. */
  participants(): Promise<Participant[]> {
    return readParticipants(
      this.#client,
      this.path,
      (name) => sortKey(name, LATCH_LOCK_NAME),
      LATCH_LOCK_NAME,
    );
  }

  /** The current leader, or null when there are no candidates. */
  async getLeader(): Promise<Participant | null> {
    return (await this.participants())[0] ?? null;
  }

  /** Leaves the election: the term (if any) ends with "released", our node is deleted. */
  async close(): Promise<void> {
    if (this.#state !== "closed") {
      this.#state = "closed";
      this.#closing.abort(new Error(`LeaderLatch ${this.path} was closed`));
      if (this.#loop === null) this.#finish(null);
    }
    await this.#loop;
  }

  /** close(), for `await using latch = ...`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------------

  async #run(first: { guard: SessionGuard; node: CreatedNode }): Promise<void> {
    let current: { guard: SessionGuard; node: CreatedNode | null } = first;
    let failure: unknown = null;
    for (let epoch = 0; this.#state === "started" && epoch < MAX_EPOCHS; epoch++) {
      const { guard } = current;
      try {
        current.node ??= await this.#createNode();
        await this.#follow(current.node, guard);
      } catch (error) {
        if (this.#state === "started" && !guard.lost && !KeeperError.is(error, "CONNECTIONLOSS")) {
          failure = error;
        }
      }
      this.#endTerm(guard);
      guard.dispose();
      if (current.node !== null && !clientEnded(this.#client)) {
        await deleteQuietly(this.#client, current.node.path).catch(() => undefined);
      }
      if (failure !== null || this.#state !== "started") break;
      if (clientEnded(this.#client)) {
        // The guard may not have heard of the end yet; the client's state says which end it was.
        failure = guard.lost
          ? guard.signal.reason
          : asLostError(this.#client, `leadership of ${this.path}`, new KeeperError(Code.CONNECTIONLOSS));
        break;
      }
      await waitConnected(this.#client, { signal: this.#closing.signal }).catch(() => undefined);
      current = { guard: this.#newGuard(), node: null };
    }
    this.#finish(failure);
  }

  /** Follows the line until our node vanishes; throws when closed or the session is lost. */
  async #follow(node: CreatedNode, guard: SessionGuard): Promise<void> {
    const client = this.#client;
    const signals = [this.#closing.signal, guard.signal];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      throwIfAborted(signals);
      const children = await retrying(client, () => client.getChildren(this.path));
      const sorted = sortChildren(children, (name) => sortKey(name, LATCH_LOCK_NAME));
      const index = sorted.indexOf(node.name);
      if (index < 0) return;
      if (index === 0) this.#startTerm(node);
      // The leader watches its own node (to notice a deletion); the others the node just ahead.
      const watched = joinPath(this.path, index === 0 ? node.name : sorted[index - 1]!);
      const trigger = new Trigger();
      try {
        await retrying(client, () => client.getData(watched, { watch: trigger.listener }));
      } catch (error) {
        if (KeeperError.is(error, "NONODE")) continue;
        throw error;
      }
      try {
        await raceSignals(trigger.fired, signals);
      } catch (error) {
        dropWatch(client, watched, trigger.listener);
        throw error;
      }
    }
    throw new Error(`LeaderLatch ${this.path}: gave up after ${MAX_ROUNDS} changes of the line`);
  }

  #startTerm(node: CreatedNode): void {
    if (this.isLeader) return;
    this.#term = new TermControl(`leadership of ${this.path}`, termFields(this.id, node));
    const term = this.#term.term;
    for (const waiter of [...this.#waiters]) waiter.resolve(term);
    this.#waiters.clear();
    this.#emit(term);
  }

  #endTerm(guard: SessionGuard): void {
    const control = this.#term;
    if (control === null || control.ended) return;
    if (this.#state !== "started") control.end("released");
    else control.end(guard.lost ? (guard.signal.reason as LostError) : "nodeDeleted");
    this.#emit(null);
  }

  #createNode(): Promise<CreatedNode> {
    return createProtected(this.#client, this.path, LATCH_LOCK_NAME, {
      uuid: uuidFrom(this.#options.random),
      data: this.id,
    });
  }

  #newGuard(): SessionGuard {
    return new SessionGuard(this.#client, `leadership of ${this.path}`, {
      loseOnDisconnect: this.#options.loseOnDisconnect,
    });
  }

  #finish(failure: unknown): void {
    this.#state = "closed";
    this.#failure = failure;
    const error = this.#closedError();
    for (const waiter of [...this.#waiters]) waiter.reject(error);
    this.#waiters.clear();
  }

  #closedError(): unknown {
    return this.#failure ?? new Error(`LeaderLatch ${this.path} is closed`);
  }

  #emit(term: LeadershipTerm | null): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(term);
      } catch {
        // A listener's failure is its own; the others still hear about the change.
      }
    }
  }
}
