/**
 * A member's view of the ensemble's configuration across dynamic reconfiguration: the last
 * configuration it knows committed, and the one a logged reconfig proposal names while it is not
 * known committed (ZooKeeper's quorumVerifier and lastSeenQuorumVerifier). While both exist every
 * quorum must hold a quorum of each (JointQuorum), which is what keeps two configurations from
 * deciding apart (Shraer et al., "Dynamic Reconfiguration of Primary/Backup Clusters", 2012).
 *
 * Pure bookkeeping: the replica says what it logged, committed, truncated or heard, and reads
 * `quorum` back. At most one reconfiguration is under way at a time (the leader refuses a second
 * with RECONFIGINPROGRESS), so two configurations are all there ever is.
 */
import { JointQuorum, type Quorum, QuorumVerifier } from "./quorum.ts";
import type { QuorumConfig } from "./quorum_config.ts";
import type { Zxid } from "./zxid.ts";

/** One configuration: its text form (for /zookeeper/config) and its quorum arithmetic. */
export interface Configuration {
  readonly config: QuorumConfig;
  readonly verifier: QuorumVerifier;
}

/**
 * The quorum arithmetic of a configuration.
 * @throws RangeError when it has no voter, a bad sid or a sid twice (a reconfig's prep refuses those).
 */
export function configurationOf(config: QuorumConfig): Configuration {
  const voters = config.members.filter((member) => member.role === "participant").map((member) => member.id);
  const observers = config.members.filter((member) => member.role === "observer").map((member) => member.id);
  return { config, verifier: new QuorumVerifier({ voters, observers }) };
}

/**
 * A configuration given as sids alone (an ensemble without addresses, as in unit tests): version 0
 * and no text, so it can never be the base of a reconfig.
 */
export function configurationOfSids(verifier: QuorumVerifier): Configuration {
  return { config: { members: [], version: 0 }, verifier };
}

/** A ZabContext's membership parts for a fixed ensemble (unit tests of the Zab roles). */
export function staticMembership(verifier: QuorumVerifier): { quorum: Quorum; membership: Membership; leaderConfig: () => null } {
  return { quorum: verifier, membership: new Membership(configurationOfSids(verifier)), leaderConfig: () => null };
}

export class Membership {
  #committed: Configuration;
  #pending: Configuration | null = null;
  #quorum: Quorum;

  constructor(initial: Configuration) {
    this.#committed = initial;
    this.#quorum = initial.verifier;
  }

  /** What every quorum decision must satisfy now. */
  get quorum(): Quorum {
    return this.#quorum;
  }

  get committed(): Configuration {
    return this.#committed;
  }

  /** The newest configuration this member knows of, committed or not (ZooKeeper's last seen). */
  get lastSeen(): Configuration {
    return this.#pending ?? this.#committed;
  }

  /** A reconfiguration is proposed (logged here) and not known committed. */
  get inProgress(): boolean {
    return this.#pending !== null;
  }

  /**
   * A configuration this member logged (a reconfig proposal), or found in its state after recovery
   * or a sync, that it does not know committed. Older ones than it knows are ignored.
   * @returns whether the quorum changed.
   */
  seen(next: Configuration): boolean {
    if (next.config.version <= this.lastSeen.config.version) return false;
    this.#pending = next;
    return this.#update();
  }

  /**
   * A configuration known committed: its reconfig txn committed here, the epoch that holds it was
   * established, or a member said so in its vote.
   * @returns whether the quorum changed.
   */
  committedConfig(next: Configuration): boolean {
    if (next.config.version <= this.#committed.config.version) return false;
    this.#committed = next;
    if (this.#pending !== null && this.#pending.config.version <= next.config.version) this.#pending = null;
    return this.#update();
  }

  /**
   * The reconfig proposal this member has logged and not seen committed (null: none): the pending
   * configuration becomes exactly that one (an older or equal one than committed counts as none).
   * @returns whether the quorum changed.
   */
  pendingFromLog(logged: Configuration | null): boolean {
    const next = logged !== null && logged.config.version > this.#committed.config.version ? logged : null;
    if (next?.config.version === this.#pending?.config.version) return false;
    this.#pending = next;
    return this.#update();
  }

  /** Logged txns after `zxid` are gone (TRUNC): a proposed configuration among them is forgotten. */
  truncatedAfter(zxid: Zxid): boolean {
    if (this.#pending === null || this.#pending.config.version <= zxid) return false;
    this.#pending = null;
    return this.#update();
  }

  /** The state was replaced by a snapshot: only what it holds (`inState`, if any) is seen now. */
  replacedBy(inState: Configuration | null): boolean {
    this.#pending = null;
    const changed = this.#update();
    return (inState !== null && this.seen(inState)) || changed;
  }

  #update(): boolean {
    const before = this.#quorum;
    this.#quorum = this.#pending === null ? this.#committed.verifier : new JointQuorum([this.#committed.verifier, this.#pending.verifier]);
    return before !== this.#quorum;
  }
}
