/**
 * SessionShell over a scripted transport: how requests reach the socket (batched per synchronous
 * stretch, in order), slots and aborts, and the ping timer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Client, createClient } from "../../src/client/mod.ts";
import { Xid } from "../../src/core/records.ts";
import { reply, zeroStat } from "./support/machine_harness.ts";
import {
  type ScriptedConnection,
  ScriptedTransport,
  type SentFrame,
  waitFor,
} from "./support/scripted_transport.ts";

const testTimeoutMs = 20_000;

async function connected(
  options: { maxOutstanding?: number; sessionTimeoutMs?: number } = {},
): Promise<{ client: Client; connection: ScriptedConnection }> {
  const transport = new ScriptedTransport(options.sessionTimeoutMs);
  const client = await createClient("127.0.0.1:2181", { ...options, transport });
  return { client, connection: transport.connections[0]! };
}

function pathOf(frame: SentFrame): string {
  return (frame.request as { path: string }).path;
}

/** One chunk holding a getData reply for each request, in order. */
function replies(requests: readonly SentFrame[]): Uint8Array {
  const frames = requests.map((request) =>
    reply(request.xid, 1, 0, { kind: "getData", data: Uint8Array.of(request.xid), stat: zeroStat })
  );
  const chunk = new Uint8Array(frames.reduce((total, frame) => total + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    chunk.set(frame, offset);
    offset += frame.length;
  }
  return chunk;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("SessionShell writes", () => {
  test("requests made in one synchronous stretch go out in one socket write, in order", {
    timeout: testTimeoutMs,
  }, async () => {
    const { client, connection } = await connected();
    try {
      const writesBefore = connection.writes.length;
      const paths = Array.from({ length: 50 }, (_, i) => `/n${i}`);
      const results = paths.map((path) => client.getData(path));
      assert.equal(connection.writes.length, writesBefore, "nothing is written during the stretch");
      await waitFor(() => connection.requests.length === 50, "50 requests");
      assert.equal(connection.writes.length, writesBefore + 1, "one write for the 50 requests");
      const sent = connection.writes[writesBefore]!.frames;
      assert.deepEqual(sent.map(pathOf), paths);
      assert.deepEqual(sent.map((frame) => frame.xid), paths.map((_, i) => i + 1));
      connection.deliver(replies(connection.requests));
      const answered = await Promise.all(results);
      assert.deepEqual(answered.map((result) => result.data[0]), paths.map((_, i) => i + 1));
    } finally {
      await client.close();
    }
  });

  test("callers resumed by one chunk of replies send their next requests in one write", {
    timeout: testTimeoutMs,
  }, async () => {
    const { client, connection } = await connected();
    try {
      const loops = Array.from({ length: 20 }, async (_, i) => {
        await client.getData(`/a${i}`);
        await client.getData(`/b${i}`);
      });
      await waitFor(() => connection.requests.length === 20, "the first 20 requests");
      const writesBefore = connection.writes.length;
      connection.deliver(replies(connection.requests));
      await waitFor(() => connection.requests.length === 40, "the next 20 requests");
      assert.equal(connection.writes.length, writesBefore + 1);
      assert.deepEqual(
        connection.writes[writesBefore]!.frames.map(pathOf),
        Array.from({ length: 20 }, (_, i) => `/b${i}`),
      );
      connection.deliver(replies(connection.requests.slice(20)));
      await Promise.all(loops);
    } finally {
      await client.close();
    }
  });
});

describe("SessionShell slots and aborts", () => {
  test("an aborted in-flight request rejects at once and holds its slot until its reply", {
    timeout: testTimeoutMs,
  }, async () => {
    const { client, connection } = await connected({ maxOutstanding: 1 });
    try {
      const controller = new AbortController();
      const first = client.getData("/first", { signal: controller.signal });
      const second = client.getData("/second");
      await waitFor(() => connection.requests.length === 1, "the first request");
      controller.abort(new Error("gave up"));
      await assert.rejects(first, /gave up/);
      // A send would be flushed within the microtasks of whatever caused it: one timer turn is enough.
      await delay(0);
      assert.equal(connection.requests.length, 1, "the second request still waits for the slot");
      connection.deliver(replies(connection.requests));
      await waitFor(() => connection.requests.length === 2, "the second request");
      assert.equal(pathOf(connection.requests[1]!), "/second");
      connection.deliver(replies(connection.requests.slice(1)));
      assert.equal((await second).data[0], 2);
    } finally {
      await client.close();
    }
  });

  test("a request waiting for a slot can be aborted; the others keep their order", {
    timeout: testTimeoutMs,
  }, async () => {
    const { client, connection } = await connected({ maxOutstanding: 1 });
    try {
      const controller = new AbortController();
      const first = client.getData("/a");
      const aborted = client.getData("/b", { signal: controller.signal });
      const third = client.getData("/c");
      controller.abort(new Error("no longer needed"));
      await assert.rejects(aborted, /no longer needed/);
      await waitFor(() => connection.requests.length === 1, "the first request");
      connection.deliver(replies(connection.requests));
      await first;
      await waitFor(() => connection.requests.length === 2, "the third request");
      connection.deliver(replies(connection.requests.slice(1)));
      await third;
      assert.deepEqual(connection.requests.map(pathOf), ["/a", "/c"]);
    } finally {
      await client.close();
    }
  });
});

describe("SessionShell timer", () => {
  test("an idle connection is pinged a ping interval after the last request, not before", {
    timeout: testTimeoutMs,
  }, async () => {
    // Granted 600 ms: read timeout 400 ms, ping interval 200 ms.
    const { client, connection } = await connected({ sessionTimeoutMs: 600 });
    try {
      // Later than the connection's own last send, so the timer set then fires before the ping is due.
      await delay(50);
      const requestedAt = performance.now();
      const result = client.getData("/x");
      await waitFor(() => connection.requests.length === 1, "the request");
      connection.deliver(replies(connection.requests));
      await result;
      const isPing = (frame: SentFrame) => frame.xid === Xid.ping;
      await waitFor(() => connection.frames().some(isPing), "a ping", 5000);
      const pingedAt = connection.writes.find((write) => write.frames.some(isPing))!.atMs;
      assert.ok(
        pingedAt - requestedAt >= 199,
        `pinged ${(pingedAt - requestedAt).toFixed(1)} ms after the last request; expected >= 200`,
      );
      assert.equal(client.state, "connected");
    } finally {
      await client.close();
    }
  });
});
