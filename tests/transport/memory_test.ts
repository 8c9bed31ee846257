import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import { waitFor } from "../support/wait_for.ts";
import { Recorder, transportSuite } from "./transport_suite.ts";

transportSuite("memory", () => new MemoryNetwork().transport("a"), { host: "a" });

test("memory: hosts of one network reach each other by name; remote addresses are host names", async () => {
  const network = new MemoryNetwork();
  const alpha = network.transport("alpha");
  const beta = network.transport("beta");
  let serverSide: { remoteAddress: string; remotePort: number } | null = null;
  const listener = await alpha.listen({ host: "0.0.0.0", port: 2181 }, (socket) => {
    serverSide = socket;
    return { onData: (chunk) => socket.write(chunk.slice()), onClose: () => {} };
  });
  const client = new Recorder();
  const socket = await beta.connect({ host: "alpha", port: 2181 }, client);
  assert.equal(socket.remoteAddress, "alpha");
  assert.equal(socket.remotePort, 2181);
  socket.write(new Uint8Array([9]));
  await waitFor(() => client.bytes === 1, { timeoutMs: 2000, what: "echo" });
  assert.equal(serverSide!.remoteAddress, "beta");
  await assert.rejects(beta.connect({ host: "gamma", port: 2181 }, new Recorder()), /connection refused/);
  await assert.rejects(alpha.listen({ host: "0.0.0.0", port: 2181 }, () => client), /already in use/);
  socket.close();
  await listener.close();
});

test("memory: bufferedBytes counts bytes until the peer has them", async () => {
  const network = new MemoryNetwork();
  const transport = network.transport("a");
  const server = new Recorder();
  const listener = await transport.listen({ host: "a", port: 0 }, () => server);
  const socket = await transport.connect({ host: "a", port: listener.port }, new Recorder());
  socket.write(new Uint8Array(1000));
  socket.write(new Uint8Array(24));
  assert.equal(socket.bufferedBytes, 1024);
  await waitFor(() => server.bytes === 1024, { timeoutMs: 2000, what: "delivery" });
  assert.equal(socket.bufferedBytes, 0);
  socket.close();
  await listener.close();
});

test("memory: ping-pong without end does not starve timers", async () => {
  const network = new MemoryNetwork();
  const transport = network.transport("a");
  let exchanges = 0;
  const listener = await transport.listen({ host: "a", port: 0 }, (socket) => ({
    onData: (chunk) => socket.write(chunk.slice()),
    onClose: () => {},
  }));
  let socket: { write(bytes: Uint8Array): void; close(): void } | null = null;
  socket = await transport.connect({ host: "a", port: listener.port }, {
    onData: (chunk) => {
      exchanges++;
      socket!.write(chunk.slice());
    },
    onClose: () => {},
  });
  socket.write(new Uint8Array([1]));
  // A timer firing at all proves the pump yields; the exchanges counter proves it kept going.
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  assert.ok(exchanges > 0);
  socket.close();
  await listener.close();
});

test("memory: timers still run while code awaits one connect after another", async () => {
  const network = new MemoryNetwork();
  const transport = network.transport("a");
  const remotePorts: number[] = [];
  const listener = await transport.listen({ host: "a", port: 0 }, (socket) => {
    remotePorts.push(socket.remotePort);
    return new Recorder();
  });
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  const sockets = [];
  // Each connect's deliveries drain the queue before the next is queued: only a count across
  // bursts makes the pump yield, so the timer must run well before 5,000 connects.
  for (let i = 0; i < 5000 && !timerRan; i++) {
    sockets.push(await transport.connect({ host: "a", port: listener.port }, new Recorder()));
  }
  assert.ok(timerRan, "a 0 ms timer never ran during 5,000 awaited connects");
  assert.ok(sockets.length <= 2000, `the timer ran only after ${sockets.length} connects`);
  await waitFor(() => remotePorts.length === sockets.length, { timeoutMs: 2000, what: "accepts" });
  assert.equal(new Set(remotePorts).size, remotePorts.length, "two live connections got the same port");
  for (const socket of sockets) socket.close();
  await listener.close();
});
