/**
 * Judge: the audit log (audit.enable=true) of Apache ZooKeeper 3.8 and of `corral serve` after the
 * same kazoo writes (kazoo_audit_script.py): creations of each kind, setData, setAcl, failures
 * (NONODE, NODEEXISTS), a multi that succeeds and one that fails, a delete, a read (not audited) and
 * the session's close losing an ephemeral. ZooKeeper writes key=value lines into its log; Corral one
 * JSON line each into zookeeper_audit.log; both are read back as field maps and must be the same
 * events in the same order (session ids and the server's own user name aside).
 *
 * Runs under Node only (a JVM and two servers; the events come from the core, tested under every
 * runtime in tests/core/audit_test.ts).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { repoRoot, runtime } from "../support/runtime.ts";

type Fields = Record<string, string>;

function runScript(connectString: string): Promise<void> {
  const script = join(repoRoot(), "tests", "compat", "kazoo_audit_script.py");
  return new Promise((resolve, reject) => {
    execFile(kazooPython(), [script, connectString], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error !== null || !stdout.includes("done")) reject(new Error(`kazoo audit script failed: ${error?.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

/** ZooKeeper's audit lines in its log: "... - session=0x1\tuser=...\toperation=create\t...\tresult=success". */
function zooKeeperEvents(log: string): Fields[] {
  return log.split("\n").filter((line) => /\toperation=|^.* - (user|session)=.*operation=/.test(line) && line.includes("result=")).map((line) => {
    const body = line.slice(line.search(/(session|user)=/));
    return Object.fromEntries(body.split("\t").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1).trim()]));
  });
}

/** Corral's JSON lines, as the same string fields (null fields left out, as ZooKeeper leaves them out). */
function corralEvents(text: string): Fields[] {
  return text.split("\n").filter((line) => line !== "").map((line) => {
    const { time: _time, ...event } = JSON.parse(line) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== null).map(([key, value]) => [key, String(value)]));
  });
}

/** Session ids become s1, s2, … in order of appearance; the server's own events (no ip) name "(server)" as user. */
function normalised(events: Fields[]): Fields[] {
  const sessions = new Map<string, string>();
  return events.filter((event) => event.operation !== "serverStart" && event.operation !== "serverStop").map((event) => {
    const copy = { ...event };
    if (copy.session !== undefined) {
      if (!sessions.has(copy.session)) sessions.set(copy.session, `s${sessions.size + 1}`);
      copy.session = sessions.get(copy.session)!;
    }
    if (copy.ip === undefined) copy.user = "(server)";
    return copy;
  });
}

test("audit log: Corral records what Apache ZooKeeper 3.8 records, for the same kazoo writes", {
  skip: runtime() !== "node" ? `runs under Node only (a JVM and two servers; the events are the core's, tested under ${runtime()} in tests/core)` : skipUnlessCompat(["java", "zookeeper", "kazoo"]),
  timeout: 300_000,
}, async () => {
  assertCompat(["java", "zookeeper", "kazoo"]);
  const zk = await startRealZooKeeper({ extraConfig: { "audit.enable": "true" } });
  let reference: Fields[];
  try {
    await runScript(zk.connectString);
    await new Promise((resolve) => setTimeout(resolve, 500));
    reference = normalised(zooKeeperEvents(readFileSync(join(zk.dir, "zookeeper.log"), "utf8")));
  } finally {
    await zk.stop();
  }
  console.log(`zookeeper: ${JSON.stringify(reference)}`);
  assert.ok(reference.length >= 10, `ZooKeeper wrote its audit events (found ${reference.length})`);

  const dir = mkdtempSync(join(tmpdir(), "corral-audit-"));
  try {
    const cfgPath = join(dir, "zoo.cfg");
    writeFileSync(cfgPath, `tickTime=2000\nclientPort=2181\ndataDir=${join(dir, "data")}\naudit.enable=true\n`);
    const corral = await startCorralProcess({ args: [cfgPath] });
    try {
      await runScript(corral.connectString);
    } finally {
      await corral.stop();
    }
    const written = corralEvents(readFileSync(join(dir, "data", "zookeeper_audit.log"), "utf8"));
    assert.deepEqual(written.map((event) => event.operation).filter((operation) => operation.startsWith("server")), ["serverStart", "serverStop"]);
    const observed = normalised(written);
    console.log(`corral: ${JSON.stringify(observed)}`);
    assert.deepEqual(observed, reference);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
