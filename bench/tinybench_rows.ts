/**
 * Runs micro-benchmarks with tinybench and turns them into table rows. Each task call does a batch of
 * operations, so that a call lasts well above the timer's resolution on every runtime (Deno and Bun
 * may coarsen performance.now()); figures are then divided back to one operation.
 */
import { Bench } from "tinybench";
import { formatCount, formatFigure } from "./markdown_table.ts";

export interface BatchedTask {
  name: string;
  /** Operations one call of `run` performs. */
  operationsPerCall: number;
  run: () => void;
}

export interface BenchTiming {
  /** Measuring time per task. */
  timeMs: number;
  warmupMs: number;
}

export const MICRO_COLUMNS = ["benchmark", "ops/s", "µs/op", "± %", "calls"];

export async function runBatched(tasks: BatchedTask[], timing: BenchTiming): Promise<string[][]> {
  const bench = new Bench({ time: timing.timeMs, warmupTime: timing.warmupMs, throws: true });
  for (const task of tasks) bench.add(task.name, task.run);
  await bench.run();
  return bench.tasks.map((benchTask, index) => {
    const operations = tasks[index]!.operationsPerCall;
    const result = benchTask.result;
    if (result.state !== "completed") return [benchTask.name, `(${result.state})`, "", "", ""];
    const microsPerOperation = (result.latency.mean * 1000) / operations;
    return [
      benchTask.name,
      formatCount(1e6 / microsPerOperation),
      formatFigure(microsPerOperation),
      formatFigure(result.latency.rme),
      formatCount(result.latency.samplesCount),
    ];
  });
}
