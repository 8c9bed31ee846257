/**
 * ZooKeeper's two summary shapes: AvgMinMaxCounter (count, sum, min, max: `mntr`'s avg/min/max/cnt/
 * sum lines, a Prometheus summary with the median) and AvgMinMaxPercentileCounter (the same plus
 * p50/p95/p99/p999 in `mntr`, and 0.5/0.9/0.99 quantiles in Prometheus). Percentiles come from a
 * fixed ring of the most recent samples, so memory and the cost of add() are bounded whatever the
 * load; reading sorts a copy (only when scraped).
 */

/** Samples kept for percentiles; ZooKeeper's reservoir keeps about as many (1028). */
export const SUMMARY_SAMPLES_MAX = 1024;

export class Summary {
  readonly name: string;
  /** Whether percentiles are kept (ZooKeeper's DetailLevel.ADVANCED). */
  readonly detailed: boolean;
  count = 0;
  sum = 0;
  min = 0;
  max = 0;
  readonly #ring: Float64Array | null;
  #next = 0;

  constructor(name: string, options: { detailed: boolean }) {
    this.name = name;
    this.detailed = options.detailed;
    // The median is exported for basic summaries too (ZooKeeper's Prometheus provider does), so
    // both keep samples; the basic ones just print no percentiles in mntr.
    this.#ring = new Float64Array(SUMMARY_SAMPLES_MAX);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    if (this.count === 0 || value < this.min) this.min = value;
    if (this.count === 0 || value > this.max) this.max = value;
    this.count++;
    this.sum += value;
    if (this.#ring !== null) {
      this.#ring[this.#next] = value;
      this.#next = (this.#next + 1) % SUMMARY_SAMPLES_MAX;
    }
  }

  /** The mean rounded to 4 decimals, as ZooKeeper's AvgMinMaxCounter reports it (0 when empty). */
  average(): number {
    return this.count === 0 ? 0 : Math.round((this.sum / this.count) * 10000) / 10000;
  }

  /** Quantile `q` (0..1) of the retained samples, nearest rank; 0 when empty. */
  quantile(q: number): number {
    return quantilesOf(this.#samples(), [q])[0]!;
  }

  /** Several quantiles with one sort. */
  quantiles(qs: readonly number[]): number[] {
    return quantilesOf(this.#samples(), qs);
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = 0;
    this.max = 0;
    this.#next = 0;
  }

  #samples(): Float64Array {
    if (this.#ring === null) return new Float64Array(0);
    const retained = Math.min(this.count, SUMMARY_SAMPLES_MAX);
    return this.#ring.slice(0, retained);
  }
}

function quantilesOf(samples: Float64Array, qs: readonly number[]): number[] {
  if (samples.length === 0) return qs.map(() => 0);
  samples.sort();
  return qs.map((q) => {
    const rank = Math.min(samples.length - 1, Math.max(0, Math.ceil(q * samples.length) - 1));
    return samples[rank]!;
  });
}
