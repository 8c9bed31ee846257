/**
 * Gives memory back after clients that held a lot of unsent output are gone. Their buffers are
 * garbage then, but V8 (Node, Deno) starts a full collection only when the heap or external memory
 * grows, not when it shrinks: an idle server that was attacked kept gigabytes resident for good.
 * So after enough output was dropped, the driver asks for one collection (rate-limited; a full
 * collection of a large data tree takes a while, and must not run on every close).
 */

/** Output released by closed connections before a collection is asked for. */
export const RELEASE_COLLECT_BYTES_MIN = 32 * 1024 * 1024;
/** At most one collection per this period. */
export const RELEASE_COLLECT_PERIOD_MS = 30_000;
/** Wait this long after the release (more connections may be closing at the same time). */
const RELEASE_COLLECT_DELAY_MS = 1000;

type Collect = () => void;

let collector: Promise<Collect | null> | null = null;

/**
 * The runtime's "collect garbage now", or null when it offers none: Bun.gc; on V8 the `gc`
 * function of a fresh context once --expose-gc is set (node:v8 and node:vm work under Node and
 * Deno). Loaded on first use only.
 */
function findCollector(): Promise<Collect | null> {
  collector ??= (async () => {
    const bun = (globalThis as { Bun?: { gc?: (force: boolean) => void } }).Bun;
    if (typeof bun?.gc === "function") return () => bun.gc!(true);
    try {
      const v8 = await import("node:v8");
      const vm = await import("node:vm");
      v8.setFlagsFromString("--expose-gc");
      const gc: unknown = vm.runInNewContext("gc");
      return typeof gc === "function" ? () => (gc as () => void)() : null;
    } catch {
      return null;
    }
  })();
  return collector;
}

/** Counts output dropped with closed connections and asks for a collection when it adds up. */
export class MemoryReleaser {
  #released = 0;
  #lastCollectAtMs = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly #now: () => number;
  readonly #log: (message: string) => void;

  constructor(now: () => number, log: (message: string) => void) {
    this.#now = now;
    this.#log = log;
  }

  /** A connection closed that had up to `bytes` of unsent output. */
  released(bytes: number): void {
    if (bytes <= 0) return;
    this.#released += bytes;
    if (this.#released < RELEASE_COLLECT_BYTES_MIN || this.#timer !== undefined) return;
    const delayMs = Math.max(RELEASE_COLLECT_DELAY_MS, this.#lastCollectAtMs + RELEASE_COLLECT_PERIOD_MS - this.#now());
    this.#timer = setTimeout(() => void this.#collect(), delayMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #collect(): Promise<void> {
    const released = this.#released;
    this.#released = 0;
    this.#lastCollectAtMs = this.#now();
    const collect = await findCollector();
    this.#timer = undefined;
    if (collect === null) return;
    const startedAt = this.#now();
    collect();
    this.#log(`collected garbage after closed connections released ${released} bytes of unsent output (${this.#now() - startedAt} ms)`);
  }
}
