/**
 * The campaign CI runs (tests/testing/simulator_test.ts, and `deno task sim --ci`): swarm runs across
 * 3, 5 and 7 voters, with and without observers, on FRESH seeds every time — drawn from a random
 * base that is printed, so any failure is replayed by its own seed (the failure prints the command)
 * and the whole campaign by its base (`deno task sim --ci --ci-base B`, or CORRAL_SIM_SEED_BASE=B
 * for the test). Seeds that once found a bug are kept in REGRESSION_SEEDS and run every time.
 *
 * Known bugs: a fixed seed that fails because of a bug still being fixed is listed in KNOWN_FAILING
 * (left out). Fresh seeds can hit the same bug at any time, so a bug still open also has a narrow
 * signature in KNOWN_BUGS (its invariant and a pattern of its message): a fresh failure that
 * matches one is printed loudly with its replay command but does not fail CI. Remove both when the
 * bug is fixed. `deno task sim --ci --keep-going` lists every failure.
 */
import type { CampaignRun } from "./campaign.ts";
import { createPrng } from "./prng.ts";
import type { SimResult } from "./simulator.ts";

/** Ensemble shapes and how many fresh seeds each runs. */
export const CI_CAMPAIGN: ReadonlyArray<{ voters: number; observers: number; seeds: number }> = [
  { voters: 3, observers: 0, seeds: 150 },
  { voters: 3, observers: 1, seeds: 80 },
  { voters: 5, observers: 0, seeds: 120 },
  { voters: 5, observers: 2, seeds: 60 },
  { voters: 7, observers: 0, seeds: 50 },
  { voters: 7, observers: 2, seeds: 40 },
];

export interface KnownFailure {
  voters: number;
  observers: number;
  seed: number;
  /** The invariant the run breaks. */
  invariant: string;
  /** Which bug (one of BUGS). */
  bug: string;
}

/** A seed kept because it once found a bug (it must pass, or be in KNOWN_FAILING). */
export interface RegressionSeed {
  voters: number;
  observers: number;
  seed: number;
  /** What it found. */
  found: string;
}

/** Bugs the simulator found, by name; each was fixed with a regression test or seed (below). */
export const BUGS = {
  replyBySession: "SIM-1: a learner matches replies to forwarded writes by session, not by connection and xid",
  staleLeaderStream: "SIM-2: a learner that gives up on its leader keeps the connection; the new role accepts the old stream",
  epochCheckThrows: "SIM-3: election throws when the log holds a newer epoch than currentEpoch (sync data before NEWLEADER)",
  staleDurableCallbacks: "SIM-4: persist callbacks of an ended role still run (an old leader commits and applies)",
  fuzzyReplayCversion: "SIM-5: replaying a create that meets an existing node skips the parent's cversion/pzxid",
  learnerExpiresUnknownSession: "SIM-6: a learner declares a live session expired because it has not applied its creation yet",
  mutualFollowing: "SIM-7: two members following each other keep each other alive with learner pings",
  closingMarkSurvives: "SIM-8: a leader keeps a session's closing mark across leader changes; the session never closes (H, seed 10512) — fixed by S4",
  fuzzySnapshotAheadOfLog: "SIM-10: a fuzzy snapshot made durable before the log appends it captured; recovery is not exact — ZooKeeper's semantics too (the leader's DIFF makes the tree exact before it serves): the checker skips such recoveries (sim_cluster.ts inexactRecovery)",
  electionEpochLivelock: "SIM-12: votes use max(currentEpoch, log epoch) but the leader steps down for a follower with a higher stored currentEpoch: a livelock — fixed (replica.ts #electionSelf raises currentEpoch to the log's)",
  reaperDeletesPersistent: "SIM-13: the reaper's deleteContainer, prepared against pending changes, deleted a node re-created as persistent — fixed (prep.ts reapableAsPrepared)",
  staleLeaderExpiresSession: "SIM-14: a deposed leader that had not noticed yet told a reconnecting client that a session of a newer epoch had expired — fixed (server.ts: a leader confirms with a quorum round before calling a session expired)",
  staleAckAfterTrunc: "SIM-15: a leader kept counting the acks a follower gave before it rejoined and was TRUNCed: a proposal committed on an ack its log no longer backed, and the next epoch lost an acknowledged write — fixed (zab_leader.ts #syncLearner drops the learner's earlier acks)",
  fuzzyReplayOrphans: "SIM-16: replaying a delete onto a fuzzy snapshot that caught children of the node a later txn re-created left them without a parent link: that member's tree kept other Stats — fixed (data_tree.ts #delete takes such descendants along; the simulator checks every recovered tree's links)",
  pendingNotLogged: "SIM-17: a learner took the membership in a leaderInfo (before the sync) as pending; that leader never established its epoch, and the learner, leading next without the reconfig in its log, put it in force and showed it in /zookeeper/config — fixed (leaderInfo carries no membership; NEWLEADER's comes after the sync, so the learner's log holds it)",
  sessionIdReissued: "SIM-18: a member whose state was reset twice (two SNAPs) with its clock standing still seeded both session trackers alike and handed a new session the id of an earlier one (whose password, derived from the id as ZooKeeper's, then fits both) — fixed (session_tracker.ts: a replacing tracker continues after the one it replaces)",
  createTtlDisabledOrder: "SIM-9: createTTL with a non-TTL mode while TTL is disabled answers UNIMPLEMENTED; ZooKeeper checks the mode first (BADARGUMENTS) — fixed by S4 (prep.ts)",
} as const;

