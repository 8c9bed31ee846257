import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort } from "./free_port.ts";
import { waitFor } from "./wait_for.ts";

test("waitFor resolves with the first truthy value", async () => {
  let calls = 0;
  const value = await waitFor(() => (++calls >= 3 ? "ready" : null), {
    timeoutMs: 2000,
    what: "three calls",
    intervalMs: 1,
  });
  assert.equal(value, "ready");
  assert.equal(calls, 3);
});

test("waitFor names what it waited for and the last error when it times out", async () => {
  await assert.rejects(
    waitFor(() => {
      throw new Error("not yet");
    }, { timeoutMs: 30, what: "the impossible", intervalMs: 5 }),
    /timed out after 30 ms .*waiting for the impossible; last error: not yet/,
  );
});

test("waitFor rethrows an error marked fatal at once instead of polling on", async () => {
  let calls = 0;
  const started = Date.now();
  await assert.rejects(
    waitFor(() => {
      calls++;
      throw Object.assign(new Error("member 2 exited on its own"), { fatal: true });
    }, { timeoutMs: 10_000, what: "a leader", intervalMs: 5 }),
    /member 2 exited on its own/,
  );
  assert.equal(calls, 1);
  assert.ok(Date.now() - started < 5_000);
});

test("freePort returns a bindable port", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
});
