/**
 * Ensemble membership and majority arithmetic (ZooKeeper's QuorumMaj): who votes, who only observes,
 * and whether a set of servers is a quorum. Pure and immutable; election and Zab share one instance.
 */
import type { Sid } from "./peer_messages.ts";

/**
 * The smallest and largest server id in a membership. ZooKeeper's ids are Java longs; here they must
 * be exact in a JavaScript number. (A running member's own id is 1..255: it goes in the top byte of
 * the session ids it makes; see session_tracker.ts.)
 */
export const SID_MIN = 1;
export const SID_MAX = Number.MAX_SAFE_INTEGER;
/** At most this many members in one membership: bounds every loop over them. */
export const MEMBERS_MAX = 255;

/** Ensembles are meant to have 3 to 13 voters; fewer or more is allowed (tests) but reported in `warnings`. */
export const VOTERS_RECOMMENDED_MIN = 3;
export const VOTERS_RECOMMENDED_MAX = 13;

/** More sids than this in one `containsQuorum` call means the caller passed something unbounded. */
const SIDS_SCANNED_MAX = 4096;

/**
 * What election and Zab ask of a membership: who votes, who only observes, and whether some sids
 * make a quorum. A QuorumVerifier (one configuration) or a JointQuorum (a reconfiguration under way).
 */
export interface Quorum {
  readonly voters: readonly Sid[];
  readonly observers: readonly Sid[];
  readonly members: readonly Sid[];
  isVoter(sid: Sid): boolean;
  isObserver(sid: Sid): boolean;
  isMember(sid: Sid): boolean;
  containsQuorum(sids: Iterable<Sid>): boolean;
  containsQuorumOf(sids: ReadonlySet<Sid>): boolean;
}

export interface QuorumVerifierOptions {
  /** The voting members (participants). At least one. */
  voters: readonly Sid[];
  /** Non-voting members that only learn (zoo.cfg `:observer`). Defaults to none. */
  observers?: readonly Sid[];
}

/**
 * A majority quorum over the voters. Observers are members (they take part in election messaging and
 * receive committed txns) but never count towards a quorum and can never lead.
 *
 * @throws RangeError when a sid is not an integer in [SID_MIN, SID_MAX], there are more than MEMBERS_MAX, a sid repeats, a sid is both voter and
 * observer, or there are no voters.
 * @example
 * const quorum = new QuorumVerifier({ voters: [1, 2, 3], observers: [4] });
 * quorum.quorumSize; // 2
 * quorum.containsQuorum([1, 4]); // false: the observer does not count
 */
export class QuorumVerifier implements Quorum {
  /** Voting sids, ascending. */
  readonly voters: readonly Sid[];
  /** Observer sids, ascending. */
  readonly observers: readonly Sid[];
  /** Voters and observers, ascending. */
  readonly members: readonly Sid[];
  /** How many voters make a quorum: a strict majority. */
  readonly quorumSize: number;
  /** Advice about the shape of the ensemble (for the driver to log); empty when it is as recommended. */
  readonly warnings: readonly string[];
  readonly #voterSet: ReadonlySet<Sid>;
  readonly #observerSet: ReadonlySet<Sid>;

  constructor(options: QuorumVerifierOptions) {
    const voters = checkSids("voter", options.voters);
    const observers = checkSids("observer", options.observers ?? []);
    if (voters.length === 0) {
      throw new RangeError("a quorum needs at least one voter; list the voting servers (server.N lines)");
    }
    const voterSet = new Set(voters);
    for (const sid of observers) {
      if (voterSet.has(sid)) {
        throw new RangeError(`sid ${sid} is listed both as a voter and as an observer; pick one`);
      }
    }
    this.voters = Object.freeze(voters);
    this.observers = Object.freeze(observers);
    this.members = Object.freeze([...voters, ...observers].sort((a, b) => a - b));
    this.#voterSet = voterSet;
    this.#observerSet = new Set(observers);
    this.quorumSize = Math.floor(voters.length / 2) + 1;
    this.warnings = Object.freeze(shapeWarnings(voters.length));
  }

  isVoter(sid: Sid): boolean {
    return this.#voterSet.has(sid);
  }

  isObserver(sid: Sid): boolean {
    return this.#observerSet.has(sid);
  }

  /** A voter or an observer of this ensemble. */
  isMember(sid: Sid): boolean {
    return this.#voterSet.has(sid) || this.#observerSet.has(sid);
  }

