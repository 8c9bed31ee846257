/**
 * CPU time charged to one simulated server process. Everything in the benchmark runs on one thread
 * and synchronously, so the CPU time the process uses while a server's work runs is that server's.
 * It is read with process.cpuUsage() (microseconds; about 1 µs a call on Node and Deno, 3 on Bun),
 * not the wall clock, so time the machine gave to other programs is not charged. Client-side work
 * runs outside every meter.
 */
import { cpuUsage } from "node:process";

export class CpuMeter {
  #totalMicros = 0;
  #charging = false;

  /** Milliseconds charged so far. */
  get totalMs(): number {
    return this.#totalMicros / 1000;
  }

  /** Runs `work`, charging its CPU time to this meter. Meters do not nest: an inner one would be counted twice. */
  charge<T>(work: () => T): T {
    if (this.#charging) throw new Error("CpuMeter.charge: already charging (meters must not nest)");
    this.#charging = true;
    const before = cpuUsage();
    try {
      return work();
    } finally {
      const used = cpuUsage(before);
      this.#totalMicros += used.user + used.system;
      this.#charging = false;
    }
  }

  reset(): void {
    this.#totalMicros = 0;
  }
}
