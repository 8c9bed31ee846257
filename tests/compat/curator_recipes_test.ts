/**
 * Curator 5.4 (Debian's libcurator-recipes-java) and Corral's recipes share locks, leases, an
 * election and a queue, on Apache ZooKeeper 3.8 and on Corral. A Java contender
 * (tests/compat/curator/CuratorContender.java, run as a single-file program: compiled in memory,
 * nothing built is kept) and Corral contenders in this process append every enter and exit to one
 * ledger file (whole-line O_APPEND writes, so the file is the real order); the ledger must show
 * mutual exclusion (at most two leases; readers only without a writer; one leader) throughout,
 * including after the Java holder is killed mid-hold (SIGKILL: its session then expires and the
 * Corral side must take over, never before).
 *
 * Needs a JDK (java's single-file launch compiles): `apt-get install default-jdk-headless`.
 * Runs under Node only: the judge is Curator against a server; Corral's recipes and client are the
 * same code under every runtime (their own suites run under all three).
 */
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Client, createClient } from "../../src/client/mod.ts";
import { DistributedQueue, LeaderLatch, Mutex, ReadWriteLock, Semaphore } from "../../src/recipes/mod.ts";
import { assertCompat, compatRequired, debianJavaDir, findOnPath, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { repoRoot, runtime } from "../support/runtime.ts";
import { type SpawnedProcess, spawnProcess } from "../support/spawned_process.ts";
import { sleep, waitFor } from "../support/wait_for.ts";

const SESSION_MS = 4000;
const ROUNDS = 4;
const JARS = ["curator-client", "curator-framework", "curator-recipes", "zookeeper", "zookeeper-jute", "guava", "slf4j-api", "slf4j-nop"];
const SOURCE = join(repoRoot(), "tests", "compat", "curator", "CuratorContender.java");

/** Why the Curator judge cannot run here, or null. */
function curatorMissing(): string | null {
  const missing = JARS.filter((jar) => !existsSync(join(debianJavaDir, `${jar}.jar`)));
  if (missing.length > 0) return `jars missing: ${missing.join(", ")} (apt-get install libcurator-recipes-java)`;
  if (findOnPath("javac") === null) return "no JDK (javac), which java's single-file launch needs (apt-get install default-jdk-headless)";
  return null;
}

function skipReason(): string | false {
  if (runtime() !== "node") return `runs under Node only (Curator is the judge; Corral's recipes are the same code under ${runtime()})`;
  const compat = skipUnlessCompat(["java", "zookeeper"]);
  if (compat !== false) return compat;
  const missing = curatorMissing();
  if (missing !== null && !compatRequired()) return `Curator judge missing: ${missing}; CORRAL_REQUIRE_COMPAT=1 turns this skip into a failure`;
  return false;
}

interface Server {
  connectString: string;
  stop(): Promise<void>;
}

const TARGETS: Array<{ name: string; start: () => Promise<Server> }> = [
  { name: "Apache ZooKeeper", start: async () => await startRealZooKeeper() },
  { name: "Corral", start: async () => await startCorralProcess() },
];

interface Java {
  process: SpawnedProcess;
  /** Resolves when it prints READY (connected). */
  ready: Promise<void>;
  /** Resolves when it prints HOLDING (or DONE). */
  held: Promise<void>;
}

/** The Java contender. */
function startJava(connect: string, scenario: string, path: string, ledger: string): Java {
  let signal: () => void = () => {};
  let signalReady: () => void = () => {};
  const held = new Promise<void>((resolve) => signal = resolve);
  const ready = new Promise<void>((resolve) => signalReady = resolve);
  let seen = "";
  const process = spawnProcess(findOnPath("java") ?? "java", [
    "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
    "-cp", JARS.map((jar) => join(debianJavaDir, `${jar}.jar`)).join(":"),
    SOURCE, connect, scenario, path, ledger, String(ROUNDS), String(SESSION_MS),
  ], {
    onStdout: (text) => {
      seen += text;
      if (/READY/.test(seen)) signalReady();
      if (/HOLDING|DONE/.test(seen)) signal();
    },
  });
  return { process, ready, held };
}

/** Waits for the Java contender to print READY (`what` "ready") or HOLDING; fails if it exits first. */
async function javaHolds(java: Java, what: "ready" | "held" = "held"): Promise<void> {
  await Promise.race([
    what === "ready" ? java.ready : java.held,
    java.process.exited.then((exit) => {
      throw new Error(`the Curator contender exited (${JSON.stringify(exit)}) before holding:\n${java.process.output()}`);
    }),
    sleep(90_000).then(() => {
      throw new Error(`the Curator contender did not hold within 90 s:\n${java.process.output()}`);
    }),
  ]);
}

function kill(java: Java, ledger: string): Promise<void> {
  try {
    process.kill(java.process.pid, "SIGKILL");
  } catch {
    // Already gone: stop() below reaps it.
  }
  appendFileSync(ledger, "killed java\n");
  return java.process.stop(1000).then(() => {});
}

/** Reads the ledger and checks it: `limit` holders at once (per kind rule); returns the events. */
function checkLedger(ledger: string, rule: (holders: Map<string, string>, kind: string) => string | null): string[] {
  const lines = readFileSync(ledger, "utf8").split("\n").filter((line) => line !== "");
  const holders = new Map<string, string>(); // who → kind
  for (const [index, line] of lines.entries()) {
    const [event, who] = line.split(" ") as [string, string];
    if (event === "killed") {
      holders.delete(who);
    } else if (event.startsWith("enter-") || event === "leader") {
      const kind = event === "leader" ? "leader" : event.slice("enter-".length);
      const problem = rule(holders, kind);
      if (problem !== null) assert.fail(`ledger line ${index + 1} (${line}): ${problem}\n${lines.join("\n")}`);
      holders.set(who, kind);
    } else if (event.startsWith("exit-") || event === "notleader") {
      assert.ok(holders.has(who), `ledger line ${index + 1}: ${who} leaves what it does not hold\n${lines.join("\n")}`);
      holders.delete(who);
    }
  }
  return lines;
}

const exclusive = (holders: Map<string, string>) => holders.size > 0 ? `entered while ${[...holders.keys()].join(", ")} held` : null;

/**
 * A Corral contender: holds of 30 ms, appending to the ledger, until it has held `afterKill` times
 * after the Java contender was killed (bounded: 500 holds, 2 minutes).
 */
async function corralRounds(
  ledger: string,
  who: string,
  kind: string,
  afterKill: number,
  acquire: () => Promise<{ release(): Promise<void> }>,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let heldAfterKill = 0;
  for (let i = 0; heldAfterKill < afterKill; i++) {
    if (i >= 500 || Date.now() > deadline) throw new Error(`${who}: held ${i} times, ${heldAfterKill} after the kill; giving up`);
    const killed = readFileSync(ledger, "utf8").includes("killed java");
    const held = await acquire();
    if (killed) heldAfterKill++;
    appendFileSync(ledger, `enter-${kind} ${who}\n`);
    await sleep(30);
    appendFileSync(ledger, `exit-${kind} ${who}\n`);
    await held.release();
    await sleep(5);
  }
}

/** Runs a contention scenario on `server`: Java contender + Corral contenders, kill Java while it holds. */
async function contend(
  server: Server,
  scenario: string,
  corral: (clients: Client[], ledger: string, path: string) => Promise<void>,
  rule: (holders: Map<string, string>, kind: string) => string | null,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "corral-curator-"));
  const ledger = join(dir, "ledger");
  writeFileSync(ledger, "");
  const path = `/curator/${scenario}`;
  const clients = await Promise.all([0, 1].map(() => createClient(server.connectString, { sessionTimeoutMs: SESSION_MS })));
  const java = startJava(server.connectString, scenario, path, ledger);
  try {
    await javaHolds(java, "ready");
    const ours = corral(clients, ledger, path);
    await javaHolds(java);
    await sleep(300); // Corral's contenders now queue behind the Java holder
    await kill(java, ledger);
    await ours;
    return checkLedger(ledger, rule);
  } finally {
    await java.process.stop(1000);
    await Promise.all(clients.map((client) => client.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many times `who` entered after the Java contender was killed. */
function entriesAfterKill(lines: readonly string[], who: RegExp): number {
  const killed = lines.indexOf("killed java");
  return lines.slice(killed + 1).filter((line) => /^(enter-|leader )/.test(line) && who.test(line)).length;
}

describe("Curator 5.4 and Corral's recipes share locks, leases, an election and a queue", () => {
  for (const target of TARGETS) {
    describe(`on ${target.name}`, () => {
      test("InterProcessMutex and Mutex exclude each other; a killed Curator holder's lock passes on after its session", {
        skip: skipReason(),
        timeout: 180_000,
      }, async () => {
        assertCompat(["java", "zookeeper"]);
        assert.equal(curatorMissing(), null);
        const server = await target.start();
        try {
          const lines = await contend(server, "mutex", async (clients, ledger, path) => {
            await Promise.all(clients.map((client, i) => corralRounds(ledger, `ts${i}`, "lock", 1, () => new Mutex(client, path).acquire())));
          }, exclusive);
          assert.ok(lines.filter((line) => line === "enter-lock java").length >= ROUNDS + 1, lines.join("\n"));
          assert.ok(entriesAfterKill(lines, /ts/) >= 1, `no Corral contender held after the kill:\n${lines.join("\n")}`);
          const firstJava = lines.indexOf("enter-lock java");
          const betweenJava = lines.slice(firstJava, lines.lastIndexOf("enter-lock java")).some((line) => line.startsWith("enter-lock ts"));
          assert.ok(betweenJava, `Java and Corral never took turns before the kill:\n${lines.join("\n")}`);
        } finally {
          await server.stop();
        }
      });

      test("InterProcessReadWriteLock's write lock and ReadWriteLock: writers alone, readers together", {
        skip: skipReason(),
        timeout: 180_000,
      }, async () => {
        assertCompat(["java", "zookeeper"]);
        const server = await target.start();
        try {
          const lines = await contend(server, "write", async ([writer, reader], ledger, path) => {
            await Promise.all([
              corralRounds(ledger, "ts-writer", "write", 1, () => new ReadWriteLock(writer!, path).writeLock.acquire()),
              corralRounds(ledger, "ts-reader", "read", 1, () => new ReadWriteLock(reader!, path).readLock.acquire()),
            ]);
          }, (holders, kind) => {
            if (kind === "write" && holders.size > 0) return `a writer entered while ${[...holders.keys()].join(", ")} held`;
            if (kind === "read" && [...holders.values()].includes("write")) return "a reader entered while a writer held";
            return null;
          });
          assert.ok(entriesAfterKill(lines, /ts-writer/) >= 1, `the Corral writer never held after the kill:\n${lines.join("\n")}`);
        } finally {
          await server.stop();
        }
      });

      test("InterProcessSemaphoreV2 and Semaphore share two leases", { skip: skipReason(), timeout: 180_000 }, async () => {
        assertCompat(["java", "zookeeper"]);
        const server = await target.start();
        try {
          const lines = await contend(server, "semaphore", async (clients, ledger, path) => {
            await Promise.all(clients.map((client, i) => corralRounds(ledger, `ts${i}`, "lease", 1, () => new Semaphore(client, path, { maxLeases: 2 }).acquire())));
          }, (holders) => holders.size >= 2 ? `a third lease while ${[...holders.keys()].join(", ")} held` : null);
          assert.ok(entriesAfterKill(lines, /ts/) >= 2, lines.join("\n"));
        } finally {
          await server.stop();
        }
      });

      test("LeaderLatch (Curator) and LeaderLatch (Corral): one leader throughout, the next after the leader is killed", {
        skip: skipReason(),
        timeout: 180_000,
      }, async () => {
        assertCompat(["java", "zookeeper"]);
        const server = await target.start();
        const dir = mkdtempSync(join(tmpdir(), "corral-curator-"));
        const ledger = join(dir, "ledger");
        writeFileSync(ledger, "");
        const path = "/curator/latch";
        const java = startJava(server.connectString, "latch", path, ledger);
        const clients: Client[] = [];
        try {
          await javaHolds(java);
          const latches = [];
          for (const who of ["ts0", "ts1"]) {
            const client = await createClient(server.connectString, { sessionTimeoutMs: SESSION_MS });
            clients.push(client);
            const latch = new LeaderLatch(client, path, { id: who });
            latch.onChange((term) => appendFileSync(ledger, term === null ? `notleader ${who}\n` : `leader ${who}\n`));
            await latch.start();
            latches.push(latch);
          }
          await sleep(500); // Corral's latches must wait behind the Java leader
          await kill(java, ledger);
          const first = await waitFor(() => readFileSync(ledger, "utf8").match(/leader (ts\d)\n/)?.[1], {
            timeoutMs: 30_000,
            what: "a Corral latch to lead after the Java leader was killed",
          });
          await latches[first === "ts0" ? 0 : 1]!.close();
          await waitFor(() => (readFileSync(ledger, "utf8").match(/^leader ts/gm)?.length ?? 0) >= 2, {
            timeoutMs: 30_000,
            what: "the other Corral latch to lead once the first closed",
          });
          const lines = checkLedger(ledger, (holders) => holders.size > 0 ? `a second leader while ${[...holders.keys()].join(", ")} led` : null);
          assert.equal(lines[0], "leader java");
          assert.equal(lines[1], "killed java", `a Corral latch led beside the Java leader:\n${lines.join("\n")}`);
          for (const latch of latches) await latch.close();
        } finally {
          await java.process.stop(1000);
          for (const client of clients) await client.close();
          rmSync(dir, { recursive: true, force: true });
          await server.stop();
        }
      });

      test("Curator's DistributedQueue puts, Corral's DistributedQueue takes every item once, in order", {
        skip: skipReason(),
        timeout: 180_000,
      }, async () => {
        assertCompat(["java", "zookeeper"]);
        const server = await target.start();
        const dir = mkdtempSync(join(tmpdir(), "corral-curator-"));
        const ledger = join(dir, "ledger");
        writeFileSync(ledger, "");
        const client = await createClient(server.connectString, { sessionTimeoutMs: SESSION_MS });
        const java = startJava(server.connectString, "queue", "/curator/queue", ledger);
        try {
          const queue = new DistributedQueue(client, "/curator/queue");
          const taken: string[] = [];
          for (let i = 0; i < ROUNDS; i++) {
            const message = await queue.take({ signal: AbortSignal.timeout(60_000) });
            taken.push(...message.items.map((item) => new TextDecoder().decode(item)));
          }
          assert.deepEqual(taken, Array.from({ length: ROUNDS }, (_, i) => `java-${i}`));
          await javaHolds(java);
          assert.equal(await queue.size(), 0);
        } finally {
          await java.process.stop(1000);
          await client.close();
          rmSync(dir, { recursive: true, force: true });
          await server.stop();
        }
      });
    });
  }
});
