import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WatchOverflowError, WatchStream } from "../../src/client/watch_stream.ts";
import type { WatchEvent } from "../../src/client/types.ts";

function event(path: string): WatchEvent {
  return { type: "NodeDataChanged", state: "SyncConnected", path, zxid: -1 };
}

function stream(maxQueued = 3, ready: Promise<void> = Promise.resolve()) {
  let unregistered = 0;
  const s = new WatchStream({
    path: "/w",
    maxQueued,
    ready,
    unregister: () => {
      unregistered++;
      return Promise.resolve();
    },
  });
  return { s, unregistered: () => unregistered };
}

describe("WatchStream", () => {
  test("yields events in order, including to a waiting consumer", async () => {
    const { s } = stream();
    const first = s.next();
    s.push(event("/a"));
    s.push(event("/b"));
    assert.deepEqual(await first, { value: event("/a"), done: false });
    assert.deepEqual(await s.next(), { value: event("/b"), done: false });
  });

  test("ends after a terminal state event", async () => {
    const { s } = stream();
    s.push(event("/a"));
    s.push({ type: "None", state: "Closed", path: null, zxid: -1 });
    s.push(event("/ignored"));
    const seen: WatchEvent[] = [];
    for await (const e of s) seen.push(e);
    assert.deepEqual(seen.map((e) => e.type), ["NodeDataChanged", "None"]);
  });

  test("overflow: yields the buffered events, then throws WatchOverflowError and unregisters", async () => {
    const { s, unregistered } = stream(2);
    for (const path of ["/1", "/2", "/3", "/4"]) s.push(event(path));
    assert.deepEqual((await s.next()).value, event("/1"));
    assert.deepEqual((await s.next()).value, event("/2"));
    await assert.rejects(s.next(), WatchOverflowError);
    assert.deepEqual(await s.next(), { value: undefined, done: true });
    assert.equal(unregistered(), 1);
  });

  test("a failed registration surfaces from next(); break unregisters", async () => {
    const { s } = stream(3, Promise.reject(new Error("no such server")));
    await assert.rejects(s.next(), /no such server/);
    const other = stream();
    other.s.push(event("/a"));
    for await (const _ of other.s) break;
    assert.equal(other.unregistered(), 1);
  });
});
