/**
 * The process's own health, read the same way on Deno, Bun and Node (node:process, node:fs,
 * node:perf_hooks): resident memory, heap, CPU time, open file descriptors, event-loop lag (a timer's
 * drift, as ZooKeeper's JvmPauseMonitor measures JVM pauses) and garbage collections where the
 * runtime reports them (Node's PerformanceObserver "gc" entries; Deno and Bun report none today,
 * so their GC family stays empty and `gcObserved` says so).
 */
import { readdirSync, readFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { detectRuntime } from "../../transport/auto.ts";
import type { LabelledSample, MetricsRegistry } from "./registry.ts";
import type { Summary } from "./summary.ts";

/** How often the lag sampler wakes (ZooKeeper's JvmPauseMonitor sleeps 500 ms). */
export const LAG_SAMPLE_INTERVAL_MS = 500;

/** Node's gc entry kinds (perf_hooks constants NODE_PERFORMANCE_GC_*) as the `gc` label. */
const GC_KINDS: Readonly<Record<number, string>> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" };

interface GcTotals {
  count: number;
  seconds: number;
}

export class ProcessMetrics {
  readonly #pause: Summary;
  readonly #startedAtSeconds: number;
  #lagMs = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #observer: PerformanceObserver | null = null;
  readonly #gc = new Map<string, GcTotals>();
  /** Whether the runtime delivered GC entries (false on runtimes that do not report them). */
  gcObserved = false;

  /** Registers the process gauges and families on `registry`, and ZooKeeper's jvm_pause_time_ms. */
  constructor(registry: MetricsRegistry, nowMs: number) {
    this.#startedAtSeconds = Math.floor((nowMs - process.uptime() * 1000) / 1000);
    this.#pause = registry.summary("jvm_pause_time_ms", { detailed: true });
    registry.gauge("open_file_descriptor_count", () => openFileDescriptors());
    registry.gauge("max_file_descriptor_count", () => maxFileDescriptors());
    registry.family(plain("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", () => process.memoryUsage().rss));
    registry.family(plain("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpuSeconds));
    registry.family(plain("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", () => this.#startedAtSeconds));
    registry.family(plain("process_open_fds", "gauge", "Number of open file descriptors.", () => openFileDescriptors()));
    registry.family(plain("process_max_fds", "gauge", "Maximum number of open file descriptors.", () => maxFileDescriptors()));
    // The JavaScript heap under the JVM names ZooKeeper's dashboards chart (area="heap").
    registry.family({
      kind: "family", name: "jvm_memory_bytes_used", type: "gauge",
      help: "Used bytes of a given JVM memory area (here: the JavaScript engine's heap).",
      samples: () => [{ labels: { area: "heap" }, value: process.memoryUsage().heapUsed }],
    });
    registry.family({
      kind: "family", name: "jvm_memory_bytes_committed", type: "gauge",
      help: "Committed (bytes) of a given JVM memory area (here: the JavaScript engine's heap).",
      samples: () => [{ labels: { area: "heap" }, value: process.memoryUsage().heapTotal }],
    });
    registry.family({
      kind: "family", name: "jvm_gc_collection_seconds", type: "summary",
      help: "Time spent in a given JVM garbage collector in seconds (here: the runtime's GC kinds, where it reports them).",
      samples: () => this.#gcSamples(),
    });
    registry.family(plain("corral_event_loop_lag_seconds", "gauge",
      "How late the last event-loop lag sample fired, in seconds.", () => this.#lagMs / 1000));
    const runtime = detectRuntime();
    registry.family({
      kind: "family", name: "corral_runtime_info", type: "gauge", help: "The JavaScript runtime serving (always 1).",
      samples: () => [{ labels: { runtime, version: runtimeVersion() }, value: 1 }],
    });
  }

  /** Starts the lag sampler and the GC observer. Both are unref'd: they never keep the process alive. */
  start(now: () => number = () => performance.now()): void {
    if (this.#timer !== null) return;
    let expected = now() + LAG_SAMPLE_INTERVAL_MS;
    this.#timer = setInterval(() => {
      const at = now();
      const lateMs = Math.max(0, at - expected);
      expected = at + LAG_SAMPLE_INTERVAL_MS;
      this.#lagMs = lateMs;
      this.#pause.add(Math.round(lateMs));
    }, LAG_SAMPLE_INTERVAL_MS);
    this.#timer.unref?.();
    this.#observeGc();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#observer?.disconnect();
    this.#observer = null;
  }

  #observeGc(): void {
    try {
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const detail = (entry as { detail?: { kind?: number }; kind?: number });
          const kind = GC_KINDS[detail.detail?.kind ?? detail.kind ?? 0] ?? "other";
          const totals = this.#gc.get(kind) ?? { count: 0, seconds: 0 };
          totals.count++;
          totals.seconds += entry.duration / 1000;
          this.#gc.set(kind, totals);
          this.gcObserved = true;
        }
      });
      observer.observe({ entryTypes: ["gc"] });
      this.#observer = observer;
    } catch {
      // The runtime has no "gc" entries (Deno, Bun): the family stays empty.
      this.#observer = null;
    }
  }

  #gcSamples(): LabelledSample[] {
    const samples: LabelledSample[] = [];
    for (const [gc, totals] of this.#gc) {
      samples.push({ suffix: "_count", labels: { gc }, value: totals.count });
      samples.push({ suffix: "_sum", labels: { gc }, value: totals.seconds });
    }
    return samples;
  }
}

function plain(name: string, type: "gauge" | "counter", help: string, read: () => number) {
  return { kind: "family" as const, name, type, help, samples: () => [{ labels: {}, value: read() }] };
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Entries of /proc/self/fd (Linux); -1 where there is no /proc, as ZooKeeper reports unknown. */
export function openFileDescriptors(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

/** The soft "Max open files" limit from /proc/self/limits; -1 when unknown. */
export function maxFileDescriptors(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((text) => text.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    const value = soft === undefined ? NaN : Number(soft);
    return Number.isFinite(value) ? value : -1;
  } catch {
    return -1;
  }
}

function runtimeVersion(): string {
  const global = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (global.Deno !== undefined) return global.Deno.version.deno;
  if (global.Bun !== undefined) return global.Bun.version;
  return process.version;
}
