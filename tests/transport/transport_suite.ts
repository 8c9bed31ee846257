/**
 * The behaviour every Transport must have, as one suite each adapter's test file runs:
 * echo, large writes arriving whole, onClose exactly once from either side, refused connects.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Listener, Socket, SocketHandler, Transport } from "../../src/transport/transport.ts";
import { waitFor } from "../support/wait_for.ts";

/** Collects what a socket receives and how often it was closed. */
export class Recorder implements SocketHandler {
  chunks: Uint8Array[] = [];
  bytes = 0;
  closes = 0;
  closeError: Error | undefined = undefined;
  onData(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
    this.bytes += chunk.length;
  }
  onClose(error?: Error): void {
    this.closes++;
    this.closeError = error;
  }
  received(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
  text(): string {
    return new TextDecoder().decode(this.received());
  }
}

/** An accept callback that echoes everything back, remembering each server-side socket. */
export function echoServer(): { accept: (socket: Socket) => SocketHandler; sockets: Socket[]; recorders: Recorder[] } {
  const sockets: Socket[] = [];
  const recorders: Recorder[] = [];
  return {
    sockets,
    recorders,
    accept: (socket) => {
      sockets.push(socket);
      const recorder = new Recorder();
      recorders.push(recorder);
      return {
        onData: (chunk) => {
          recorder.onData(chunk);
          socket.write(chunk.slice());
        },
        onClose: (error) => recorder.onClose(error),
      };
    },
  };
}

export function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

export interface SuiteOptions {
  /** Host to listen on and connect to ("127.0.0.1" for real sockets, a name for the memory network). */
  host: string;
}

export function transportSuite(name: string, makeTransport: () => Transport, options: SuiteOptions): void {
  const host = options.host;

  async function withListener<T>(
    transport: Transport,
    accept: (socket: Socket) => SocketHandler,
    body: (listener: Listener) => Promise<T>,
  ): Promise<T> {
    const listener = await transport.listen({ host, port: 0 }, accept);
    try {
      return await body(listener);
    } finally {
      await listener.close();
    }
  }

  describe(`${name} transport`, () => {
    test("echo round trip", async () => {
      const transport = makeTransport();
      const server = echoServer();
      await withListener(transport, server.accept, async (listener) => {
        assert.ok(listener.port > 0, "listener reports the port it got for port 0");
        const client = new Recorder();
        const socket = await transport.connect({ host, port: listener.port, timeoutMs: 5000 }, client);
        socket.write(new TextEncoder().encode("hello "));
        socket.write(new TextEncoder().encode("world"));
        await waitFor(() => client.bytes >= 11, { timeoutMs: 5000, what: "the echo" });
        assert.equal(client.text(), "hello world");
        assert.ok(server.sockets[0]!.remotePort > 0, "server side knows the client's port");
        socket.close();
        await waitFor(() => client.closes === 1 && server.recorders[0]!.closes === 1, { timeoutMs: 5000, what: "both sides closed" });
      });
    });

    test("a 3 MiB write arrives whole and in order", async () => {
      const transport = makeTransport();
      const server = echoServer();
      await withListener(transport, server.accept, async (listener) => {
        const client = new Recorder();
        const socket = await transport.connect({ host, port: listener.port, timeoutMs: 5000 }, client);
        const payload = randomBytes(3 * 1024 * 1024 + 17, 7);
        socket.write(payload);
        await waitFor(() => client.bytes >= payload.length, { timeoutMs: 15000, what: "3 MiB echoed back" });
        assert.equal(client.bytes, payload.length);
        assert.deepEqual(client.received(), payload);
        socket.close();
        await waitFor(() => client.closes === 1, { timeoutMs: 5000, what: "client closed" });
      });
    });

    test("client close: onClose once on both sides, queued bytes delivered first", async () => {
      const transport = makeTransport();
      const server = echoServer();
      await withListener(transport, server.accept, async (listener) => {
        const client = new Recorder();
        const socket = await transport.connect({ host, port: listener.port, timeoutMs: 5000 }, client);
        socket.write(new TextEncoder().encode("last words"));
        socket.close();
        socket.close(); // a second close is harmless
        socket.write(new TextEncoder().encode("dropped")); // after close: dropped
        await waitFor(() => client.closes >= 1 && (server.recorders[0]?.closes ?? 0) >= 1, { timeoutMs: 5000, what: "both sides closed" });
        assert.equal(server.recorders[0]!.text(), "last words");
        await roundTrip(transport);
        assert.equal(client.closes, 1);
        assert.equal(server.recorders[0]!.closes, 1);
      });
    });

    test("server close: the client gets the bytes, then onClose once", async () => {
      const transport = makeTransport();
      const serverRecorders: Recorder[] = [];
      const accept = (socket: Socket): SocketHandler => {
        const recorder = new Recorder();
        serverRecorders.push(recorder);
        return {
          onData: (chunk) => {
            recorder.onData(chunk);
            socket.write(new TextEncoder().encode("bye"));
            socket.close();
          },
          onClose: (error) => recorder.onClose(error),
        };
      };
      await withListener(transport, accept, async (listener) => {
        const client = new Recorder();
        const socket = await transport.connect({ host, port: listener.port, timeoutMs: 5000 }, client);
        socket.write(new TextEncoder().encode("hi"));
        await waitFor(() => client.closes >= 1 && (serverRecorders[0]?.closes ?? 0) >= 1, { timeoutMs: 5000, what: "both sides closed" });
        assert.equal(client.text(), "bye");
        await roundTrip(transport);
        assert.equal(client.closes, 1);
        assert.equal(serverRecorders[0]!.closes, 1);
      });
    });

    test("connect to a port nobody listens on rejects with a clear error", async () => {
      const transport = makeTransport();
      const listener = await transport.listen({ host, port: 0 }, echoServer().accept);
      const port = listener.port;
      await listener.close();
      await assert.rejects(
        transport.connect({ host, port, timeoutMs: 5000 }, new Recorder()),
        (error: Error) => error.message.includes(`${port}`),
      );
    });
  });
}

/** One more full echo exchange on a fresh connection: proves the event loop moved on. */
async function roundTrip(transport: Transport): Promise<void> {
  const server = echoServer();
  const listener = await transport.listen({ host: hostOf(transport), port: 0 }, server.accept);
  try {
    const client = new Recorder();
    const socket = await transport.connect({ host: hostOf(transport), port: listener.port, timeoutMs: 5000 }, client);
    socket.write(new Uint8Array([1, 2, 3]));
    await waitFor(() => client.bytes === 3, { timeoutMs: 5000, what: "a round trip" });
    socket.close();
    await waitFor(() => client.closes === 1, { timeoutMs: 5000, what: "round-trip socket closed" });
  } finally {
    await listener.close();
  }
}

function hostOf(transport: Transport): string {
  return transport.name === "memory" ? "localhost" : "127.0.0.1";
}
