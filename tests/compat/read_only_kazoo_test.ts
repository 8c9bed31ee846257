/**
 * Read-only mode (issue 13 item 2), judged by kazoo and by Corral's own client against Apache
 * ZooKeeper 3.8: the same script
 * (tests/compat/kazoo_read_only_script.py, kazoo's own TestReadOnlyMode with more observations)
 * runs against a 3-member ZooKeeper ensemble started with -Dreadonlymode.enabled=true and a
 * 3-member `corral serve` ensemble with readonlymode.enabled=true in its zoo.cfg. The test stops
 * two members, lets the script observe the survivor serving it read-only (reads answer, every
 * write NOTREADONLY), starts them again, and lets it see read-write service come back. Corral's
 * client (canBeReadOnly) does the same beside it, and must find the read-write server again by
 * itself (isro probes, as ZooKeeper's Java client). Both servers must give the same observations.
 *
 * Runs under Node only: two ensembles of processes take a minute or so, and read-only mode is the
 * core's and the driver's, the same code under every runtime (tests/core and tests/driver run it
 * under all three).
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { runtime } from "../support/runtime.ts";
import { Client } from "../../src/client/client.ts";
import { KeeperError } from "../../src/client/keeper_error.ts";
import { layOutTwin, removeDir, startTwin, type StartedTwin } from "./support/twin_ensemble.ts";

const SCRIPT = fileURLToPath(new URL("./kazoo_read_only_script.py", import.meta.url));
const LINE_TIMEOUT_MS = 90_000;

/** The script's stdout, line by line, with a bounded wait for each. */
class ScriptLines {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = "";
  #stderr = "";
  readonly #lines: string[] = [];
  #wake: (() => void) | null = null;

  constructor(survivor: string, hosts: string) {
    this.#child = spawn(kazooPython(), [SCRIPT, survivor, hosts], { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdout.setEncoding("utf8");
    this.#child.stdout.on("data", (text: string) => {
      this.#buffer += text;
      let newline;
      while ((newline = this.#buffer.indexOf("\n")) >= 0) {
        this.#lines.push(this.#buffer.slice(0, newline));
        this.#buffer = this.#buffer.slice(newline + 1);
      }
      this.#wake?.();
    });
    this.#child.stderr.setEncoding("utf8");
    this.#child.stderr.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-8000);
    });
    this.#child.on("exit", () => this.#wake?.());
  }

  async next(what: string): Promise<string> {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    while (this.#lines.length === 0) {
      if (this.#child.exitCode !== null) throw new Error(`the kazoo script exited before "${what}":\n${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${what}" from the kazoo script within ${LINE_TIMEOUT_MS} ms:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 500);
      });
      this.#wake = null;
    }
    return this.#lines.shift()!;
  }

  send(line: string): void {
    this.#child.stdin.write(line + "\n");
  }

  stop(): void {
    if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
  }
}

/** What a call did: "ok" or its error's code name. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (error) {
    return error instanceof KeeperError ? error.codeName : String(error);
  }
}

/** Corral's client through the read-only phase: connected with every host listed, only one up. */
async function ourClientReadOnly(hosts: string): Promise<{ client: Client; readOnlySession: bigint; observed: Record<string, unknown> }> {
  // The survivor serves read-only only seconds after the others stop (it must notice, then look for
  // a leader for a while): under load that can take longer than the session timeout, which is the
  // default wait for the first connection.
  const client = await Client.connect(hosts, { canBeReadOnly: true, sessionTimeoutMs: 10_000, initialConnectTimeoutMs: LINE_TIMEOUT_MS });
  const observed: Record<string, unknown> = {
    our_client_state: client.state,
    our_client_get: new TextDecoder().decode((await client.getData("/ro/data")).data),
    our_client_create: await outcome(() => client.create("/ro/ours")),
    our_client_sync: await outcome(() => client.sync("/ro")),
  };
  return { client, readOnlySession: client.sessionId, observed };
}

/**
 * After the restart: the client finds a read-write server by itself, with a new session. The
 * read-only session was noted while read-only: by now the client may have switched already.
 */
