/**
 * Real-socket behaviour the memory network cannot show: bytes pile up in bufferedBytes when the peer
 * stops reading, and close() still ends the socket (after the linger time) instead of waiting forever.
 */
import assert from "node:assert/strict";
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { test } from "node:test";
import type { Socket, SocketHandler, Transport } from "../../src/transport/transport.ts";
import { waitFor } from "../support/wait_for.ts";
import { Recorder } from "./transport_suite.ts";

const CHUNK_BYTES = 1024 * 1024;
const CHUNKS = 48;

/** A raw client that connects and never reads (its socket is paused at once). */
function connectNonReader(port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const raw = netConnect({ host: "127.0.0.1", port });
    raw.pause();
    raw.once("error", reject);
    raw.once("connect", () => resolve(raw));
  });
}

export function backpressureSuite(name: string, makeTransport: () => Transport): void {
  test(`${name} transport: bufferedBytes grows while the peer does not read; close still ends the socket`, async () => {
    const transport = makeTransport();
    let serverSocket: Socket | null = null;
    const serverRecorder = new Recorder();
    const listener = await transport.listen({ host: "127.0.0.1", port: 0 }, (socket): SocketHandler => {
      serverSocket = socket;
      return serverRecorder;
    });
    const raw = await connectNonReader(listener.port);
    try {
      await waitFor(() => serverSocket !== null, { timeoutMs: 5000, what: "the server side to accept" });
      const socket = serverSocket!;
      const chunk = new Uint8Array(CHUNK_BYTES);
      for (let i = 0; i < CHUNKS; i++) socket.write(chunk);
      // The kernel takes a few MiB at most (send + receive buffers); the rest must wait with us.
      await waitFor(() => socket.bufferedBytes > 16 * CHUNK_BYTES && socket.bufferedBytes <= CHUNKS * CHUNK_BYTES, {
        timeoutMs: 5000,
        what: `bufferedBytes above 16 MiB (is ${socket.bufferedBytes})`,
      });
      const buffered = socket.bufferedBytes;
      socket.close();
      await waitFor(() => serverRecorder.closes === 1, { timeoutMs: 8000, what: `onClose after close() with ${buffered} bytes unsent` });
    } finally {
      raw.destroy();
      await listener.close();
    }
  });
}
