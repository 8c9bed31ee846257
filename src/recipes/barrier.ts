/**
 * A barrier, znode-compatible with Curator's DistributedBarrier: while the node `<path>` exists the
 * barrier is up and wait() blocks; removing the node lets every waiter through.
 *
 * @example
 * // coordinator
 * const gate = new Barrier(client, "/barriers/deploy");
 * await gate.set();
 * // ... prepare ...
 * await gate.remove();
 *
 * // each worker
 * await new Barrier(client, "/barriers/deploy").wait({ signal: AbortSignal.timeout(60_000) });
 */
import { CreateMode, KeeperError } from "../client/mod.ts";
import { ClientEnd } from "./lost.ts";
import { checkRecipePath, ensurePath, parentPath } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { dropWatch, raceSignals, retrying, throwIfAborted, Trigger } from "./waiting.ts";

/** Bound on watch rounds in one wait (each is one change of the barrier node). */
const MAX_ROUNDS = 1_000_000;

export class Barrier {
  readonly path: string;
  readonly #client: RecipeClient;

  constructor(client: RecipeClient, path: string) {
    this.path = checkRecipePath(path, "Barrier");
    this.#client = client;
  }

  /** Puts the barrier up (creates the node and, as containers, its missing parents). Idempotent. */
  async set(): Promise<void> {
    const client = this.#client;
    try {
      await retrying(client, async () => {
        try {
          await client.create(this.path, null);
        } catch (error) {
          if (!KeeperError.is(error, "NONODE")) throw error;
          await ensurePath(client, parentPath(this.path), { mode: CreateMode.CONTAINER });
          await client.create(this.path, null);
        }
      });
    } catch (error) {
      if (!KeeperError.is(error, "NODEEXISTS")) throw error;
    }
  }

  /** Takes the barrier down, releasing every waiter. Idempotent. */
  async remove(): Promise<void> {
    try {
      await retrying(this.#client, () => this.#client.delete(this.path));
    } catch (error) {
      if (!KeeperError.is(error, "NONODE")) throw error;
    }
  }

  /**
   * Resolves once the barrier is down (at once if it is). Rejects with the signal's reason, or a
   * KeeperError when the client ends meanwhile.
   *
   * Starts with a sync (when the client has one): workers are usually told out of band that the
   * barrier is up, and without it a worker whose server has not applied set() yet would see no node
   * and pass at once (ZooKeeper promises no cross-client view without sync; found by the simulator).
   */
  async wait(options: { signal?: AbortSignal } = {}): Promise<void> {
    const end = new ClientEnd(this.#client);
    try {
      await this.#sync([options.signal, end.signal]);
      await this.#wait([options.signal, end.signal]);
    } finally {
      end.dispose();
    }
  }

  async #sync(signals: (AbortSignal | undefined)[]): Promise<void> {
    const client = this.#client as RecipeClient & { sync?: (path: string) => Promise<void> };
    if (typeof client.sync !== "function") return;
    throwIfAborted(signals);
    await raceSignals(retrying(client, () => client.sync!(this.path)), signals);
  }

  async #wait(signals: (AbortSignal | undefined)[]): Promise<void> {
    const client = this.#client;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      throwIfAborted(signals);
      const trigger = new Trigger();
      const stat = await retrying(client, () => client.exists(this.path, { watch: trigger.listener }));
      if (stat === null) {
        // exists() on a missing node armed a creation watch; it is no longer wanted.
        dropWatch(client, this.path, trigger.listener);
        return;
      }
      try {
        await raceSignals(trigger.fired, signals);
      } catch (error) {
        dropWatch(client, this.path, trigger.listener);
        throw error;
      }
    }
    throw new Error(`barrier ${this.path}: gave up after ${MAX_ROUNDS} changes`);
  }
}
