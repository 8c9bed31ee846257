import { nodeTransport } from "../../src/transport/node.ts";
import { transportSuite } from "./transport_suite.ts";
import { backpressureSuite } from "./backpressure_suite.ts";

// node:net also runs under Deno and Bun (their Node compatibility), so this suite runs everywhere.
transportSuite("node", nodeTransport, { host: "127.0.0.1" });
backpressureSuite("node", nodeTransport);
