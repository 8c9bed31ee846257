/**
 * Two servers must never share a data or log directory (issue 10 item 1): the second is refused
 * with one line naming the first, in the same process (embedded) or another (`corral serve` under
 * Node, Deno and Bun); a holder killed with SIGKILL leaves a stale lock that does not block a restart.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { DirInUseError, LOCK_FILE, lockDataDirs, lockDirectory } from "../../src/driver/dir_lock.ts";
import { serveDurable } from "../../src/driver/durable_server.ts";
import { currentProcess } from "../../src/driver/process_identity.ts";
import { startReplica } from "../../src/driver/start_replica.ts";
import { NodeFileSystem } from "../../src/storage/node_file_system.ts";
import { freePort } from "../support/free_port.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { runCorralCli, runtimeUnavailable, startCorralCli } from "../cli/support/corral_cli.ts";

const root = mkdtempSync(join(tmpdir(), "corral-dir-lock-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

describe("the directory lock, in one process", () => {
  test("a second lock on a directory is refused naming this process; after release it can be taken again", async () => {
    const dir = freshDir();
    const first = await lockDirectory(dir, "dataDir", { program: "test one" });
    const refused = await lockDirectory(dir, "dataDir", { program: "test two" }).then(() => null, (error) => error);
    assert.ok(refused instanceof DirInUseError, `expected DirInUseError, got ${refused}`);
    assert.match(refused.message, new RegExp(`^dataDir ${dir} is in use by this process \\(pid ${process.pid}, test one, started \\S+\\); stop it or choose another dataDir$`));
    await first.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, "release removes the lock file");
    await (await lockDirectory(dir, "dataDir", { program: "test three" })).release();
  });

  test("a lock left by a dead process (SIGKILL, crash) is stale and is taken over", async () => {
    const dir = freshDir();
    const dead = spawnSync("/bin/sh", ["-c", "exit 0"], { timeout: 30_000 }); // exited and reaped: its pid is free
    const pid = dead.pid!;
    const stale = { ...currentProcess(), pid, program: "corral serve", startedAt: "2026-01-01T00:00:00.000Z", token: "x" };
    await (await lockDirectory(dir, "dataDir", { program: "setup" })).release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(stale));
    const lock = await lockDirectory(dir, "dataDir", { program: "after the crash" });
    assert.match(readFileSync(join(dir, LOCK_FILE), "utf8"), /after the crash/);
    await lock.release();
  });

  test("a reused pid does not keep a stale lock alive (the start time differs)", async () => {
    const dir = freshDir();
    const me = currentProcess();
    if (me.procStart === null) return; // no /proc here: only signal 0 can be asked
    await (await lockDirectory(dir, "dataDir", { program: "setup" })).release();
    const reused = { ...me, procStart: String(Number(me.procStart) + 1), program: "corral serve", startedAt: "x", token: "y" };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(reused));
    await (await lockDirectory(dir, "dataDir", { program: "new" })).release();
  });

  test("dataLogDir is locked too, and the same directory given twice is one lock", async () => {
    const data = freshDir();
    const log = freshDir();
    const both = await lockDataDirs(data, log, { program: "holder" });
    const refused = await lockDataDirs(freshDir(), log, { program: "second" }).then(() => null, (error) => error);
    assert.match(String(refused?.message), new RegExp(`^dataLogDir ${log} is in use by this process`));
    await both.release();
    await (await lockDataDirs(data, `${data}/`, { program: "same dir" })).release();
  });

  test("two embedded members (startReplica) on one dataDir: the second is refused, the first keeps running", async () => {
    const dataDir = freshDir();
    const servers = [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", quorumPort: 0 }));
    for (const server of servers) server.quorumPort = await freePort();
    const first = await startReplica({ myId: 1, servers, dataDir, tickTimeMs: 100 });
    try {
      const second = await startReplica({ myId: 2, servers, dataDir, tickTimeMs: 100 }).then(async (member) => {
        await member.stop(); // it must not have started; if it did, do not leave it running
        return null;
      }, (error) => error);
      assert.ok(second instanceof DirInUseError, `expected DirInUseError, got ${second}`);
      assert.match(second.message, /is in use by this process \(pid \d+, startReplica \(server 1\), started/);
      assert.equal(first.status().mode, "looking", "the first member still runs");
    } finally {
      await first.stop();
    }
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), false, "stop() releases the lock");
  });

  test("two embedded durable servers (serveDurable) on one dataDir: the second is refused", async () => {
    const dataDir = freshDir();
    const transport = await import("../../src/transport/auto.ts").then((module) => module.defaultTransport());
    const options = { transport, host: "127.0.0.1", port: 0, fs: new NodeFileSystem(), dataDir, config: defaultServerConfig({ sessionIdSeedMs: 1 }) };
    const first = await serveDurable(options);
    try {
      const second = await serveDurable(options).then(async (server) => {
        await server.close();
        return null;
      }, (error) => error);
      assert.ok(second instanceof DirInUseError, `expected DirInUseError, got ${second}`);
    } finally {
      await first.close();
    }
    await (await serveDurable(options)).close();
  });
});

const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];

for (const which of RUNTIMES) {
  describe(`corral serve under ${which}: one process per directory`, () => {
    test("a second process on the dataDir, or on the dataLogDir, is refused with one line naming the first; after its SIGKILL a restart succeeds", {
      skip: runtimeUnavailable(which),
      timeout: 180_000,
    }, async () => {
      const dir = freshDir();
      const logDir = join(dir, "log");
      const config = join(root, `zoo-${which}.cfg`);
      writeFileSync(config, `tickTime=2000\nclientPort=2181\ndataLogDir=${logDir}\n`);
      const serve = (dataDir: string) => ["serve", config, "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir];
      const holder = startCorralCli(which, serve(join(dir, "a")));
      try {
        await holder.waitForOutput(/corral: serving on /);
        const sameDataDir = await runCorralCli(which, serve(join(dir, "a")));
        assert.equal(sameDataDir.code, 1, sameDataDir.output);
        assert.match(sameDataDir.output, new RegExp(
          `^corral: dataDir ${join(dir, "a")} is in use by process ${holder.pid} \\(corral serve, started [^)]+\\); stop it or choose another --data-dir\\n`,
          "m",
        ));
        assert.equal(sameDataDir.output.split("\n").filter((line) => line.includes("in use")).length, 1, "one line");
        assert.doesNotMatch(sameDataDir.output, /\n\s+at /, "no stack trace");

        const sameLogDir = await runCorralCli(which, serve(join(dir, "b")));
        assert.equal(sameLogDir.code, 1, sameLogDir.output);
        assert.match(sameLogDir.output, new RegExp(`^corral: dataLogDir ${logDir} is in use by process ${holder.pid} \\(corral serve, `, "m"));
      } finally {
        await holder.kill();
      }
      assert.ok(existsSync(join(dir, "a", LOCK_FILE)), "SIGKILL left the lock file behind");
      const restarted = startCorralCli(which, serve(join(dir, "a")));
      try {
        await restarted.waitForOutput(/corral: serving on /);
      } finally {
        assert.equal((await restarted.stop()).code, 0);
      }
      assert.equal(existsSync(join(dir, "a", LOCK_FILE)), false, "a clean stop removes the lock");
    });
  });
}
