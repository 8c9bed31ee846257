/**
 * ZooKeeper's C client as a judge (a third implementation of the protocol beside Java and kazoo):
 * Debian zookeeper-bin's `cli_mt` runs one scenario, a command per process (its batch mode, `-c`),
 * against Apache ZooKeeper 3.8 and against Corral (under the test's runtime); the transcripts must
 * be identical once what differs by nature is masked: session ids, timings and wall-clock times.
 * Zxids are kept: both servers start empty and see the same txns in the same order.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { assertCompat, compatRequired, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";

const CLI_MT = process.env.CORRAL_CLI_MT ?? "/usr/lib/zookeeper/bin/cli_mt";

/** Each runs in its own cli_mt process (own session), in order. (`exists` is left out: in batch mode cli_mt does not exit after it.) */
const SCENARIO = [
  "create /c",
  "set /c hello",
  "get /c",
  "ls /",
  "create +e /c/ephemeral",
  "ls /c",
  "create +s /c/seq-",
  "create +s /c/seq-",
  "ls2 /c",
  "delete /c",
  "create /c",
  "set /missing x",
  "get /missing",
  "get /zookeeper/config",
  "delete /c/seq-0000000001",
  "delete /c/seq-0000000002",
  "delete /c",
  "ls /",
];

function skipReason(): string | false {
  const compat = skipUnlessCompat(["java", "zookeeper"]);
  if (compat !== false) return compat;
  if (!existsSync(CLI_MT) && !compatRequired()) {
    return `C client judge missing: ${CLI_MT} (apt-get install zookeeper-bin); CORRAL_REQUIRE_COMPAT=1 turns this skip into a failure`;
  }
  return false;
}

function runCli(connectString: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(CLI_MT, ["-h", connectString, "-c", command], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as { killed?: boolean }).killed) return reject(new Error(`cli_mt ${command}: timed out`));
      const code = error === null ? 0 : (error as { code?: unknown }).code;
      resolve(`$ ${command} (exit ${String(code)})\n${stdout}${stderr}`);
    });
  });
}

function isSessionLine(line: string): boolean {
  return line === "Watcher SESSION_EVENT state = CONNECTED_STATE" || line.startsWith("Got a new session id: ");
}

/** Masks what differs by nature between two servers and two runs (one command's output). */
function normalise(transcript: string): string {
  return transcript
    .replace(/session id: 0x[0-9a-f]+/g, "session id: 0x…")
    .replace(/time = \d+ msec/g, "time = … msec")
    .replace(/(ctime|mtime)\s*=.*/g, "$1 = …")
    .replace(/ephemeralOwner\s*=\s*0x[0-9a-f]*[1-9a-f][0-9a-f]*/g, "ephemeralOwner = <session>")
    .split("\n")
    .filter((line) => !/^\s*$/.test(line))
    // cli_mt's I/O thread prints the session lines while its main thread prints "Creating …": the
    // order of the two is a race, so the session lines go to one place, after "$ command".
    .map((line, index, lines) => index === 0 ? [line, ...lines.filter(isSessionLine)].join("\n") : line)
    .filter((line) => !isSessionLine(line))
    .join("\n")
    // Children come in no defined order (ZooKeeper's is its HashSet's): sort each run of names.
    .replace(/(?:^\t[^\t\n=]+$\n?)+/gm, (run) => run.split("\n").filter((line) => line !== "").sort().join("\n") + "\n");
}

async function transcript(connectString: string): Promise<string> {
  const parts: string[] = [];
  for (const command of SCENARIO) parts.push(normalise(await runCli(connectString, command)));
  return parts.join("\n");
}

test("cli_mt (ZooKeeper's C client) gives Corral and Apache ZooKeeper 3.8 the same transcript", {
  skip: skipReason(),
  timeout: 180_000,
}, async () => {
  assertCompat(["java", "zookeeper"]);
  assert.ok(existsSync(CLI_MT), `${CLI_MT} is missing: apt-get install zookeeper-bin`);
  const zookeeper = await startRealZooKeeper();
  let expected: string;
  try {
    expected = await transcript(zookeeper.connectString);
  } finally {
    await zookeeper.stop();
  }
  assert.match(expected, /\/c: rc = 0/, `the reference transcript shows no successful command:\n${expected}`);
  const corral = await startCorralProcess();
  try {
    const got = await transcript(corral.connectString);
    assert.equal(got, expected);
  } finally {
    await corral.stop();
  }
});
