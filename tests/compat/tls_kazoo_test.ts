/**
 * Judge: kazoo (Debian's python3-kazoo) over TLS (`use_ssl=True`, a CA, a client certificate,
 * `verify_certs=True`) against Apache ZooKeeper 3.8 and against `corral serve`, both configured the
 * same way: `secureClientPort` beside `clientPort`, a PEM key store (key and certificate in one file,
 * `ssl.keyStore.type=PEM`), a PEM trust store, ZooKeeper's default `ssl.clientAuth` (need). The
 * script (kazoo_tls_script.py) prints one JSON line of observations; both servers must give
 * EXPECTED, which the ZooKeeper run re-checks on every run. Certificates come from openssl.
 * Under Deno, corral cannot verify client certificates (its node:tls server lacks it), so there the
 * corral run checks that `corral serve` refuses this configuration, saying why.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertCompat, type CompatNeed, compatRequired, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { freePort } from "../support/free_port.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { repoRoot, runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { waitFor } from "../support/wait_for.ts";
import { startTlsCorral, tlsConfig, ZOOKEEPER_TLS_JVM_FLAGS } from "./support/tls_judge.ts";
import { Client, KeeperError } from "../../src/client/mod.ts";
import { readFileSync } from "node:fs";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 180_000;

const scriptTimeoutMs = 120_000;

const refused = { start: "KazooTimeoutError", state: "LOST" };
const EXPECTED = {
  with_certificate: {
    start: "ok",
    state: "CONNECTED",
    action: { data: "over tls", children: ["child"], big_length: 70000, changed: "changed", version: 1 },
  },
  without_certificate: refused,
  untrusted_server: refused,
  plaintext: refused,
  with_certificate_again: { start: "ok", state: "CONNECTED", action: "changed" },
};

function runScript(certs: TlsCerts, connectString: string, logTail: () => string): Promise<unknown> {
  const script = join(repoRoot(), "tests", "compat", "kazoo_tls_script.py");
  const args = [script, connectString, "/tls_judge", certs.caCert, certs.clientCert, certs.clientKey, certs.rogueCaCert];
  return new Promise((resolve, reject) => {
    execFile(kazooPython(), args, { timeout: scriptTimeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`kazoo TLS script failed: ${error.message}\n--- stderr ---\n${stderr}\n--- server ---\n${logTail()}`));
        return;
      }
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`kazoo TLS script printed no JSON: ${JSON.stringify(stdout)}\n--- stderr ---\n${stderr}`));
      }
    });
  });
}

/** What ZooKeeper 3.8 gives (whoAmI lists identities in its hash set's order, as Corral does). */
const X509_SUBJECT = "CN=corral-test-client";
const X509_ACL = [{ perms: 31, id: { scheme: "x509", id: X509_SUBJECT } }];
const X509_EXPECTED = {
  whoAmI: [{ authScheme: "x509", user: X509_SUBJECT }, { authScheme: "ip", user: "127.0.0.1" }],
  own: "/x509_own",
  ownRead: "mine",
  ownAcl: X509_ACL,
  other: "/x509_other",
  otherRead: "NOAUTH",
  authAcl: "/x509_auth",
  authAclIs: X509_ACL,
};

/** With the client's subject as X509AuthenticationProvider.superUser it is super too: every ACL lets it in. */
const X509_SUPER_EXPECTED = {
  ...X509_EXPECTED,
  whoAmI: [{ authScheme: "super", user: "" }, { authScheme: "x509", user: X509_SUBJECT }, { authScheme: "ip", user: "127.0.0.1" }],
  otherRead: "read",
};

/**
 * The x509 scheme, seen by Corral's own client over TLS with the client certificate: its identities
 * (whoAmI), a node only its certificate's subject may use, and one for another subject.
 */
