/**
 * A replica's side of dynamic reconfiguration: which membership it has seen and which it knows in
 * force (membership.ts), learnt from what it logs, commits, truncates, syncs and hears in votes and
 * NEWLEADER, and the quorums election and Zab count with. Every method that may change the
 * membership returns whether it did; the replica then re-checks its role (replica.ts).
 */
import type { DataTree } from "./data_tree.ts";
import { CONFIG_NODE } from "./data_tree.ts";
import { MemberSpecError, parseQuorumConfigText } from "./member_spec.ts";
import { type Configuration, configurationOf, configurationOfSids, Membership } from "./membership.ts";
import type { Sid, VoteMessage } from "./peer_messages.ts";
import type { PersistRequest } from "./persistence.ts";
import { GuestQuorum, QuorumVerifier } from "./quorum.ts";
import { type QuorumConfig, quorumConfigText } from "./quorum_config.ts";
import type { TxnEntry } from "./txn.ts";
import { type Zxid, zxidOf } from "./zxid.ts";

/** A membership text in a vote or NEWLEADER is at most this long (255 members of ~100 bytes fit). */
const CONFIG_BYTES_MAX = 64 * 1024;

export interface ReplicaMembershipOptions {
  voters: readonly Sid[];
  observers: readonly Sid[];
  /** zoo.cfg's membership with addresses (or a dynamic file's); without it no reconfig can happen. */
  quorumConfig?: QuorumConfig;
  /** reconfigEnabled: the first epoch stamps zoo.cfg's membership with a version. */
  reconfigEnabled: boolean;
  log(level: "info" | "warn", message: string): void;
}

export class ReplicaMembership {
  readonly #membership: Membership;
  readonly #options: ReplicaMembershipOptions;
  /**
   * zoo.cfg's members and every member of any configuration seen since. It only grows, by the
   * members of memberships this member logged, committed or heard of, never by what a peer merely
   * claims.
   */
  readonly #everKnown: Set<Sid>;
  #quorum: GuestQuorum;
  #joinQuorum: GuestQuorum;
  /** The committed membership's text, as votes carry it (encoded once per version). */
  #committedText: { version: Zxid; bytes: Uint8Array } | null = null;
  /** The tree's /zookeeper/config parsed, by the node's mzxid (parsed once per change). */
  #treeConfig: { mzxid: Zxid; configuration: Configuration | null } | null = null;
  /** The membership the current leader's NEWLEADER carried (reset with every learner role). */
  #newLeaderConfig: Configuration | null = null;

  constructor(options: ReplicaMembershipOptions) {
    this.#options = options;
    const verifier = new QuorumVerifier({ voters: options.voters, observers: options.observers });
    this.#membership = new Membership(options.quorumConfig === undefined ? configurationOfSids(verifier) : { config: options.quorumConfig, verifier });
    this.#everKnown = new Set([...options.voters, ...options.observers]);
    this.#quorum = this.#joinQuorum = new GuestQuorum(verifier, this.#everKnown);
    this.refresh();
  }

  get membership(): Membership {
    return this.#membership;
  }

  /**
   * What election and Zab count with: the membership in force (both while a reconfig is under
   * way), with every member ever known as a guest (GuestQuorum: a removed member follows on as a
   * non-voter).
   */
  get quorum(): GuestQuorum {
    return this.#quorum;
  }

  /**
   * What following an established leader takes: a quorum of the committed membership saying they
   * follow it. Not the joint one: a reconfig this member logged may have been lost (the next epoch
   * truncates it), and then no quorum of it ever forms again. Following decides nothing; the
   * leader counts with its own membership.
   */
  get joinQuorum(): GuestQuorum {
    return this.#joinQuorum;
  }

