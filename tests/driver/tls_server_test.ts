/**
 * TLS toward clients: a server with a TLS listener (secureClientPort) configured in zoo.cfg's
 * language, and our client's `tls` option, over node:tls on Node, Deno and Bun. Certificates are made
 * with openssl at test time. Deno's node:tls server cannot verify client certificates, so there the
 * clientAuth=need cases check that the listener refuses to start, saying why.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { loadTlsServerOptions } from "../../src/cli/tls_config.ts";
import { loadQuorumTls } from "../../src/cli/quorum_tls_config.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { serve } from "../../src/driver/server_driver.ts";
import type { ServerHandle } from "../../src/driver/serve_options.ts";
import type { Server } from "../../src/core/server.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { nodeTlsTransport } from "../../src/transport/node_tls.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { closesOnDamagedRecord, CONNECT_REQUEST, rawUntilClosed } from "../support/raw_until_closed.ts";
import { runtime } from "../support/runtime.ts";
import { KEY_STORE_PASSWORD, makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { waitFor } from "../support/wait_for.ts";

const HOST = "127.0.0.1";
const skip = skipUnlessOpenssl();
const deno = runtime() === "deno";

/** A server with a plaintext port and a TLS port configured by zoo.cfg `lines` (ssl.* keys). */
async function tlsServer(certs: TlsCerts, lines: string[], logger = new MemoryLogger()): Promise<ServerHandle<Server>> {
  const cfg = parseZooCfg(["secureClientPort=0", ...lines].join("\n"));
  const server = await loadTlsServerOptions(cfg.tls, (message, address) => logger.log("info", `${message} (client /${address})`));
  return await serve({
    transport: await defaultTransport(),
    secureListen: { transport: nodeTlsTransport({ server }), port: 0 },
    host: HOST,
    port: 0,
    config: defaultServerConfig({ tickTimeMs: 200 }),
    logger,
  });
}

function keyStoreLines(certs: TlsCerts, clientAuth: "none" | "want" | "need", keyStore = certs.serverKeyStore): string[] {
  return [
    `ssl.keyStore.location=${keyStore}`,
    "ssl.keyStore.type=PEM",
    `zookeeper.ssl.trustStore.location=${certs.caCert}`,
    "zookeeper.ssl.trustStore.type=PEM",
    `ssl.clientAuth=${clientAuth}`,
    "ssl.enabledProtocols=TLSv1.2,TLSv1.3",
  ];
}

/** "connected" when the client got a session (then closed), else the error it failed with. */
async function attempt(connect: Promise<{ close(): Promise<void> }>): Promise<string> {
  return await connect.then(async (client) => {
    await client.close();
    return "connected";
  }, (error: Error) => error.message);
}

