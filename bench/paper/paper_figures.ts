/**
 * The published throughput figures we compare with: Hunt, Konar, Junqueira and Reed, "ZooKeeper:
 * Wait-free coordination for Internet-scale systems" (USENIX ATC 2010), operations per second.
 */

/** The ensemble sizes the paper measured (and 11, which its tables leave out). */
export const ENSEMBLE_SIZES = [3, 5, 7, 9, 11, 13] as const;

/** The read ratios of the paper's throughput figure, in percent. */
export const READ_PERCENTS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99, 100] as const;

export interface PublishedPair {
  /** Operations per second at the first and second workload of the table. */
  first: number;
  second: number;
}

/** Table 1: throughput at 100% reads (first) and 0% reads (second). No 11-server row. */
export const PAPER_TABLE_1: ReadonlyMap<number, PublishedPair> = new Map([
  [3, { first: 87_000, second: 21_000 }],
  [5, { first: 165_000, second: 18_000 }],
  [7, { first: 257_000, second: 14_000 }],
  [9, { first: 296_000, second: 12_000 }],
  [13, { first: 460_000, second: 8_000 }],
]);

/** "Performance at extremes": 99% reads (first) and 100% writes (second). No 11-server row. */
export const PAPER_EXTREMES: ReadonlyMap<number, PublishedPair> = new Map([
  [3, { first: 49_827, second: 10_519 }],
  [5, { first: 75_308, second: 8_048 }],
  [7, { first: 147_810, second: 6_371 }],
  [9, { first: 195_178, second: 5_550 }],
  [13, { first: 265_115, second: 4_592 }],
]);

/** The published point at (size, read percent), if there is one (for marking the chart). */
export function publishedPoints(): Array<{ voters: number; readPercent: number; opsPerSecond: number; source: string }> {
  const points = [];
  for (const [voters, pair] of PAPER_TABLE_1) {
    points.push({ voters, readPercent: 100, opsPerSecond: pair.first, source: "Table 1" });
    points.push({ voters, readPercent: 0, opsPerSecond: pair.second, source: "Table 1" });
  }
  for (const [voters, pair] of PAPER_EXTREMES) {
    points.push({ voters, readPercent: 99, opsPerSecond: pair.first, source: "extremes" });
  }
  return points;
}
