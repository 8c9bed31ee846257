/**
 * The mutation catalogue (issue 11 item 6): realistic bugs a developer could make in src/core,
 * src/storage, src/driver and src/client, each a small named source transform that still compiles.
 * `deno task mutate` (scripts/mutate.ts) applies each in a scratch copy and runs the relevant unit
 * tests and the simulator campaign against it; tests/mutation/RESULTS.md holds the last full run.
 *
 * Rules for an entry:
 * - `find` is an exact snippet (or a RegExp) that must occur EXACTLY ONCE in `file`; anchor on code
 *   that is unlikely to move (a line or two, not a whole function). When the code changes and the
 *   snippet no longer matches once, the mutant is "stale": tests/mutation/catalogue_test.ts and the
 *   runner fail loudly, and the entry must be brought in step with the code (never just deleted).
 * - The mutated file must still type-check (`deno check`): a mutant that does not compile tests
 *   nothing but the compiler.
 * - An equivalent mutant (no observable behaviour changes) is kept, with `equivalent` arguing why,
 *   so the table shows it instead of silently dropping it; it does not count towards the score.
 * - `knownMiss` marks a mutant today's verification does not catch, saying which part of the plan
 *   should (issue 11 items 1-4). The CI sample (mutation_sample_test.ts) skips those; remove the
 *   mark once a full run shows the mutant caught.
 */

/** Bug classes named in issue 11 (the ones the 32-bug experiment showed the simulator missing). */
export const ISSUE_CLASSES = {
  followerAckBeforeFsync: "a follower acks a proposal before its fsync",
  leaderSelfAckBeforeFsync: "the leader counts its own ack before its fsync",
  newLeaderAckBeforeDurable: "NEWLEADER acked before it is durable",
  epochNotPersisted: "acceptedEpoch or currentEpoch not persisted",
  epochsNotRestored: "the driver not restoring the epochs on restart",
  voteAppliedZxid: "a vote carrying the applied instead of the logged zxid",
  recoverySkipsLastRecord: "log recovery skipping the last record",
  crcNotChecked: "the record CRC not checked",
  staleVersionAccepted: "a stale setData version accepted",
  mzxidNotUpdated: "setData not updating mzxid",
  expiredNeverClosed: "expired sessions never closed",
  syncWithoutWaiting: "the leader answering sync without waiting",
} as const;

export type IssueClass = keyof typeof ISSUE_CLASSES;

/** The kind of slip, for the table (what a reviewer would call the mistake). */
export type Slip =
  | "off-by-one"
  | "wrong comparison"
  | "missing guard"
  | "persist/send order"
  | "missing fsync"
  | "missing persist"
  | "wrong field"
  | "forgotten reset"
  | "missing step"
  | "wrong constant"
  | "plant: obvious";

export type Area = "core" | "storage" | "driver" | "client";

export interface Mutant {
  /** Short, stable, kebab-case; used by --only and in the table. */
  id: string;
  title: string;
  slip: Slip;
  /** Set when the mutant is one of the bug classes issue 11 lists. */
  issueClass?: IssueClass;
  /** Path from the repository root. */
  file: string;
  /** Exact snippet (or RegExp) that must match exactly once in `file`. */
  find: string | RegExp;
  replace: string;
  /** Unit test files (from the repository root) that should catch it; run under Deno. */
  relevantTests: string[];
  /** Whether the simulator can see it at all (src/client is not in the simulated ensemble). */
  simulated: boolean;
  /** Why no behaviour changes: the mutant is kept but not scored. */
  equivalent?: string;
  /** Today's verification misses it: which part of issue 11's plan should catch it. */
  knownMiss?: string;
}

