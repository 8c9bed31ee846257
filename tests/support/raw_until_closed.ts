/** A raw TCP probe: what a server does with some bytes (or none), and when it hangs up. */
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { encodeConnectRequest } from "../../src/wire/client_protocol.ts";

/** A new client's first request (a ConnectRequest frame for a new session): what a server answers first. */
export const CONNECT_REQUEST: Uint8Array = encodeConnectRequest({
  protocolVersion: 0,
  lastZxidSeen: 0,
  timeOut: 30_000,
  sessionId: 0n,
  passwd: new Uint8Array(16),
  readOnly: false,
});

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

/**
 * Completes a TLS handshake with host:port (trusting `ca`), sends `request` over TLS and waits for
 * the first bytes of an answer (so the server is past its handshake), then writes a damaged TLS
 * record under the TLS layer: "closed" when the server then hangs up within `boundMs`, else "open".
 */
export function closesOnDamagedRecord(host: string, port: number, ca: string, request: Uint8Array, boundMs: number): Promise<"closed" | "open"> {
  return new Promise((resolve, reject) => {
    const raw = netConnect({ host, port });
    raw.on("error", () => {});
    const tls = tlsConnect({ socket: raw, ca, servername: "localhost" });
    tls.on("error", () => {});
    tls.once("secureConnect", () => tls.write(request));
    tls.once("data", () => {
      // An application-data record whose bytes cannot decrypt.
      raw.write(new Uint8Array([23, 3, 3, 0, 5, 1, 2, 3, 4, 5]));
      const timer = setTimeout(() => {
        raw.destroy();
        resolve("open");
      }, boundMs);
      raw.once("close", () => {
        clearTimeout(timer);
        resolve("closed");
      });
    });
    setTimeout(() => reject(new Error(`no TLS answer from ${host}:${port} within 10 s`)), 10_000).unref?.();
  });
}
