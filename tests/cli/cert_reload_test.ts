/**
 * client.certReload: a TLS listener takes a new key store without a restart (src/cli/cert_reload.ts),
 * on Node, Deno and Bun. The key store file is replaced by one with another certificate; new
 * connections then get it. Material that does not load is reported and the last good one kept.
 */
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import { watchCertFiles } from "../../src/cli/cert_reload.ts";
import { loadTlsServerOptions } from "../../src/cli/tls_config.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { serve } from "../../src/driver/server_driver.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { nodeTlsTransport } from "../../src/transport/node_tls.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { waitFor } from "../support/wait_for.ts";

/** The fingerprint of the certificate a new TLS connection to `port` is shown. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
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
});