  /**
   * Whether `sids` include a strict majority of the voters. Observers, strangers and repeats are not
   * counted. Stops as soon as a quorum is seen.
   *
   * @throws RangeError after 4096 sids (the caller passed an unbounded iterable).
   */
  containsQuorum(sids: Iterable<Sid>): boolean {
    const counted = new Set<Sid>();
    let scanned = 0;
    for (const sid of sids) {
      scanned += 1;
      if (scanned > SIDS_SCANNED_MAX) {
        throw new RangeError(
          `containsQuorum was given more than ${SIDS_SCANNED_MAX} sids; pass a finite set`,
        );
      }
      if (this.#voterSet.has(sid)) counted.add(sid);
      if (counted.size >= this.quorumSize) return true;
    }
    return false;
  }

  /**
   * `containsQuorum` for a set, without allocating: the hot path of every commit (a proposal's acks).
   * Same answer as `containsQuorum([...sids])`.
   */
  containsQuorumOf(sids: ReadonlySet<Sid>): boolean {
    if (sids.size < this.quorumSize) return false;
    let counted = 0;
    for (const sid of sids) {
      if (this.#voterSet.has(sid) && ++counted >= this.quorumSize) return true;
    }
    return false;
  }
}

/**
 * Two configurations at once, while a reconfiguration is proposed but not known committed (Shraer
 * et al.; ZooKeeper's quorumVerifier and lastSeenQuorumVerifier): a set of sids is a quorum only
 * when it holds a quorum of each, so every decision taken meanwhile intersects every quorum of
 * either configuration. A voter of either votes; a member of either is a member.
 */
export class JointQuorum implements Quorum {
  readonly voters: readonly Sid[];
  readonly observers: readonly Sid[];
  readonly members: readonly Sid[];
  readonly #configs: readonly QuorumVerifier[];

  constructor(configs: readonly QuorumVerifier[]) {
    if (configs.length === 0) throw new RangeError("a joint quorum needs at least one configuration");
    this.#configs = configs;
    const voters = new Set(configs.flatMap((config) => config.voters));
    const members = new Set(configs.flatMap((config) => config.members));
    this.voters = Object.freeze([...voters].sort((a, b) => a - b));
    this.members = Object.freeze([...members].sort((a, b) => a - b));
    this.observers = Object.freeze(this.members.filter((sid) => !voters.has(sid)));
  }

  isVoter(sid: Sid): boolean {
    return this.#configs.some((config) => config.isVoter(sid));
  }

  isObserver(sid: Sid): boolean {
    return this.isMember(sid) && !this.isVoter(sid);
  }

  isMember(sid: Sid): boolean {
    return this.#configs.some((config) => config.isMember(sid));
  }

  containsQuorum(sids: Iterable<Sid>): boolean {
    const seen: Sid[] = [];
    for (const sid of sids) {
      seen.push(sid);
      if (seen.length > SIDS_SCANNED_MAX) {
        throw new RangeError(`containsQuorum was given more than ${SIDS_SCANNED_MAX} sids; pass a finite set`);
      }
    }
    return this.#configs.every((config) => config.containsQuorum(seen));
  }

  containsQuorumOf(sids: ReadonlySet<Sid>): boolean {
    return this.#configs.every((config) => config.containsQuorumOf(sids));
  }
}

/**
 * A quorum with guests: members the configuration does not name (a reconfig removed them, or has
 * not named them yet) that still take part as non-voters, the way ZooKeeper's removed servers go
 * on following. Guests hear elections and can learn, but never count: quorums are `base`'s.
 */
export class GuestQuorum implements Quorum {
  readonly voters: readonly Sid[];
  readonly observers: readonly Sid[];
  readonly members: readonly Sid[];
  readonly base: Quorum;
  readonly #guests: ReadonlySet<Sid>;

  constructor(base: Quorum, guests: Iterable<Sid>) {
    this.base = base;
    this.#guests = new Set([...guests].filter((sid) => !base.isMember(sid)));
    this.voters = base.voters;
    this.observers = Object.freeze([...base.observers, ...this.#guests].sort((a, b) => a - b));
    this.members = Object.freeze([...base.members, ...this.#guests].sort((a, b) => a - b));
  }

  isVoter(sid: Sid): boolean {
    return this.base.isVoter(sid);
  }

  isObserver(sid: Sid): boolean {
    return this.#guests.has(sid) || this.base.isObserver(sid);
  }

  isMember(sid: Sid): boolean {
    return this.#guests.has(sid) || this.base.isMember(sid);
  }

  /** Whether `sid` takes part only as a guest (no configuration in force names it). */
  isGuest(sid: Sid): boolean {
    return this.#guests.has(sid);
  }

  containsQuorum(sids: Iterable<Sid>): boolean {
    return this.base.containsQuorum(sids);
  }

  containsQuorumOf(sids: ReadonlySet<Sid>): boolean {
    return this.base.containsQuorumOf(sids);
  }
}

function checkSids(role: string, sids: readonly Sid[]): Sid[] {
  if (!Array.isArray(sids)) throw new TypeError(`${role}s must be an array of sids`);
  if (sids.length > MEMBERS_MAX) throw new RangeError(`${sids.length} ${role}s is more than ${MEMBERS_MAX} members`);
  const seen = new Set<Sid>();
  for (const sid of sids) {
    if (!Number.isInteger(sid) || sid < SID_MIN || sid > SID_MAX) {
      throw new RangeError(`${role} sid ${String(sid)} is not an integer in [${SID_MIN}, ${SID_MAX}]`);
    }
    if (seen.has(sid)) throw new RangeError(`${role} sid ${sid} is listed twice; sids must be unique`);
    seen.add(sid);
  }
  return [...sids].sort((a, b) => a - b);
}

function shapeWarnings(voterCount: number): string[] {
  const warnings: string[] = [];
  if (voterCount < VOTERS_RECOMMENDED_MIN) {
    warnings.push(
      `${voterCount} voter(s) tolerate no failure; use ${VOTERS_RECOMMENDED_MIN} to ${VOTERS_RECOMMENDED_MAX} voters`,
    );
  } else if (voterCount > VOTERS_RECOMMENDED_MAX) {
    warnings.push(
      `${voterCount} voters slow every write; keep ${VOTERS_RECOMMENDED_MAX} or fewer and add observers to scale reads`,
    );
  }
  if (voterCount % 2 === 0 && voterCount >= 2) {
    warnings.push(
      `${voterCount} voters tolerate no more failures than ${voterCount - 1}; an odd number is recommended`,
    );
  }
  return warnings;
}
