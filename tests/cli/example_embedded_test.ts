/**
 * examples/embedded_replica.ts --all runs on whatever ports are free (issue 10 item 10: it used fixed
 * ones, so a second copy, or anything on 21811/28881/18081, broke it). The ports it used to take are
 * held by this test while the example runs under Node, Deno and Bun.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runtimeCommand } from "../support/corral_process.ts";
import { repoRoot, type RuntimeName } from "../support/runtime.ts";
import { spawnProcess } from "../support/spawned_process.ts";
import { runtimeUnavailable } from "./support/corral_cli.ts";

/** The example's former fixed ports for member 1: client, quorum, HTTP. */
const FORMER_PORTS = [21811, 28881, 18081];
const RUN_MS = 120_000;
const blockers: Server[] = [];

before(async () => {
  for (const port of FORMER_PORTS) {
    const server = createServer();
    // Something else may already hold it: then it is taken either way.
    const held = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (held) blockers.push(server);
  }
});
after(async () => {
  await Promise.all(blockers.map((server) => new Promise((resolve) => server.close(resolve))));
});

for (const which of ["node", "deno", "bun"] as RuntimeName[]) {
  describe(`examples/embedded_replica.ts --all under ${which}`, () => {
    test("runs its demo on free ports while the old fixed ones are taken", { skip: runtimeUnavailable(which), timeout: RUN_MS + 30_000 }, async () => {
      const [command, ...prefix] = runtimeCommand(which);
      const child = spawnProcess(command!, [...prefix, join(repoRoot(), "examples", "embedded_replica.ts"), "--all"], { cwd: repoRoot() });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exit = await Promise.race([
        child.exited,
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), RUN_MS);
        }),
      ]);
      clearTimeout(timer);
      await child.stop();
      assert.notEqual(exit, "timeout", `did not finish within ${RUN_MS} ms:\n${child.output()}`);
      assert.equal(exit !== "timeout" && exit.code, 0, child.output());
      assert.match(child.output(), /GET {2}member 3 \/kv\/greeting → 200 hello at /);
      assert.match(child.output(), /\nstopped\n/);
    });
  });
}
