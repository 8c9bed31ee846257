/**
 * A registry of ZooKeeper-named metrics: counters (the driver increments them), gauges (read when
 * scraped, from the core's status and the process), summaries (summary.ts) and labelled gauge
 * families (process metrics that only Prometheus shows). `mntr` (mntr_format.ts) and the Prometheus
 * endpoint (prometheus_format.ts) both render this one registry, so they cannot disagree.
 */
import { Summary } from "./summary.ts";

/** How `mntr` prints a gauge: ZooKeeper's long gauges print as integers, double ones as Java doubles. */
export type GaugeFormat = "long" | "double";

export interface GaugeMetric {
  kind: "gauge";
  name: string;
  format: GaugeFormat;
  read(): number;
}

export interface CounterMetric {
  kind: "counter";
  name: string;
  value: number;
}

export interface SummaryMetric {
  kind: "summary";
  name: string;
  summary: Summary;
}

/** A Prometheus-only family with labels (`jvm_memory_bytes_used{area="heap"}`); not in `mntr`. */
export interface LabelledFamily {
  kind: "family";
  name: string;
  type: "gauge" | "counter" | "summary";
  help: string;
  samples(): LabelledSample[];
}

export interface LabelledSample {
  /** Appended to the family name: "" or "_count", "_sum". */
  suffix?: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export type Metric = GaugeMetric | CounterMetric | SummaryMetric;

/** Names Prometheus accepts (and ZooKeeper's all are). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  readonly #families = new Map<string, LabelledFamily>();

  counter(name: string): CounterMetric {
    const existing = this.#metrics.get(name);
    if (existing !== undefined) return expectKind(existing, "counter");
    const counter: CounterMetric = { kind: "counter", name: checkName(name), value: 0 };
    this.#metrics.set(name, counter);
    return counter;
  }

  /** Registers (or replaces) a gauge read when the registry is rendered. */
  gauge(name: string, read: () => number, format: GaugeFormat = "long"): void {
    const existing = this.#metrics.get(name);
    if (existing !== undefined) expectKind(existing, "gauge");
    this.#metrics.set(name, { kind: "gauge", name: checkName(name), format, read });
  }

  /** `detailed`: percentiles in mntr and three quantiles in Prometheus (ZooKeeper's ADVANCED level). */
  summary(name: string, options: { detailed: boolean }): Summary {
    const existing = this.#metrics.get(name);
    if (existing !== undefined) {
      const summary = expectKind(existing, "summary").summary;
      if (summary.detailed !== options.detailed) throw new Error(`summary ${name} is registered with another detail level`);
      return summary;
    }
    const summary = new Summary(checkName(name), options);
    this.#metrics.set(name, { kind: "summary", name, summary });
    return summary;
  }

  family(family: LabelledFamily): void {
    checkName(family.name);
    if (this.#metrics.has(family.name)) throw new Error(`metric ${family.name} is registered already`);
    this.#families.set(family.name, family);
  }

  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /** Every metric, in registration order. */
  metrics(): Metric[] {
    return [...this.#metrics.values()];
  }

  families(): LabelledFamily[] {
    return [...this.#families.values()];
  }

  /** `srst`: counters and summaries start again (gauges read live values). */
  reset(): void {
    for (const metric of this.#metrics.values()) {
      if (metric.kind === "counter") metric.value = 0;
      else if (metric.kind === "summary") metric.summary.reset();
    }
  }
}

function checkName(name: string): string {
  if (!METRIC_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid metric name`);
  return name;
}

function expectKind<K extends Metric["kind"]>(metric: Metric, kind: K): Extract<Metric, { kind: K }> {
  if (metric.kind !== kind) throw new Error(`metric ${metric.name} is a ${metric.kind}, not a ${kind}`);
  return metric as Extract<Metric, { kind: K }>;
}
