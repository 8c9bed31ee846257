/**
 * The wait-free promise on a live server: a client that never reads its replies, whether it floods
 * pipelined requests or trickles them, is no longer read once its unsent output
 * (outputBytesMaxPerConnection) or its unanswered requests (config.outstandingRequestsMax) pass
 * their bounds, and is closed when its session expires (its pings are not read either) or its
 * output passes the hard bound (outputBufferBytesMax), while a well-behaved canary session keeps
 * completing checked requests with bounded latency.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Request } from "../../src/core/records.ts";
import type { MemoryLogger } from "../../src/driver/logger.ts";
import { DEFAULT_OUTPUT_BUFFER_BYTES_MAX } from "../../src/driver/server_driver.ts";
import { encodeRequest } from "../../src/wire/client_protocol.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { waitFor } from "../support/wait_for.ts";
import { Canary } from "./support/canary.ts";
import { validConnectRequest } from "./support/fuzz_frames.ts";
import {
  aliveConnections,
  HOST,
  linesAt,
  type LiveServer,
  liveServerConfig,
  withLiveServer,
} from "./support/live_server.ts";
import { OPEN_ACL, SessionClient } from "./support/session_client.ts";
import { SilentSocket } from "./support/silent_socket.ts";

const CANARY_BOUND_MS = 1000;
/** Large enough that a flood lasts a few hundred milliseconds (several chunks), small enough to be quick. */
const OUTPUT_BUFFER_BYTES_MAX = 8 * 1024 * 1024;
const OUTSTANDING_REQUESTS_MAX = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The driver (output bound), the core (outstanding bound) or session expiry (a connection that is
 * not read any more sends no pings either) closed a connection that does not read.
 */
function closedForNotReading(logger: MemoryLogger): boolean {
  return logger.has("the client is not reading") ||
    logger.has(`more than ${OUTSTANDING_REQUESTS_MAX} outstanding requests`) ||
    logger.has("expired");
}

async function createNode(server: LiveServer, path: string, size: number): Promise<void> {
  const setup = await SessionClient.open(server.transport, server.handle.port);
  try {
    const created = await setup.request({
      kind: "create",
      path,
      data: new Uint8Array(size).fill(0x5a),
      acl: OPEN_ACL,
      flags: 0,
      ttl: 0n,
    });
    assert.equal(created.err, 0, `create ${path}`);
  } finally {
    setup.close();
  }
  await setup.wire.waitClosed("the setup connection to close");
}

/** `count` copies of `request` with xids first..first+count-1, in one buffer. */
function requestBatch(request: Request, first: number, count: number): Uint8Array {
  const template = encodeRequest(0, request).slice();
  const batch = new Uint8Array(template.length * count);
  const view = new DataView(batch.buffer);
  for (let i = 0; i < count; i++) {
    batch.set(template, i * template.length);
    view.setInt32(i * template.length + 4, first + i);
  }
  return batch;
}

/** Once the abuser is gone: the canary still works, was never slow, and its data is intact. */
async function finishCanary(server: LiveServer, canary: Canary, what: string): Promise<void> {
  const before = canary.completed;
  await waitFor(() => canary.completed >= before + 20 || canary.failure !== null, {
    timeoutMs: 5000,
    what: `the canary to keep completing requests after ${what}`,
  });
  const report = await canary.stop();
  assert.equal(report.failure, null, `the canary failed during ${what}`);
  assert.deepEqual(report.violations, []);
  assert.ok(
    report.maxLatencyMs < CANARY_BOUND_MS,
    `the canary's slowest request took ${report.maxLatencyMs.toFixed(1)} ms during ${what}`,
  );
  await canary.verifyData();
  assert.equal(await fourLetterWord(HOST, server.handle.port, "ruok"), "imok");
  assert.deepEqual(linesAt(server.logger, "error"), [], "the server logged unexpected errors");
}

/**
 * Writes `request` with increasing xids as fast as the loop allows (yielding between batches so the
 * server, in this process, can read), up to `maxRequests`, until the server closes the flooder for
 * not reading. Returns how many requests were written and how long the flood ran.
 */
