/**
 * Checking "at most one holder at a time" from the outside: each holder's interval in virtual time,
 * from the moment it was told it holds (a lock, a leadership term) to the moment it stopped
 * considering itself the holder (it released, or its `lost` signal fired). Intervals of different
 * holders must not overlap; fencing tokens must grow from one holder to the next.
 */

export interface Hold {
  /** Who held (a participant's name). */
  readonly who: string;
  readonly fromMs: number;
  /** Null while still held. */
  toMs: number | null;
  /** The fencing token the holder was given (the znode's czxid), when there is one. */
  readonly token: number | null;
  /** Why it ended ("released", a LostError's why, ...). */
  why: string;
}

export class HoldLog {
  readonly holds: Hold[] = [];
  readonly #what: string;

  /** `what` names the held thing in messages ("lock /locks/m"). */
  constructor(what: string) {
    this.#what = what;
  }

  /** `who` starts holding at `atMs`. */
  begin(who: string, atMs: number, token: number | null = null): Hold {
    const hold: Hold = { who, fromMs: atMs, toMs: null, token, why: "" };
    this.holds.push(hold);
    return hold;
  }

  /** `hold` ends at `atMs` (only the first end counts). */
  end(hold: Hold, atMs: number, why: string): void {
    if (hold.toMs !== null) return;
    hold.toMs = atMs;
    hold.why = why;
  }

  /**
   * Pairs of holds of different holders that overlap in time (holds still open count until
   * `nowMs`). A hold ending at the very instant another begins does not overlap it: events at one
   * virtual instant run one after the other.
   */
  overlaps(nowMs: number): string[] {
    const sorted = [...this.holds].sort((a, b) => a.fromMs - b.fromMs);
    const problems: string[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i]!;
      const aEnd = a.toMs ?? nowMs;
      for (let j = i + 1; j < sorted.length && sorted[j]!.fromMs < aEnd; j++) {
        const b = sorted[j]!;
        if (b.who === a.who || b.toMs === b.fromMs) continue;
        problems.push(
          `${this.#what}: ${a.who} held it ${describeHold(a)} while ${b.who} held it ${describeHold(b)}`,
        );
      }
    }
    return problems;
  }

  /** Successive holds (in the order they began) whose fencing tokens do not grow. */
  tokenProblems(): string[] {
    const sorted = this.holds.filter((hold) => hold.token !== null && hold.toMs !== hold.fromMs)
      .sort((a, b) => a.fromMs - b.fromMs);
    const problems: string[] = [];
    for (let i = 1; i < sorted.length; i++) {
      const before = sorted[i - 1]!;
      const after = sorted[i]!;
      if (after.token! <= before.token!) {
        problems.push(
          `${this.#what}: ${after.who}'s token ${after.token} (from ${after.fromMs.toFixed(1)} ms) does not exceed ${before.who}'s ${before.token} (from ${before.fromMs.toFixed(1)} ms)`,
        );
      }
    }
    return problems;
  }

  /** Holds that ended with each reason, e.g. { released: 40, disconnected: 3 }. */
  endings(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const hold of this.holds) {
      const why = hold.toMs === null ? "open" : hold.why;
      counts[why] = (counts[why] ?? 0) + 1;
    }
    return counts;
  }
}

function describeHold(hold: Hold): string {
  const end = hold.toMs === null ? "still" : `${hold.toMs.toFixed(3)} ms (${hold.why})`;
  return `from ${hold.fromMs.toFixed(3)} to ${end}${hold.token === null ? "" : `, token ${hold.token}`}`;
}
