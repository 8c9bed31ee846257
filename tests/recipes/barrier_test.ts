/**
 * Barrier and DoubleBarrier against a real server: neither releases early; waiting gives up on abort
 * and on the client's end; Curator's double-barrier layout (`<uuid>` members, `ready`).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KeeperError } from "../../mod.ts";
import { Barrier, DoubleBarrier, LostError } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

describe("Barrier", () => {
  test("waiters pass only once the barrier is removed", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      await new Barrier(clients[0]!, "/barriers/b1").set();
      await new Barrier(clients[0]!, "/barriers/b1").set(); // idempotent
      const waits = clients.slice(1).map((client) => new Barrier(client, "/barriers/b1").wait());
      await Promise.all(clients.slice(1).map((client) => client.sync("/")));
      for (const wait of waits) assert.equal(await settlesWithin(wait, 50), false, "released early");
      await new Barrier(clients[0]!, "/barriers/b1").remove();
      await Promise.all(waits);
      await new Barrier(clients[0]!, "/barriers/b1").wait(); // down: at once
      await new Barrier(clients[0]!, "/barriers/b1").remove(); // idempotent
    });
  });

  test("wait gives up on abort, and when the client's session ends", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      await new Barrier(a, "/barriers/b2").set();
      await assert.rejects(
        new Barrier(b, "/barriers/b2").wait({ signal: AbortSignal.timeout(50) }),
        /timeout|abort/i,
      );
      const waiting = new Barrier(b, "/barriers/b2").wait();
      await b.sync("/");
      await harness.expire(b);
      await assert.rejects(waiting, (error: unknown) => KeeperError.is(error, "SESSIONEXPIRED"));
    });
  });
});

describe("DoubleBarrier", () => {
  test("no member enters before all have arrived, and none leaves before all have left", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2].map(() => harness.connect()));
      const barriers = clients.map((client) =>
        new DoubleBarrier(client, "/barriers/double", { memberCount: 3 })
      );
      const first = barriers[0]!.enter();
      const second = barriers[1]!.enter();
      await waitFor(async () => (await clients[0]!.getChildren("/barriers/double")).length === 2, {
        timeoutMs: 5_000,
        what: "two members in",
      });
      assert.equal(await settlesWithin(Promise.race([first, second]), 100), false, "entered early");
      await barriers[2]!.enter();
      await Promise.all([first, second]);
      const members = (await clients[0]!.getChildren("/barriers/double")).sort();
      assert.deepEqual(members, [...barriers.map((barrier) => barrier.memberId), "ready"].sort());
      assert.ok(barriers.every((barrier) => barrier.lost !== null && !barrier.lost.aborted));

      const leaving = [barriers[0]!.leave(), barriers[1]!.leave()];
      await clients[0]!.sync("/");
      assert.equal(await settlesWithin(Promise.race(leaving), 100), false, "left early");
      await barriers[2]!.leave();
      await Promise.all(leaving);
      assert.deepEqual(await clients[0]!.getChildren("/barriers/double"), []);
      assert.ok(barriers.every((barrier) => LostError.is(barrier.lost!.reason, "released")));
    });
  });

  test("the threshold holds whatever order members arrive in", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      for (let round = 0; round < 3; round++) {
        const path = `/barriers/round-${round}`;
        const barriers = clients.map((client) => new DoubleBarrier(client, path, { memberCount: 4 }));
        let entered = 0;
        let arrived = 0;
        const early: number[] = [];
        await Promise.all(barriers.map(async (barrier, index) => {
          await new Promise((resolve) => setTimeout(resolve, ((index + round) % 4) * 15));
          arrived++;
          await barrier.enter({ signal: AbortSignal.timeout(10_000) });
          if (arrived < 4) early.push(arrived);
          entered++;
        }));
        assert.deepEqual(early, []);
        assert.equal(entered, 4);
        await Promise.all(barriers.map((barrier) => barrier.leave({ signal: AbortSignal.timeout(10_000) })));
      }
    });
  });

  test("enter gives up on abort and removes its member node; lost fires on session expiry", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const lonely = new DoubleBarrier(a, "/barriers/abort", { memberCount: 2 });
      await assert.rejects(lonely.enter({ signal: AbortSignal.timeout(100) }), /timeout|abort/i);
      assert.deepEqual(await a.getChildren("/barriers/abort").catch(() => []), []);

      const one = new DoubleBarrier(a, "/barriers/expire", { memberCount: 2 });
      const two = new DoubleBarrier(b, "/barriers/expire", { memberCount: 2 });
      await Promise.all([one.enter(), two.enter()]);
      await harness.expire(a);
      await waitFor(() => one.lost?.aborted === true, {
        timeoutMs: 10_000,
        what: "the member's lost signal",
      });
      assert.ok(LostError.is(one.lost!.reason, "sessionExpired"));
      await two.leave({ signal: AbortSignal.timeout(5_000) });
    });
  });
});
