/**
 * `conf` and `dirs` report the store's sizes as ZooKeeper computes them (issue 10 item 10: they said
 * 0 for a non-empty log), from a real `corral serve` process under Node, Deno and Bun. ZooKeeper's
 * labels are crossed (src/driver/storage_sizes.ts): dataDirSize/datadir_size is the log directory's
 * size and dataLogSize/logdir_size the snapshot directory's; with one dataDir both are its total.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createClient } from "../../src/client/mod.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { runtimeUnavailable, startCorralCli } from "../cli/support/corral_cli.ts";

const root = mkdtempSync(join(tmpdir(), "corral-conf-sizes-"));
after(() => rmSync(root, { recursive: true, force: true }));
const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];

function bytesOf(dir: string, prefix: string): number {
  return readdirSync(dir).filter((name) => name.startsWith(prefix)).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

function confValue(text: string, key: string): number {
  const match = new RegExp(`^${key}[=:] ?(\\d+)$`, "m").exec(text);
  assert.ok(match !== null, `${key} in:\n${text}`);
  return Number(match[1]);
}

for (const which of RUNTIMES) {
  describe(`corral serve under ${which}: conf and dirs sizes`, { skip: runtimeUnavailable(which) }, () => {
    test("are the bytes of the log and snapshot directories, not 0", { timeout: 120_000 }, async () => {
      const dataDir = join(root, `${which}-data`);
      const logDir = join(root, `${which}-log`);
      const config = join(root, `${which}.cfg`);
      // No snapshot (default snapCount), so no purge shrinks the log while we compare.
      writeFileSync(config, `clientPort=2181\ndataLogDir=${logDir}\n`);
      const cli = startCorralCli(which, ["serve", config, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--4lw", "conf,dirs"]);
      try {
        const port = Number((await cli.waitForOutput(/corral: serving on 127\.0\.0\.1:(\d+)/))[1]);
        const client = await createClient(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000 });
        for (let i = 0; i < 30; i++) await client.create(`/n${i}`, "x".repeat(100));
        await client.close();
        const logBytes = bytesOf(logDir, "log.");
        assert.ok(logBytes > 3000, `the log holds the writes (${logBytes} bytes)`);
        const conf = await fourLetterWord("127.0.0.1", port, "conf");
        assert.ok(confValue(conf, "dataDirSize") >= logBytes, `dataDirSize counts the log directory (${logBytes} bytes of log.*):\n${conf}`);
        const storeFiles = bytesOf(dataDir, "") - bytesOf(dataDir, "corral.lock");
        assert.ok(storeFiles > 0, "dataDir holds the store's files");
        assert.equal(confValue(conf, "dataLogSize"), storeFiles, `dataLogSize counts dataDir's store files:\n${conf}`);
        const dirs = await fourLetterWord("127.0.0.1", port, "dirs");
        assert.ok(confValue(dirs, "datadir_size") >= logBytes, dirs);
        assert.equal(confValue(dirs, "logdir_size"), storeFiles, dirs);
      } finally {
        await cli.stop();
      }
    });
  });
}
