import { test } from "node:test";
import { bunTransport } from "../../src/transport/bun.ts";
import { runtime } from "../support/runtime.ts";
import { backpressureSuite } from "./backpressure_suite.ts";
import { transportSuite } from "./transport_suite.ts";

if (runtime() === "bun") {
  transportSuite("bun", bunTransport, { host: "127.0.0.1" });
  backpressureSuite("bun", bunTransport);
} else {
  test("bun transport: skipped (needs the Bun runtime)", () => {});
}