describe("TLS toward clients", { skip }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  test("without ssl.protocol or ssl.enabledProtocols only TLSv1.2 is served, as ZooKeeper 3.8's default (its Java client speaks only that)", async () => {
    const options = await loadTlsServerOptions(parseZooCfg(`secureClientPort=0\nssl.keyStore.location=${certs.serverKeyStore}\nssl.clientAuth=none\n`).tls);
    assert.deepEqual([options.minVersion, options.maxVersion], ["TLSv1.2", "TLSv1.2"]);
    const both = await loadTlsServerOptions(parseZooCfg(`secureClientPort=0\nssl.keyStore.location=${certs.serverKeyStore}\nssl.clientAuth=none\nssl.enabledProtocols=TLSv1.2,TLSv1.3\n`).tls);
    assert.deepEqual([both.minVersion, both.maxVersion], ["TLSv1.2", "TLSv1.3"]);
  });

  test("our client reads and writes over TLS with a client certificate (clientAuth=need)", async () => {
    if (deno) {
      await assert.rejects(tlsServer(certs, keyStoreLines(certs, "need")), /Deno's node:tls server cannot do/);
      return;
    }
    const handle = await tlsServer(certs, keyStoreLines(certs, "need"));
    try {
      assert.ok(handle.securePort !== null && handle.securePort !== undefined && handle.securePort > 0);
      const client = await createClient(`${HOST}:${handle.securePort}`, {
        tls: { ca: certs.read(certs.caCert), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) },
        initialConnectTimeoutMs: 20_000,
      });
      try {
        await client.create("/tls", new TextEncoder().encode("over tls"));
        const { data } = await client.getData("/tls");
        assert.equal(new TextDecoder().decode(data), "over tls");
        // ~64 KiB through TLS records and back.
        const big = new Uint8Array(64 * 1024).map((_, index) => index % 251);
        await client.create("/tls/big", big);
        assert.deepEqual((await client.getData("/tls/big")).data, big);
      } finally {
        await client.close();
      }
      // The plaintext port beside it still serves.
      assert.match(await fourLetterWord(HOST, handle.port, "srvr"), /Mode: standalone/);
    } finally {
      await handle.close();
    }
  });

  test("clientAuth=none: a client without a certificate reads and writes (every runtime)", async () => {
    const handle = await tlsServer(certs, keyStoreLines(certs, "none"));
    try {
      const client = await createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 });
      try {
        await client.create("/plain-cert", new TextEncoder().encode("x"));
        assert.equal(new TextDecoder().decode((await client.getData("/plain-cert")).data), "x");
      } finally {
        await client.close();
      }
    } finally {
      await handle.close();
    }
  });

  test("clientAuth=need refuses a client without a certificate", { skip: deno ? "Deno's node:tls server cannot verify client certificates (checked above)" : false }, async () => {
    const logger = new MemoryLogger();
    const handle = await tlsServer(certs, keyStoreLines(certs, "need"), logger);
    try {
      assert.notEqual(await attempt(createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 3000, reconnectDelayMs: 200 })), "connected");
      assert.equal(handle.server.status().sessionCount + handle.server.connections().length, 0);
      await waitFor(() => logger.lines.some((line) => /TLS handshake failed/.test(line.message)), { timeoutMs: 5000, what: "the refusal logged" });
    } finally {
      await handle.close();
    }
  });

  test("the client refuses a server whose certificate its CA did not sign", async () => {
    const handle = await tlsServer(certs, keyStoreLines(certs, "none", certs.rogueKeyStore));
    try {
      const message = await attempt(createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 3000, reconnectDelayMs: 200 }));
      assert.notEqual(message, "connected");
      assert.equal(handle.server.status().sessionCount + handle.server.connections().length, 0, `no session may be opened (client said: ${message})`);
    } finally {
      await handle.close();
    }
  });

  test("plaintext ZooKeeper bytes to the TLS port are closed at once, with nothing but an alert sent back", async () => {
    const handle = await tlsServer(certs, keyStoreLines(certs, "none"));
    try {
      const outcome = await rawUntilClosed(HOST, handle.securePort!, CONNECT_REQUEST, 5000);
      assert.notEqual(outcome.closedAfterMs, null, "the TLS port must close a plaintext client");
      assert.ok(outcome.closedAfterMs! < 3000, `closed after ${outcome.closedAfterMs} ms`);
      assert.ok(outcome.received <= 64, `only a TLS alert may come back, got ${outcome.received} bytes`);
      assert.equal(handle.server.status().sessionCount + handle.server.connections().length, 0);
    } finally {
      await handle.close();
    }
  });

  test("a damaged TLS record after the handshake closes the connection", async () => {
    const handle = await tlsServer(certs, keyStoreLines(certs, "none"));
    try {
      assert.equal(await closesOnDamagedRecord(HOST, handle.securePort!, certs.read(certs.caCert), CONNECT_REQUEST, 3000), "closed");
    } finally {
      await handle.close();
    }
  });

  test("a client that never completes the handshake is dropped after ssl.handshakeDetectionTimeoutMillis", async () => {
    const handle = await tlsServer(certs, [...keyStoreLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=600"]);
    try {
      const silent = await rawUntilClosed(HOST, handle.securePort!, null, 8000);
      assert.notEqual(silent.closedAfterMs, null, "a silent client must be dropped");
      assert.ok(silent.closedAfterMs! >= 450, `dropped after ${silent.closedAfterMs} ms, before the timeout`);
      // Half a ClientHello, then silence: the same.
      const partial = await rawUntilClosed(HOST, handle.securePort!, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), 8000);
      assert.notEqual(partial.closedAfterMs, null, "a stalled handshake must be dropped");
      assert.ok(partial.closedAfterMs! >= 450, `dropped after ${partial.closedAfterMs} ms, before the timeout`);
    } finally {
      await handle.close();
    }
  });

  test("clientAuth=want lets a client without a certificate in and refuses one with an untrusted certificate", { skip: deno ? "Deno's node:tls server cannot verify client certificates" : false }, async () => {
    const handle = await tlsServer(certs, keyStoreLines(certs, "want"));
    try {
      const anonymous = await createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 });
      await anonymous.close();
      const trusted = await createClient(`${HOST}:${handle.securePort}`, {
        tls: { ca: certs.read(certs.caCert), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) },
        initialConnectTimeoutMs: 20_000,
      });
      await trusted.close();
      const rogue = await attempt(createClient(`${HOST}:${handle.securePort}`, {
        tls: { ca: certs.read(certs.caCert), cert: certs.read(certs.rogueClientCert), key: certs.read(certs.rogueClientKey) },
        initialConnectTimeoutMs: 3000,
        reconnectDelayMs: 200,
      }));
      assert.notEqual(rogue, "connected", "a certificate from an untrusted CA must be refused");
    } finally {
      await handle.close();
    }
  });

  test("connections still handshaking are capped (handshakesPendingMax); the cap frees as they end", async () => {
    const cfg = parseZooCfg(["secureClientPort=0", ...keyStoreLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=1500"].join("\n"));
    const server = { ...(await loadTlsServerOptions(cfg.tls)), handshakesPendingMax: 2 };
    const handle = await serve({
      transport: await defaultTransport(),
      secureListen: { transport: nodeTlsTransport({ server }), port: 0 },
      host: HOST,
      port: 0,
      config: defaultServerConfig({ tickTimeMs: 200 }),
    });
    try {
      const first = rawUntilClosed(HOST, handle.securePort!, null, 8000);
      const second = rawUntilClosed(HOST, handle.securePort!, null, 8000);
      // The two silent ones hold both slots (wait until the server has seen them).
      await waitFor(async () => {
        const third = await rawUntilClosed(HOST, handle.securePort!, null, 700);
        return third.closedAfterMs !== null && third.closedAfterMs < 700;
      }, { timeoutMs: 5000, what: "a third pending handshake to be refused at once" });
      const [one, two] = await Promise.all([first, second]);
      assert.ok(one.closedAfterMs !== null && two.closedAfterMs !== null, "the silent ones are dropped by the handshake timeout");
      // Slots are free again: a real client gets in.
      const client = await createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 });
      await client.close();
    } finally {
      await handle.close();
    }
  });

  test("an encrypted PEM key (ssl.keyStore.password) and a PKCS#12 key store serve; a wrong password stops startup", async () => {
    const stores = [
      [`ssl.keyStore.location=${certs.encryptedKeyStore}`, "ssl.keyStore.type=PEM", `ssl.keyStore.password=${KEY_STORE_PASSWORD}`],
      [`ssl.keyStore.location=${certs.pkcs12KeyStore}`, "ssl.keyStore.type=PKCS12", `ssl.keyStore.password=${KEY_STORE_PASSWORD}`],
    ];
    for (const store of stores) {
      const handle = await tlsServer(certs, [...store, "ssl.clientAuth=none"]);
      try {
        assert.equal(await attempt(createClient(`${HOST}:${handle.securePort}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 })), "connected");
      } finally {
        await handle.close();
      }
    }
    const wrong = `secureClientPort=0\nssl.clientAuth=none\nssl.keyStore.location=${certs.encryptedKeyStore}\nssl.keyStore.password=wrong`;
    await assert.rejects(loadTlsServerOptions(parseZooCfg(wrong).tls), /cannot read the private key .*check ssl\.keyStore\.password/);
    const none = `secureClientPort=0\nssl.clientAuth=none\nssl.keyStore.location=${certs.encryptedKeyStore}`;
    await assert.rejects(loadTlsServerOptions(parseZooCfg(none).tls), /encrypted key: set ssl\.keyStore\.password/);
  });

  test("configuration mistakes are refused with the key to fix", async () => {
    await assert.rejects(loadTlsServerOptions(parseZooCfg("secureClientPort=0").tls), /ssl\.keyStore\.location/);
    await assert.rejects(
      loadTlsServerOptions(parseZooCfg(`secureClientPort=0\nssl.keyStore.location=${certs.serverKeyStore}`).tls),
      /ssl\.trustStore\.location.*ssl\.clientAuth=none/,
    );
    await assert.rejects(
      loadTlsServerOptions(parseZooCfg(`secureClientPort=0\nssl.keyStore.location=${certs.caCert}\nssl.clientAuth=none`).tls),
      /exactly one PEM private key/,
    );
    // A trust store whose certificate block is damaged (caught half written, say) is refused, not trusted as nobody.
    const damaged = join(certs.dir, "damaged-ca.pem");
    writeFileSync(damaged, `${certs.read(certs.caCert)}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    await assert.rejects(
      loadTlsServerOptions(parseZooCfg(`secureClientPort=0\nssl.keyStore.location=${certs.serverKeyStore}\nssl.trustStore.location=${damaged}`).tls),
      /ssl\.trustStore\.location .*damaged-ca\.pem: certificate 2 does not parse/,
    );
    assert.throws(() => parseZooCfg("ssl.enabledProtocols=TLSv1.1"), /TLSv1\.2 and\/or TLSv1\.3/);
    assert.throws(() => parseZooCfg("ssl.clientAuth=maybe"), /none, want or need/);
    const cfg = parseZooCfg("zookeeper.ssl.protocol=TLSv1.2\nsecureClientPortAddress=127.0.0.1\nssl.ciphersuites=TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert.equal(cfg.tls.protocol, "TLSv1.2");
    assert.deepEqual(cfg.tls.ciphersuites, ["TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]);
    assert.deepEqual(cfg.warnings, []);
  });

  test("sslQuorum's ssl.quorum.* stores: one key store for both directions, the CA required, clientAuth need only", async () => {
    const quorum = parseZooCfg(
      `sslQuorum=true\nzookeeper.ssl.quorum.keyStore.location=${certs.serverKeyStore}\nssl.quorum.trustStore.location=${certs.caCert}\n` +
        "ssl.quorum.hostnameVerification=false\nssl.quorum.enabledProtocols=TLSv1.2,TLSv1.3\n",
    ).quorumTls;
    assert.equal(quorum.enabled, true);
    assert.equal(quorum.stores.keyStore.location, certs.serverKeyStore, "the quorum keys are not the client-facing ssl.* ones");
    const loaded = await loadQuorumTls(quorum);
    assert.equal(loaded.server.clientAuth, "need");
    assert.equal(loaded.server.maxVersion, "TLSv1.3");
    assert.equal(loaded.client.cert, loaded.server.cert, "a member's one certificate is its server and its client certificate");
    assert.deepEqual(loaded.client.ca, loaded.server.ca);
    assert.equal(loaded.client.hostnameVerification, false);
    assert.equal(parseZooCfg("ssl.quorum.keyStore.location=/k.pem").tls.keyStore.location, null, "ssl.quorum.* leave ssl.* alone");
    await assert.rejects(loadQuorumTls(parseZooCfg("sslQuorum=true").quorumTls), /ssl\.quorum\.trustStore\.location is not set/);
    await assert.rejects(
      loadQuorumTls(parseZooCfg(`sslQuorum=true\nssl.quorum.trustStore.location=${certs.caCert}`).quorumTls),
      /sslQuorum or portUnification is true but ssl\.quorum\.keyStore\.location is not/,
    );
    await assert.rejects(
      loadQuorumTls(parseZooCfg(`sslQuorum=true\nssl.quorum.clientAuth=want\nssl.quorum.keyStore.location=${certs.serverKeyStore}\nssl.quorum.trustStore.location=${certs.caCert}`).quorumTls),
      /ssl\.quorum\.clientAuth=want: with sslQuorum every member must present a certificate/,
    );
    assert.throws(() => parseZooCfg("sslQuorum=yes"), /sslQuorum must be true or false/);
    assert.throws(() => parseZooCfg("ssl.quorum.clientAuth=maybe"), /ssl\.quorum\.clientAuth must be none, want or need/);
  });
});
