/** A raw TCP probe: what a server does with some bytes (or none), and when it hangs up. */
import { connect as netConnect } from "node:net";

/**
 * Connects to host:port and sends `bytes` (if any); resolves when the server closes, with how long
 * that took and how many bytes came back, or with closedAfterMs null once `boundMs` has passed.
 * `localAddress`: connect from it (127.0.0.2: another client host on Linux's loopback).
 */
export function rawUntilClosed(
  host: string,
  port: number,
  bytes: Uint8Array | null,
  boundMs: number,
  localAddress?: string,
): Promise<{ closedAfterMs: number | null; received: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = 0;
    const socket = netConnect({ host, port, ...(localAddress === undefined ? {} : { localAddress }) }, () => {
      if (bytes !== null) socket.write(bytes);
    });
    socket.on("data", (chunk: Uint8Array) => {
      received += chunk.length;
    });
    socket.on("error", () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedAfterMs: null, received });
    }, boundMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: Date.now() - started, received });
    });
  });
}
