/**
 * What `corral serve` tells an operator having a bad day (issue 10 item 10), against the real
 * process under Node, Deno and Bun: a typo'd zoo.cfg key is named with the key it probably meant; a
 * dataDir that cannot be created is called the dataDir; an unknown --4lw word is refused with the
 * valid ones; a port in use says so; "recovered ..." comes before "serving on"; shutdown ends with a
 * last line carrying the exit code.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createClient } from "../../src/client/mod.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { runCorralCli, runtimeUnavailable, startCorralCli } from "../cli/support/corral_cli.ts";

const root = mkdtempSync(join(tmpdir(), "corral-operator-"));
after(() => rmSync(root, { recursive: true, force: true }));
const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];
/** Bound on a process that should fail at once (Deno type-checks on its first run). */
const FAIL_FAST_MS = 60_000;

for (const which of RUNTIMES) {
  describe(`corral serve under ${which}: operator messages`, { skip: runtimeUnavailable(which) }, () => {
    test("a typo'd key is warned about with the closest known key, before the error it causes", async () => {
      const config = join(root, `typo-${which}.cfg`);
      writeFileSync(config, "tickTime=2000\nclientPrt=2181\n");
      const { code, output } = await runCorralCli(which, ["serve", config], FAIL_FAST_MS);
      assert.equal(code, 1, output);
      assert.match(output, /corral: warning: \S+ line 2: unknown key clientPrt \(kept, not used by corral\); did you mean clientPort\?\n/);
      assert.match(output, /sets no clientPort/);
      assert.ok(output.indexOf("did you mean") < output.indexOf("sets no clientPort"), output);
    });

    test("a dataDir that cannot be created is named as the dataDir", async () => {
      const file = join(root, `not-a-dir-${which}`);
      writeFileSync(file, "");
      const dataDir = join(file, "data");
      const { code, output } = await runCorralCli(which, ["serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], FAIL_FAST_MS);
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`^corral: cannot create dataDir ${dataDir}: .*(ENOTDIR|EEXIST|not a directory|exists).*; choose another --data-dir$`, "mi"));
    });

    test("--4lw with an unknown word is refused, listing the valid ones ('*' stays valid)", async () => {
      const { code, output } = await runCorralCli(which, ["serve", "--port", "0", "--host", "127.0.0.1", "--4lw", "srvr,bogus"], FAIL_FAST_MS);
      assert.equal(code, 2, output);
      assert.match(output, /^corral: --4lw: unknown four-letter word "bogus"; valid words: conf, cons, .*srvr.*, or \* for all$/m);
      const typo = await runCorralCli(which, ["serve", "--port", "0", "--4lw", "Srvr"], FAIL_FAST_MS);
      assert.match(typo.output, /unknown four-letter word "Srvr" \(did you mean srvr\?\)/);
    });

    test("a port in use is refused with the reason", async () => {
      const blocker = await listen();
      try {
        const port = (blocker.address() as { port: number }).port;
        const { code, output } = await runCorralCli(which, ["serve", "--port", String(port), "--host", "127.0.0.1"], FAIL_FAST_MS);
        assert.equal(code, 1, output);
        assert.match(output, new RegExp(`^corral: cannot listen on 127\\.0\\.0\\.1:${port}: .*address already in use`, "mi"));
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    test("'recovered ...' comes before 'serving on', and shutdown ends with a last line naming the exit code", { timeout: 120_000 }, async () => {
      const dataDir = join(root, `recovered-${which}`);
      const args = ["serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
      const first = startCorralCli(which, args);
      const port = Number((await first.waitForOutput(/corral: serving on 127\.0\.0\.1:(\d+)/))[1]);
      const client = await createClient(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) await client.create(`/n${i}`, "v");
      await client.close();
      const exit = await first.stop();
      assert.equal(exit.code, 0, first.output());
      assert.match(first.output(), /\ncorral: stopped \(exit code 0\)\n$/, "the last line");

      const second = startCorralCli(which, args);
      try {
        await second.waitForOutput(/corral: serving on /);
        const output = second.output();
        const recovered = output.search(/INFO recovered \d+ znodes/);
        assert.ok(recovered >= 0, `a recovered line:\n${output}`);
        assert.ok(recovered < output.indexOf("corral: serving on"), `recovered before serving:\n${output}`);
      } finally {
        await second.stop();
      }
    });
  });
}

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}