/**
 * Seeds that found something in this simulator (swarm plans, broad workload, liveness phases).
 * Seeds found before the swarm plans and workload changed (1970 and 10512 at 3 voters) no longer
 * replay those runs — every seed draws a different plan now — so the bugs they found are kept as
 * unit regressions instead (tests/testing/checkers_test.ts, tests/core/).
 */
export const REGRESSION_SEEDS: readonly RegressionSeed[] = [
  { voters: 3, observers: 0, seed: 31, found: "watch checker false positive: a change hidden by its ACL consumes the watch silently (3.8.4+)" },
  { voters: 5, observers: 0, seed: 318821377, found: "watch checker false positive: a node created and deleted by one multi, ACL unknown" },
  { voters: 3, observers: 0, seed: 277749750, found: "FIFO checker false positive: SESSIONEXPIRED no-ops and a second closeSession of an abandoned connection" },
  { voters: 3, observers: 0, seed: 1162148145, found: BUGS.electionEpochLivelock },
  { voters: 5, observers: 0, seed: 1742291274, found: BUGS.reaperDeletesPersistent },
  { voters: 3, observers: 1, seed: 1169469126, found: BUGS.staleLeaderExpiresSession },
  { voters: 5, observers: 0, seed: 593044350, found: BUGS.staleAckAfterTrunc },
  { voters: 7, observers: 2, seed: 365951221, found: BUGS.fuzzyReplayOrphans },
  { voters: 5, observers: 0, seed: 1552425688, found: BUGS.pendingNotLogged },
  { voters: 5, observers: 2, seed: 1584790551, found: BUGS.sessionIdReissued },
  { voters: 5, observers: 0, seed: 198941862, found: "FIFO checker false positive: a multi of an abandoned connection, refused as SESSIONEXPIRED after the session closed (a multi of errors)" },
];

export const KNOWN_FAILING: readonly KnownFailure[] = [];

/** Signatures of bugs still open: fresh seeds that fail this way are reported, not failed. */
export const KNOWN_BUGS: ReadonlyArray<{
  bug: string;
  invariant: string;
  message: RegExp;
  /** Also required: a line of the replica log (the last lines kept with a failure) matching this. */
  log?: RegExp;
}> = [];

/** The known bug a failure shows, or null for a new failure. */
export function knownBugOf(result: SimResult): string | null {
  const failure = result.failure;
  if (failure === null) return null;
  const fixed = KNOWN_FAILING.find((known) =>
    known.seed === result.seed && known.voters === result.options.voters && known.observers === result.options.observers &&
    known.invariant === failure.invariant
  );
  if (fixed !== undefined) return fixed.bug;
  const logs = result.diagnostics?.logs ?? [];
  return KNOWN_BUGS.find((known) =>
    known.invariant === failure.invariant && known.message.test(failure.message) &&
    (known.log === undefined || logs.slice(-40).some((line) => known.log!.test(line)))
  )?.bug ?? null;
}

/** A fresh campaign base: random, or CORRAL_SIM_SEED_BASE when set (to replay a whole campaign). */
export function freshSeedBase(env: (name: string) => string | undefined = () => undefined): number {
  const fixed = env("CORRAL_SIM_SEED_BASE");
  if (fixed !== undefined && fixed !== "") {
    const base = Number(fixed);
    if (!Number.isInteger(base) || base < 0) throw new Error(`CORRAL_SIM_SEED_BASE must be a non-negative integer, got ${fixed}`);
    return base;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function isKnown(run: CampaignRun): boolean {
  return KNOWN_FAILING.some((known) => known.seed === run.seed && known.voters === run.voters && known.observers === run.observers);
}

/**
 * Every run of the CI campaign for `base`: the fresh seeds of each shape (drawn from the base, so
 * one number reproduces them all), then the regression seeds; known-failing ones left out.
 */
export function ciRuns(base: number, options: { includeKnownFailing?: boolean } = {}): CampaignRun[] {
  const prng = createPrng(base);
  const runs: CampaignRun[] = [];
  for (const shape of CI_CAMPAIGN) {
    for (let i = 0; i < shape.seeds; i++) {
      runs.push({ seed: prng.int(2_000_000_000), voters: shape.voters, observers: shape.observers });
    }
  }
  for (const regression of REGRESSION_SEEDS) {
    runs.push({ seed: regression.seed, voters: regression.voters, observers: regression.observers });
  }
  return runs.filter((run) => options.includeKnownFailing || !isKnown(run));
}
