/**
 * Judge: Apache ZooKeeper's own Java CLI (ZooKeeperMain) against Apache ZooKeeper 3.8 and against
 * `corral serve`, both with SASL (the SASL judges' JAAS file, support/sasl_judge.ts) and
 * `enforce.auth.enabled=true` + `enforce.auth.schemes=sasl` in zoo.cfg: an anonymous CLI is refused
 * with SESSIONCLOSEDREQUIRESASLAUTH; the CLI logged in as bob (a JAAS `Client` section) lists and
 * creates. The CLI's transcripts (its answers, without log lines and session ids) must be the same.
 *
 * Runs under Node only: a JVM per CLI call and one ZooKeeper take a while, and the rule is the core's,
 * the same under every runtime (tests/core/enforce_auth_test.ts runs it under all three).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { runtime } from "../support/runtime.ts";
import { javaCli } from "./support/java_cli.ts";
import { SASL_PROVIDER, saslJudgeForSuite, type SaslJudgeDir } from "./support/sasl_judge.ts";

const ENFORCE = { "enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl" };

const CLIENT_JAAS = `Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob"
    password="bobsecret";
};
`;

async function scenario(connectString: string, judge: SaslJudgeDir): Promise<Record<string, string[]>> {
  const clientJaas = join(judge.dir, "client_jaas.conf");
  writeFileSync(clientJaas, CLIENT_JAAS);
  const anonymous = ["-Dzookeeper.sasl.client=false"];
  const asBob = [`-Djava.security.auth.login.config=${clientJaas}`];
  return {
    anonymousLs: await javaCli(connectString, ["ls", "/"], anonymous),
    bobCreate: await javaCli(connectString, ["create", "/by-bob", "data"], asBob),
    bobLs: await javaCli(connectString, ["ls", "/"], asBob),
    anonymousGet: await javaCli(connectString, ["get", "/by-bob"], anonymous),
  };
}

describe("enforce.auth.schemes=sasl, judged by ZooKeeper's Java CLI", {
  skip: runtime() !== "node" ? `runs under Node only (JVMs; the rule is the core's, tested under ${runtime()} in tests/core)` : false,
}, () => {
  const judge = saslJudgeForSuite();
  let reference: Record<string, string[]> | null = null;

  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(["java", "zookeeper"]), timeout: 300_000 }, async () => {
    assertCompat(["java", "zookeeper"]);
    const zk = await startRealZooKeeper({
      jvmProperties: { "java.security.auth.login.config": judge().jaasPath },
      extraConfig: { "authProvider.1": SASL_PROVIDER, ...ENFORCE },
    });
    try {
      reference = await scenario(zk.connectString, judge());
      console.log(`zookeeper: ${JSON.stringify(reference)}`);
      assert.ok(reference.anonymousLs.some((line) => /authenticate/i.test(line)), "ZooKeeper refused the anonymous CLI");
      assert.ok(reference.bobLs.some((line) => line.includes("by-bob")), "bob's ls lists his node");
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve: the same transcripts", { skip: skipUnlessCompat(["java", "zookeeper"]), timeout: 300_000 }, async () => {
    assertCompat(["java", "zookeeper"]);
    assert.ok(reference !== null, "the ZooKeeper run gives the reference");
    const cfgPath = join(judge().dir, "zoo.cfg");
    const lines = [`tickTime=2000`, `clientPort=2181`, `java.security.auth.login.config=${judge().jaasPath}`, `authProvider.1=${SASL_PROVIDER}`];
    writeFileSync(cfgPath, [...lines, ...Object.entries(ENFORCE).map(([key, value]) => `${key}=${value}`)].join("\n") + "\n");
    const corral = await startCorralProcess({ args: [cfgPath] });
    try {
      const observed = await scenario(corral.connectString, judge());
      console.log(`corral: ${JSON.stringify(observed)}`);
      assert.deepEqual(observed, reference);
    } finally {
      await corral.stop();
    }
  });
});
