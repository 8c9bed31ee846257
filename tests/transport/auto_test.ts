import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultTransport, detectRuntime } from "../../src/transport/auto.ts";
import { runtime } from "../support/runtime.ts";

test("defaultTransport() picks the adapter of the running runtime", async () => {
  assert.equal(detectRuntime(), runtime());
  const transport = await defaultTransport();
  assert.equal(transport.name, runtime());
});
