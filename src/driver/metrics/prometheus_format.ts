/**
 * The registry in Prometheus's text exposition format (version 0.0.4), shaped as ZooKeeper 3.8's
 * PrometheusMetricsProvider (Prometheus simpleclient 0.9) writes it, so dashboards and alerts built
 * for ZooKeeper read Corral unchanged: the metric names without `zk_`, HELP equal to the name,
 * counters without a `_total` suffix, summaries with quantile 0.5 (basic) or 0.5/0.9/0.99 (detailed)
 * plus `_count` and `_sum`, numbers as Java doubles (`10.0`), labels with simpleclient's trailing
 * comma. Process metrics follow simpleclient_hotspot's names (process_*, jvm_memory_bytes_*).
 */
import { javaDouble } from "./java_double.ts";
import { inMntrOrder } from "./mntr_format.ts";
import type { LabelledFamily, Metric, MetricsRegistry } from "./registry.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const BASIC_QUANTILES: readonly number[] = [0.5];
const DETAILED_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

export function formatPrometheus(registry: MetricsRegistry): string {
  const parts: string[] = [];
  for (const metric of inMntrOrder(registry.metrics())) parts.push(formatMetric(metric));
  for (const family of registry.families()) parts.push(formatFamily(family));
  return parts.join("");
}

function formatMetric(metric: Metric): string {
  const name = metric.name;
  switch (metric.kind) {
    case "counter":
      return `${header(name, name, "counter")}${name} ${javaDouble(metric.value)}\n`;
    case "gauge":
      return `${header(name, name, "gauge")}${name} ${javaDouble(metric.read())}\n`;
    case "summary": {
      const { summary } = metric;
      const qs = summary.detailed ? DETAILED_QUANTILES : BASIC_QUANTILES;
      // No observations: simpleclient's sketches report NaN quantiles; so do we.
      const values = summary.count === 0 ? qs.map(() => NaN) : summary.quantiles(qs);
      let text = header(name, name, "summary");
      qs.forEach((q, index) => {
        text += `${name}${labels({ quantile: String(q) })} ${javaDouble(values[index]!)}\n`;
      });
      text += `${name}_count ${javaDouble(summary.count)}\n`;
      text += `${name}_sum ${javaDouble(summary.sum)}\n`;
      return text;
    }
  }
}

function formatFamily(family: LabelledFamily): string {
  let text = header(family.name, family.help, family.type);
  for (const sample of family.samples()) {
    text += `${family.name}${sample.suffix ?? ""}${labels(sample.labels)} ${javaDouble(sample.value)}\n`;
  }
  return text;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** `{a="1",b="2",}` as simpleclient writes labels; nothing without labels. */
function labels(values: Readonly<Record<string, string>>): string {
  const entries = Object.entries(values);
  if (entries.length === 0) return "";
  return `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}",`).join("")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
