/**
 * Judge: kazoo (python3-kazoo with python3-pure-sasl) authenticating with SASL DIGEST-MD5, against
 * Apache ZooKeeper 3.8 and against a `corral serve` process configured the same way: the same JAAS
 * file (users bob and alice), zoo.cfg's authProvider.1 = SASLAuthenticationProvider. The script
 * (kazoo_sasl_script.py) prints one JSON line of observations; both servers must give EXPECTED,
 * which the ZooKeeper run re-checks on every run so it cannot drift from the reference.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe } from "node:test";
import { kazooPython } from "../support/compat_availability.ts";
import { repoRoot } from "../support/runtime.ts";
import { saslJudgeTests } from "./support/sasl_judge.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 180_000;
const scriptTimeoutMs = 120_000;
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
  saslJudgeTests({
    zooKeeperNeeds: ["kazoo"],
    corralNeeds: ["kazoo"],
    observe: runScript,
    expected: EXPECTED,
    timeoutMs: testTimeoutMs,
  });
});
