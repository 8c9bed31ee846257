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

test("freePort returns a bindable port", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
});
