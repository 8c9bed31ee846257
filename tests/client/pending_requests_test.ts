import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Call } from "../../src/client/machine_io.ts";
import { PendingRequests } from "../../src/client/pending_requests.ts";

function call(id: number): Call {
  return { id, request: { kind: "sync", path: `/n${id}` } };
}

/** Sends every queued call, as the machine does on connecting; returns their ids. */
function sendQueued(pending: PendingRequests): number[] {
  const calls = pending.takeQueued();
  for (const queued of calls) pending.sent(pending.nextXid(), queued.request.kind, queued);
  return calls.map((queued) => queued.id);
}

describe("PendingRequests", () => {
  test("outstanding counts queued and in-flight user requests, not the client's own", () => {
    const pending = new PendingRequests();
    pending.queue(call(1));
    pending.queue(call(2));
    assert.equal(pending.outstanding, 2);
    assert.deepEqual(sendQueued(pending), [1, 2]);
    pending.sent(pending.nextXid(), "setWatches", null);
    pending.sent(pending.nextXid(), "sync", call(3));
    assert.equal(pending.outstanding, 3);
    for (const xid of [1, 2, 3]) {
      const entry = pending.answer(xid);
      assert.ok(typeof entry !== "string", String(entry));
    }
    assert.equal(pending.outstanding, 1, "the setWatches answer (xid 3) did not count");
    assert.ok(typeof pending.answer(4) !== "string");
    assert.equal(pending.outstanding, 0);
  });

  test("an abandoned queued request frees its slot at once and is never sent", () => {
    const pending = new PendingRequests();
    for (const id of [1, 2, 3]) pending.queue(call(id));
    pending.abandon(2);
    assert.equal(pending.outstanding, 2);
    assert.deepEqual(sendQueued(pending), [1, 3]);
    assert.equal(pending.outstanding, 2);
  });

  test("an abandoned in-flight request holds its slot until answered, then is marked abandoned", () => {
    const pending = new PendingRequests();
    pending.sent(pending.nextXid(), "sync", call(1));
    pending.sent(pending.nextXid(), "sync", call(2));
    pending.abandon(1);
    pending.abandon(1);
    assert.equal(pending.outstanding, 2);
    const first = pending.answer(1);
    assert.ok(typeof first !== "string" && first.abandoned);
    const second = pending.answer(2);
    assert.ok(typeof second !== "string" && !second.abandoned);
    assert.equal(pending.outstanding, 0);
    pending.abandon(2);
    assert.equal(pending.outstanding, 0, "abandoning an answered request changes nothing");
  });

  test("dropAll returns the live ids, abandoned ones left out, and resets the counts", () => {
    const pending = new PendingRequests();
    pending.sent(pending.nextXid(), "sync", call(1));
    pending.sent(pending.nextXid(), "sync", call(2));
    pending.sent(pending.nextXid(), "closeSession", null);
    pending.queue(call(3));
    pending.queue(call(4));
    pending.abandon(2);
    pending.abandon(4);
    assert.deepEqual(pending.dropAll(), { ids: [1, 3], closeSessionPending: true });
    assert.equal(pending.outstanding, 0);
    pending.abandon(1);
    pending.queue(call(5));
    assert.equal(pending.outstanding, 1);
  });

  test("abandoning an addAuth id removes it from its credential's waiters", () => {
    const pending = new PendingRequests();
    const credential = pending.credential({ scheme: "digest", auth: Uint8Array.of(1) });
    credential.waiters.push(7, 8);
    pending.abandon(7);
    assert.deepEqual(credential.waiters, [8]);
    pending.authSent(credential, credential.waiters.splice(0));
    pending.abandon(8);
    assert.deepEqual(pending.authAnswered()?.ids, []);
  });
});
