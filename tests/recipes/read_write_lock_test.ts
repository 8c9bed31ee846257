/**
 * ReadWriteLock against a real server: Curator's `__READ__`/`__WRIT__` layout, readers share,
 * writers exclude everyone, a waiting writer holds back later readers (fairness), and a mixed
 * workload never breaks those rules.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LostError, ReadWriteLock } from "../../src/recipes/mod.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness, work } from "./support/harness.ts";

describe("ReadWriteLock", () => {
  test("uses Curator's layout: _c_<uuid>-__READ__<seq> and _c_<uuid>-__WRIT__<seq> in one sequence", async () => {
    await withHarness(async (harness) => {
      const client = await harness.connect();
      const rw = new ReadWriteLock(client, "/locks/rw-layout");
      const read = await rw.readLock.acquire();
      assert.match(read.name, /^_c_[0-9a-f-]{36}-__READ__0000000000$/);
      await read.release();
      const write = await rw.writeLock.acquire();
      assert.match(write.name, /^_c_[0-9a-f-]{36}-__WRIT__0000000001$/);
      await write.release();
    });
  });

  test("readers share the lock; a writer waits for all of them", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => harness.connect()));
      const reads = await Promise.all(
        clients.slice(0, 3).map((client) => new ReadWriteLock(client, "/locks/rw").readLock.acquire()),
      );
      const writer = new ReadWriteLock(clients[3]!, "/locks/rw").writeLock.acquire();
      await clients[3]!.sync("/");
      assert.equal(await settlesWithin(writer, 100), false);
      await reads[0]!.release();
      await reads[1]!.release();
      assert.equal(await settlesWithin(writer, 100), false);
      await reads[2]!.release();
      const write = await writer;
      assert.ok(write.fencingToken > reads[2]!.fencingToken);
      await write.release();
    });
  });

  test("a waiting writer holds back readers that come after it", async () => {
    await withHarness(async (harness) => {
      const [a, b, c] = await Promise.all([harness.connect(), harness.connect(), harness.connect()]);
      const first = await new ReadWriteLock(a, "/locks/fair").readLock.acquire();
      const writer = new ReadWriteLock(b, "/locks/fair").writeLock.acquire();
      const lateReaders = new ReadWriteLock(c, "/locks/fair").readLock;
      await waitFor(
        async () => (await new ReadWriteLock(c, "/locks/fair").writeLock.participants()).length === 1,
        {
          timeoutMs: 5_000,
          what: "the writer in line",
        },
      );
      assert.equal(await lateReaders.tryAcquire(), null, "a reader behind a waiting writer must wait");
      const late = lateReaders.acquire();
      await first.release();
      const write = await writer;
      assert.equal(await settlesWithin(late, 100), false);
      await write.release();
      await (await late).release();
    });
  });

  test("mixed random workload: never a writer with anyone else", async () => {
    await withHarness(async (harness) => {
      const clients = await Promise.all([0, 1, 2, 3, 4].map(() => harness.connect()));
      const prng = createPrng(7);
      let readers = 0;
      let writers = 0;
      let maxReaders = 0;
      const violations: string[] = [];
      const check = () => {
        if (writers > 1 || (writers === 1 && readers > 0)) {
          violations.push(`${writers} writers, ${readers} readers`);
        }
      };
      await Promise.all(clients.map(async (client) => {
        const rw = new ReadWriteLock(client, "/locks/mixed");
        for (let round = 0; round < 6; round++) {
          const write = prng.next() < 0.4;
          await (write ? rw.writeLock : rw.readLock).run(async () => {
            if (write) writers++;
            else readers++;
            maxReaders = Math.max(maxReaders, readers);
            check();
            await work(2);
            check();
            if (write) writers--;
            else readers--;
          });
        }
      }));
      assert.deepEqual(violations, []);
      assert.equal(readers + writers, 0);
    });
  });

  test("a holder's lost signal fires on session expiry", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const write = await new ReadWriteLock(a, "/locks/rw-expire").writeLock.acquire();
      const read = new ReadWriteLock(b, "/locks/rw-expire").readLock.acquire();
      await harness.expire(a);
      await waitFor(() => write.lost.aborted, { timeoutMs: 10_000, what: "the writer's lost signal" });
      assert.ok(LostError.is(write.lost.reason, "sessionExpired"));
      await (await read).release();
    });
  });
});