async function flood(
  server: LiveServer,
  flooder: SilentSocket,
  request: Request,
  maxRequests: number,
): Promise<{ sent: number; floodMs: number }> {
  const startedAt = performance.now();
  const batchSize = 2000;
  let sent = 0;
  while (sent < maxRequests && !flooder.closed && !closedForNotReading(server.logger)) {
    flooder.write(requestBatch(request, 1 + sent, batchSize));
    sent += batchSize;
    await sleep(0);
    // Keep the client's own queue bounded: past 4 MiB, wait for the kernel to take it.
    await waitFor(
      () => flooder.pendingBytes < 4 * 1024 * 1024 || flooder.closed || closedForNotReading(server.logger),
      {
        timeoutMs: 10_000,
        what: "the flooder's own send queue to drain",
        intervalMs: 1,
      },
    );
  }
  await waitFor(() => closedForNotReading(server.logger), {
    timeoutMs: 10_000,
    what: `the server to close the flooder (${sent} requests sent)`,
  });
  return { sent, floodMs: performance.now() - startedAt };
}

/** Waits until the core lists a session on a connection other than the canary's. */
async function waitForFlooderSession(server: LiveServer, canary: Canary): Promise<void> {
  const canaryId = canary.client.response.sessionId;
  await waitFor(
    () =>
      server.handle.server.connections().some((connection) =>
        connection.sessionId !== null && connection.sessionId !== canaryId
      ),
    { timeoutMs: 5000, what: "the flooder's session to be established" },
  );
}

const serveOptions = {
  outputBufferBytesMax: OUTPUT_BUFFER_BYTES_MAX,
  config: liveServerConfig({ outstandingRequestsMax: OUTSTANDING_REQUESTS_MAX }),
};

