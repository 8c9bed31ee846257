/**
 * What one logical client of the kill -9 test sent, what was acknowledged, and the check of a
 * recovered store against it.
 *
 * A client issues one ordered stream of writes on its session: creates of /k/<client>-<seq> and
 * setData of /c/<client> to "<seq>" (seq numbers one stream, so the counter only grows). ZooKeeper
 * applies a session's writes in order, so after a crash the store must hold exactly a prefix of the
 * stream: every create before some point and none after it, with the counter at the last setData
 * before that point. Every acknowledged write must lie inside the prefix. Writes past the prefix are
 * lost for good ("dead"): the next round continues with fresh seq numbers, and a dead write that
 * shows up in a later recovery is a resurrection, reported as such.
 */

export type WriteKind = "create" | "set";

export interface Write {
  seq: number;
  kind: WriteKind;
  acknowledged: boolean;
  /** Lost in an earlier crash (past the recovered prefix); must never reappear. */
  dead: boolean;
}

/** What a recovered store holds for one client. */
export interface RecoveredState {
  /** seq numbers of the client's znodes under /k. */
  creates: ReadonlySet<number>;
  /** The counter's value; -1 is its initial value (no setData survived). */
  counter: number;
}

export interface CheckResult {
  /** How many of the live writes (in order) the store holds. */
  prefixLength: number;
  /** Violations, each a sentence naming the client and seq numbers. Empty when the store is right. */
  problems: string[];
}

/** The initial value of a counter node, before the client's first setData. */
export const COUNTER_INITIAL = -1;

export class ClientHistory {
  readonly name: string;
  readonly #writes: Write[] = [];
  #nextSeq = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Records a new write about to be sent, with the next seq number. */
  next(kind: WriteKind): Write {
    const write: Write = { seq: this.#nextSeq++, kind, acknowledged: false, dead: false };
    this.#writes.push(write);
    return write;
  }

  get sent(): number {
    return this.#writes.length;
  }

  get acknowledged(): number {
    return this.#writes.filter((write) => write.acknowledged).length;
  }

  /** The writes not lost in an earlier crash, in the order they were sent. */
  live(): Write[] {
    return this.#writes.filter((write) => !write.dead);
  }

  /**
   * Checks `state` against the history and, when it holds, marks the writes past the recovered
   * prefix dead (they were lost; later rounds build on the recovered store).
   */
  checkAndAdvance(state: RecoveredState): CheckResult {
    const result = checkRecovered(this.name, this.#writes, state);
    if (result.problems.length === 0) {
      const live = this.live();
      for (const write of live.slice(result.prefixLength)) write.dead = true;
    }
    return result;
  }
}

/**
 * The prefix check. The prefix ends just after the latest live write the store shows (a surviving
 * create, or the setData whose value the counter holds); everything before it must be there, nothing
 * after it may be, and every acknowledged write must be inside it.
 */
export function checkRecovered(name: string, writes: readonly Write[], state: RecoveredState): CheckResult {
  const problems: string[] = [];
  const live = writes.filter((write) => !write.dead);
  const position = new Map<number, number>();
  live.forEach((write, index) => position.set(write.seq, index));
  const bySeq = new Map(writes.map((write) => [write.seq, write]));
  let end = 0;
  for (const seq of state.creates) {
    const write = bySeq.get(seq);
    const index = position.get(seq);
    if (write === undefined || write.kind !== "create") {
      problems.push(`${name}: znode /k/${name}-${seq} exists but the client never created it`);
    } else if (index === undefined) {
      problems.push(`${name}: create ${seq} was lost in an earlier crash but is back (resurrected)`);
    } else {
      end = Math.max(end, index + 1);
    }
  }
  if (state.counter !== COUNTER_INITIAL) {
    const write = bySeq.get(state.counter);
    const index = position.get(state.counter);
    if (write === undefined || write.kind !== "set") {
      problems.push(`${name}: counter holds ${state.counter}, a value the client never wrote`);
    } else if (index === undefined) {
      problems.push(`${name}: counter holds ${state.counter}, written by a setData lost in an earlier crash (resurrected)`);
    } else {
      end = Math.max(end, index + 1);
    }
  }
  let lastSetInPrefix = COUNTER_INITIAL;
  for (const write of live.slice(0, end)) {
    if (write.kind === "set") lastSetInPrefix = write.seq;
    else if (!state.creates.has(write.seq)) {
      problems.push(`${name}: gap: create ${write.seq} is missing although write ${live[end - 1]!.seq}, sent after it, survived`);
    }
  }
  if (problems.length === 0 && lastSetInPrefix !== state.counter) {
    problems.push(
      `${name}: reordering: counter holds ${state.counter} but the last setData before the latest surviving write (${
        live[end - 1]!.seq
      }) set ${lastSetInPrefix}`,
    );
  }
  for (const write of live.slice(end)) {
    if (write.acknowledged) {
      problems.push(`${name}: acknowledged ${write.kind === "create" ? `create /k/${name}-${write.seq}` : `setData ${write.seq}`} was lost`);
    }
  }
  return { prefixLength: end, problems };
}
