/** zoo.cfg's secureClientPort in `corral serve`'s plan: a TLS listener beside clientPort, or alone. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseArgs } from "../../src/cli/args.ts";
import { planServe } from "../../src/cli/serve_command.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";

function serveArgs(argv: string[]) {
  const command = parseArgs(["serve", ...argv]);
  if (command.kind !== "serve") throw new Error(`expected serve, got ${command.kind}`);
  return command.args;
}

describe("serve plan with secureClientPort", () => {
  test("beside clientPort: both listen, the TLS one on secureClientPortAddress", () => {
    const cfg = parseZooCfg("clientPort=2181\nclientPortAddress=10.0.0.1\nsecureClientPort=2281\nsecureClientPortAddress=10.0.0.2\nssl.clientAuth=none\n");
    assert.deepEqual(cfg.warnings, []);
    const plan = planServe(serveArgs(["zoo.cfg"]), cfg, 0);
    assert.equal(plan.port, 2181);
    assert.equal(plan.host, "10.0.0.1");
    assert.equal(plan.secure?.port, 2281);
    assert.equal(plan.secure?.host, "10.0.0.2");
    assert.equal(plan.secure?.only, false);
    assert.equal(plan.secure?.tls.clientAuth, "none");
  });

  test("alone: the only listener is TLS, on clientPortAddress when secureClientPortAddress is unset", () => {
    const plan = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPortAddress=127.0.0.1\nsecureClientPort=2281\n"), 0);
    assert.equal(plan.port, 2281);
    assert.equal(plan.host, "127.0.0.1");
    assert.equal(plan.secure?.only, true);
    // ZooKeeper's default clientAuth.
    assert.equal(plan.secure?.tls.clientAuth, "need");
  });

  test("--port adds a plaintext listener to a TLS-only zoo.cfg; no secureClientPort, no TLS", () => {
    const plan = planServe(serveArgs(["zoo.cfg", "--port", "0"]), parseZooCfg("secureClientPort=2281\n"), 0);
    assert.equal(plan.port, 0);
    assert.equal(plan.secure?.only, false);
    assert.equal(planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=2181\n"), 0).secure, null);
  });
});
