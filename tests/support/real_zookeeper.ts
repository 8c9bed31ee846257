/**
 * Starts a standalone Apache ZooKeeper (Debian's `zookeeper` package, 3.8) on 127.0.0.1 for
 * compatibility tests: the judge that Corral's behaviour is compared against.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertCompat, debianJavaDir, findOnPath } from "./compat_availability.ts";
import { fourLetterWord } from "./four_letter_word.ts";
import { freePort } from "./free_port.ts";
import { type SpawnedProcess, spawnProcess } from "./spawned_process.ts";
import { sleep } from "./wait_for.ts";

export interface RealZooKeeperOptions {
  /** zoo.cfg tickTime; default 2000 (session timeouts are clamped to [2, 20] ticks). */
  tickTimeMs?: number;
  /** More zoo.cfg lines; they override the defaults. Unknown keys become `zookeeper.<key>` properties. */
  extraConfig?: Record<string, string>;
  /** Java system properties (-Dkey=value), e.g. `znode.container.checkIntervalMs`. */
  jvmProperties?: Record<string, string>;
  /** How long to wait for `ruok` → `imok`; default 30 s. */
  startTimeoutMs?: number;
  /**
   * JVM flags before the -D properties. Default: a small JVM that starts fast (C1 only, serial GC,
   * 256 MB heap), for tests. Benchmarks pass [] to get the JVM's own defaults, as Debian runs it.
   */
  jvmFlags?: readonly string[];
  /**
   * The `Mode:` srvr must report before the server counts as started; default "standalone". A
   * one-member ensemble (standaloneEnabled=false and a server.N line, e.g. for reconfig) is "leader".
   */
  expectMode?: string;
  /** Writes dataDir/myid with this id: a member of an ensemble (with `server.N` lines in extraConfig). */
  myId?: number;
  /** Listen on this client port (e.g. one a server.N line names) instead of a free one; no retry. */
  clientPort?: number;
}

export interface RealZooKeeper {
  host: "127.0.0.1";
  port: number;
  /** "127.0.0.1:<port>" */
  connectString: string;
  /** ZooKeeper's dataDir (inside `dir`). */
  dataDir: string;
  /** The temporary directory holding zoo.cfg, data and the log; removed by stop(). */
  dir: string;
  pid: number;
  /** The server log's last `bytes` characters (for error messages). */
  logTail(bytes?: number): string;
  /** SIGTERM, SIGKILL after 5 s, then removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

const portAttemptsMax = 3;

/** Start fast and small: tests run several servers on two cores. */
const testJvmFlags = ["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

/** Starts ZooKeeper and resolves once it answers `ruok` with `imok` and reports `Mode: standalone` (or expectMode). */
export async function startRealZooKeeper(options: RealZooKeeperOptions = {}): Promise<RealZooKeeper> {
  assertCompat(["java", "zookeeper"]);
  if (options.clientPort !== undefined) return startOnPort(options.clientPort, options);
  let lastError: Error | null = null;
  for (let attempt = 1; attempt <= portAttemptsMax; attempt++) {
    const port = await freePort();
    try {
      return await startOnPort(port, options);
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
      // Only a lost race for the port is worth another try; anything else is reported at once.
      if (!/Address already in use|BindException/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error("startRealZooKeeper: no attempt made");
}

/** The classpath for Debian's ZooKeeper: its jar (whose manifest lists its dependencies) plus a log4j binding. */
export function zooKeeperClasspath(): string {
  const jars = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-log4j12.jar", "log4j-1.2.jar"]
    .map((name) => join(debianJavaDir, name))
    .filter((path) => existsSync(path));
  return jars.join(":");
}

async function startOnPort(port: number, options: RealZooKeeperOptions): Promise<RealZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), "corral-zk-"));
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  if (options.myId !== undefined) writeFileSync(join(dataDir, "myid"), `${options.myId}\n`);
  const logPath = join(dir, "zookeeper.log");
  const configPath = join(dir, "zoo.cfg");
  const log4jPath = join(dir, "log4j.properties");
  writeFileSync(configPath, zooCfg({ port, dataDir, options }));
  writeFileSync(log4jPath, log4jProperties(logPath));
  const java = findOnPath("java") ?? "java";
  const properties: Record<string, string> = {
    "log4j.configuration": `file:${log4jPath}`,
    "zookeeper.log.dir": dir,
    "zookeeper.admin.enableServer": "false",
    "zookeeper.jmx.log4j.disable": "true",
    "java.awt.headless": "true",
    ...options.jvmProperties,
  };
  const args = [
    ...(options.jvmFlags ?? testJvmFlags),
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
    "-cp",
    zooKeeperClasspath(),
    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
    configPath,
  ];
  const child = spawnProcess(java, args, { cwd: dir });
  const logTail = (bytes = 4000) => tailOf(logPath, child, bytes);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await child.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(
      port,
      child,
      options.startTimeoutMs ?? 30_000,
      logTail,
      options.expectMode ?? "standalone",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host: "127.0.0.1",
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    dir,
    pid: child.pid,
    logTail,
    stop,
  };
}

function zooCfg(input: { port: number; dataDir: string; options: RealZooKeeperOptions }): string {
  const config: Record<string, string> = {
    tickTime: String(input.options.tickTimeMs ?? 2000),
    dataDir: input.dataDir,
    clientPort: String(input.port),
    clientPortAddress: "127.0.0.1",
    "admin.enableServer": "false",
    "4lw.commands.whitelist": "*",
    // Tests check protocol behaviour, not durability; skipping fsync keeps the two cores free.
    forceSync: "no",
    ...input.options.extraConfig,
  };
  return Object.entries(config).map(([key, value]) => `${key}=${value}\n`).join("");
}

/** log4j settings for a ZooKeeper process: INFO to `logPath`, as Debian's default. */
export function log4jProperties(logPath: string): string {
  return [
    "log4j.rootLogger=INFO, FILE",
    "log4j.appender.FILE=org.apache.log4j.FileAppender",
    `log4j.appender.FILE.File=${logPath}`,
    "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n",
    "",
  ].join("\n");
}

async function waitUntilServing(
  port: number,
  child: SpawnedProcess,
  timeoutMs: number,
  logTail: () => string,
  mode: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  while (Date.now() < deadline) {
    const exit = child.exitStatus();
    if (exit !== null) {
      throw new Error(
        `ZooKeeper exited during startup (code ${exit.code}, signal ${exit.signal}) on port ${port}.\n` +
          `command: ${child.commandLine}\n--- log tail ---\n${logTail()}`,
      );
    }
    try {
      const ruok = await fourLetterWord("127.0.0.1", port, "ruok", 1000);
      if (ruok === "imok") {
        const srvr = await fourLetterWord("127.0.0.1", port, "srvr", 1000);
        if (srvr.includes(`Mode: ${mode}`)) return;
        lastProblem = `srvr said: ${srvr.trim()}`;
      } else {
        lastProblem = `ruok said: ${JSON.stringify(ruok)}`;
      }
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(
    `ZooKeeper did not start serving on 127.0.0.1:${port} within ${timeoutMs} ms (${lastProblem}).\n` +
      `command: ${child.commandLine}\n--- log tail ---\n${logTail()}`,
  );
}

function tailOf(logPath: string, child: SpawnedProcess, bytes: number): string {
  let log = "";
  try {
    log = readFileSync(logPath, "utf8");
  } catch {
    log = "(no log file)";
  }
  const console = child.output().trim();
  const text = console === "" ? log : `${log}\n--- stdout/stderr ---\n${console}`;
  return text.length > bytes ? text.slice(text.length - bytes) : text;
}
