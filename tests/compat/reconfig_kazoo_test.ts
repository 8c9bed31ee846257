/**
 * Dynamic reconfiguration judged by kazoo against Apache ZooKeeper 3.8: kazoo's own TestReconfig
 * (test_no_super_auth, test_add_remove_observer, test_bad_input; kazoo/tests/test_client.py) with
 * more observations, in tests/compat/kazoo_reconfig_script.py, runs against a 3-member ZooKeeper
 * ensemble and a 3-member `corral serve` ensemble started from one zoo.cfg with reconfigEnabled=true
 * and the super digest kazoo's harness gives its ZooKeeper (super:test). ZooKeeper's observations
 * must first satisfy kazoo's own assertions (the judge judges); then Corral's must equal them.
 *
 * Members are named by id (1, 2, 3: the same ids in both layouts), their ports as q<id>, e<id>,
 * c<id>, so the config text compares line by line, in the server's own order.
 *
 * Runs under Node only (an ensemble of JVMs; reconfig is the same core under every runtime).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { runtime } from "../support/runtime.ts";
import { layOutTwin, removeDir, startTwin, type TwinLayout } from "./support/twin_ensemble.ts";

const SCRIPT = fileURLToPath(new URL("./kazoo_reconfig_script.py", import.meta.url));
const SCRIPT_TIMEOUT_MS = 240_000;
/** kazoo/testing/harness.py's -Dzookeeper.DigestAuthenticationProvider.superDigest: sha1 of "super:test". */
const KAZOO_SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

type Observations = Record<string, unknown>;

function portNames(layout: TwinLayout): Record<string, string> {
  const names: Record<string, string> = {};
  for (const member of layout.members) {
    names[String(member.quorumPort)] = `q${member.id}`;
    names[String(member.electionPort)] = `e${member.id}`;
    names[String(member.clientPort)] = `c${member.id}`;
  }
  return names;
}

/** Runs the script to its end (bounded) and parses its last stdout line. */
function runScript(hosts: string, names: Record<string, string>): Promise<Observations> {
  return new Promise((resolve, reject) => {
    execFile(kazooPython(), [SCRIPT, hosts, JSON.stringify(names)], { timeout: SCRIPT_TIMEOUT_MS, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (error !== null || !last.startsWith("{")) {
        reject(new Error(`the kazoo script failed (${error?.message ?? "no JSON line"}):\n${stdout}\n${stderr.slice(-6000)}`));
        return;
      }
      resolve(JSON.parse(last) as Observations);
    });
  });
}

async function observe(kind: "zookeeper" | "corral", dir: string): Promise<Observations> {
  const layout = await layOutTwin({
    roles: ["participant", "participant", "participant"],
    tickTimeMs: 1000,
    extraLines: ["reconfigEnabled=true", `DigestAuthenticationProvider.superDigest=${KAZOO_SUPER_DIGEST}`],
  });
  const twin = await startTwin(kind, layout, join(dir, kind));
  try {
    return await runScript(twin.connectString(), portNames(layout));
  } catch (error) {
    throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${twin.output()}`);
  } finally {
    await twin.stop();
  }
}

/** kazoo's own assertions in TestReconfig, on ZooKeeper's observations. */
function assertKazooOwnTests(observed: Observations): void {
  assert.equal(observed.aborted, undefined, "the script ran to its end");
  assert.equal(observed.setup_server_version_at_least_3_5, true, "setUp: server_version() >= (3, 5)");
  assert.equal(observed.no_super_auth, "NoAuthError", "test_no_super_auth");
  assert.equal(observed.add_observer_reply_has_joiner, true, "test_add_remove_observer: the joiner is in the reply");
  assert.equal(observed.remove_observer_reply_has_joiner, false, "test_add_remove_observer: the joiner is gone from the reply");
  assert.equal(observed.future_config_version, "BadVersionError", "test_add_remove_observer: a config version in the future");
  assert.equal(observed.bad_input, "BadArgumentsError", "test_bad_input");
}

/** One line per observation that differs, both values as JSON. */
function differences(zookeeper: Observations, corral: Observations): string {
  const keys = [...new Set([...Object.keys(zookeeper), ...Object.keys(corral)])].sort();
  return keys
    .filter((key) => JSON.stringify(zookeeper[key]) !== JSON.stringify(corral[key]))
    .map((key) => `  ${key}: zookeeper ${JSON.stringify(zookeeper[key])}, corral ${JSON.stringify(corral[key])}`)
    .join("\n");
}

test("reconfig: kazoo's TestReconfig sees the same on Corral as on Apache ZooKeeper 3.8", {
  skip: runtime() !== "node"
    ? `runs under Node only (an ensemble of JVMs; reconfig is the same core under ${runtime()})`
    : skipUnlessCompat(["java", "zookeeper", "kazoo"]),
  timeout: 600_000,
}, async () => {
  assertCompat(["java", "zookeeper", "kazoo"]);
  const dir = mkdtempSync(join(tmpdir(), "corral-reconfig-kazoo-"));
  try {
    const zookeeper = await observe("zookeeper", dir);
    console.log(`zookeeper: ${JSON.stringify(zookeeper, null, 1)}`);
    assertKazooOwnTests(zookeeper);
    const corral = await observe("corral", dir);
    console.log(`corral: ${JSON.stringify(corral, null, 1)}`);
    assert.deepEqual(corral, zookeeper, `Corral differs from ZooKeeper:\n${differences(zookeeper, corral)}`);
  } finally {
    removeDir(dir);
  }
});
