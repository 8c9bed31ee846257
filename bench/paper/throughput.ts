/** The two throughput measures of a run, and the results of a sweep keyed by (size, read percent). */
import type { RunResult } from "./paper_run.ts";

/**
 * "One core per server": operations over the busiest member's CPU seconds, i.e. the throughput if
 * each server had a core of its own and the busiest one were the limit.
 */
export function perCoreThroughput(result: RunResult): number {
  const busiestMs = Math.max(...result.cpuMs.values());
  return busiestMs > 0 ? result.operations / (busiestMs / 1000) : Number.NaN;
}

/** Everything (all servers and all clients) in this one process: operations over wall seconds. */
export function singleProcessThroughput(result: RunResult): number {
  return result.wallMs > 0 ? result.operations / (result.wallMs / 1000) : Number.NaN;
}

/** Results of a sweep by ensemble size and read percent. */
export class SweepResults {
  readonly #results = new Map<string, RunResult>();

  add(readPercent: number, result: RunResult): void {
    this.#results.set(key(result.voters, readPercent), result);
  }

  get(voters: number, readPercent: number): RunResult | undefined {
    return this.#results.get(key(voters, readPercent));
  }

  get size(): number {
    return this.#results.size;
  }

  all(): RunResult[] {
    return [...this.#results.values()];
  }
}

function key(voters: number, readPercent: number): string {
  return `${voters}:${readPercent}`;
}
