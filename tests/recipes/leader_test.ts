/**
 * Leader election against a real server: LeaderLatch (Curator layout, one leader at a time, hand-over
 * when the leader closes or its session expires) and LeaderSelector (leadership handed on after each
 * term, autoRequeue, close during a term).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LeaderLatch, LeaderSelector, type LeadershipTerm, LostError } from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { withHarness, work } from "./support/harness.ts";

describe("LeaderLatch", () => {
  test("uses Curator's layout (_c_<uuid>-latch-<seq>, data = id); getLeader names the leader", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const first = new LeaderLatch(a, "/election/layout", { id: "alpha" });
      const second = new LeaderLatch(b, "/election/layout", { id: "beta" });
      await first.start();
      await second.start();
      const term = await first.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      assert.match(term.path, /^\/election\/layout\/_c_[0-9a-f-]{36}-latch-0000000000$/);
      assert.equal(new TextDecoder().decode((await a.getData(term.path)).data), "alpha");
      assert.deepEqual((await second.participants()).map((p) => [p.id, p.isLeader]), [["alpha", true], [
        "beta",
        false,
      ]]);
      assert.equal((await second.getLeader())?.id, "alpha");
      assert.equal(second.isLeader, false);
      await first.close();
      await second.close();
    });
  });

  test("exactly one leader at a time; leadership moves on as each leader closes", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      const latches = clients.map((client, index) =>
        new LeaderLatch(client, "/election/handover", { id: `c${index}` })
      );
      let leaders = 0;
      let maxLeaders = 0;
      const order: string[] = [];
      for (const latch of latches) {
        latch.onChange((term) => {
          leaders += term === null ? -1 : 1;
          maxLeaders = Math.max(maxLeaders, leaders);
          if (term !== null) order.push(term.id);
        });
      }
      for (const latch of latches) await latch.start();
      const tokens: number[] = [];
      for (let served = 0; served < latches.length; served++) {
        await waitFor(() => latches.filter((latch) => latch.isLeader).length === 1, {
          timeoutMs: 5_000,
          what: `leader #${served + 1}`,
        });
        const leader = latches.find((latch) => latch.isLeader)!;
        tokens.push(leader.term!.fencingToken);
        const term = leader.term!;
        await leader.close();
        assert.ok(LostError.is(term.lost.reason, "released"));
      }
      assert.equal(maxLeaders, 1);
      assert.deepEqual(order, ["c0", "c1", "c2", "c3"]);
      assert.deepEqual([...tokens].sort((x, y) => x - y), tokens);
    });
  });

  test("the leader's term is lost when its session expires; the next candidate leads", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const first = new LeaderLatch(a, "/election/expire", { id: "a" });
      const second = new LeaderLatch(b, "/election/expire", { id: "b" });
      await first.start();
      await second.start();
      const term = await first.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await harness.expire(a);
      await waitFor(() => term.lost.aborted, { timeoutMs: 10_000, what: "the old leader's lost signal" });
      assert.ok(LostError.is(term.lost.reason, "sessionExpired"), String(term.lost.reason));
      const next = await second.awaitLeadership({ signal: AbortSignal.timeout(10_000) });
      assert.ok(next.fencingToken > term.fencingToken);
      await assert.rejects(
        first.awaitLeadership(),
        (error: unknown) => LostError.is(error, "sessionExpired"),
      );
      await second.close();
      await first.close();
    });
  });

  test("a leader whose node is deleted loses the term and rejoins at the back", async () => {
    await withHarness(async (harness) => {
      const [a, b, admin] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const first = new LeaderLatch(a, "/election/deleted", { id: "a" });
      const second = new LeaderLatch(b, "/election/deleted", { id: "b" });
      await first.start();
      await second.start();
      const term = await first.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await admin.delete(term.path);
      await waitFor(() => term.lost.aborted, { timeoutMs: 5_000, what: "lost after deletion" });
      assert.ok(LostError.is(term.lost.reason, "nodeDeleted"));
      await second.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await waitFor(async () => (await second.participants()).map((p) => p.id).join() === "b,a", {
        timeoutMs: 5_000,
        what: "a back in line behind b",
      });
      await first.close();
      await second.close();
    });
  });

  test("awaitLeadership gives up when its signal aborts", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const first = new LeaderLatch(a, "/election/abort");
      const second = new LeaderLatch(b, "/election/abort");
      await first.start();
      await second.start();
      await first.awaitLeadership();
      await assert.rejects(second.awaitLeadership({ signal: AbortSignal.timeout(50) }), /timeout|aborted/i);
      await first.close();
      await second.awaitLeadership({ signal: AbortSignal.timeout(5_000) });
      await second.close();
    });
  });
});

describe("LeaderSelector", () => {
  test("hands leadership on after each term: one leader at a time, everyone leads, tokens grow", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2].map(() => harness.connect()));
      let leading = 0;
      let maxLeading = 0;
      const terms: LeadershipTerm[] = [];
      const selectors = clients.map((client, index) =>
        new LeaderSelector(client, "/election/selector", {
          id: `s${index}`,
          async lead(term) {
            leading++;
            maxLeading = Math.max(maxLeading, leading);
            terms.push(term);
            await work(5);
            leading--;
          },
        })
      );
      for (const selector of selectors) selector.start();
      await waitFor(() => terms.length >= 9, { timeoutMs: 10_000, what: "nine terms" });
      await Promise.all(selectors.map((selector) => selector.close()));
      assert.equal(maxLeading, 1);
      assert.deepEqual(new Set(terms.map((term) => term.id)), new Set(["s0", "s1", "s2"]));
      for (let index = 1; index < terms.length; index++) {
        assert.ok(terms[index]!.fencingToken > terms[index - 1]!.fencingToken);
      }
      assert.ok(terms.every((term) => term.lost.aborted));
      assert.match(terms[0]!.path, /^\/election\/selector\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
    });
  });

  test("close during a term fires the term's lost signal and waits for lead to return", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      let started = false;
      let finished = false;
      const selector = new LeaderSelector(client, "/election/close", {
        async lead(term) {
          started = true;
          await new Promise<void>((resolve) =>
            term.lost.addEventListener("abort", () => resolve(), { once: true })
          );
          finished = true;
        },
      });
      selector.start();
      await waitFor(() => started && selector.hasLeadership, { timeoutMs: 5_000, what: "leadership" });
      await selector.close();
      assert.ok(finished);
      assert.deepEqual(await client.getChildren("/election/close"), []);
    });
  });

  test("autoRequeue false leads once; the leader's id is readable by the others", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      let aTerms = 0;
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const once = new LeaderSelector(a, "/election/once", {
        id: "once",
        autoRequeue: false,
        async lead() {
          aTerms++;
          await gate;
        },
      });
      const other = new LeaderSelector(b, "/election/once", {
        id: "other",
        lead: () => undefined,
        autoRequeue: false,
      });
      once.start();
      await waitFor(() => once.hasLeadership, { timeoutMs: 5_000, what: "first leadership" });
      other.start();
      assert.equal((await other.getLeader())?.id, "once");
      release();
      await once.stopped;
      await other.stopped;
      assert.equal(aTerms, 1);
    });
  });
});