describe("live server: clients that do not read their replies", () => {
  test("a client flooding pipelined reads without reading is no longer read, then closed; a canary keeps a bounded latency", async () => {
    // The default bound (32 MiB): the flood then lasts long enough (tens of 64 KiB chunks, each
    // answered in one go) for the canary to interleave several requests.
    await withLiveServer(
      { ...serveOptions, outputBufferBytesMax: DEFAULT_OUTPUT_BUFFER_BYTES_MAX },
      async (server) => {
        await createNode(server, "/flood", 1024);
        const canary = await Canary.start({
          transport: server.transport,
          port: server.handle.port,
          path: "/canary",
          requestTimeoutMs: CANARY_BOUND_MS,
        });
        const flooder = await SilentSocket.connect(HOST, server.handle.port);
        try {
          flooder.write(validConnectRequest());
          await waitForFlooderSession(server, canary);
          const completedBefore = canary.completed;
          const { sent, floodMs } = await flood(server, flooder, {
            kind: "getData",
            path: "/flood",
            watch: false,
          }, 200_000);
          const completedDuring = canary.completed - completedBefore;
          console.log(
            `read flood: ${sent} requests in ${
              floodMs.toFixed(0)
            } ms; canary completed ${completedDuring} meanwhile`,
          );
          assert.ok(closedForNotReading(server.logger), "closed once it was no longer read");
          await waitFor(() => aliveConnections(server.handle) === 1, {
            timeoutMs: 5000,
            what: "the flooder's connection to be gone",
          });
          assert.equal(canary.failure, null, "the canary failed during the flood");
          assert.ok(
            completedDuring >= 3,
            `the canary completed only ${completedDuring} requests during the ${floodMs.toFixed(0)} ms flood`,
          );
          flooder.destroy();
          await finishCanary(server, canary, "the read flood");
        } finally {
          flooder.destroy();
          canary.close();
        }
      },
    );
  });

  test("a client flooding pipelined writes without reading is closed at a bound; a canary keeps a bounded latency", async () => {
    await withLiveServer(serveOptions, async (server) => {
      await createNode(server, "/flood", 16);
      const canary = await Canary.start({
        transport: server.transport,
        port: server.handle.port,
        path: "/canary",
        requestTimeoutMs: CANARY_BOUND_MS,
      });
      const flooder = await SilentSocket.connect(HOST, server.handle.port);
      try {
        // The handshake is pipelined with the requests: the flooder never reads its ConnectResponse.
        flooder.write(validConnectRequest());
        const { sent, floodMs } = await flood(server, flooder, {
          kind: "setData",
          path: "/flood",
          data: new Uint8Array(16),
          version: -1,
        }, 200_000);
        console.log(`write flood: ${sent} requests in ${floodMs.toFixed(0)} ms`);
        await waitFor(() => aliveConnections(server.handle) === 1, {
          timeoutMs: 5000,
          what: "the flooder's connection to be gone",
        });
        assert.equal(canary.failure, null, "the canary failed during the flood");
        flooder.destroy();
        await finishCanary(server, canary, "the write flood");
      } finally {
        flooder.destroy();
        canary.close();
      }
    });
  });

  test("a client sending requests slowly without reading is no longer read once its output passes the bound, then closed", async () => {
    await withLiveServer(serveOptions, async (server) => {
      await createNode(server, "/slow", 64 * 1024);
      const canary = await Canary.start({
        transport: server.transport,
        port: server.handle.port,
        path: "/canary",
        requestTimeoutMs: CANARY_BOUND_MS,
      });
      const slow = await SilentSocket.connect(HOST, server.handle.port);
      try {
        slow.write(validConnectRequest());
        const startedAt = Date.now();
        let sent = 0;
        // 64 KiB of replies every ~2 ms fill the kernel buffers (a few MiB) within about a second.
        for (; sent < 5000 && Date.now() - startedAt < 15_000; sent++) {
          if (slow.closed || closedForNotReading(server.logger)) break;
          slow.write(encodeRequest(1 + sent, { kind: "getData", path: "/slow", watch: false }));
          await sleep(2);
        }
        console.log(`slow reader: closed after ${sent} requests in ${Date.now() - startedAt} ms`);
        assert.ok(
          closedForNotReading(server.logger),
          `the slow reader was not closed after ${sent} requests (${sent * 64} KiB of replies) in ${
            Date.now() - startedAt
          } ms`,
        );
        assert.ok(closedForNotReading(server.logger), "closed once it was no longer read");
        await waitFor(() => aliveConnections(server.handle) === 1, {
          timeoutMs: 5000,
          what: "the slow reader's connection to be gone",
        });
        assert.equal(canary.failure, null, "the canary failed while the slow reader ran");
        slow.destroy();
        await finishCanary(server, canary, "the slow reader");
      } finally {
        slow.destroy();
        canary.close();
      }
    });
  });

  test("a client that pipelines many writes but reads its replies is served, not closed", async () => {
    await withLiveServer(serveOptions, async (server) => {
      const client = await SessionClient.open(server.transport, server.handle.port);
      try {
        assert.equal(
          (await client.request({
            kind: "create",
            path: "/bulk",
            data: null,
            acl: OPEN_ACL,
            flags: 0,
            ttl: 0n,
          })).err,
          0,
        );
        // Three times outstandingRequestsMax, written at once (async bulk loads do this). ZooKeeper
        // throttles such a client (stops reading it) instead of closing it.
        const count = 3 * OUTSTANDING_REQUESTS_MAX;
        const replies = Array.from(
          { length: count },
          () =>
            client.request({ kind: "setData", path: "/bulk", data: new Uint8Array(4), version: -1 }, 10_000)
              .then(
                (reply) => reply.err,
                (error: Error) => error.message,
              ),
        );
        const results = await Promise.all(replies);
        const failures = results.filter((result) => result !== 0);
        // Past outstandingRequestsMax the driver stops feeding the connection (ZooKeeper stops
        // reading it) and resumes as replies go out: a client that reads is served, not closed.
        assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${count} pipelined writes failed`);
        assert.ok(!client.closed);
        assert.deepEqual(linesAt(server.logger, "error"), [], "the server logged unexpected errors");
      } finally {
        client.close();
      }
    });
  });
});
