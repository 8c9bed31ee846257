/**
 * A replica's own clock in the simulator: it runs at a slightly wrong rate (drift) from an offset,
 * and may be stepped forward (an NTP correction, a VM pause) or back (a wall clock corrected
 * backwards: the drivers tick with Date.now(), so a replica sees it; the core ignores time that runs
 * backwards, Replica.tick drops a smaller nowMs, so it waits until its clock passes the old time).
 */

export interface DriftingClockOptions {
  /** Local time at virtual time 0. */
  offsetMs: number;
  /** Local milliseconds per virtual millisecond, e.g. 1.02 for a clock 2% fast. */
  rate: number;
}

export class DriftingClock {
  #offsetMs: number;
  readonly #rate: number;

  constructor(options: DriftingClockOptions) {
    if (!(options.rate > 0)) throw new RangeError(`a clock rate must be positive, got ${options.rate}`);
    this.#offsetMs = options.offsetMs;
    this.#rate = options.rate;
  }

  get rate(): number {
    return this.#rate;
  }

  /** Local time at virtual time `virtualMs`. */
  localMs(virtualMs: number): number {
    return this.#offsetMs + virtualMs * this.#rate;
  }

  /** Virtual milliseconds that pass while this clock advances `localMs`. */
  virtualDelayMs(localMs: number): number {
    return localMs / this.#rate;
  }

  /** Steps the clock by `deltaMs`: forward when positive, back when negative. */
  jump(deltaMs: number): void {
    if (!Number.isFinite(deltaMs)) throw new RangeError(`a clock step must be finite, got ${deltaMs}`);
    this.#offsetMs += deltaMs;
  }
}
