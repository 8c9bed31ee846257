/**
 * Rendezvous (the ZooKeeper paper's recipe): a coordinator creates an empty znode and hands its path
 * to the processes it starts; the one that learns something first (a master's address, say) fills
 * the node in; the others wait until it is filled. With `ephemeral: true` the node goes away when the
 * creator's session ends, which tells everybody the rendezvous is over.
 *
 * @example
 * // coordinator
 * const meeting = new Rendezvous(client, "/rendezvous/job-17");
 * await meeting.create({ ephemeral: true });
 *
 * // master
 * await new Rendezvous(masterClient, "/rendezvous/job-17").publish("10.0.0.9:7000");
 *
 * // each worker
 * const { data } = await new Rendezvous(workerClient, "/rendezvous/job-17").wait({ signal });
 */
import { CreateMode, KeeperError, type NodeData, type Stat } from "../client/mod.ts";
import { ClientEnd } from "./lost.ts";
import { checkRecipePath, ensurePath, parentPath } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { dropWatch, raceSignals, retrying, throwIfAborted, Trigger } from "./waiting.ts";

/** Bound on watch rounds in one wait. */
const MAX_ROUNDS = 1_000_000;

export class Rendezvous {
  readonly path: string;
  readonly #client: RecipeClient;

  constructor(client: RecipeClient, path: string) {
    this.path = checkRecipePath(path, "Rendezvous");
    this.#client = client;
  }

  /** Creates the empty rendezvous node (and missing parents, as containers). Idempotent. */
  async create(options: { ephemeral?: boolean } = {}): Promise<void> {
    const client = this.#client;
    const mode = options.ephemeral === true ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
    try {
      await retrying(client, async () => {
        try {
          await client.create(this.path, null, { mode });
        } catch (error) {
          if (!KeeperError.is(error, "NONODE")) throw error;
          await ensurePath(client, parentPath(this.path), { mode: CreateMode.CONTAINER });
          await client.create(this.path, null, { mode });
        }
      });
    } catch (error) {
      if (!KeeperError.is(error, "NODEEXISTS")) throw error;
    }
  }

  /**
   * Fills the node in (creating it, persistent, if the coordinator has not). Resolves with its stat;
   * `stat.mzxid` identifies this publication.
   */
  async publish(data: NodeData): Promise<Stat> {
    const client = this.#client;
    if ((typeof data === "string" ? data.length : data.byteLength) === 0) {
      throw new RangeError(`Rendezvous ${this.path}: publish() needs non-empty data (empty means "not yet")`);
    }
    try {
      return await retrying(client, () => client.setData(this.path, data));
    } catch (error) {
      if (!KeeperError.is(error, "NONODE")) throw error;
      await this.create();
      return await retrying(client, () => client.setData(this.path, data));
    }
  }

  /**
   * Resolves with the node's data once it exists and is filled in. Rejects with the signal's reason,
   * or a KeeperError when the client ends meanwhile.
   */
  async wait(options: { signal?: AbortSignal } = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    const end = new ClientEnd(this.#client);
    try {
      return await this.#wait([options.signal, end.signal]);
    } finally {
      end.dispose();
    }
  }

  async #wait(signals: (AbortSignal | undefined)[]): Promise<{ data: Uint8Array; stat: Stat }> {
    const client = this.#client;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      throwIfAborted(signals);
      const trigger = new Trigger();
      let result: { data: Uint8Array; stat: Stat } | null = null;
      try {
        result = await retrying(client, () => client.getData(this.path, { watch: trigger.listener }));
      } catch (error) {
        if (!KeeperError.is(error, "NONODE")) throw error;
        // Not created yet: watch for its creation instead (getData on a missing node sets no watch).
        const stat = await retrying(client, () => client.exists(this.path, { watch: trigger.listener }));
        if (stat !== null) {
          dropWatch(client, this.path, trigger.listener);
          continue; // created in between: read it
        }
      }
      if (result !== null && result.data.length > 0) {
        dropWatch(client, this.path, trigger.listener);
        return result;
      }
      try {
        await raceSignals(trigger.fired, signals);
      } catch (error) {
        dropWatch(client, this.path, trigger.listener);
        throw error;
      }
    }
    throw new Error(`rendezvous ${this.path}: gave up after ${MAX_ROUNDS} changes`);
  }
}
