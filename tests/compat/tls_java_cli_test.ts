/**
 * Judge: Apache ZooKeeper's own Java CLI over TLS (ClientCnxnSocketNetty, `zookeeper.client.secure`,
 * PEM key and trust stores) against Apache ZooKeeper 3.8 and `corral serve`, both with the TLS judges'
 * configuration (support/tls_judge.ts: secureClientPort, clientAuth need). The CLI with the client
 * certificate creates, reads, lists and asks whoami; without a certificate it gets nowhere. The two
 * transcripts must be the same.
 *
 * Runs under Node and Bun (Deno's node:tls server cannot ask for client certificates).
 */
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertCompat, compatRequired, skipUnlessCompat } from "../support/compat_availability.ts";
import { freePort } from "../support/free_port.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { javaCli } from "./support/java_cli.ts";
import { NETTY_JARS, startTlsCorral, tlsConfig, ZOOKEEPER_TLS_JVM_FLAGS } from "./support/tls_judge.ts";

const testTimeoutMs = 300_000;

/** The CLI's TLS flags; `withCertificate`: present the client certificate (a PEM key store). */
function tlsFlags(certs: TlsCerts, withCertificate: boolean): string[] {
  const flags = [
    `-Xbootclasspath/a:${NETTY_JARS.join(":")}`,
    "-Dzookeeper.client.secure=true",
    "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
    `-Dzookeeper.ssl.trustStore.location=${certs.caCert}`,
    "-Dzookeeper.ssl.trustStore.type=PEM",
  ];
  if (!withCertificate) return flags;
  const keyStore = join(certs.dir, "client-keystore.pem");
  writeFileSync(keyStore, readFileSync(certs.clientKey, "utf8") + readFileSync(certs.clientCert, "utf8"));
  return [...flags, `-Dzookeeper.ssl.keyStore.location=${keyStore}`, "-Dzookeeper.ssl.keyStore.type=PEM"];
}

async function scenario(certs: TlsCerts, hostPort: string): Promise<Record<string, string[]>> {
  const withCert = tlsFlags(certs, true);
  return {
    create: await javaCli(hostPort, ["create", "/over-tls", "secret"], withCert),
    get: await javaCli(hostPort, ["get", "/over-tls"], withCert),
    ls: await javaCli(hostPort, ["ls", "/"], withCert),
    whoami: await javaCli(hostPort, ["whoami"], withCert),
    // Without a certificate the handshake fails: the CLI times out connecting (its output is chatter only).
    withoutCertificate: (await javaCli(hostPort, ["-timeout", "3000", "ls", "/"], tlsFlags(certs, false))).filter((line) => /over-tls|zookeeper\]/.test(line)),
  };
}

describe("ZooKeeper's Java CLI over TLS (Netty, PEM stores, clientAuth=need)", { skip: skipUnlessOpenssl(compatRequired()) }, () => {
  let certs: TlsCerts;
  let reference: Record<string, string[]> | null = null;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  test("against Apache ZooKeeper 3.8", { skip: skipUnlessCompat(["java", "zookeeper"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["java", "zookeeper"]);
    const securePort = await freePort();
    const zk = await startRealZooKeeper({ extraConfig: tlsConfig(certs, securePort), jvmFlags: ZOOKEEPER_TLS_JVM_FLAGS });
    try {
      reference = await scenario(certs, `127.0.0.1:${securePort}`);
      console.log(`zookeeper: ${JSON.stringify(reference)}`);
      assert.ok(reference.get.includes("secret"), "the CLI read its node back over TLS from ZooKeeper");
    } finally {
      await zk.stop();
    }
  });

  test("against corral serve: the same transcript", {
    skip: runtime() === "deno" ? "Deno's node:tls server cannot ask for client certificates" : skipUnlessCompat(["java", "zookeeper"]),
    timeout: testTimeoutMs,
  }, async () => {
    assertCompat(["java", "zookeeper"]);
    assert.ok(reference !== null, "the ZooKeeper run gives the reference");
    const { corral, securePort } = await startTlsCorral(certs);
    try {
      const observed = await scenario(certs, `127.0.0.1:${securePort}`);
      console.log(`corral: ${JSON.stringify(observed)}`);
      assert.deepEqual(observed, reference);
    } finally {
      await corral.stop();
    }
  });
});
