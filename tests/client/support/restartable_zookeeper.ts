/**
 * A standalone Apache ZooKeeper that can be stopped and started again on the same port with the same
 * data directory, so that sessions survive a restart (the reconnect test needs that; the shared
 * tests/support/real_zookeeper.ts removes its directory on stop).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../../support/compat_availability.ts";
import { fourLetterWord } from "../../support/four_letter_word.ts";
import { freePort } from "../../support/free_port.ts";
import { zooKeeperClasspath } from "../../support/real_zookeeper.ts";
import { type SpawnedProcess, spawnProcess } from "../../support/spawned_process.ts";
import { sleep } from "../../support/wait_for.ts";

export interface RestartableZooKeeper {
  readonly port: number;
  readonly connectString: string;
  /** Starts the server (again) and waits until it serves. */
  start(): Promise<void>;
  /** Stops the server process (SIGKILL when `kill`), keeping its data. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
  output(): string;
}

export async function startRestartableZooKeeper(
  options: { tickTimeMs?: number } = {},
): Promise<RestartableZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), "corral-client-zk-"));
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  const port = await freePort();
  const configPath = join(dir, "zoo.cfg");
  writeFileSync(
    configPath,
    [
      `tickTime=${options.tickTimeMs ?? 2000}`,
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=*",
      "forceSync=no",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "log4j.properties"),
    `log4j.rootLogger=WARN, FILE\nlog4j.appender.FILE=org.apache.log4j.FileAppender\nlog4j.appender.FILE.File=${
      join(dir, "zookeeper.log")
    }\nlog4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n`,
  );
  let child: SpawnedProcess | null = null;
  const server: RestartableZooKeeper = {
    port,
    connectString: `127.0.0.1:${port}`,
    async start() {
      if (child !== null) throw new Error("ZooKeeper is already running");
      child = spawnProcess(findOnPath("java") ?? "java", [
        "-Xms32m",
        "-Xmx256m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        `-Dlog4j.configuration=file:${join(dir, "log4j.properties")}`,
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        zooKeeperClasspath(),
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        configPath,
      ], { cwd: dir });
      await waitServing(port, child);
    },
    async stop(stopOptions = {}) {
      const running = child;
      child = null;
      if (running === null) return;
      await running.stop(stopOptions.kill ? 0 : 5000);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => child?.output() ?? "",
  };
  await server.start();
  return server;
}

async function waitServing(port: number, child: SpawnedProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitStatus() !== null) throw new Error(`ZooKeeper exited during startup:\n${child.output()}`);
    try {
      const srvr = await fourLetterWord("127.0.0.1", port, "srvr", 1000);
      if (srvr.includes("Mode: standalone")) return;
      last = srvr;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`ZooKeeper did not serve on 127.0.0.1:${port} within 30 s (${last})\n${child.output()}`);
}
