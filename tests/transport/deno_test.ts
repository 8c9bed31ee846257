import { test } from "node:test";
import { denoTransport } from "../../src/transport/deno.ts";
import { runtime } from "../support/runtime.ts";
import { backpressureSuite } from "./backpressure_suite.ts";
import { transportSuite } from "./transport_suite.ts";

if (runtime() === "deno") {
  transportSuite("deno", denoTransport, { host: "127.0.0.1" });
  backpressureSuite("deno", denoTransport);
} else {
  test("deno transport: skipped (needs the Deno runtime)", () => {});
}