async function ourClientReadWrite(client: Client, readOnlySession: bigint, observed: Record<string, unknown>): Promise<void> {
  const deadline = Date.now() + LINE_TIMEOUT_MS;
  while (client.state !== "connected" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  observed.our_client_read_write_again = client.state === "connected";
  observed.our_client_new_session = client.sessionId !== readOnlySession;
  observed.our_client_create_after = await outcome(() => client.create("/ro/ours-after"));
}

/** Waits (bounded) until the member on `port` answers isro with "ro". */
async function untilReadOnly(port: number): Promise<void> {
  const deadline = Date.now() + LINE_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    last = await fourLetterWord("127.0.0.1", port, "isro", 2000).catch((error: Error) => error.message);
    if (last === "ro") return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the survivor never served read-only (isro last said ${JSON.stringify(last)})`);
}

async function observe(kind: "zookeeper" | "corral", dir: string): Promise<Record<string, unknown>> {
  const layout = await layOutTwin({
    roles: ["participant", "participant", "participant"],
    tickTimeMs: 1000,
    initLimit: 5,
    syncLimit: 2,
    // ZooKeeper 3.8 gives read-only clients sessions only as local sessions (ZOOKEEPER-3863);
    // Corral's read-only members always do, and its read-write members then make local sessions
    // too, as ZooKeeper's (tests/compat/local_sessions_test.ts).
    extraLines: ["localSessionsEnabled=true", "localSessionsUpgradingEnabled=true", ...(kind === "corral" ? ["readonlymode.enabled=true"] : [])],
  });
  const twin: StartedTwin = await startTwin(kind, layout, join(dir, kind), {
    jvmProperties: { "readonlymode.enabled": "true" },
  });
  // The survivor is a follower: it must notice the quorum is gone, look for a leader, and only
  // then (ZooKeeper: after max(2 s, tickTime) of looking) serve read-only.
  const survivor = twin.idsIn("follower")[0]!;
  const script = new ScriptLines(twin.connectString([survivor]), twin.connectString());
  try {
    assert.equal(await script.next("ready"), "ready");
    for (const member of layout.members) if (member.id !== survivor) await twin.stopMember(member.id);
    // Under load ZooKeeper's survivor can take many seconds to serve read-only, and kazoo's backoff
    // between attempts grows meanwhile: the script starts its reader once isro says "ro".
    await untilReadOnly(twin.clientPortOf(survivor));
    script.send("stopped");
    const ours = await ourClientReadOnly(twin.connectString());
    try {
      assert.equal(await script.next("read-only"), "read-only");
      for (const member of layout.members) if (member.id !== survivor) await twin.startMember(member.id);
      script.send("restarted");
      // The script lists /ro once read-write again: our client's create waits for that, so that the
      // listing cannot depend on which of the two got there first.
      const theirs = JSON.parse(await script.next("observations"));
      await ourClientReadWrite(ours.client, ours.readOnlySession, ours.observed);
      return { ...theirs, ...ours.observed };
    } finally {
      await ours.client.close();
    }
  } catch (error) {
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${twin.output()}`);
  } finally {
    script.stop();
    await twin.stop();
  }
}

test("read-only mode: kazoo sees the same on Corral as on Apache ZooKeeper 3.8 (reads served, writes NOTREADONLY, read-write again after the quorum returns)", {
  skip: runtime() !== "node"
    ? `runs under Node only (two ensembles of processes; read-only mode is the same core and driver under ${runtime()})`
    : skipUnlessCompat(["java", "zookeeper", "kazoo"]),
  timeout: 400_000,
}, async () => {
  assertCompat(["java", "zookeeper", "kazoo"]);
  const dir = mkdtempSync(join(tmpdir(), "corral-read-only-"));
  try {
    const zookeeper = await observe("zookeeper", dir);
    console.log(`zookeeper: ${JSON.stringify(zookeeper)}`);
    const corral = await observe("corral", dir);
    console.log(`corral: ${JSON.stringify(corral)}`);
    assert.equal(zookeeper.reader_read_only, true, "ZooKeeper itself served read-only (the judge works)");
    assert.deepEqual(corral, zookeeper);
  } finally {
    removeDir(dir);
  }
});
