/**
 * Percentiles of a set of delays (nearest rank, no interpolation): what the costs tables print for
 * watch delivery and connect times. Pure, so tests pin it down without timing anything.
 */

export interface DelaySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The nearest-rank percentile of values sorted ascending: the smallest value with at least
 * `fraction` of the values at or below it. NaN for no values. Throws for a fraction outside (0, 1].
 */
export function percentileOfSorted(sorted: ArrayLike<number>, fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`percentileOfSorted: fraction must be in (0, 1], got ${fraction}`);
  }
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50, p99 and max of `delaysMs` (any order; the input is not modified). NaN figures when empty. */
export function summarizeDelays(delaysMs: ArrayLike<number>): DelaySummary {
  const sorted = Float64Array.from(delaysMs).sort();
  return {
    count: sorted.length,
    p50Ms: percentileOfSorted(sorted, 0.5),
    p99Ms: percentileOfSorted(sorted, 0.99),
    maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  };
}

/** The median of a few figures (round totals, say); NaN for none. */
export function median(values: readonly number[]): number {
  return percentileOfSorted(Float64Array.from(values).sort(), 0.5);
}
