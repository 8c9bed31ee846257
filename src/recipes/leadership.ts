/**
 * What leader election recipes share: the leadership term handed to a leader, the participant list
 * (ids read from the election nodes, as Curator stores them), and the term's lost signal.
 */
import { KeeperError } from "../client/mod.ts";
import { LostError, type LostReason } from "./lost.ts";
import { joinPath, sequenceOf, sortChildren } from "./paths.ts";
import type { RecipeClient } from "./recipe_client.ts";
import { childrenOrEmpty, retrying } from "./waiting.ts";

/** One period of leadership. */
export interface LeadershipTerm {
  /** The participant id of this instance. */
  readonly id: string;
  /** The election node that made us leader. */
  readonly path: string;
  /** Its sequence number. */
  readonly sequence: number;
  /** Its czxid: grows with every new term; send it along with writes guarded by leadership. */
  readonly fencingToken: number;
  /** Aborts with a LostError when this term ends (closed, released, session lost, node deleted). */
  readonly lost: AbortSignal;
}

/** A candidate in an election, in line order. */
export interface Participant {
  id: string;
  path: string;
  isLeader: boolean;
}

/** A term whose end is driven by the recipe that created it. */
export class TermControl {
  readonly term: LeadershipTerm;
  readonly #controller = new AbortController();
  readonly #what: string;

  constructor(what: string, fields: Omit<LeadershipTerm, "lost">) {
    this.#what = what;
    this.term = { ...fields, lost: this.#controller.signal };
  }

  get ended(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Ends the term: `reason` is a LostError (e.g. the session guard's) or a reason to wrap in one. */
  end(reason: LostError | LostReason): void {
    if (this.ended) return;
    this.#controller.abort(reason instanceof LostError ? reason : new LostError(this.#what, reason));
  }
}

/** The election's participants in line order; ids are the nodes' data (UTF-8). */
export async function readParticipants(
  client: RecipeClient,
  path: string,
  key: (name: string) => string,
  lockName: string,
): Promise<Participant[]> {
  const children = (await childrenOrEmpty(client, path)).filter((name) => name.includes(lockName));
  const sorted = sortChildren(children, key);
  const decoder = new TextDecoder();
  const reads = await Promise.all(sorted.map(async (name) => {
    const nodePath = joinPath(path, name);
    try {
      const { data } = await retrying(client, () => client.getData(nodePath));
      return { id: decoder.decode(data), path: nodePath };
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) return null;
      throw error;
    }
  }));
  const present = reads.filter((entry): entry is { id: string; path: string } => entry !== null);
  return present.map((entry, index) => ({ ...entry, isLeader: index === 0 }));
}

/** A term's fields from the node that won it. */
export function termFields(id: string, node: { path: string; name: string; stat: { czxid: number } }) {
  return { id, path: node.path, sequence: sequenceOf(node.name), fencingToken: node.stat.czxid };
}
