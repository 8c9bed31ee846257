/**
 * A test double around a real client whose protected creates (by default: paths containing "_c_") fail with
 * CONNECTIONLOSS a given number of times — either after the server applied them (the reply was
 * "lost") or before sending (the create never happened). Everything else goes to the real client.
 */
import { type Client, Code, KeeperError } from "../../../mod.ts";
import type { RecipeClient } from "../../../src/recipes/mod.ts";

export interface FlakyCreates {
  readonly client: RecipeClient;
  /** Paths whose create was applied but reported as lost. */
  readonly appliedButLost: string[];
  /** Paths whose create was reported as lost and never sent. */
  readonly neverSent: string[];
}

export function flakyCreates(
  real: Client,
  options: { loseAfterApplying?: number; loseBeforeSending?: number; matching?: (path: string) => boolean },
): FlakyCreates {
  const matching = options.matching ?? ((path: string) => path.includes("_c_"));
  let afterApplying = options.loseAfterApplying ?? 0;
  let beforeSending = options.loseBeforeSending ?? 0;
  const appliedButLost: string[] = [];
  const neverSent: string[] = [];
  const lost = (path: string) => new KeeperError(Code.CONNECTIONLOSS, { operation: "create2", path });
  const client: RecipeClient = {
    create: real.create.bind(real),
    async create2(path, data, createOptions) {
      if (matching(path) && beforeSending > 0) {
        beforeSending--;
        neverSent.push(path);
        throw lost(path);
      }
      const created = await real.create2(path, data, createOptions);
      if (matching(path) && afterApplying > 0) {
        afterApplying--;
        appliedButLost.push(created.path);
        throw lost(path);
      }
      return created;
    },
    delete: real.delete.bind(real),
    exists: real.exists.bind(real),
    getData: real.getData.bind(real),
    setData: real.setData.bind(real),
    getChildren: real.getChildren.bind(real),
    addWatch: real.addWatch.bind(real),
    removeWatches: real.removeWatches.bind(real),
    on: real.on.bind(real),
    get state() {
      return real.state;
    },
    get sessionId() {
      return real.sessionId;
    },
    get sessionTimeoutMs() {
      return real.sessionTimeoutMs;
    },
  };
  return { client, appliedButLost, neverSent };
}
