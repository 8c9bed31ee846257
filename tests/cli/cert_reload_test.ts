/**
 * client.certReload: a TLS listener takes a new key store without a restart (src/cli/cert_reload.ts),
 * on Node, Deno and Bun. The key store file is replaced by one with another certificate; new
 * connections then get it. Material that does not load is reported and the last good one kept.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from "node:tls";
import { after, before, describe, test } from "node:test";
import { watchCertFiles } from "../../src/cli/cert_reload.ts";
import { loadQuorumTls } from "../../src/cli/quorum_tls_config.ts";
import { loadTlsServerOptions } from "../../src/cli/tls_config.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { serve } from "../../src/driver/server_driver.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { nodeTlsTransport } from "../../src/transport/node_tls.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { waitFor } from "../support/wait_for.ts";

/** The fingerprint of the certificate a new TLS connection to `port` is shown; `keyStore`: the one it shows. */
function servedFingerprint(port: number, keyStore?: string): Promise<string> {
  const credentials = keyStore === undefined ? {} : { key: readFileSync(keyStore, "utf8"), cert: readFileSync(keyStore, "utf8") };
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...credentials }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once("error", reject);
  });
}

describe("client.certReload", { skip: skipUnlessOpenssl() }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  for (const kind of ["secureClientPort", "client.portUnification"] as const) {
    test(`${kind}: a replaced key store is served to new connections; one that does not load is refused and the last good kept`, { timeout: 60_000 }, async () => {
      const unified = kind === "client.portUnification";
      const keyStore = join(certs.dir, `reloaded-keystore-${unified ? "unified" : "secure"}.pem`);
      copyFileSync(certs.serverKeyStore, keyStore);
      const cfg = parseZooCfg([
        unified ? "client.portUnification=true" : "secureClientPort=0",
        `ssl.keyStore.location=${keyStore}`,
        `ssl.trustStore.location=${certs.caCert}`,
        "ssl.clientAuth=none",
        "client.certReload=true",
      ].join("\n"));
      assert.equal(cfg.tls.certReload, true);
      const logger = new MemoryLogger();
      const transport = nodeTlsTransport({ server: await loadTlsServerOptions(cfg.tls), unified });
      const handle = await serve({
        transport: unified ? transport : await defaultTransport(),
        ...(unified ? {} : { secureListen: { transport, port: 0 } }),
        host: "127.0.0.1",
        port: 0,
        config: defaultServerConfig({ tickTimeMs: 200 }),
        logger,
      });
      const stop = watchCertFiles(cfg.tls, transport, logger, 100);
      try {
        const port = unified ? handle.port : handle.securePort!;
        const first = await servedFingerprint(port);
        await new Promise((resolve) => setTimeout(resolve, 300)); // the watcher has seen the files
        copyFileSync(certs.rogueKeyStore, keyStore);
        const second = await waitFor(async () => {
          const now = await servedFingerprint(port);
          return now !== first ? now : undefined;
        }, { timeoutMs: 10_000, what: "a new certificate on new connections" });
        assert.ok(logger.lines.some((line) => /TLS: reloaded .*reloaded-keystore-\w+\.pem/.test(line.message)));
        writeFileSync(keyStore, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        await waitFor(() => logger.lines.some((line) => /changed but did not load/.test(line.message)) || undefined, {
          timeoutMs: 10_000,
          what: "the bad key store reported",
        });
        assert.equal(await servedFingerprint(port), second, "the last good certificate is still served");
      } finally {
        stop();
        await handle.close();
      }
    });
  }

  test("sslQuorumReloadCertFiles: a member's new key store is what it shows on accepted and on dialed connections", {
    skip: runtime() === "deno" ? "Deno's node:tls server cannot ask for the member certificates sslQuorum needs" : false,
    timeout: 60_000,
  }, async () => {
    const keyStore = join(certs.dir, "reloaded-quorum-keystore.pem");
    copyFileSync(certs.serverKeyStore, keyStore);
    const cfg = parseZooCfg([
      "sslQuorum=true",
      "sslQuorumReloadCertFiles=true",
      `ssl.quorum.keyStore.location=${keyStore}`,
      `ssl.quorum.trustStore.location=${certs.caCert}`,
      "ssl.quorum.hostnameVerification=false",
    ].join("\n"));
    assert.equal(cfg.quorumTls.reloadCertFiles, true);
    const tls = await loadQuorumTls(cfg.quorumTls);
    const transport = nodeTlsTransport({ server: tls.server, client: tls.client });
    const listener = await transport.listen({ host: "127.0.0.1", port: 0 }, () => ({ onData: () => {}, onClose: () => {} }));
    // Another member, as far as the dialer can tell: it notes the certificate each dialer shows.
    const shown: string[] = [];
    const peer = createTlsServer({ key: certs.read(certs.serverKeyStore), cert: certs.read(certs.serverKeyStore), ca: certs.read(certs.caCert), requestCert: true }, (socket: TLSSocket) => {
      shown.push(socket.getPeerCertificate().fingerprint256);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
    const peerPort = (peer.address() as { port: number }).port;
    const dialed = async () => {
      const count = shown.length;
      const socket = await transport.connect({ host: "127.0.0.1", port: peerPort, timeoutMs: 5000 }, { onData: () => {}, onClose: () => {} });
      await waitFor(() => shown.length > count || undefined, { timeoutMs: 5000, what: "the peer to see the dialer's certificate" });
      socket.close();
      return shown[shown.length - 1]!;
    };
    const logger = new MemoryLogger();
    const stop = watchCertFiles(cfg.quorumTls.stores, transport, logger, 100);
    try {
      const [acceptedBefore, dialedBefore] = [await servedFingerprint(listener.port, certs.serverKeyStore), await dialed()];
      assert.equal(acceptedBefore, dialedBefore, "one key store for both directions");
      await new Promise((resolve) => setTimeout(resolve, 300)); // the watcher has seen the files
      copyFileSync(certs.elsewhereKeyStore, keyStore);
      const acceptedAfter = await waitFor(async () => {
        const now = await servedFingerprint(listener.port, certs.serverKeyStore);
        return now !== acceptedBefore ? now : undefined;
      }, { timeoutMs: 10_000, what: "the new certificate on accepted connections" });
      assert.equal(await dialed(), acceptedAfter, "dialed connections show the new certificate too");
      assert.ok(logger.lines.some((line) => /quorum TLS: reloaded .*\(sslQuorumReloadCertFiles\)/.test(line.message)));
    } finally {
      stop();
      await listener.close();
      peer.close();
    }
  });
});

