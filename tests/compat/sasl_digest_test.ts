/**
 * Judge: kazoo (python3-kazoo with python3-pure-sasl) authenticating with SASL DIGEST-MD5, against
 * Apache ZooKeeper 3.8 and against a `corral serve` process configured the same way: the same JAAS
 * file (users bob and alice), zoo.cfg's authProvider.1 = SASLAuthenticationProvider. The script
 * (kazoo_sasl_script.py) prints one JSON line of observations; both servers must give EXPECTED,
 * which the ZooKeeper run re-checks on every run so it cannot drift from the reference.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { repoRoot } from "../support/runtime.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 180_000;
const scriptTimeoutMs = 120_000;
const SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

const JAAS = `// users for the SASL judge
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bobsecret"
    user_alice="alicesecret";
};
`;

const connected = { start: "ok", start_seconds_under_10: true, state: "CONNECTED" };
const EXPECTED = {
  // bob creates a node only sasl:bob may use and reads it back.
  bob: { ...connected, action: { acls: [[31, "sasl", "bob"]], data: "for bob" } },
  // A wrong password: the server answers AUTHFAILED and closes; kazoo's session is LOST.
  bob_wrong_password: { start: "ok", start_seconds_under_10: true, state: "LOST", action: "AuthFailedError" },
  // Another SASL user and an anonymous client are refused by the sasl:bob ACL.
  alice: { ...connected, action: "NoAuthError" },
  anonymous: { ...connected, action: "NoAuthError" },
  bob_again: { ...connected, action: "for bob" },
};

function runScript(connectString: string, logTail: () => string): Promise<unknown> {
  const script = join(repoRoot(), "tests", "compat", "kazoo_sasl_script.py");
  return new Promise((resolve, reject) => {
    execFile(kazooPython(), [script, connectString, "/sasl_judge"], { timeout: scriptTimeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`kazoo SASL script failed: ${error.message}\n--- stderr ---\n${stderr}\n--- server ---\n${logTail()}`));
        return;
      }
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`kazoo SASL script printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}

describe("kazoo with SASL DIGEST-MD5", () => {
  let dir = "";
  let jaasPath = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "corral-sasl-judge-"));
    jaasPath = join(dir, "jaas.conf");
    writeFileSync(jaasPath, JAAS);
  });
  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(["java", "zookeeper", "kazoo"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["java", "zookeeper", "kazoo"]);
    const zk = await startRealZooKeeper({
      jvmProperties: { "java.security.auth.login.config": jaasPath },
      extraConfig: { "authProvider.1": SASL_PROVIDER },
    });
    try {
      assert.deepEqual(await runScript(zk.connectString, () => zk.logTail()), EXPECTED);
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve (zoo.cfg java.security.auth.login.config)", { skip: skipUnlessCompat(["kazoo"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["kazoo"]);
    const cfgPath = join(dir, "zoo.cfg");
    writeFileSync(cfgPath, `tickTime=2000\nclientPort=2181\njava.security.auth.login.config=${jaasPath}\nauthProvider.1=${SASL_PROVIDER}\n`);
    const corral = await startCorralProcess({ args: [cfgPath] });
    try {
      assert.deepEqual(await runScript(corral.connectString, () => corral.output()), EXPECTED);
      // The refusal is logged once, with the reason.
      assert.match(corral.output(), /SASL authentication of 127\.0\.0\.1 failed: wrong password for user "bob"/);
    } finally {
      await corral.stop();
    }
  });
});
