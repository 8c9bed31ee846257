/**
 * When a hold counts as lost without an expiry notice: disconnected for longer than the session
 * timeout (the servers are unreachable), or at once with loseOnDisconnect. A latch that lost its term
 * to a disconnect rejoins when the session comes back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LeaderLatch, LostError, Mutex } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { startFaultProxy } from "./support/fault_proxy.ts";
import { withHarness } from "./support/harness.ts";

describe("lost signals without an expiry notice", () => {
  test("a holder cut off from every server is told after the session timeout", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect({ sessionTimeoutMs: 1_000 });
      assert.equal(client.sessionTimeoutMs, 1_000);
      const lock = await new Mutex(client, "/locks/cut-off").acquire();
      await harness.stopServer();
      await waitFor(() => client.state === "disconnected", { timeoutMs: 5_000, what: "the disconnect" });
      const disconnectedAt = Date.now();
      await waitFor(() => lock.lost.aborted, { timeoutMs: 5_000, what: "the lost signal", intervalMs: 10 });
      const elapsedMs = Date.now() - disconnectedAt;
      assert.ok(LostError.is(lock.lost.reason, "sessionTimeout"), String(lock.lost.reason));
      assert.ok(elapsedMs >= 800, `lost after ${elapsedMs} ms, before the session timeout`);
    });
  });

  test("with loseOnDisconnect, the hold is lost as soon as the connection is", async () => {
    await withHarness(async (harness) => {
      const proxy = await startFaultProxy({ host: "127.0.0.1", port: harness.port });
      try {
        const client = await harness.connect({ connectString: proxy.connectString });
        const lock = await new Mutex(client, "/locks/strict", { loseOnDisconnect: true }).acquire();
        proxy.cutAll();
        await waitFor(() => lock.lost.aborted, { timeoutMs: 5_000, what: "the lost signal" });
        assert.ok(LostError.is(lock.lost.reason, "disconnected"));
        // The session lives on, and so would the node: the handle deletes it once reconnected.
        await waitFor(async () => client.state === "connected" && (await client.exists(lock.path)) === null, {
          timeoutMs: 5_000,
          what: "the lost lock's node to go after the reconnect",
        });
        await lock.release(); // harmless after a loss
      } finally {
        await proxy.close();
      }
    });
  });

  test("a latch that lost its term to a disconnect rejoins and leads again once reconnected", async () => {
    await withHarness(async (harness) => {
      const proxy = await startFaultProxy({ host: "127.0.0.1", port: harness.port });
      try {
        const client = await harness.connect({ connectString: proxy.connectString });
        const latch = new LeaderLatch(client, "/election/rejoin", { loseOnDisconnect: true });
        await latch.start();
        const first = await latch.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
        proxy.cutAll();
        await waitFor(() => first.lost.aborted, { timeoutMs: 5_000, what: "the first term's end" });
        assert.ok(LostError.is(first.lost.reason, "disconnected"));
        const second = await latch.awaitLeadership({ signal: AbortSignal.timeout(10_000) });
        assert.ok(second.fencingToken > first.fencingToken);
        assert.notEqual(second.path, first.path);
        assert.deepEqual(await client.getChildren("/election/rejoin"), [second.path.split("/").pop()]);
        await latch.close();
      } finally {
        await proxy.close();
      }
    });
  });
});
