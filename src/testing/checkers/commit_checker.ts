/**
 * Watches every replica from outside, as txns are logged and applied, and checks the invariants
 * that need no client history:
 * - one txn per zxid: every copy of a zxid, anywhere (logged, replayed, applied), has the same
 *   content (a leader proposes each zxid of its epoch once);
 * - one predecessor per zxid: a txn is always applied right after the same zxid, so no replica
 *   skips a txn or applies one onto a different history;
 * - one committed successor per zxid: txns applied by a serving replica (commits clients may see)
 *   never fork;
 * - in order: a replica applies zxids in increasing order;
 * - at most one leader per epoch;
 * - equal trees at equal zxids (sampled states, e.g. after recovery or a SNAP).
 * It also keeps what the end-of-run analysis needs: every txn seen and the predecessor links, from
 * which the final committed history is rebuilt.
 */
import type { Sid } from "../../core/peer_messages.ts";
import type { TxnEntry } from "../../core/txn.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import { canonical } from "../canonical.ts";
import type { Report } from "./violation.ts";

export type ApplyKind = "commit" | "replay";

export class CommitChecker {
  readonly #report: Report;
  /** zxid → canonical text of its txn (first copy seen). */
  readonly #texts = new Map<Zxid, string>();
  /** zxid → its txn (a private copy of the first one seen). */
  readonly entries = new Map<Zxid, TxnEntry>();
  /** zxid → the zxid it was applied after. */
  readonly predecessor = new Map<Zxid, Zxid>();
  /** zxid applied by a serving replica → the zxid it followed (and who first did it). */
  readonly #committedSuccessor = new Map<Zxid, Zxid>();
  /** zxids applied by serving replicas (client-visible commits), with the first replica that did. */
  readonly servingCommits = new Map<Zxid, Sid>();
  readonly #leaders = new Map<number, Sid>();
  /** zxid → tree digest observed there, and by whom. */
  readonly #states = new Map<Zxid, { digest: bigint; sid: Sid; where: string }>();

  constructor(report: Report) {
    this.#report = report;
  }

  /** Any copy of a txn (in a log write, a replay or an apply): all copies of a zxid must agree. */
  seen(sid: Sid, entry: TxnEntry, where: string): void {
    const zxid = entry.header.zxid;
    const text = canonical(entry);
    const known = this.#texts.get(zxid);
    if (known === undefined) {
      this.#texts.set(zxid, text);
      this.entries.set(zxid, structuredClone(entry));
      return;
    }
    if (known !== text) {
      this.#report(
        "one txn per zxid",
        `server ${sid} has a different txn at ${zxidHex(zxid)} (${where}):\n  ${text}\nthan seen before:\n  ${known}`,
      );
    }
  }

  /** A replica applied `entry` to a tree whose last zxid was `before`. */
  applied(sid: Sid, entry: TxnEntry, before: Zxid, options: { kind: ApplyKind; serving: boolean }): void {
    const zxid = entry.header.zxid;
    this.seen(sid, entry, options.kind);
    if (zxid <= before) {
      this.#report("applied in zxid order", `server ${sid} applied ${zxidHex(zxid)} (${options.kind}) onto a tree already at ${zxidHex(before)}`);
      return;
    }
    const predecessor = this.predecessor.get(zxid);
    if (predecessor === undefined) this.predecessor.set(zxid, before);
    else if (predecessor !== before) {
      this.#report(
        "one history (same predecessor)",
        `server ${sid} applied ${zxidHex(zxid)} (${options.kind}) after ${zxidHex(before)}, but it was applied after ${zxidHex(predecessor)} before: a txn was skipped or the histories differ`,
      );
    }
    if (!options.serving) return;
    if (!this.servingCommits.has(zxid)) this.servingCommits.set(zxid, sid);
    const successor = this.#committedSuccessor.get(before);
    if (successor === undefined) this.#committedSuccessor.set(before, zxid);
    else if (successor !== zxid) {
      this.#report(
        "committed histories are prefixes of one another",
        `server ${sid} committed ${zxidHex(zxid)} after ${zxidHex(before)} while serving, but ${zxidHex(successor)} was committed after ${zxidHex(before)} elsewhere`,
      );
    }
  }

  /** A replica leads an established epoch. */
  leading(sid: Sid, epoch: number): void {
    const leader = this.#leaders.get(epoch);
    if (leader === undefined) this.#leaders.set(epoch, sid);
    else if (leader !== sid) this.#report("at most one leader per epoch", `servers ${leader} and ${sid} both lead epoch ${epoch}`);
  }

  /** A replica's whole tree at `zxid` has this digest. */
  state(sid: Sid, zxid: Zxid, digest: bigint, where: string): void {
    const known = this.#states.get(zxid);
    if (known === undefined) {
      this.#states.set(zxid, { digest, sid, where });
      return;
    }
    if (known.digest !== digest) {
      this.#report(
        "equal trees at equal zxids",
        `server ${sid} (${where}) and server ${known.sid} (${known.where}) hold different trees at ${zxidHex(zxid)}`,
      );
    }
  }

  get states(): ReadonlyMap<Zxid, { digest: bigint; sid: Sid; where: string }> {
    return this.#states;
  }

  get leaders(): ReadonlyMap<number, Sid> {
    return this.#leaders;
  }

  /**
   * The history that leads to `lastZxid`, oldest first, rebuilt from the predecessor links; or a
   * description of where the chain breaks.
   */
  historyTo(lastZxid: Zxid): { entries: TxnEntry[] } | { broken: string } {
    const chain: TxnEntry[] = [];
    let zxid = lastZxid;
    for (let steps = 0; zxid !== 0; steps++) {
      const entry = this.entries.get(zxid);
      const predecessor = this.predecessor.get(zxid);
      if (entry === undefined || predecessor === undefined || steps > this.predecessor.size) {
        return { broken: `no replica was seen applying ${zxidHex(zxid)} on top of a known history` };
      }
      chain.push(entry);
      zxid = predecessor;
    }
    chain.reverse();
    return { entries: chain };
  }
}
