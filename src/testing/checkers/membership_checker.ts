/**
 * Dynamic reconfiguration's invariant on each member: no member takes as committed a membership
 * the committed history does not hold, and none serves under one older than its own state holds.
 * - Whenever a member's committed membership changes (its log line "configuration now …", which the
 *   replica emits in order with its other outputs at each change; Replica.configuration shows only
 *   the latest, and a batch of outputs may hold several), the new
 *   version must be the zxid of a reconfig txn whose text names exactly those voters and observers,
 *   or zoo.cfg's membership stamped with the first zxid of an epoch;
 * - at the end every version a member ever took as committed is in the final committed history
 *   (a member that took a proposal for committed and then saw it truncated breaks this);
 * - while a member serves, its committed version is at least the version of /zookeeper/config in
 *   its tree (the last reconfig at or before its applied zxid): it may be newer only by one a
 *   member's vote told it of, which the first rule checks.
 */
import type { Sid } from "../../core/peer_messages.ts";
import type { TxnEntry } from "../../core/txn.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import { describeSets, isEpochStart, type MemberSets, memberSetsOf } from "../sim_reconfig.ts";
import type { Report } from "./violation.ts";

const CONFIGURATION_NOW = /^server (\d+): configuration now 0x([0-9a-f]+) \(voters ([\d,]*)(?:; observers ([\d,]*))?\)/;

export class MembershipChecker {
  readonly #report: Report;
  readonly #entries: ReadonlyMap<Zxid, TxnEntry>;
  readonly #initial: MemberSets;
  /** Epoch → the member that led it established (CommitChecker's). */
  readonly #leaders: ReadonlyMap<number, Sid>;
  /** Each running member's committed membership (reset when it starts: zoo.cfg's). */
  readonly #committed = new Map<Sid, MemberSets>();
  /** Versions members took as committed → the first member that did. */
  readonly #taken = new Map<Zxid, Sid>();
  /** Members whose last report had a reconfiguration in progress (both memberships counting). */
  readonly #joint = new Set<Sid>();

  constructor(options: { report: Report; entries: ReadonlyMap<Zxid, TxnEntry>; leaders: ReadonlyMap<number, Sid>; initial: MemberSets }) {
    this.#report = options.report;
    this.#entries = options.entries;
    this.#leaders = options.leaders;
    this.#initial = options.initial;
  }

  /** A member (re)starts: its replica begins with zoo.cfg's membership. */
  created(sid: Sid): void {
    this.#committed.set(sid, this.#initial);
    this.#joint.delete(sid);
  }

  /** The newest membership any member took as committed (zoo.cfg's until one did). */
  get newest(): MemberSets {
    let newest = this.#initial;
    for (const sets of this.#committed.values()) if (sets.version > newest.version) newest = sets;
    return newest;
  }

  /** Whether some member last reported a reconfiguration in progress (a proposal not yet committed). */
  reconfigPending(): boolean {
    return this.#joint.size > 0;
  }

  /** A replica's log line: the ones that report a new committed membership are checked. */
  log(sid: Sid, message: string): void {
    const match = CONFIGURATION_NOW.exec(message);
    if (match === null || Number(match[1]) !== sid) return;
    const ids = (text: string | undefined) => (text === undefined || text === "" ? [] : text.split(",").map(Number).sort((a, b) => a - b));
    const sets: MemberSets = { version: Number.parseInt(match[2]!, 16), voters: ids(match[3]), observers: ids(match[4]) };
    this.#committed.set(sid, sets);
    if (message.endsWith(" jointly")) this.#joint.add(sid);
    else this.#joint.delete(sid);
    if (sets.version === this.#initial.version) return;
    if (!this.#taken.has(sets.version)) this.#taken.set(sets.version, sid);
    // zoo.cfg's membership stamped by the leader of an established epoch with its first zxid.
    if (isEpochStart(sets.version) && describeSets(sets) === describeSets(this.#initial)) return;
    const entry = this.#entries.get(sets.version);
    const inTxn = entry?.txn.type === "reconfig" ? memberSetsOf(entry.txn.data) : null;
    if (inTxn === null || describeSets(inTxn) !== describeSets(sets)) {
      this.#report(
        "a member's committed membership comes from a reconfig txn",
        `server ${sid} took configuration ${zxidHex(sets.version)} (${describeSets(sets)}) as committed, but ${
          entry === undefined ? "no member ever logged a txn there" : inTxn === null ? `the txn there is a ${entry.txn.type}` : `that reconfig says ${describeSets(inTxn)}`
        }`,
      );
    }
  }

  /** A member serves: its committed membership is not older than the one its state holds. */
  serving(sid: Sid, treeVersion: Zxid, appliedZxid: Zxid): void {
    const committed = this.#committed.get(sid) ?? this.#initial;
    if (committed.version >= treeVersion) return;
    this.#report(
      "a serving member's membership is the newest its state holds",
      `server ${sid} serves at ${zxidHex(appliedZxid)}, whose state holds configuration ${zxidHex(treeVersion)}, ` +
        `but it takes ${zxidHex(committed.version)} (${describeSets(committed)}) as committed`,
    );
  }

  /** The end of a run: every membership a member took as committed is in the final history. */
  final(inHistory: ReadonlySet<Zxid>, lastZxid: Zxid): void {
    for (const [version, sid] of this.#taken) {
      if (inHistory.has(version)) continue;
      // zoo.cfg's membership, stamped (see log()): the label of an epoch that was maybe never
      // established, which is harmless since every member started with that membership.
      if (isEpochStart(version)) continue;
      this.#report(
        "no member takes a membership the history does not hold",
        `server ${sid} took configuration ${zxidHex(version)} as committed, but the final committed history (to ${zxidHex(lastZxid)}) has no txn there`,
      );
    }
  }
}
