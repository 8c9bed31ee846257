/**
 * The campaign CI runs (tests/testing/simulator_test.ts, and `deno task sim --ci`): short runs, many
 * seeds, across 3, 5 and 7 voters, some with observers. Seeds that currently fail because of a known
 * bug in src/core are listed in KNOWN_FAILING with the bug they show, and left out, so CI stays green
 * while the bug is being fixed; `deno task sim --ci --keep-going` lists every failing seed again.
 * (Any change to the core or the simulator reshuffles which seed does what: refresh the list then.)
 */
import type { CampaignRun } from "./campaign.ts";

/** Ensemble shapes and how many seeds (1…seeds) each runs. */
export const CI_CAMPAIGN: ReadonlyArray<{ voters: number; observers: number; seeds: number }> = [
  { voters: 3, observers: 0, seeds: 200 },
  { voters: 3, observers: 1, seeds: 60 },
  { voters: 5, observers: 0, seeds: 140 },
  { voters: 5, observers: 2, seeds: 30 },
  { voters: 7, observers: 0, seeds: 100 },
];

export interface KnownFailure {
  voters: number;
  observers: number;
  seed: number;
  /** The invariant the run breaks. */
  invariant: string;
  /** Which bug (see notes/requests.md, "From the simulator helper"). */
  bug: string;
}

/** Bugs the simulator found in src/core (described in notes/requests.md under the same names). */
export const BUGS = {
  replyBySession: "SIM-1: a learner matches replies to forwarded writes by session, not by connection and xid",
  staleLeaderStream: "SIM-2: a learner that gives up on its leader keeps the connection; the new role accepts the old stream",
  epochCheckThrows: "SIM-3: election throws when the log holds a newer epoch than currentEpoch (sync data before NEWLEADER)",
  staleDurableCallbacks: "SIM-4: persist callbacks of an ended role still run (an old leader commits and applies)",
  fuzzyReplayCversion: "SIM-5: replaying a create that meets an existing node skips the parent's cversion/pzxid",
  learnerExpiresUnknownSession: "SIM-6: a learner declares a live session expired because it has not applied its creation yet",
  mutualFollowing: "SIM-7: two members following each other keep each other alive with learner pings",
} as const;

export const KNOWN_FAILING: readonly KnownFailure[] = [
];

function isKnown(run: CampaignRun): boolean {
  return KNOWN_FAILING.some((known) => known.seed === run.seed && known.voters === run.voters && known.observers === run.observers);
}

/** Every run of the CI campaign, known failures left out. */
export function ciRuns(options: { includeKnownFailing?: boolean } = {}): CampaignRun[] {
  const runs: CampaignRun[] = [];
  for (const shape of CI_CAMPAIGN) {
    for (let seed = 1; seed <= shape.seeds; seed++) {
      const run = { seed, voters: shape.voters, observers: shape.observers };
      if (options.includeKnownFailing || !isKnown(run)) runs.push(run);
    }
  }
  return runs;
}
