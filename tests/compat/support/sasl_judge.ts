/**
 * What the SASL judges share: one JAAS file (users bob and alice in a `Server` section) and the
 * same SASL setup for Apache ZooKeeper 3.8 (-Djava.security.auth.login.config, zoo.cfg
 * authProvider.1 = SASLAuthenticationProvider) and for a `corral serve` process (the same two keys
 * in its zoo.cfg). Used by sasl_digest_test.ts (kazoo) and client_sasl_test.ts (Corral's client).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertCompat, type CompatNeed, skipUnlessCompat } from "../../support/compat_availability.ts";
import { type CorralProcess, startCorralProcess } from "../../support/corral_process.ts";
import { type RealZooKeeper, startRealZooKeeper } from "../../support/real_zookeeper.ts";

export const SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

export const SASL_JAAS = `// users for the SASL judge
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
    user_bob="bobsecret"
    user_alice="alicesecret";
};
`;

/** A temporary directory holding the JAAS file; remove() deletes it. */
export interface SaslJudgeDir {
  dir: string;
  jaasPath: string;
  remove(): void;
}

export function createSaslJudgeDir(): SaslJudgeDir {
  const dir = mkdtempSync(join(tmpdir(), "corral-sasl-judge-"));
  const jaasPath = join(dir, "jaas.conf");
  writeFileSync(jaasPath, SASL_JAAS);
  return { dir, jaasPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * For a describe block: creates the judge's directory before its tests and removes it after them.
 * Returns the getter its tests call.
 */
export function saslJudgeForSuite(): () => SaslJudgeDir {
  let judge: SaslJudgeDir | null = null;
  before(() => {
    judge = createSaslJudgeDir();
  });
  after(() => {
    judge?.remove();
  });
  return () => {
    if (judge === null) throw new Error("the SASL judge directory exists only while the suite's tests run");
    return judge;
  };
}

/** Apache ZooKeeper 3.8 with the judge's JAAS file and the SASL authentication provider. */
export function startSaslZooKeeper(judge: SaslJudgeDir): Promise<RealZooKeeper> {
  return startRealZooKeeper({
    jvmProperties: { "java.security.auth.login.config": judge.jaasPath },
    extraConfig: { "authProvider.1": SASL_PROVIDER },
  });
}

/** `corral serve` with a zoo.cfg naming the same JAAS file and provider (it listens on a free port). */
export function startSaslCorral(judge: SaslJudgeDir): Promise<CorralProcess> {
  const cfgPath = join(judge.dir, "zoo.cfg");
  writeFileSync(cfgPath, `tickTime=2000\nclientPort=2181\njava.security.auth.login.config=${judge.jaasPath}\nauthProvider.1=${SASL_PROVIDER}\n`);
  return startCorralProcess({ args: [cfgPath] });
}

export interface SaslJudgeSpec {
  /** What the ZooKeeper run needs besides Java and ZooKeeper, and what the corral run needs. */
  zooKeeperNeeds: readonly CompatNeed[];
  corralNeeds: readonly CompatNeed[];
  /** Runs the scenario against a server (users bob and alice); resolves with what it saw. */
  observe(connectString: string, logTail: () => string): Promise<unknown>;
  /** What both servers must give; the ZooKeeper run re-checks it against the reference every time. */
  expected: unknown;
  timeoutMs: number;
}

/**
 * The two tests of a SASL judge, inside the caller's describe block: the scenario against Apache
 * ZooKeeper 3.8, then against `corral serve` with the same JAAS file. Every scenario includes bob's
 * wrong password, which Corral must log once with its reason.
 */
export function saslJudgeTests(spec: SaslJudgeSpec): void {
  const judge = saslJudgeForSuite();
  const zooKeeperNeeds: CompatNeed[] = ["java", "zookeeper", ...spec.zooKeeperNeeds];
  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(zooKeeperNeeds), timeout: spec.timeoutMs }, async () => {
    assertCompat(zooKeeperNeeds);
    const zk = await startSaslZooKeeper(judge());
    try {
      assert.deepEqual(await observed(spec, zk.connectString, () => zk.logTail()), spec.expected);
    } finally {
      await zk.stop();
    }
  });
  test("against corral serve (zoo.cfg java.security.auth.login.config)", { skip: skipUnlessCompat(spec.corralNeeds), timeout: spec.timeoutMs }, async () => {
    assertCompat(spec.corralNeeds);
    const corral = await startSaslCorral(judge());
    try {
      assert.deepEqual(await observed(spec, corral.connectString, () => corral.output()), spec.expected);
      assert.match(corral.output(), /SASL authentication of 127\.0\.0\.1 failed: wrong password for user "bob"/);
    } finally {
      await corral.stop();
    }
  });
}

/** The scenario's observations; when it throws, the error carries the server's log tail. */
async function observed(spec: SaslJudgeSpec, connectString: string, logTail: () => string): Promise<unknown> {
  try {
    return await spec.observe(connectString, logTail);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- server log ---\n${logTail()}`, { cause: error });
  }
}
