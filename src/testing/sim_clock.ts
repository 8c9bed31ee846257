/**
 * A replica's own clock in the simulator: it runs at a slightly wrong rate (drift) from an offset,
 * and may be stepped forward (an NTP correction, a VM pause). It never runs backwards, as the core
 * ignores time that does (Replica.tick drops a smaller nowMs).
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

  /** Steps the clock forward (never back). */
  jump(forwardMs: number): void {
    if (forwardMs > 0) this.#offsetMs += forwardMs;
  }
}
