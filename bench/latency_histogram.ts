/**
 * Latencies in logarithmic buckets 1% wide, from 1 µs to about 100 s: constant memory, no sorting,
 * and histograms of several runs merge exactly, so percentiles can span alternating rounds.
 */

const SMALLEST_MS = 0.001;
const RATIO = 1.01;
const LOG_RATIO = Math.log(RATIO);
/** 1 µs × 1.01^1852 ≈ 100 s; anything slower lands in the last bucket. */
const BUCKETS = 1852;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;

  get count(): number {
    return this.#total;
  }

  record(ms: number): void {
    const index = ms <= SMALLEST_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_RATIO));
    this.#counts[index]!++;
    this.#total++;
  }

  /** The non-empty buckets as [index, count] pairs: what another process sends back (fromCounts). */
  toCounts(): Array<[number, number]> {
    const counts: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) counts.push([i, this.#counts[i]!]);
    return counts;
  }

  static fromCounts(counts: ReadonlyArray<readonly [number, number]>): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const [index, count] of counts) {
      if (!Number.isInteger(index) || index < 0 || index >= BUCKETS || !(count >= 0)) throw new RangeError(`bad histogram bucket [${index}, ${count}]`);
      histogram.#counts[index]! += count;
      histogram.#total += count;
    }
    return histogram;
  }

  /** Adds `other`'s samples to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#total += other.#total;
  }

  /** The latency (ms) that `fraction` of the samples do not exceed, at most 1% above the truth; NaN if empty. */
  percentile(fraction: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return SMALLEST_MS * RATIO ** i;
    }
    return SMALLEST_MS * RATIO ** (BUCKETS - 1);
  }
}