const ZAB_TESTS = [
  "tests/core/replica_test.ts",
  "tests/core/zab_stale_stream_test.ts",
  "tests/core/zab_random_walk_test.ts",
  "tests/core/epoch_ack_test.ts",
  "tests/core/sync_read_index_test.ts",
  "tests/core/stale_follower_sync_test.ts",
  "tests/testing/regression_s4_seeds_test.ts",
  "tests/core/zab_guards_learner_test.ts",
  "tests/core/zab_guards_leader_test.ts",
  "tests/core/replica_epoch_livelock_test.ts",
  "tests/core/replica_vote_logged_zxid_test.ts",
];
const ELECTION_TESTS = ["tests/core/election_test.ts", "tests/core/replica_test.ts"];
const SERVER_TESTS = [
  "tests/core/server_test.ts",
  "tests/core/sessions_test.ts",
  "tests/core/recovery_test.ts",
  "tests/core/role_prep_state_test.ts",
  "tests/core/expiry_timing_test.ts",
  "tests/testing/liveness_sessions_test.ts",
  "tests/testing/regression_s4_seeds_test.ts",
  "tests/core/prep_close_session_test.ts",
  "tests/core/reaper_pending_race_test.ts",
];
const LOG_TESTS = [
  "tests/storage/log_damage_test.ts",
  "tests/storage/txn_store_corruption_test.ts",
  "tests/storage/txn_store_test.ts",
  "tests/storage/txn_store_crash_test.ts",
  "tests/testing/sim_storage_test.ts",
  "tests/storage/recovery_mid_log_length_test.ts",
];
const ZAB_STORE_TESTS = [
  "tests/storage/txn_store_zab_test.ts",
  "tests/storage/txn_store_zab_crash_test.ts",
  "tests/storage/txn_store_zab_faults_test.ts",
  "tests/testing/sim_storage_test.ts",
  "tests/storage/epoch_intent_durable_test.ts",
];
const DRIVER_TESTS = [
  "tests/driver/persister_test.ts",
  "tests/driver/replica_core_test.ts",
  "tests/driver/replica_driver_test.ts",
  "tests/driver/durable_crash_test.ts",
  "tests/driver/replica_persister_snapshot_test.ts",
  "tests/testing/sim_storage_test.ts",
];
const CLIENT_TESTS = [
  "tests/client/pending_requests_test.ts",
  "tests/client/session_machine_test.ts",
  "tests/client/watch_registry_test.ts",
  "tests/client/client_operations_test.ts",
  "tests/client/client_session_test.ts",
  "tests/client/client_watches_test.ts",
];

const LEADER = "src/core/zab_leader.ts";
const LEARNER = "src/core/zab_learner.ts";
const REPLICA = "src/core/replica.ts";
const ELECTION = "src/core/election.ts";
const PREP = "src/core/prep.ts";
const TREE = "src/core/data_tree.ts";
const SERVER = "src/core/server.ts";

