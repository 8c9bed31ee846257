/** Shared timing rules of the runtime adapters. */

/**
 * How long close() waits for queued bytes to reach the OS before dropping them and closing anyway.
 * A peer that stopped reading must not keep a socket (and its buffers) alive forever.
 */
export const CLOSE_LINGER_MS = 2000;

/** Largest buffer a write loop builds by joining small queued chunks. */
export const WRITE_COALESCE_BYTES_MAX = 256 * 1024;

/** Largest buffer a read loop reads into (reused between reads). */
export const READ_BUFFER_BYTES = 64 * 1024;
/** A new connection's read buffer; it grows (×4) up to READ_BUFFER_BYTES while reads fill it. */
export const READ_BUFFER_BYTES_MIN = 4 * 1024;

/** Calls `callback` later, outside the current call stack (so socket callbacks never nest). */
export function later(callback: () => void): void {
  queueMicrotask(callback);
}

/** A timer that does not keep the process alive on its own (Node and Bun; Deno timers have no unref). */
export function unrefTimer(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(callback, ms);
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
