/**
 * Dynamic reconfiguration judged by Apache ZooKeeper's own Java CLI (ZooKeeperMain, 3.8): one CLI
 * session, its commands piped in, against a 3-member ZooKeeper ensemble and a 3-member
 * `corral serve` ensemble started from one zoo.cfg with reconfigEnabled=true and a super digest.
 * The session runs `config` (plain, -s, -c), `reconfig` without auth, `addauth digest super:…`,
 * `reconfig -add` (a participant that never runs, then an observer, with and without the
 * `server.` prefix), `-remove`, `-s`, `-v` (stale and current), `-members`, `-file`, bad
 * arguments, a `config -w` watch, and `config` again. The two transcripts, normalised (ports named
 * by member, zxids named in order of appearance, dates dropped), must be the same.
 *
 * The CLI reads commands from stdin when none is given on its command line (no JLine on the
 * classpath: no prompts). Its stdout and stderr go to one file so that answers and errors keep
 * their order; between commands an `ls /cli-mark-N` of a missing node marks where one command's
 * output ends. Watch events come from the CLI's event thread at any moment, so they are taken out
 * of the sequence and compared apart.
 *
 * Runs under Node only (an ensemble of JVMs; reconfig is the same core under every runtime).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { assertCompat, findOnPath, skipUnlessCompat } from "../support/compat_availability.ts";
import { freePort } from "../support/free_port.ts";
import { zooKeeperClasspath } from "../support/real_zookeeper.ts";
import { runtime } from "../support/runtime.ts";
import { layOutTwin, removeDir, startTwin, type TwinLayout } from "./support/twin_ensemble.ts";

const SESSION_TIMEOUT_MS = 180_000;
const SMALL_JVM = ["-Xms16m", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];
/** sha1("super:test") in ZooKeeper's superDigest form (what kazoo's harness uses too). */
const SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
const MARK = "/cli-mark-";

/** Servers 4 and 5 never run: their ports are only named in config text. */
interface Ghost {
  id: number;
  quorumPort: number;
  electionPort: number;
  clientPort: number;
}

function line(member: Ghost, role: "participant" | "observer"): string {
  return `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}:${role};127.0.0.1:${member.clientPort}`;
}

/** The session's commands, each to be followed by a mark. */
function commands(layout: TwinLayout, ghost4: Ghost, ghost5: Ghost, membersFile: string): string[] {
  const members = layout.members.map((member) => line(member, "participant"));
  const four = line(ghost4, "participant");
  return [
    "config",
    "config -s",
    "config -c",
    // Unauthenticated: a valid request is refused last, by the ACL; a bad one first, by its arguments.
    "reconfig -remove 4",
    "reconfig -add server.4",
    "addauth digest super:test",
    // One voter that never runs joins 3 that do: 3 synced of 4 is a quorum.
    `reconfig -add ${four}`,
    "config",
    "reconfig -s -remove 4",
    "reconfig -v 1 -remove 4",
    // The CLI's usage names joiners "serverId=…": ZooKeeper takes the id after the last ".".
    `reconfig -add ${line(ghost5, "observer").replace(/^server\./, "")}`,
    "reconfig -remove 5",
    `reconfig -members ${members.join(",")}`,
    `reconfig -file ${membersFile}`,
    "config -w",
    "reconfig -remove 5",
    "reconfig -add server.4",
    "reconfig -add server.4=127.0.0.1:1:2:voter;3",
    `reconfig -remove ${layout.members.map((member) => member.id).join(",")}`,
    "reconfig -remove x",
    "reconfig -members foo=bar",
    "reconfig",
    "config -s",
  ];
}

interface Transcript {
  /** Command -> its normalised output lines, in session order. */
  steps: [string, string[]][];
  /** Watch events, normalised and sorted. */
  events: string[];
}

/** Ports -> names, zxids -> Z1, Z2… in order of appearance, dates -> <date>. */
class Normaliser {
  readonly #ports = new Map<string, string>();
  readonly #zxids = new Map<string, string>();