  /** After a change: the quorums follow the membership. */
  refresh(): void {
    for (const configuration of [this.#membership.committed, this.#membership.lastSeen]) {
      for (const sid of configuration.verifier.members) this.#everKnown.add(sid);
    }
    this.#quorum = new GuestQuorum(this.#membership.quorum, this.#everKnown);
    this.#joinQuorum = new GuestQuorum(this.#membership.committed.verifier, this.#everKnown);
  }

  /** Recovery is over: a reconfig in the recovered state is not known committed, only seen. */
  recovered(tree: DataTree): boolean {
    const inState = this.#treeConfiguration(tree);
    return inState !== null && this.#membership.seen(inState);
  }

  /** A txn committed and applied: a reconfig in it is in force once the epoch is established. */
  committed(entry: TxnEntry, established: boolean): boolean {
    if (entry.txn.type !== "reconfig") return false;
    const next = this.#configurationIn(entry.txn.data);
    if (next === null) return false;
    // During a sync the txn is the leader's history, not yet established by a quorum of both.
    return established ? this.#membership.committedConfig(next) : this.#membership.seen(next);
  }

  /** What this member logs or drops changes what it has seen (every write it issues comes here). */
  persisting(request: PersistRequest, tree: DataTree): boolean {
    if (request.kind === "append") {
      let changed = false;
      for (const entry of request.entries) {
        if (entry.txn.type !== "reconfig") continue;
        const next = this.#configurationIn(entry.txn.data);
        if (next !== null && this.#membership.seen(next)) changed = true;
      }
      return changed;
    }
    if (request.kind === "truncate") return this.#membership.truncatedAfter(request.zxid);
    if (request.kind === "installSnapshot") return this.#membership.replacedBy(this.#treeConfiguration(tree));
    return false;
  }

  /** A new learner role: what an earlier leader's NEWLEADER carried no longer counts. */
  newRole(): void {
    this.#newLeaderConfig = null;
  }

  /** NEWLEADER's membership: seen now, in force once the leader says the epoch is established. */
  newLeader(bytes: Uint8Array): boolean {
    if (bytes.length > CONFIG_BYTES_MAX) return false;
    const next = this.#configurationIn(bytes);
    if (next === null) return false;
    this.#newLeaderConfig = next;
    return this.#membership.seen(next);
  }

  /** A member's vote says which membership it knows committed; a newer one is taken as is. */
  vote(from: Sid, bytes: unknown): boolean {
    if (!(bytes instanceof Uint8Array) || bytes.length > CONFIG_BYTES_MAX) return false;
    // Most votes carry what this member already has: read the version line before parsing it all.
    const version = /(?:^|\n)version=([0-9a-fA-F]{1,16})$/.exec(new TextDecoder().decode(bytes.subarray(Math.max(0, bytes.length - 32))));
    if (version !== null && Number.parseInt(version[1]!, 16) <= this.#membership.committed.config.version) return false;
    const next = this.#configurationIn(bytes);
    if (next === null || next.config.version <= this.#membership.committed.config.version) return false;
    this.#options.log("info", `member ${from} knows configuration 0x${next.config.version.toString(16)} committed; taking it`);
    return this.#membership.committedConfig(next);
  }

  /**
   * The epoch is established (serving starts): a leader's whole log is its history, so what it has
   * seen is in force (ZooKeeper's leader activates its last seen config then); a learner takes the
   * newer of what NEWLEADER carried and a reconfig committed during its sync.
   * @returns whether the membership changed, and the one in force when /zookeeper/config must show
   * it (written outside any txn, as ZooKeeper's initConfigInZKDatabase does), else null.
   */
  established(leaderEpoch: number | null, tree: DataTree, logged: readonly TxnEntry[]): { changed: boolean; show: QuorumConfig | null } {
    let changed = false;
    let inForce: Configuration | null;
    if (leaderEpoch !== null) {
      changed = this.#stampFirstVersion(leaderEpoch);
      inForce = this.#membership.lastSeen;
    } else {
      const applied = this.#treeConfiguration(tree);
      const carried = this.#newLeaderConfig;
      inForce = carried === null || (applied !== null && applied.config.version > carried.config.version) ? applied : carried;
    }
    if (inForce !== null && this.#membership.committedConfig(inForce)) changed = true;
    // From now on a learner's pending membership is one it has logged and not seen committed: not
    // one NEWLEADER named that this epoch's history turned out not to hold.
    if (leaderEpoch === null && this.#membership.pendingFromLog(this.#newestIn(logged))) changed = true;
    const committed = this.#membership.committed.config;
    const node = tree.get(CONFIG_NODE);
    const show = committed.members.length > 0 && (node === undefined || node.mzxid < committed.version) ? committed : null;
    return { changed, show };
  }

  /**
   * The membership text NEWLEADER carries (null without reconfiguration): before the epoch is
   * established the newest the leader has (its whole log becomes the epoch's history); after, the
   * one in force (a reconfig proposed since reaches the learner as a proposal after the sync).
   */
  leaderConfig(epoch: number, established: boolean): { bytes: Uint8Array | null; changed: boolean } {
    if (!this.#options.reconfigEnabled || this.#membership.lastSeen.config.members.length === 0) return { bytes: null, changed: false };
    const changed = this.#stampFirstVersion(epoch);
    const config = established ? this.#membership.committed.config : this.#membership.lastSeen.config;
    return { bytes: new TextEncoder().encode(quorumConfigText(config)), changed };
  }

  /** With reconfigEnabled, the first epoch gives zoo.cfg's membership (version 0) the version epoch<<32, as ZooKeeper's Leader.lead does. */
  #stampFirstVersion(epoch: number): boolean {
    const lastSeen = this.#membership.lastSeen.config;
    if (!this.#options.reconfigEnabled || lastSeen.members.length === 0) return false;
    if (lastSeen.version !== 0 || this.#membership.committed.config.version !== 0) return false;
    return this.#membership.seen(configurationOf({ ...lastSeen, version: zxidOf(epoch, 0) }));
  }

  /**
   * Votes carry the committed membership once it has a version (reconfigEnabled stamps the first
   * epoch's), so lagging members learn it: also a member restarted from a dynamic file older than
   * what its peers have in force (the file is written after the commit, and may be lost).
   */
  withConfig(message: VoteMessage): VoteMessage {
    const committed = this.#membership.committed.config;
    if (committed.version === 0) return message;
    if (this.#committedText?.version !== committed.version) {
      this.#committedText = { version: committed.version, bytes: new TextEncoder().encode(quorumConfigText(committed)) };
    }
    return { ...message, config: this.#committedText.bytes };
  }

  /** For the log: the membership in force, and the one under way if any. */
  describe(): string {
    const show = (configuration: Configuration) =>
      `0x${configuration.config.version.toString(16)} (voters ${configuration.verifier.voters.join(",")}${
        configuration.verifier.observers.length > 0 ? `; observers ${configuration.verifier.observers.join(",")}` : ""
      })`;
    const membership = this.#membership;
    return membership.inProgress ? `${show(membership.committed)} and ${show(membership.lastSeen)} jointly` : show(membership.committed);
  }

  /** The membership of the last reconfig txn in `entries`, or null if there is none. */
  #newestIn(entries: readonly TxnEntry[]): Configuration | null {
    let newest: Configuration | null = null;
    for (const entry of entries) {
      if (entry.txn.type === "reconfig") newest = this.#configurationIn(entry.txn.data) ?? newest;
    }
    return newest;
  }

  /** /zookeeper/config in the tree as a configuration, or null when it holds none (or not one that parses). */
  #treeConfiguration(tree: DataTree): Configuration | null {
    const node = tree.get(CONFIG_NODE);
    if (node === undefined || node.data === null || node.data.length === 0) return null;
    if (this.#treeConfig?.mzxid !== node.mzxid) this.#treeConfig = { mzxid: node.mzxid, configuration: this.#configurationIn(node.data) };
    return this.#treeConfig.configuration;
  }

  #configurationIn(bytes: Uint8Array): Configuration | null {
    try {
      return configurationOf(parseQuorumConfigText(new TextDecoder().decode(bytes)));
    } catch (error) {
      if (!(error instanceof MemberSpecError || error instanceof RangeError)) throw error;
      this.#options.log("warn", `ignoring a membership that does not parse: ${error.message}`);
      return null;
    }
  }
}
