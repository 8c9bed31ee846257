/** The process harness, exercised with a stand-in CLI so it is proven before src/cli exists. */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startCorralProcess } from "./corral_process.ts";
import { repoRoot, runtime } from "./runtime.ts";

const fakeCli = join(repoRoot(), "tests", "support", "fixtures", "fake_corral_cli.ts");

test(`startCorralProcess parses the serving line and stop() ends the process (${runtime()})`, {
  timeout: 60_000,
}, async () => {
  const server = await startCorralProcess({ entry: fakeCli, args: ["--extra", "1"] });
  try {
    assert.equal(server.host, "127.0.0.1");
    assert.ok(server.port > 0);
    assert.match(server.output(), /args: serve --port 0 --host 127\.0\.0\.1 --extra 1/);
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: server.host, port: server.port }, () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
    });
  } finally {
    await server.stop();
  }
  await server.stop(); // a second stop is harmless
});

test(
  "startCorralProcess reports the output of a server that exits before serving",
  { timeout: 60_000 },
  async () => {
    await assert.rejects(
      startCorralProcess({ entry: fakeCli, env: { FAKE_CORRAL_FAIL: "1" } }).then(async (server) => {
        await server.stop();
      }),
      /exited \(code 3, signal null\) before serving.*failing on purpose/s,
    );
  },
);
