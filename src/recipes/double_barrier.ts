/**
 * A double barrier (the ZooKeeper recipe), znode-compatible with Curator's DistributedDoubleBarrier:
 * members enter by creating an ephemeral `<path>/<uuid>`; when `memberCount` have entered, one of
 * them creates `<path>/ready` and everybody proceeds. To leave, each member deletes its node and
 * waits until every member's node is gone, so the computation ends together too.
 *
 * @example
 * const barrier = new DoubleBarrier(client, "/barriers/epoch-42", { memberCount: 3 });
 * await barrier.enter({ signal: AbortSignal.timeout(30_000) });
 * await compute({ signal: barrier.lost! });
 * await barrier.leave();
 *
 * Leaving follows the ZooKeeper recipe (the lowest member waits for the highest, the others delete
 * their node and wait for the lowest), so each departure wakes one member, not all. Curator's own
 * leave waits differently but on the same nodes, so members of both kinds can share a barrier.
 * Like Curator's, `memberCount` is a threshold: more members may enter, and a member entering while
 * the previous round's `ready` still exists passes at once.
 */
import { KeeperError } from "../client/mod.ts";
import { ClientEnd, SessionGuard } from "./lost.ts";
import { createOwnedEphemeral } from "./own_node.ts";
import { checkRecipePath, joinPath } from "./paths.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import {
  childrenOrEmpty,
  deleteQuietly,
  dropWatch,
  raceSignals,
  retrying,
  throwIfAborted,
  Trigger,
} from "./waiting.ts";

export interface DoubleBarrierOptions extends HoldOptions {
  /** How many members must enter before any proceeds; an integer ≥ 1. */
  memberCount: number;
}

/** Curator's ready node name. */
export const READY_NODE = "ready";
/** Bound on watch rounds in one enter or leave. */
const MAX_ROUNDS = 1_000_000;

export class DoubleBarrier {
  readonly path: string;
  readonly memberCount: number;
  /** This member's node name (a uuid). */
  readonly memberId: string;
  readonly #client: RecipeClient;
  readonly #options: DoubleBarrierOptions;
  readonly #ourPath: string;
  readonly #readyPath: string;
  #guard: SessionGuard | null = null;

  constructor(client: RecipeClient, path: string, options: DoubleBarrierOptions) {
    this.path = checkRecipePath(path, "DoubleBarrier");
    if (!Number.isInteger(options.memberCount) || options.memberCount < 1) {
      throw new RangeError(`DoubleBarrier: memberCount must be an integer ≥ 1, got ${options.memberCount}`);
    }
    this.memberCount = options.memberCount;
    this.#client = client;
    this.#options = options;
    this.memberId = uuidFrom(options.random);
    this.#ourPath = joinPath(this.path, this.memberId);
    this.#readyPath = joinPath(this.path, READY_NODE);
  }

  /** While entered: aborts with a LostError when our membership ends (left, session lost). */
  get lost(): AbortSignal | null {
    return this.#guard?.signal ?? null;
  }

  /**
   * Enters and waits until `memberCount` members have entered. Rejects with the signal's reason
   * (leaving the barrier), or a LostError when the session is lost meanwhile.
   */
  async enter(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#guard !== null && !this.#guard.lost) {
      throw new Error(`DoubleBarrier ${this.path}: already entered`);
    }
    throwIfAborted([options.signal]);
    const guard = new SessionGuard(this.#client, `membership of double barrier ${this.path}`, {
      loseOnDisconnect: this.#options.loseOnDisconnect,
    });
    this.#guard = guard;
    const signals = [options.signal, guard.signal];
    try {
      const readyTrigger = new Trigger();
      const ready = await retrying(
        this.#client,
        () => this.#client.exists(this.#readyPath, { watch: readyTrigger.listener }),
      );
      await createOwnedEphemeral(this.#client, this.#ourPath, null, `enter double barrier ${this.path}`);
      if (ready === null) await this.#awaitReady(readyTrigger, signals);
    } catch (error) {
      guard.lose("released");
      await deleteQuietly(this.#client, this.#ourPath).catch(() => undefined);
      throw error;
    }
  }

  /** Leaves and waits until every member has left. Rejects with the signal's reason. */
  async leave(options: { signal?: AbortSignal } = {}): Promise<void> {
    const client = this.#client;
    const ours = this.memberId;
    const end = new ClientEnd(client);
    const signals = [options.signal, end.signal];
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        throwIfAborted(signals);
        const members = (await childrenOrEmpty(client, this.path)).filter((name) => name !== READY_NODE)
          .sort();
        if (members.length === 0) break;
        const isOurs = members.includes(ours);
        if (members.length === 1 && isOurs) {
          await deleteQuietly(client, this.#ourPath);
          break;
        }
        // The lowest waits for the highest; everyone else leaves at once and waits for the lowest.
        const lowest = members[0] === ours;
        if (!lowest && isOurs) await deleteQuietly(client, this.#ourPath);
        const watched = joinPath(this.path, lowest ? members[members.length - 1]! : members[0]!);
        const trigger = new Trigger();
        const stat = await retrying(client, () => client.exists(watched, { watch: trigger.listener }));
        if (stat === null) {
          dropWatch(client, watched, trigger.listener);
          continue;
        }
        try {
          await raceSignals(trigger.fired, signals);
        } catch (error) {
          dropWatch(client, watched, trigger.listener);
          throw error;
        }
      }
    } finally {
      end.dispose();
      this.#guard?.lose("released");
    }
    try {
      await retrying(client, () => client.delete(this.#readyPath));
    } catch (error) {
      if (!KeeperError.is(error, "NONODE")) throw error;
    }
  }

  async #awaitReady(readyTrigger: Trigger, signals: (AbortSignal | undefined)[]): Promise<void> {
    const client = this.#client;
    let trigger = readyTrigger;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const children = await retrying(client, () => client.getChildren(this.path));
      if (children.includes(READY_NODE)) return;
      if (children.length >= this.memberCount) {
        try {
          await retrying(client, () => client.create(this.#readyPath, null));
        } catch (error) {
          if (!KeeperError.is(error, "NODEEXISTS")) throw error;
        }
        return;
      }
      try {
        await raceSignals(trigger.fired, signals);
      } catch (error) {
        dropWatch(client, this.#readyPath, trigger.listener);
        throw error;
      }
      trigger = new Trigger();
      const ready = await retrying(client, () => client.exists(this.#readyPath, { watch: trigger.listener }));
      if (ready !== null) return;
    }
    throw new Error(`double barrier ${this.path}: gave up after ${MAX_ROUNDS} changes`);
  }
}