export const CATALOGUE: readonly Mutant[] = [
  // ---------------------------------------------------------------------------------------------
  // Plants for the runner itself: one obviously caught, one obviously equivalent.
  {
    id: "plant-quorum-of-one",
    title: "Plant (obvious): the quorum size is half the voters, rounded down (1 of 3 commits)",
    slip: "plant: obvious",
    file: "src/core/quorum.ts",
    find: "this.quorumSize = Math.floor(voters.length / 2) + 1;",
    replace: "this.quorumSize = Math.floor(voters.length / 2);",
    relevantTests: ["tests/core/quorum_test.ts", "tests/core/quorum_config_test.ts", ...ZAB_TESTS],
    simulated: true,
  },
  {
    id: "plant-equivalent-acked-through",
    title:
      "Plant (equivalent): the leader forgets how far a learner's acks reached and rescans every proposal",
    slip: "plant: obvious",
    file: LEADER,
    find: "      learner.ackedThroughSeq = proposal.seq;\n",
    replace: "",
    relevantTests: ZAB_TESTS,
    simulated: true,
    equivalent:
      "ackedThroughSeq only skips proposals this learner's earlier acks already reached; without it the " +
      "scan starts at the first outstanding proposal and adds the same sid to the same Sets again " +
      "(Set.add is idempotent) and still stops at the first zxid above the ack. Same acks, same commits: " +
      "only the cost of an ack changes (the optimisation the field exists for).",
  },

  // ---------------------------------------------------------------------------------------------
  // Zab, learner side
  {
    id: "learner-ack-before-fsync",
    title: "Follower acks a proposal as soon as it is issued to the log, before the fsync",
    slip: "persist/send order",
    issueClass: "followerAckBeforeFsync",
    file: LEARNER,
    find: '    this.#context.persist({ kind: "append", entries: [entry] }, () => {\n' +
      '      this.#ackDue = zxid;\n    });',
    replace: '    this.#context.persist({ kind: "append", entries: [entry] });\n' +
      '    this.#ackDue = zxid;\n    this.flushAcks();',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-newleader-ack-before-durable",
    title: "Follower acks NEWLEADER before its currentEpoch (and the sync data before it) is durable",
    slip: "persist/send order",
    issueClass: "newLeaderAckBeforeDurable",
    file: LEARNER,
    find: '    this.#context.persist({ kind: "epochs", currentEpoch: epoch }, () => {\n' +
      '      this.flushAcks();\n      this.#context.send(this.leader, { kind: "ack", zxid });\n    });',
    replace: '    this.#context.persist({ kind: "epochs", currentEpoch: epoch });\n' +
      '    this.flushAcks();\n    this.#context.send(this.leader, { kind: "ack", zxid });',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-accepted-epoch-not-persisted",
    title: "Follower acks the new epoch (ackEpoch) without writing acceptedEpoch",
    slip: "missing persist",
    issueClass: "epochNotPersisted",
    file: LEARNER,
    find: 'this.#context.persist({ kind: "epochs", acceptedEpoch: newEpoch }, ack);',
    replace: "ack();",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-current-epoch-not-persisted",
    title: "Follower's NEWLEADER write carries no currentEpoch (the field is dropped from the request)",
    slip: "missing persist",
    issueClass: "epochNotPersisted",
    file: LEARNER,
    find: '{ kind: "epochs", currentEpoch: epoch }',
    replace: '{ kind: "epochs" }',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-epoch-check-wrong-field",
    title: "Follower compares the proposed epoch with currentEpoch instead of acceptedEpoch",
    slip: "wrong field",
    file: LEARNER,
    find: "if (newEpoch < this.#acceptedEpoch) {",
    replace: "if (newEpoch < this.#currentEpoch) {",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-trunc-off-by-one",
    title: "TRUNC drops the proposal at the truncation zxid too (< instead of <=)",
    slip: "off-by-one",
    file: LEARNER,
    find: "(entry) => entry.header.zxid <= message.zxid",
    replace: "(entry) => entry.header.zxid < message.zxid",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-commit-unchecked",
    title: "Follower applies logged proposals on a COMMIT without checking it names one it holds",
    slip: "missing guard",
    file: LEARNER,
    find: "if (through === -1 || this.#uncommitted[through]!.header.zxid !== zxid) {",
    replace: "if (through === -1) {",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "learner-diff-keeps-old-uncommitted",
    title: "After DIFF the follower keeps its old uncommitted proposals queued (forgotten reset)",
    slip: "forgotten reset",
    file: LEARNER,
    find: "    for (const entry of this.#uncommitted) this.#apply(entry);\n    this.#uncommitted = [];\n",
    replace: "    for (const entry of this.#uncommitted) this.#apply(entry);\n",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Zab, leader side
  {
    id: "leader-self-ack-before-fsync",
    title: "Leader counts its own ack when it issues the append, before the fsync",
    slip: "persist/send order",
    issueClass: "leaderSelfAckBeforeFsync",
    file: LEADER,
    find: '    this.#context.persist({ kind: "append", entries: [entry] }, () => {\n' +
      "      proposal.acks.add(this.#myId);\n",
    replace: "    proposal.acks.add(this.#myId);\n" +
      '    this.#context.persist({ kind: "append", entries: [entry] }, () => {\n',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-accepted-epoch-not-persisted",
    title: "Leader's discovery write carries no acceptedEpoch (the field is dropped from the request)",
    slip: "missing persist",
    issueClass: "epochNotPersisted",
    file: LEADER,
    find: '{ kind: "epochs", acceptedEpoch: this.#epoch }',
    replace: '{ kind: "epochs" }',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-current-epoch-not-persisted",
    title: "Leader's NEWLEADER write carries no currentEpoch (the field is dropped from the request)",
    slip: "missing persist",
    issueClass: "epochNotPersisted",
    file: LEADER,
    find: '{ kind: "epochs", currentEpoch: this.#epoch }',
    replace: '{ kind: "epochs" }',
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-sync-before-commit",
    title:
      "Leader answers a sync once its leadership round is confirmed, without waiting for the proposals before it to commit",
    slip: "missing guard",
    issueClass: "syncWithoutWaiting",
    file: LEADER,
    find: "if (zxid > committedThrough || (round > this.#roundConfirmed && zxid >= ackedZxid)) return;",
    replace: "if (round > this.#roundConfirmed && zxid >= ackedZxid) return;",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-sync-reply-before-batched-commit",
    title: "Leader answers a follower's sync without first sending the commit it is batching (the asker misses proposals before its sync)",
    slip: "missing step",
    issueClass: "syncWithoutWaiting",
    file: LEADER,
    find: "        this.#sendCommit();\n        this.#context.send(to, { kind: \"syncReply\", requestId });",
    replace: "        this.#context.send(to, { kind: \"syncReply\", requestId });",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-sync-without-round",
    title: "Leader answers a sync once earlier proposals commit, without a quorum confirming it still leads",
    slip: "missing guard",
    issueClass: "syncWithoutWaiting",
    file: LEADER,
    find: "if (zxid > committedThrough || (round > this.#roundConfirmed && zxid >= ackedZxid)) return;",
    replace: "if (zxid > committedThrough) return;",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-epoch-not-incremented",
    title: "Leader's new epoch is the highest accepted epoch, not one above it",
    slip: "off-by-one",
    file: LEADER,
    find: "this.#epoch = maxAccepted + 1;",
    replace: "this.#epoch = maxAccepted;",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-ack-off-by-one",
    title: "An ack counts only for proposals strictly below its zxid (>= instead of >)",
    slip: "off-by-one",
    file: LEADER,
    find: "if (proposal.entry.header.zxid > zxid) break;",
    replace: "if (proposal.entry.header.zxid >= zxid) break;",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-diff-outside-window",
    title: "Leader sends a DIFF without checking the learner's zxid is inside its committed-log window",
    slip: "missing guard",
    file: LEADER,
    find: "} else if (learner.lastZxid < myLast && inWindow(learner.lastZxid)) {",
    replace: "} else if (learner.lastZxid < myLast) {",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-trunc-any-epoch",
    title: "Leader TRUNCs a learner that is ahead even when its last zxid is from another epoch",
    slip: "missing guard",
    file: LEADER,
    find: "} else if (learner.lastZxid > myLast && sameEpoch && learner.appliedZxid <= myLast) {",
    replace: "} else if (learner.lastZxid > myLast && learner.appliedZxid <= myLast) {",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "replay-delete-leaves-descendants",
    title: "Replaying a delete onto a fuzzy snapshot leaves the children it caught without a parent link (SIM-16)",
    slip: "missing step",
    file: TREE,
    find: "    if (node.children.size > 0) this.#removeDescendants(path, node);\n",
    replace: "",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "leader-keeps-acks-across-resync",
    title: "A learner that rejoins keeps its earlier acks on outstanding proposals, though a TRUNC cut them (SIM-15)",
    slip: "forgotten reset",
    file: LEADER,
    find: "      proposal.acks.delete(learner.sid);\n",
    replace: "",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "leader-proposals-not-resent-on-sync",
    title: "A learner synced mid-broadcast is not sent the outstanding proposals (it misses them)",
    slip: "missing step",
    file: LEADER,
    find: '      this.#context.send(learner.sid, { kind: "proposal", entry: proposal.entry });\n',
    replace: "",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "reconfig-no-joint-quorum",
    title: "While a reconfig is proposed, only the old membership's quorum counts (no joint quorum)",
    slip: "missing step",
    file: "src/core/membership.ts",
    find: "this.#quorum = this.#pending === null ? this.#committed.verifier : new JointQuorum([this.#committed.verifier, this.#pending.verifier]);",
    replace: "this.#quorum = this.#committed.verifier;",
    relevantTests: ["tests/core/reconfig_test.ts"],
    simulated: true,
  },
  {
    id: "reconfig-synced-quorum-unchecked",
    title: "A reconfig is proposed without a synced quorum of the new voters (no NEWCONFIGNOQUORUM)",
    slip: "missing guard",
    file: LEADER,
    find: "isQuorumSynced: (verifier) => verifier.containsQuorum(this.#syncedVoters()),",
    replace: "isQuorumSynced: (_verifier) => true,",
    relevantTests: ["tests/core/reconfig_test.ts"],
    simulated: true,
  },
  {
    id: "reconfig-role-not-rechecked",
    title: "A member keeps its role when a reconfig changes it (a removed leader keeps leading)",
    slip: "missing step",
    file: "src/core/replica.ts",
    find: "    if (!this.#roleCheckDue) return;\n",
    replace: "    if (this.#roleCheckDue || !this.#roleCheckDue) return;\n",
    relevantTests: ["tests/core/reconfig_test.ts"],
    simulated: true,
  },
  {
    id: "leader-discovery-without-quorum",
    title: "Leader picks the new epoch without waiting for followerInfo from a quorum",
    slip: "missing guard",
    file: LEADER,
    find: "    if (!this.#context.quorum.containsQuorum(voters)) return;\n",
    replace: "",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "quorum-counts-non-voters",
    title: "containsQuorumOf counts every sid in the set, voters or not",
    slip: "missing guard",
    file: "src/core/quorum.ts",
    find: "if (this.#voterSet.has(sid) && ++counted >= this.quorumSize) return true;",
    replace: "if (++counted >= this.quorumSize) return true;",
    relevantTests: ["tests/core/quorum_test.ts", "tests/core/quorum_config_test.ts", ...ZAB_TESTS],
    simulated: true,
    equivalent:
      "containsQuorumOf has one caller, ZabLeader#tryCommit, with a proposal's acks: the leader's own " +
      "sid and the sids #onAck adds, and #onAck returns before adding for any learner marked observer, " +
      "which every non-voter is (`observer = message.observer || !quorum.isVoter(from)`; replica.receive " +
      "drops non-members). So the set never holds a non-voter and the count is the same. (It is a " +
      "latent bug for a future caller; a unit test calling containsQuorumOf with observers would kill it.)",
  },

  // ---------------------------------------------------------------------------------------------
  // Replica (roles, election inputs)
  {
    id: "replica-vote-applied-zxid",
    title: "A member votes with its applied zxid instead of its last logged zxid",
    slip: "wrong field",
    issueClass: "voteAppliedZxid",
    file: REPLICA,
    find: "    const lastZxid = this.#lastLoggedZxid();\n    // Sync data may be logged",
    replace: "    const lastZxid = this.server.tree.lastZxid;\n    // Sync data may be logged",
    relevantTests: [...ZAB_TESTS, ...ELECTION_TESTS],
    simulated: true,
  },
  {
    id: "replica-stepdown-keeps-role",
    title: "Stepping down does not end the role: durable callbacks of the old role still run while looking",
    slip: "forgotten reset",
    file: REPLICA,
    find: "    this.#learner = null;\n    this.#role++;\n",
    replace: "    this.#learner = null;\n",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "replica-stepdown-forgets-learner-epoch",
    title: "Stepping down from a learner role keeps the replica's older acceptedEpoch",
    slip: "forgotten reset",
    file: REPLICA,
    find: "      this.#acceptedEpoch = this.#learner.acceptedEpoch;\n",
    replace: "",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "replica-durable-off-by-one",
    title: "persisted(n) runs the callbacks of writes before n but not of write n itself",
    slip: "off-by-one",
    file: REPLICA,
    find: "this.#durable[0]!.writeSeq <= writeSeq",
    replace: "this.#durable[0]!.writeSeq < writeSeq",
    relevantTests: ZAB_TESTS,
    simulated: true,
  },
  {
    id: "replica-learner-shares-uncommitted",
    title: "becomeLearner hands its uncommitted list to the learner but keeps referring to it",
    slip: "forgotten reset",
    file: REPLICA,
    find: "      uncommitted: this.#uncommitted,\n    });\n    this.#uncommitted = [];\n",
    replace: "      uncommitted: this.#uncommitted,\n    });\n",
    relevantTests: ZAB_TESTS,
    simulated: true,
    equivalent:
      "While the learner exists the replica never reads its own #uncommitted: #lastLoggedZxid prefers " +
      "the learner's list, #becomeLeader cannot run (only from looking, after #stepDown), and #stepDown " +
      "overwrites #uncommitted with the learner's list before anything reads it. The stale reference is " +
      "garbage, never observed.",
  },
  {
    id: "election-prefers-shorter-log",
    title: "Election prefers the candidate with the lower zxid (wrong comparison)",
    slip: "wrong comparison",
    file: ELECTION,
    find: "if (candidate.zxid !== current.zxid) return candidate.zxid > current.zxid;",
    replace: "if (candidate.zxid !== current.zxid) return candidate.zxid < current.zxid;",
    relevantTests: ELECTION_TESTS,
    simulated: true,
  },
  {
    id: "election-ignores-peer-epoch",
    title: "Election orders votes by zxid and sid only, ignoring peerEpoch",
    slip: "missing step",
    file: ELECTION,
    find:
      "  if (candidate.peerEpoch !== current.peerEpoch) return candidate.peerEpoch > current.peerEpoch;\n",
    replace: "",
    relevantTests: ELECTION_TESTS,
    simulated: true,
  },
  {
    id: "election-no-check-leader",
    title:
      "A late joiner follows a quorum's leader without the leader itself saying it leads (no checkLeader)",
    slip: "missing guard",
    file: ELECTION,
    find: 'return votes.get(vote.leader)?.state === "leading";',
    replace: 'return votes.get(vote.leader)?.state !== "looking";',
    relevantTests: ELECTION_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Request semantics (prep, data tree)
  {
    id: "prep-setdata-stale-version",
    title: "setData accepts an expected version older than the node's (> instead of !==)",
    slip: "wrong comparison",
    issueClass: "staleVersionAccepted",
    file: PREP,
    find: "  checkAllowed(node.acl, Perms.WRITE, context.identities, path);\n" +
      "  if (request.version !== -1 && request.version !== node.version) {",
    replace: "  checkAllowed(node.acl, Perms.WRITE, context.identities, path);\n" +
      "  if (request.version !== -1 && request.version > node.version) {",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "tree-setdata-no-mzxid",
    title: "setData does not update the node's mzxid",
    slip: "missing step",
    issueClass: "mzxidNotUpdated",
    file: TREE,
    find: "    node.mzxid = header.zxid;\n",
    replace: "",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-delete-nonempty",
    title: "delete does not check that the node has no children",
    slip: "missing guard",
    file: PREP,
    find: "    throw new KeeperCodeError(Code.BADVERSION, path);\n  }\n" +
      "  if (node.numChildren > 0) throw new KeeperCodeError(Code.NOTEMPTY, path);\n" +
      "  context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });\n" +
      '  context.pending.set(context.zxid, path, null);\n  return { type: "delete", path };',
    replace: "    throw new KeeperCodeError(Code.BADVERSION, path);\n  }\n" +
      "  context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });\n" +
      '  context.pending.set(context.zxid, path, null);\n  return { type: "delete", path };',
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-sequence-from-num-children",
    title: "Sequential names count the parent's current children instead of its create counter (cversion)",
    slip: "wrong field",
    file: PREP,
    find: "sequenceSuffix(parent.cversion)",
    replace: "sequenceSuffix(parent.numChildren)",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-parent-cversion-not-bumped",
    title: "A create does not bump the parent's cversion",
    slip: "off-by-one",
    file: PREP,
    find: "const parentCVersion = parent.cversion + 1;",
    replace: "const parentCVersion = parent.cversion;",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-ephemeral-parent-allowed",
    title: "create under an ephemeral node is allowed (NOCHILDRENFOREPHEMERALS check dropped)",
    slip: "missing guard",
    file: PREP,
    find: '  if (nodeKindOf(parent.ephemeralOwner) === "ephemeral") {\n',
    replace: '  if (nodeKindOf(parent.ephemeralOwner) === "ephemeral" && parentPath === "") {\n',
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-multi-no-rollback",
    title: "A failed multi leaves the pending changes of its earlier ops in place (no rollback)",
    slip: "forgotten reset",
    file: PREP,
    find: "      context.pending.rollback(mark);\n",
    replace: "",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-setacl-aversion-not-bumped",
    title: "setACL keeps the node's aversion",
    slip: "missing step",
    file: PREP,
    find: "const aversion = nextVersion(node.aversion);",
    replace: "const aversion = node.aversion;",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "prep-close-session-parent-count",
    title: "closeSession's pending view does not decrement the parents' child counts",
    slip: "missing step",
    file: PREP,
    find:
      "    if (parent) context.pending.set(context.zxid, parentPath, { ...parent, numChildren: parent.numChildren - 1 });\n",
    replace: "",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "tree-delete-no-pzxid",
    title: "delete does not update the parent's pzxid",
    slip: "missing step",
    file: TREE,
    find: "    removeChild(parent, nameOf(path));\n    if (zxid > parent.pzxid) parent.pzxid = zxid;\n",
    replace: "    removeChild(parent, nameOf(path));\n",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "tree-stat-cversion-raw",
    title: "Stat.cversion reports the raw create counter instead of 2·C − numChildren",
    slip: "wrong field",
    file: TREE,
    find: "cversion: node.cversion * 2 - node.children.size,",
    replace: "cversion: node.cversion,",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Sessions
  {
    id: "server-expired-never-closed",
    title: "An expired session is marked closing but its closeSession is never submitted",
    slip: "missing step",
    issueClass: "expiredNeverClosed",
    file: SERVER,
    find: "else this.#submit(sessionId, 0, (context) => prepareCloseSession(context), null);",
    replace: "else this.#closesToRetry.delete(sessionId);",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "server-role-change-keeps-closing-marks",
    title: "A role change keeps the session tracker as prep left it (closing marks, uncommitted sessions)",
    slip: "forgotten reset",
    file: SERVER,
    find: "    this.#sessions.restart(this.#committedSessions, this.#nowMs);\n",
    replace: "",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "server-role-change-keeps-pending",
    title: "A role change keeps the pending changes of txns the ended role prepared",
    slip: "forgotten reset",
    file: SERVER,
    find:
      "    this.#pending.reset();\n    this.#lastPreparedZxid = this.tree.lastZxid;\n    this.#waiting.clear();\n",
    replace: "    this.#lastPreparedZxid = this.tree.lastZxid;\n    this.#waiting.clear();\n",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "expiry-rounds-down",
    title: "Session deadlines are rounded down to the tick instead of up (sessions expire early)",
    slip: "off-by-one",
    file: "src/core/expiry_queue.ts",
    find: "return (Math.floor(timeMs / this.#intervalMs) + 1) * this.#intervalMs;",
    replace: "return Math.floor(timeMs / this.#intervalMs) * this.#intervalMs;",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },
  {
    id: "tracker-touch-closing",
    title: "Touching a closing session puts it back in the expiry queue",
    slip: "missing guard",
    file: "src/core/session_tracker.ts",
    find:
      "    if (!session || session.closing) return false;\n    this.#expiry.touch(id, nowMs, session.timeoutMs);",
    replace: "    if (!session) return false;\n    this.#expiry.touch(id, nowMs, session.timeoutMs);",
    relevantTests: SERVER_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Storage
  {
    id: "framing-crc-not-checked",
    title: "A record whose CRC does not match its body is read as valid",
    slip: "missing guard",
    issueClass: "crcNotChecked",
    file: "src/storage/record_framing.ts",
    find: '  if (crc32c(body) !== view.getUint32(4)) return { kind: "bad", reason: "CRC mismatch" };\n',
    replace: "",
    relevantTests: LOG_TESTS,
    simulated: true,
  },
  {
    id: "recovery-skips-last-record",
    title: "Log recovery stops before the last record of a segment (treats it as the end)",
    slip: "off-by-one",
    issueClass: "recoverySkipsLastRecord",
    file: "src/storage/log_recovery.ts",
    find: '    if (read.kind === "end") return { lastSeen, end: offset, damage: null };',
    replace: '    if (read.kind === "end" || (read.kind === "record" && read.next === bytes.length)) {\n' +
      "      return { lastSeen, end: offset, damage: null };\n    }",
    relevantTests: LOG_TESTS,
    simulated: true,
  },
  {
    id: "recovery-cuts-mid-log-damage",
    title: "Recovery treats an incomplete record as a torn tail even when valid records follow it",
    slip: "missing guard",
    file: "src/storage/log_recovery.ts",
    find:
      'const torn = damage.kind === "torn" && scan.isLast && !findValidRecordAfter(bytes, offset, isTxnEntryBody);',
    replace: 'const torn = damage.kind === "torn" && scan.isLast;',
    relevantTests: LOG_TESTS,
    simulated: true,
  },
  {
    id: "recovery-gap-not-detected",
    title: "Recovery does not notice a gap in the zxids (a missing segment)",
    slip: "missing guard",
    file: "src/storage/log_recovery.ts",
    find: "if (previous === null || followsDirectly(previous, zxid)) return null;",
    replace: "if (previous === null || followsDirectly(previous, zxid) || zxid > previous) return null;",
    relevantTests: LOG_TESTS,
    simulated: true,
  },
  {
    id: "segment-sync-skips-fsync",
    title: "The log segment's sync() marks its bytes durable without calling fsync",
    slip: "missing fsync",
    file: "src/storage/segment_writer.ts",
    find: "    await this.#guard(() => this.#file.sync());\n    this.#durableSize = this.#file.size;",
    replace: "    this.#durableSize = this.#file.size;",
    relevantTests: [
      ...LOG_TESTS,
      "tests/storage/txn_store_faults_test.ts",
      "tests/storage/txn_store_partial_write_test.ts",
    ],
    simulated: true,
  },
  {
    id: "truncate-cuts-kept-record",
    title: "Zab TRUNC cuts the log at the record of the truncation zxid itself (>= instead of >)",
    slip: "off-by-one",
    file: "src/storage/log_truncation.ts",
    find: "if (recordZxid > zxid) return { offset, lastKept };",
    replace: "if (recordZxid >= zxid) return { offset, lastKept };",
    relevantTests: ZAB_STORE_TESTS,
    simulated: true,
  },
  {
    id: "truncate-cut-not-synced",
    title: "Zab TRUNC cuts the kept segment without syncing the cut",
    slip: "missing fsync",
    file: "src/storage/log_truncation.ts",
    find: "      if (kept.cutAt !== null) await file.truncate(kept.cutAt);\n      await file.sync();\n",
    replace: "      if (kept.cutAt !== null) await file.truncate(kept.cutAt);\n",
    relevantTests: ZAB_STORE_TESTS,
    simulated: true,
  },
  {
    id: "snapshot-recovery-oldest-first",
    title: "Recovery starts from the oldest valid snapshot instead of the newest",
    slip: "wrong comparison",
    file: "src/storage/snapshot_recovery.ts",
    find: '(await listZxidFiles(options.fs, options.dir, "snapshot")).reverse();',
    replace: '(await listZxidFiles(options.fs, options.dir, "snapshot"));',
    relevantTests: [...LOG_TESTS, "tests/core/recovery_test.ts"],
    simulated: true,
  },
  {
    id: "store-epochs-before-log-sync",
    title: "writeEpochs writes the epoch files without first syncing the appends before them",
    slip: "missing fsync",
    file: "src/storage/txn_store.ts",
    find: "      await log.sync();\n      await writeEpochFiles(this.#fs, this.#dataDir, update);",
    replace: "      await writeEpochFiles(this.#fs, this.#dataDir, update);",
    relevantTests: ZAB_STORE_TESTS,
    simulated: true,
  },
  {
    id: "epoch-files-swapped",
    title: "readEpochFiles reads acceptedEpoch from the currentEpoch file and vice versa",
    slip: "wrong field",
    file: "src/storage/epoch_files.ts",
    find: 'const [key, name] of [["acceptedEpoch", ACCEPTED_EPOCH_NAME], [',
    replace: 'const [key, name] of [["acceptedEpoch", CURRENT_EPOCH_NAME], [',
    relevantTests: ZAB_STORE_TESTS,
    simulated: true,
  },
  {
    id: "epoch-intent-dir-not-synced",
    title: "Finishing a two-epoch write removes the intent file without syncing the directory",
    slip: "missing fsync",
    file: "src/storage/epoch_files.ts",
    find: "  await fs.remove(path);\n  await fs.syncDir(dir);\n",
    replace: "  await fs.remove(path);\n",
    relevantTests: ZAB_STORE_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Driver
  {
    id: "boot-epochs-not-restored",
    title: "The boot path recovers the log but never restores acceptedEpoch/currentEpoch into the replica",
    slip: "missing step",
    issueClass: "epochsNotRestored",
    file: "src/driver/replica_boot.ts",
    find: "    replica.restoreEpochs(recovered);\n",
    replace: "",
    relevantTests: DRIVER_TESTS,
    simulated: true,
  },
  {
    id: "persister-reports-before-fsync",
    title: "Group commit reports a round durable as soon as it starts, before its appends are synced",
    slip: "persist/send order",
    file: "src/driver/persister.ts",
    find: "      try {\n        await this.#carryOut(round);",
    replace: "      this.#callbacks.persisted(lastSeq);\n      try {\n        await this.#carryOut(round);",
    relevantTests: DRIVER_TESTS,
    simulated: true,
  },
  {
    id: "persister-tail-appends-unsynced",
    title: "A round whose last writes are appends never syncs them (the final sync is dropped)",
    slip: "missing fsync",
    file: "src/driver/persister.ts",
    find: "    if (unsynced) await this.#log.sync();\n",
    replace: "",
    relevantTests: DRIVER_TESTS,
    simulated: true,
  },
  {
    id: "persister-reorders-epochs-before-appends",
    title: "A round carries out truncations/epochs/installs before the appends issued ahead of them",
    slip: "persist/send order",
    file: "src/driver/persister.ts",
    // The 6-space indent is the flush inside the loop (the one after it has 4).
    find: "      if (entries.length > 0) {\n",
    replace: "      if (entries.length < 0) {\n",
    relevantTests: DRIVER_TESTS,
    simulated: true,
  },
  {
    id: "replica-core-ignores-storage-failure",
    title: "A member whose storage failed keeps running (the driver is not told to stop it)",
    slip: "missing step",
    file: "src/driver/replica_core.ts",
    find: "    this.#hooks.storageFailed(reason);\n",
    replace: "",
    relevantTests: DRIVER_TESTS,
    simulated: true,
  },

  // ---------------------------------------------------------------------------------------------
  // Client
  {
    id: "client-reply-xid-unchecked",
    title: "The client matches a reply to the oldest request in flight without checking its xid",
    slip: "missing guard",
    file: "src/client/pending_requests.ts",
    find:
      "    if (entry.xid !== xid) return `xid out of order: expected xid ${entry.xid}, got xid ${xid}`;\n",
    replace: "",
    relevantTests: CLIENT_TESTS,
    simulated: false,
  },
  {
    id: "client-last-zxid-not-tracked",
    title: "The client never advances lastZxidSeen from replies (it may reconnect to a server behind it)",
    slip: "missing step",
    file: "src/client/session_machine.ts",
    find: "    if (header.zxid > 0) this.#lastZxidSeen = header.zxid;\n    if (entry.call === null) {",
    replace: "    if (entry.call === null) {",
    relevantTests: CLIENT_TESTS,
    simulated: false,
  },
  {
    id: "client-one-shot-watch-kept",
    title: "One-shot watches are not cleared when they fire (they fire again)",
    slip: "forgotten reset",
    file: "src/client/watch_registry.ts",
    find: "    for (const listener of this.removeAll(list, path)) reached.add(listener);",
    replace: "    for (const listener of this.listenersAt(list, path)) reached.add(listener);",
    relevantTests: CLIENT_TESTS,
    simulated: false,
  },
  {
    id: "client-xid-not-reset",
    title: "Xids are not restarted on a new connection",
    slip: "forgotten reset",
    file: "src/client/session_machine.ts",
    find: "    this.#pending.resetXid();\n",
    replace: "",
    relevantTests: CLIENT_TESTS,
    simulated: false,
  },
  {
    id: "client-chroot-prefix-match",
    title: 'The chroot strips its prefix from any path that starts with it ("/app2/x" under "/app")',
    slip: "missing guard",
    file: "src/client/chroot.ts",
    find:
      "    if (serverPath.startsWith(this.prefix) && serverPath.charCodeAt(this.prefix.length) === 0x2f) {\n" +
      "      return serverPath.substring(this.prefix.length);",
    replace:
      "    if (serverPath.startsWith(this.prefix)) {\n      return serverPath.substring(this.prefix.length);",
    relevantTests: [...CLIENT_TESTS, "tests/client/ops_test.ts"],
    simulated: false,
    equivalent:
      "toClient only ever gets paths inside the chroot: replies to this client's own requests (their " +
      "paths went through toServer), events of watches it registered through toServer (a server watch " +
      'on "/app" or below never reports "/app2/x"), and getEphemerals, whose raw prefix matches are ' +
      "filtered by contains() first (unchanged). So the sibling-prefix branch the mutant breaks is " +
      "never reached with a well-behaved server; it guards against a server that reports paths outside " +
      "the chroot",
  },
];

/** The area a mutant's file belongs to. */
export function areaOf(mutant: Mutant): Area {
  const match = /^src\/(core|storage|driver|client)\//.exec(mutant.file);
  if (match === null) {
    throw new Error(`mutant ${mutant.id}: ${mutant.file} is not under src/core, storage, driver or client`);
  }
  return match[1] as Area;
}
