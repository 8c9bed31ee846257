import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { median, percentileOfSorted, summarizeDelays } from "../../bench/costs/delay_summary.ts";

describe("percentileOfSorted", () => {
  test("uses the nearest rank: the smallest value with the fraction at or below it", () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentileOfSorted(sorted, 0.5), 50);
    assert.equal(percentileOfSorted(sorted, 0.99), 99);
    assert.equal(percentileOfSorted(sorted, 1), 100);
    assert.equal(percentileOfSorted(sorted, 0.001), 1);
  });

  test("of one value is that value, of none is NaN", () => {
    assert.equal(percentileOfSorted([7], 0.5), 7);
    assert.equal(percentileOfSorted([7], 0.99), 7);
    assert.ok(Number.isNaN(percentileOfSorted([], 0.5)));
  });

  test("rejects fractions outside (0, 1]", () => {
    assert.throws(() => percentileOfSorted([1], 0), RangeError);
    assert.throws(() => percentileOfSorted([1], 1.5), RangeError);
    assert.throws(() => percentileOfSorted([1], Number.NaN), RangeError);
  });
});

describe("summarizeDelays", () => {
  test("sorts a copy and reports count, p50, p99 and max", () => {
    const delays = [5, 1, 4, 2, 3];
    const summary = summarizeDelays(delays);
    assert.deepEqual(summary, { count: 5, p50Ms: 3, p99Ms: 5, maxMs: 5 });
    assert.deepEqual(delays, [5, 1, 4, 2, 3], "the input is left as it was");
  });

  test("sorts numerically, not as text", () => {
    const summary = summarizeDelays(new Float64Array([100, 9, 20]));
    assert.equal(summary.p50Ms, 20);
    assert.equal(summary.maxMs, 100);
  });

  test("of no delays is NaN throughout", () => {
    const summary = summarizeDelays([]);
    assert.equal(summary.count, 0);
    assert.ok(Number.isNaN(summary.p50Ms) && Number.isNaN(summary.p99Ms) && Number.isNaN(summary.maxMs));
  });
});

describe("median", () => {
  test("is the lower middle for an even count, the middle for an odd one", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.ok(Number.isNaN(median([])));
  });
});
