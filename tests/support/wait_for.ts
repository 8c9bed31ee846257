/** Bounded polling: the only way tests wait for something to happen. */

export interface WaitForOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** What is being waited for, for the error message ("ZooKeeper to answer ruok"). */
  what: string;
  /** Pause between polls; default 50 ms. */
  intervalMs?: number;
}

/**
 * Calls `predicate` until it returns a truthy value and resolves with that value. Throws when
 * `timeoutMs` passes first; the error names `what` and the last error the predicate threw, if any.
 * An error carrying `fatal: true` (e.g. a member that exited on its own) is rethrown at once:
 * waiting longer cannot help.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<NonNullable<T>> {
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown = undefined;
  for (let attempt = 0;; attempt++) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      if ((error as { fatal?: unknown } | null)?.fatal === true) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? "" : `; last error: ${describeError(lastError)}`;
      throw new Error(
        `timed out after ${options.timeoutMs} ms (${attempt + 1} tries) waiting for ${options.what}${cause}`,
      );
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Resolves after `ms` milliseconds. Only for pacing polls; never to "let things settle". */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
