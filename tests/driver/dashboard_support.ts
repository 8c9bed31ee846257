/**
 * Test support for the dashboard tests: reading Server-Sent Events from /dashboard/events with
 * bounded waits (fetch's streaming body works in Deno, Bun and Node).
 */

export interface EventStream {
  readonly status: number;
  /** The next `state` event's JSON; throws after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves true once the server ended the stream (false after `timeoutMs`). */
  ended(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

/** Opens the event stream; a refused one (503) has status 503 and no events. */
export async function openEvents(url: string): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  let pending: Promise<void> | null = null;
  const pull = (): Promise<void> => {
    pending ??= reader.read().then(
      (chunk) => {
        pending = null;
        if (chunk.done) done = true;
        else buffer += decoder.decode(chunk.value, { stream: true });
      },
      () => {
        pending = null;
        done = true;
      },
    );
    return pending;
  };
  const within = <T>(promise: Promise<T>, deadline: number): Promise<T | "late"> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(1, deadline - Date.now()));
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  };
  return {
    status: response.status,
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (let reads = 0; reads < 10_000; reads++) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (/^event: state$/m.test(block) && data !== null) return JSON.parse(data[1]!) as Record<string, unknown>;
          continue;
        }
        if (done) throw new Error("the event stream ended");
        if (Date.now() >= deadline || (await within(pull(), deadline)) === "late") {
          throw new Error(`no dashboard event within ${timeoutMs} ms`);
        }
      }
      throw new Error("too many reads without an event");
    },
    async ended(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (let reads = 0; reads < 10_000 && !done; reads++) {
        if (Date.now() >= deadline || (await within(pull(), deadline)) === "late") return false;
        buffer = "";
      }
      return done;
    },
    close() {
      abort.abort();
      reader.cancel().catch(() => {});
    },
  };
}

/** The origin of an AdminServer whose command URL is `adminUrl` ("http://127.0.0.1:p/commands"). */
export function originOf(adminUrl: string): string {
  return new URL(adminUrl).origin;
}
