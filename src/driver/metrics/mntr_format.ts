/**
 * `mntr` from the registry, as ZooKeeper 3.8 prints it with its default metrics provider: `zk_<key>`,
 * a tab, the value; summaries as avg (a Java double), min, max, cnt, sum (and p50, p95, p99, p999 when
 * detailed) in whole numbers; in ZooKeeper's key order (zookeeper_names.ts).
 */
import { javaDouble } from "./java_double.ts";
import type { Metric, MetricsRegistry } from "./registry.ts";
import { MNTR_ORDER } from "./zookeeper_names.ts";

const PERCENTILES: readonly [string, number][] = [["p50", 0.5], ["p95", 0.95], ["p99", 0.99], ["p999", 0.999]];

/** The `key\tvalue` lines, without the `zk_` prefix, in mntr order. */
export function mntrEntries(registry: MetricsRegistry, head: { version: string; serverState: string }): [string, string][] {
  const entries: [string, string][] = [["version", head.version], ["server_state", head.serverState]];
  for (const metric of inMntrOrder(registry.metrics())) entries.push(...entriesOf(metric));
  return entries;
}

export function formatMntrLines(entries: readonly [string, string][]): string {
  return entries.map(([key, value]) => `zk_${key}\t${value}\n`).join("");
}

/** Metrics sorted by ZooKeeper's order; ones it does not know go last, in registration order. */
export function inMntrOrder(metrics: readonly Metric[]): Metric[] {
  const rank = new Map(MNTR_ORDER.map((name, index) => [name, index]));
  const position = (metric: Metric) => rank.get(metric.name) ?? MNTR_ORDER.length;
  return metrics.map((metric, index) => ({ metric, index }))
    .sort((a, b) => position(a.metric) - position(b.metric) || a.index - b.index)
    .map(({ metric }) => metric);
}

function entriesOf(metric: Metric): [string, string][] {
  switch (metric.kind) {
    case "counter":
      return [[metric.name, String(Math.trunc(metric.value))]];
    case "gauge": {
      const value = metric.read();
      return [[metric.name, metric.format === "double" ? javaDouble(value) : String(Math.trunc(value))]];
    }
    case "summary": {
      const { summary, name } = metric;
      const lines: [string, string][] = [
        [`avg_${name}`, javaDouble(summary.average())],
        [`min_${name}`, String(Math.trunc(summary.min))],
        [`max_${name}`, String(Math.trunc(summary.max))],
        [`cnt_${name}`, String(summary.count)],
        [`sum_${name}`, String(Math.trunc(summary.sum))],
      ];
      if (summary.detailed) {
        const values = summary.quantiles(PERCENTILES.map(([, q]) => q));
        PERCENTILES.forEach(([label], index) => lines.push([`${label}_${name}`, String(Math.trunc(values[index]!))]));
      }
      return lines;
    }
  }
}
