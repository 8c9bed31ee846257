/**
 * The client's clock and timers (src/client/client_options.ts Timers) on the simulator's virtual
 * time, optionally running at a slightly wrong rate (a client machine's clock drift).
 */
import type { Timers } from "../client/client_options.ts";
import type { Scheduler } from "./event_queue.ts";

interface VirtualTimer {
  cancelled: boolean;
}

/**
 * Timers whose `now()` reads `offsetMs + virtual time × rate` and whose callbacks run as events of
 * `scheduler`, after `delayMs / rate` of virtual time. A cleared timer stays queued as a no-op.
 */
export function virtualTimers(scheduler: Scheduler, options: { rate?: number; offsetMs?: number } = {}): Timers {
  const rate = options.rate ?? 1;
  const offsetMs = options.offsetMs ?? 0;
  if (!(rate > 0)) throw new RangeError(`a clock rate must be positive, got ${rate}`);
  return {
    now: () => offsetMs + scheduler.nowMs * rate,
    setTimeout(callback: () => void, delayMs: number): unknown {
      const timer: VirtualTimer = { cancelled: false };
      const virtualMs = Number.isFinite(delayMs) ? Math.max(0, delayMs) / rate : 0;
      scheduler.after(virtualMs, () => {
        if (!timer.cancelled) callback();
      });
      return timer;
    },
    clearTimeout(handle: unknown): void {
      if (typeof handle === "object" && handle !== null && "cancelled" in handle) (handle as VirtualTimer).cancelled = true;
    },
  };
}
