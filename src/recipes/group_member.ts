/**
 * Group membership (the ZooKeeper paper's recipe; znode-compatible with Curator's GroupMember):
 * each member is an ephemeral child `<group>/<id>` whose data is the member's payload, and the
 * membership is read from a TreeCache of the group (kept current by a persistent recursive watch).
 * A member that crashes disappears from the group when its session ends.
 *
 * @example
 * const me = new GroupMember(client, "/groups/workers", { id: "worker-3", data: "10.0.0.3:8080" });
 * await me.join();
 * me.onChange((members) => console.log([...members.keys()]));
 * // ... me.lost aborts if our membership ends without leave()
 * await me.leave();
 *
 * Without an `id`, the member is a protected sequential node `_c_<uuid>-member-<seq>` (the paper's
 * variant for members without unique names) and `id` is known after join().
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { CreateMode, type NodeData } from "../client/mod.ts";
import { SessionGuard } from "./lost.ts";
import { createOwnedEphemeral, loseWhenDeleted } from "./own_node.ts";
import { checkRecipePath, joinPath } from "./paths.ts";
import { type CreatedNode, createProtected } from "./protected_create.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { TreeCache } from "./tree_cache.ts";
import { deleteQuietly, retrying } from "./waiting.ts";

export interface GroupMemberOptions extends HoldOptions {
  /** The member's name in the group; default: a protected sequential name. Must not contain "/". */
  id?: string;
  /** The member's payload. Default empty. */
  data?: NodeData;
}

/** Member ids and payloads. */
export type Members = Map<string, Uint8Array>;

const ANONYMOUS_NAME = "member-";

export class GroupMember {
  readonly groupPath: string;
  readonly #client: RecipeClient;
  readonly #options: GroupMemberOptions;
  readonly #cache: TreeCache;
  #guard: SessionGuard | null = null;
  #node: CreatedNode | null = null;

  constructor(client: RecipeClient, groupPath: string, options: GroupMemberOptions = {}) {
    this.groupPath = checkRecipePath(groupPath, "GroupMember");
    if (options.id !== undefined && (options.id === "" || options.id.includes("/"))) {
      throw new TypeError(
        `GroupMember: id must be a non-empty name without "/", got ${JSON.stringify(options.id)}`,
      );
    }
    this.#client = client;
    this.#options = options;
    this.#cache = new TreeCache(client, this.groupPath, { maxDepth: 1 });
  }

  /** Our member id (the node name): the given id, or the generated one once joined. */
  get id(): string | null {
    return this.#options.id ?? this.#node?.name ?? null;
  }

  /** Aborts with a LostError when our membership ends (left, session lost, node deleted). */
  get lost(): AbortSignal | null {
    return this.#guard?.signal ?? null;
  }

  /** Creates our member node and starts following the group. Resolves once both are done. */
  async join(): Promise<void> {
    if (this.#guard !== null) {
      throw new Error(`GroupMember ${this.groupPath}: join() may be called only once`);
    }
    const guard = new SessionGuard(this.#client, `membership in ${this.groupPath}`, {
      loseOnDisconnect: this.#options.loseOnDisconnect,
    });
    this.#guard = guard;
    try {
      const data = this.#options.data ?? null;
      this.#node = this.#options.id !== undefined
        ? await createOwnedEphemeral(
          this.#client,
          joinPath(this.groupPath, this.#options.id),
          data,
          "join group",
        )
        : await createProtected(this.#client, this.groupPath, ANONYMOUS_NAME, {
          uuid: uuidFrom(this.#options.random),
          data,
          mode: CreateMode.EPHEMERAL_SEQUENTIAL,
        });
      await loseWhenDeleted(this.#client, this.#node.path, guard);
      await this.#cache.start();
    } catch (error) {
      guard.lose("released");
      if (this.#node !== null) await deleteQuietly(this.#client, this.#node.path).catch(() => undefined);
      await this.#cache.close();
      throw error;
    }
  }

  /** The current members (including us), from the cache. */
  members(): Members {
    const members: Members = new Map();
    for (const name of this.#cache.children(this.groupPath)) {
      members.set(name, this.#cache.get(joinPath(this.groupPath, name))!.data);
    }
    return members;
  }

  /** Calls `listener` with the new membership after every change. */
  onChange(listener: (members: Members) => void): () => void {
    return this.#cache.on((event) => {
      if (event.type === "added" || event.type === "updated" || event.type === "removed") {
        if (event.path !== this.groupPath) listener(this.members());
      }
    });
  }

  /** Replaces our payload. */
  async setData(data: NodeData): Promise<void> {
    const node = this.#node;
    if (node === null || this.#guard?.lost !== false) {
      throw new Error(`GroupMember ${this.groupPath}: not a member`);
    }
    await retrying(this.#client, () => this.#client.setData(node.path, data));
  }

  /** Deletes our member node and stops following the group. */
  async leave(): Promise<void> {
    this.#guard?.lose("released");
    if (this.#node !== null) await deleteQuietly(this.#client, this.#node.path);
    await this.#cache.close();
  }

  /** leave(), for `await using member = ...`. */
  [asyncDispose](): Promise<void> {
    return this.leave();
  }
}
