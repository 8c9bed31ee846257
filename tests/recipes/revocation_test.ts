/**
 * Lock revocation against a real server, in Curator's way: a revoker writes "__REVOKE__" into the
 * holder's lock node (revokeLock, like Curator's Revoker.attemptRevoke); a holder that made its lock
 * revocable (onRevoke) is called back and releases; one that did not is left alone.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isRevokeMessage,
  type LockHandle,
  Mutex,
  ReadWriteLock,
  REVOKE_MESSAGE,
  revokeLock,
} from "../../src/recipes/mod.ts";
import { waitFor } from "../support/wait_for.ts";
import { settlesWithin, withHarness } from "./support/harness.ts";

describe("lock revocation", () => {
  test("the holder is called back, releases, and the waiter gets the lock", async () => {
    await withHarness(async (harness) => {
      const [holder, waiter, revoker] = await Promise.all([
        harness.connect(),
        harness.connect(),
        harness.connect(),
      ]);
      const revoked: LockHandle[] = [];
      const mutex = new Mutex(holder, "/locks/rev", {
        onRevoke: (lock) => {
          revoked.push(lock);
          lock.release().catch(() => undefined);
        },
      });
      const held = await mutex.acquire();
      assert.equal((await holder.getData(held.path)).data.length, 0, "a revocable lock node is empty");
      assert.equal(held.revocationRequested, false);
      const next = new Mutex(waiter, "/locks/rev").acquire();
      assert.equal(await settlesWithin(next, 100), false);

      const [first] = await new Mutex(revoker, "/locks/rev").participants();
      assert.equal(first, held.path);
      assert.equal(await revokeLock(revoker, first!), true);
      assert.equal(new TextDecoder().decode((await revoker.getData(first!)).data), REVOKE_MESSAGE);
      const lock = await next;
      assert.deepEqual(revoked, [held]);
      assert.ok(held.revocationRequested);
      assert.ok(!held.held);
      await lock.release();
      assert.equal(await revokeLock(revoker, first!), false, "nothing left to revoke");
    });
  });

  test("a request made while the lock was still awaited is delivered on acquiring", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const blocker = await new Mutex(a, "/locks/rev-wait").acquire();
      let calls = 0;
      const mutex = new Mutex(b, "/locks/rev-wait", { onRevoke: () => calls++ });
      const waiting = mutex.acquire();
      await waitFor(async () => (await mutex.participants()).length === 2, {
        timeoutMs: 5_000,
        what: "b in line",
      });
      const [, ours] = await mutex.participants();
      await revokeLock(a, ours!);
      await blocker.release();
      const lock = await waiting;
      assert.equal(calls, 1);
      assert.ok(lock.revocationRequested);
      await revokeLock(a, lock.path); // asked twice: told once
      await a.sync("/");
      await b.sync("/");
      assert.equal(calls, 1);
      await lock.release();
    });
  });

  test("a lock that is not revocable ignores the request and stays held", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      const held = await new Mutex(a, "/locks/no-rev").acquire();
      assert.equal(await revokeLock(b, held.path), true);
      await a.sync("/");
      assert.ok(held.held);
      assert.ok(!held.revocationRequested);
      await held.release();
    });
  });

  test("read/write locks are revocable too; data and onRevoke together are refused", async () => {
    await withHarness(async (harness) => {
      const [a, b] = await Promise.all([harness.connect(), harness.connect()]);
      let revokedPath = "";
      const rw = new ReadWriteLock(a, "/locks/rw-rev", {
        onRevoke: (lock) => void (revokedPath = lock.path),
      });
      const read = await rw.readLock.acquire();
      await revokeLock(b, read.path);
      await waitFor(() => revokedPath === read.path, { timeoutMs: 5_000, what: "the reader called back" });
      await read.release();
      assert.throws(() => new Mutex(a, "/locks/x", { data: "me", onRevoke: () => {} }), /revocable/);
      assert.ok(isRevokeMessage(new TextEncoder().encode("__REVOKE__")));
      assert.ok(!isRevokeMessage(new TextEncoder().encode("__REVOKE_")));
    });
  });
});