  constructor(layout: TwinLayout, ghosts: readonly Ghost[]) {
    for (const member of [...layout.members, ...ghosts]) {
      this.#ports.set(String(member.quorumPort), `q${member.id}`);
      this.#ports.set(String(member.electionPort), `e${member.id}`);
      this.#ports.set(String(member.clientPort), `c${member.id}`);
    }
  }

  #zxid(hex: string): string {
    const key = BigInt(`0x${hex}`).toString(16);
    if (key === "0") return "0";
    if (!this.#zxids.has(key)) this.#zxids.set(key, `Z${this.#zxids.size + 1}`);
    return this.#zxids.get(key)!;
  }

  line(text: string, path: string): string {
    return text
      .replaceAll(path, "<file>")
      .replace(/\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [A-Z]{2,5} \d{4}\b/g, "<date>")
      .replace(/\b0x([0-9a-f]+)\b/g, (_, hex: string) => `0x${this.#zxid(hex)}`)
      .replace(/\bversion=([0-9a-f]+)\b/g, (_, hex: string) => `version=${this.#zxid(hex)}`)
      // config -c: "<version hex> host:port,host:port…".
      .replace(/^([0-9a-f]+)(?= \S+:\d+(,\S+:\d+)*$)/, (hex: string) => this.#zxid(hex))
      .replace(/\b\d{2,5}\b/g, (port) => this.#ports.get(port) ?? port);
  }
}

/** Connection chatter and log4j noise, the same on both sides and not an answer. */
function isChatter(text: string): boolean {
  return text === "" || text.startsWith("log4j:") || /^(Connecting to|Welcome to ZooKeeper|JLine)/.test(text);
}

/** Runs one CLI session with `steps` piped in, a mark after each; bounded in time. */
async function cliSession(connectString: string, steps: readonly string[], dir: string, normaliser: Normaliser, membersFile: string): Promise<Transcript> {
  const outPath = join(dir, `cli-${Date.now()}.out`);
  const out = openSync(outPath, "w");
  const args = [
    ...SMALL_JVM, "-Dlog4j.configuration=file:/dev/null",
    "-cp", zooKeeperClasspath(), "org.apache.zookeeper.ZooKeeperMain", "-server", connectString,
  ];
  const child = spawn(findOnPath("java") ?? "java", args, { stdio: ["pipe", out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const killer = setTimeout(() => child.kill("SIGKILL"), SESSION_TIMEOUT_MS);
  try {
    const input = steps.flatMap((step, index) => [step, `ls ${MARK}${index}`]).concat("quit").join("\n") + "\n";
    child.stdin!.end(input);
    await exited;
  } finally {
    clearTimeout(killer);
  }
  const text = readFileSync(outPath, "utf8");
  const transcript: Transcript = { steps: [], events: [] };
  let index = 0;
  let current: string[] = [];
  for (const raw of text.split("\n")) {
    const trimmed = raw.trim();
    if (isChatter(trimmed)) continue;
    if (/^(WATCHER::|WatchedEvent)/.test(trimmed)) {
      // Only node events: the connection's own (connected, closed at quit) are the CLI's business.
      if (/type:Node/.test(trimmed)) transcript.events.push(normaliser.line(trimmed, membersFile));
      continue;
    }
    const mark = new RegExp(`${MARK}(\\d+)`).exec(trimmed);
    if (mark !== null && Number(mark[1]) === index) {
      transcript.steps.push([normaliser.line(steps[index]!, membersFile), current]);
      current = [];
      index++;
      continue;
    }
    current.push(normaliser.line(trimmed, membersFile));
  }
  if (index < steps.length) {
    throw new Error(`the CLI session ended after ${index} of ${steps.length} commands (at ${JSON.stringify(steps[index])}):\n${text.slice(-4000)}`);
  }
  transcript.events.sort();
  return transcript;
}

async function observe(kind: "zookeeper" | "corral", dir: string): Promise<Transcript> {
  const layout = await layOutTwin({
    roles: ["participant", "participant", "participant"],
    tickTimeMs: 1000,
    extraLines: ["reconfigEnabled=true", `DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`],
  });
  const ghosts: Ghost[] = [];
  for (const id of [4, 5]) ghosts.push({ id, quorumPort: await freePort(), electionPort: await freePort(), clientPort: await freePort() });
  const [ghost4, ghost5] = ghosts as [Ghost, Ghost];
  // -file: a whole membership in dynamic-config form (read by the CLI, sent as newMembers).
  const membersFile = join(dir, `${kind}-members.cfg`);
  writeFileSync(membersFile, [...layout.members.map((member) => line(member, "participant")), line(ghost5, "observer")].join("\n") + "\n");
  const twin = await startTwin(kind, layout, join(dir, kind));
  try {
    // Through the leader: no member changes its role here, but the leader answers without a forward.
    const leader = twin.idsIn("leader")[0]!;
    const normaliser = new Normaliser(layout, ghosts);
    return await cliSession(twin.connectString([leader]), commands(layout, ghost4, ghost5, membersFile), dir, normaliser, membersFile);
  } catch (error) {
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${twin.output()}`);
  } finally {
    await twin.stop();
  }
}

/** The judge judges: ZooKeeper's transcript shows the reconfigs done and refused as intended. */
function assertZooKeeperAnswered(transcript: Transcript): void {
  const output = (prefix: string) => transcript.steps.find(([command]) => command.startsWith(prefix))?.[1] ?? [];
  assert.deepEqual(output("reconfig -remove 4"), ["Insufficient permission :"], "unauthenticated: NOAUTH");
  assert.ok(output("reconfig -add server.4=").includes("server.4=127.0.0.1:q4:e4:participant;127.0.0.1:c4"), "server 4 joined");
  assert.ok(output("reconfig -file").includes("server.5=127.0.0.1:q5:e5:observer;127.0.0.1:c5"), "-file made server 5 an observer");
  assert.deepEqual(output("reconfig -v 1"), ["version No is not valid :"], "a stale -v: BADVERSION");
  assert.deepEqual(transcript.events, ["WatchedEvent state:SyncConnected type:NodeDataChanged path:/zookeeper/config"], "config -w fired once");
}

/** One line per step whose output differs. */
function differences(zookeeper: Transcript, corral: Transcript): string {
  const lines: string[] = [];
  for (const [index, [command, output]] of zookeeper.steps.entries()) {
    const theirs = corral.steps[index];
    if (theirs === undefined || JSON.stringify(theirs) !== JSON.stringify([command, output])) {
      lines.push(`  ${command}: zookeeper ${JSON.stringify(output)}, corral ${JSON.stringify(theirs?.[1] ?? null)}`);
    }
  }
  if (JSON.stringify(zookeeper.events) !== JSON.stringify(corral.events)) {
    lines.push(`  watch events: zookeeper ${JSON.stringify(zookeeper.events)}, corral ${JSON.stringify(corral.events)}`);
  }
  return lines.join("\n");
}

test("reconfig: ZooKeeper's Java CLI (config, reconfig -add/-remove/-members/-file) sees the same on Corral as on Apache ZooKeeper 3.8", {
  skip: runtime() !== "node"
    ? `runs under Node only (an ensemble of JVMs; reconfig is the same core under ${runtime()})`
    : skipUnlessCompat(["java", "zookeeper"]),
  timeout: 600_000,
}, async () => {
  assertCompat(["java", "zookeeper"]);
  const dir = mkdtempSync(join(tmpdir(), "corral-reconfig-cli-"));
  try {
    const zookeeper = await observe("zookeeper", dir);
    console.log(`zookeeper: ${JSON.stringify(zookeeper, null, 1)}`);
    assertZooKeeperAnswered(zookeeper);
    const corral = await observe("corral", dir);
    console.log(`corral: ${JSON.stringify(corral, null, 1)}`);
    assert.deepEqual(corral, zookeeper, `Corral differs from ZooKeeper:\n${differences(zookeeper, corral)}`);
  } finally {
    removeDir(dir);
  }
});