async function x509Observations(certs: TlsCerts, hostPort: string): Promise<unknown> {
  const tls = { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
  const client = await Client.connect(hostPort, { tls, sessionTimeoutMs: 10_000 });
  const outcome = async (call: () => Promise<unknown>) => {
    try {
      return await call();
    } catch (error) {
      return error instanceof KeeperError ? error.codeName : String(error);
    }
  };
  try {
    const subject = X509_SUBJECT;
    return {
      whoAmI: await client.whoAmI(),
      own: await outcome(() => client.create("/x509_own", new TextEncoder().encode("mine"), { acl: [{ perms: 31, id: { scheme: "x509", id: subject } }] })),
      ownRead: await outcome(async () => new TextDecoder().decode((await client.getData("/x509_own")).data)),
      ownAcl: await outcome(async () => (await client.getACL("/x509_own")).acl),
      other: await outcome(() => client.create("/x509_other", null, { acl: [{ perms: 31, id: { scheme: "x509", id: "CN=someone-else" } }] })),
      otherRead: await outcome(async () => (await client.getData("/x509_other")) && "read"),
      authAcl: await outcome(() => client.create("/x509_auth", null, { acl: [{ perms: 31, id: { scheme: "auth", id: "" } }] })),
      authAclIs: await outcome(async () => (await client.getACL("/x509_auth")).acl),
    };
  } finally {
    await client.close();
  }
}

describe("kazoo over TLS (secureClientPort, PEM key and trust stores, clientAuth=need)", { skip: skipUnlessOpenssl(compatRequired()) }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  const zooKeeperNeeds: CompatNeed[] = ["java", "zookeeper", "kazoo"];
  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(zooKeeperNeeds), timeout: testTimeoutMs }, async () => {
    assertCompat(zooKeeperNeeds);
    const securePort = await freePort();
    const zk = await startRealZooKeeper({ extraConfig: tlsConfig(certs, securePort), jvmFlags: ZOOKEEPER_TLS_JVM_FLAGS });
    try {
      assert.deepEqual(await runScript(certs, `127.0.0.1:${securePort}`, () => zk.logTail()), EXPECTED);
      assert.deepEqual(await x509Observations(certs, `127.0.0.1:${securePort}`), X509_EXPECTED);
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve, configured the same", { skip: skipUnlessCompat(["kazoo"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["kazoo"]);
    const cfgPath = join(certs.dir, "zoo.cfg");
    // secureClientPort=0: corral prints the port it got ("corral: serving TLS on HOST:PORT").
    const lines = Object.entries({ tickTime: "2000", clientPort: "2181", ...tlsConfig(certs, 0) }).map(([key, value]) => `${key}=${value}\n`);
    writeFileSync(cfgPath, lines.join(""));
    if (runtime() === "deno") {
      await assert.rejects(startCorralProcess({ args: [cfgPath] }), /ssl\.clientAuth=need .*Deno's node:tls server cannot/);
      return;
    }
    const corral = await startCorralProcess({ args: [cfgPath] });
    try {
      const securePort = await waitFor(() => /corral: serving TLS on 127\.0\.0\.1:(\d+)/.exec(corral.output())?.[1], {
        timeoutMs: 10_000,
        what: "corral's 'serving TLS on' line",
      });
      assert.deepEqual(await runScript(certs, `127.0.0.1:${securePort}`, () => corral.output()), EXPECTED);
      assert.deepEqual(await x509Observations(certs, `127.0.0.1:${securePort}`), X509_EXPECTED);
      // Each refused handshake is logged once, with its reason.
      assert.match(corral.output(), /TLS handshake failed: .*\(client \/127\.0\.0\.1\)/);
    } finally {
      await corral.stop();
    }
  });
});

/** The same script on a unified clientPort: what TLS clients see is unchanged, and plaintext ones get in. */
const UNIFIED_EXPECTED = { ...EXPECTED, plaintext: { start: "ok", state: "CONNECTED", action: "changed" } };

/**
 * tlsConfig without secureClientPort, and client.portUnification=true: TLS and plaintext on
 * clientPort. ZooKeeper's unified port finds no x509 provider unless one is named.
 */
function unifiedConfig(certs: TlsCerts): Record<string, string> {
  const { secureClientPort: _none, ...stores } = tlsConfig(certs, 0);
  return { ...stores, "client.portUnification": "true", "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider" };
}

describe("kazoo on a unified clientPort (client.portUnification=true, clientAuth=need)", { skip: skipUnlessOpenssl(compatRequired()) }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  const zooKeeperNeeds: CompatNeed[] = ["java", "zookeeper", "kazoo"];
  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(zooKeeperNeeds), timeout: testTimeoutMs }, async () => {
    assertCompat(zooKeeperNeeds);
    const zk = await startRealZooKeeper({ extraConfig: unifiedConfig(certs), jvmFlags: ZOOKEEPER_TLS_JVM_FLAGS });
    try {
      assert.deepEqual(await runScript(certs, zk.connectString, () => zk.logTail()), UNIFIED_EXPECTED);
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve, configured the same", { skip: skipUnlessCompat(["kazoo"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["kazoo"]);
    const cfgPath = join(certs.dir, "zoo.cfg");
    const lines = Object.entries({ tickTime: "2000", clientPort: "0", ...unifiedConfig(certs) }).map(([key, value]) => `${key}=${value}\n`);
    writeFileSync(cfgPath, lines.join(""));
    if (runtime() === "deno") {
      await assert.rejects(startCorralProcess({ args: [cfgPath] }), /ssl\.clientAuth=need .*Deno's node:tls server cannot/);
      return;
    }
    const corral = await startCorralProcess({ args: [cfgPath] });
    try {
      assert.match(corral.output(), /\(plaintext and TLS, /);
      assert.deepEqual(await runScript(certs, corral.connectString, () => corral.output()), UNIFIED_EXPECTED);
      assert.match(corral.output(), /TLS handshake failed: .*\(client \/127\.0\.0\.1\)|client certificate .*\(client \/127\.0\.0\.1\)/);
    } finally {
      await corral.stop();
    }
  });
});

describe("x509 superuser (X509AuthenticationProvider.superUser), seen by Corral's client over TLS", { skip: skipUnlessOpenssl(compatRequired()) }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());
  const superUser = { "X509AuthenticationProvider.superUser": X509_SUBJECT };

  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(["java", "zookeeper"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["java", "zookeeper"]);
    const securePort = await freePort();
    const zk = await startRealZooKeeper({ extraConfig: { ...tlsConfig(certs, securePort), ...superUser }, jvmFlags: ZOOKEEPER_TLS_JVM_FLAGS });
    try {
      assert.deepEqual(await x509Observations(certs, `127.0.0.1:${securePort}`), X509_SUPER_EXPECTED);
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve, configured the same", { skip: runtime() === "deno" ? "Deno's node:tls server cannot ask for client certificates" : false, timeout: testTimeoutMs }, async () => {
    const { corral, securePort } = await startTlsCorral(certs, superUser);
    try {
      assert.deepEqual(await x509Observations(certs, `127.0.0.1:${securePort}`), X509_SUPER_EXPECTED);
    } finally {
      await corral.stop();
    }
  });
});
