/**
 * Shared pieces of the hostile-client tests (clients_*_test.ts): the server's resident memory read
 * from /proc, a sampler that keeps its peak, and a well-behaved client that measures its own
 * latency while other connections attack the server.
 */
import { readFileSync } from "node:fs";
import type { Request } from "../../src/core/records.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { encodeRequest } from "../../src/wire/client_protocol.ts";
import { SessionClient } from "../driver/support/session_client.ts";

export const MIB = 1024 * 1024;

/** VmRSS of process `pid` in bytes (Linux /proc); throws when the process is gone. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every `intervalMs` and keeps the peak; `limit` is checked on each sample. */
export class RssSampler {
  readonly #pid: number;
  #timer: ReturnType<typeof setInterval>;
  peak = 0;
  last = 0;
  samples = 0;
  /** Set once a sample passed `limitBytes`: the test stops attacking at once (the machine is shared). */
  exceeded = false;

  constructor(pid: number, limitBytes: number, intervalMs = 25) {
    this.#pid = pid;
    const sample = () => {
      try {
        this.last = rssBytes(this.#pid);
      } catch {
        return;
      }
      this.samples++;
      if (this.last > this.peak) this.peak = this.last;
      if (this.last > limitBytes) this.exceeded = true;
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

export function megabytes(bytes: number): string {
  return `${(bytes / MIB).toFixed(0)} MiB`;
}

/** `count` copies of `request` with xids first..first+count-1, in one buffer. */
export function requestBatch(request: Request, first: number, count: number): Uint8Array {
  const template = encodeRequest(0, request).slice();
  const batch = new Uint8Array(template.length * count);
  const view = new DataView(batch.buffer);
  for (let i = 0; i < count; i++) {
    batch.set(template, i * template.length);
    view.setInt32(i * template.length + 4, first + i);
  }
  return batch;
}

/** The p-quantile (0..1) of `values` (nearest rank); 0 for none. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * A normal client: one request at a time (`request`), each with its own deadline, recording every
 * latency, until stop(). A failure (timeout, closed connection, error code) is kept, not thrown.
 */
export class LatencyProbe {
  readonly client: SessionClient;
  readonly #request: Request;
  readonly #timeoutMs: number;
  readonly latencies: number[] = [];
  /** performance.now() at the end of each request (same index as latencies). */
  readonly finishedAt: number[] = [];
  failure: string | null = null;
  /** performance.now() when the request in flight was sent; null between requests. */
  #inFlightSince: number | null = null;
  #stopping = false;
  #loop: Promise<void> = Promise.resolve();

  private constructor(client: SessionClient, request: Request, timeoutMs: number) {
    this.client = client;
    this.#request = request;
    this.#timeoutMs = timeoutMs;
  }

  static async start(port: number, request: Request, timeoutMs: number): Promise<LatencyProbe> {
    const client = await SessionClient.open(await defaultTransport(), port, { timeOut: 30000 });
    const probe = new LatencyProbe(client, request, timeoutMs);
    probe.#loop = probe.#run();
    return probe;
  }

  /**
   * Latencies recorded from index `from` on (to measure one phase of a test), plus the age of the
   * request still in flight: a server that stopped answering must not look fast.
   */
  since(from: number): number[] {
    const values = this.latencies.slice(from);
    if (this.#inFlightSince !== null) values.push(performance.now() - this.#inFlightSince);
    return values;
  }

  /** "latency@finish" of the requests slower than `ms` from index `from` on, times relative to `origin`. */
  slow(from: number, ms: number, origin: number): string {
    const out: string[] = [];
    for (let i = from; i < this.latencies.length; i++) {
      if (this.latencies[i]! > ms) out.push(`${this.latencies[i]!.toFixed(0)}@${(this.finishedAt[i]! - origin).toFixed(0)}`);
    }
    return out.join(" ");
  }

  async #run(): Promise<void> {
    // Bounded: a few requests per millisecond at most, for as long as a test runs.
    for (let i = 0; i < 1_000_000 && !this.#stopping; i++) {
      try {
        this.#inFlightSince = performance.now();
        const reply = await this.client.request(this.#request, this.#timeoutMs);
        this.#inFlightSince = null;
        if (reply.err !== 0) throw new Error(`${this.#request.kind} answered err ${reply.err}`);
        this.latencies.push(reply.latencyMs);
        this.finishedAt.push(performance.now());
      } catch (error) {
        this.failure ??= `request ${i}: ${error instanceof Error ? error.message : String(error)}`;
        return;
      }
      // Yield to timers (the RSS sampler) between requests; 2 ms keeps the probe from hogging a core.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    this.client.close();
  }
}
