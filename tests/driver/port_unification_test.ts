/**
 * client.portUnification: one port serving ZooKeeper clients in plaintext and over TLS, told apart
 * by their first byte (src/transport/port_unification.ts), with the same limits as a TLS port.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { createClient } from "../../mod.ts";
import { loadTlsServerOptions } from "../../src/cli/tls_config.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import type { Server } from "../../src/core/server.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import type { ServerHandle } from "../../src/driver/serve_options.ts";
import { serve } from "../../src/driver/server_driver.ts";
import { nodeTlsTransport } from "../../src/transport/node_tls.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { closesOnDamagedRecord, CONNECT_REQUEST, rawUntilClosed } from "../support/raw_until_closed.ts";
import { runtime } from "../support/runtime.ts";
import { makeTlsCerts, skipUnlessOpenssl, type TlsCerts } from "../support/tls_certs.ts";
import { waitFor } from "../support/wait_for.ts";

const HOST = "127.0.0.1";
const deno = runtime() === "deno";
const noClientCertificates = deno ? "Deno's node:tls cannot verify client certificates" : false;

/** A server whose one port is unified, configured by zoo.cfg `lines` (ssl.* keys). */
async function unifiedServer(
  lines: string[],
  tuning: { handshakesPendingMax?: number; handshakesPendingPerAddressMax?: number } = {},
  logger = new MemoryLogger(),
): Promise<ServerHandle<Server>> {
  const cfg = parseZooCfg(["clientPort=0", "client.portUnification=true", ...lines].join("\n"));
  assert.equal(cfg.tls.portUnification, true);
  const server = { ...(await loadTlsServerOptions(cfg.tls, (message, address) => logger.log("info", `${message} (client /${address})`))), ...tuning };
  return await serve({
    transport: nodeTlsTransport({ server, unified: true }),
    host: HOST,
    port: 0,
    config: { ...defaultServerConfig({ tickTimeMs: 200 }), x509: cfg.tls.clientAuth !== "none" },
    logger,
  });
}

function storeLines(certs: TlsCerts, clientAuth: "none" | "want" | "need"): string[] {
  return [
    `ssl.keyStore.location=${certs.serverKeyStore}`,
    `ssl.trustStore.location=${certs.caCert}`,
    `ssl.clientAuth=${clientAuth}`,
  ];
}

/** "connected" when the client got a session (then closed), else the error it failed with. */
async function attempt(connect: Promise<{ close(): Promise<void> }>): Promise<string> {
  return await connect.then(async (client) => {
    await client.close();
    return "connected";
  }, (error: Error) => error.message);
}

describe("client.portUnification: plaintext and TLS clients on one port", { skip: skipUnlessOpenssl() }, () => {
  let certs: TlsCerts;
  before(() => {
    certs = makeTlsCerts();
  });
  after(() => certs?.remove());

  test("a plaintext client, a TLS client and a four-letter word share the port and see each other's writes", async () => {
    const handle = await unifiedServer(storeLines(certs, "none"));
    try {
      const plain = await createClient(`${HOST}:${handle.port}`, { initialConnectTimeoutMs: 20_000 });
      const secure = await createClient(`${HOST}:${handle.port}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 });
      try {
        await plain.create("/from-plain", new TextEncoder().encode("p"));
        assert.equal(new TextDecoder().decode((await secure.getData("/from-plain")).data), "p");
        // ~64 KiB each way through TLS records relayed over the sniffed socket.
        const big = new Uint8Array(64 * 1024).map((_, index) => index % 251);
        await secure.create("/from-tls", big);
        assert.deepEqual((await plain.getData("/from-tls")).data, big);
        // The TLS connection knows its TCP peer (the ip ACL scheme and cons need it).
        const peers = handle.server.connections().map((connection) => `${connection.remoteAddress}:${connection.remotePort > 0}`);
        assert.deepEqual(peers, [`${HOST}:true`, `${HOST}:true`]);
      } finally {
        await plain.close();
        await secure.close();
      }
      assert.match(await fourLetterWord(HOST, handle.port, "srvr"), /Mode: standalone/);
    } finally {
      await handle.close();
    }
  });

  test("clientAuth=need: TLS clients must show a trusted certificate, whose subject is their x509 identity; plaintext clients still connect", { skip: noClientCertificates }, async () => {
    const logger = new MemoryLogger();
    const handle = await unifiedServer(storeLines(certs, "need"), {}, logger);
    try {
      const trusted = await createClient(`${HOST}:${handle.port}`, {
        tls: { ca: certs.read(certs.caCert), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) },
        initialConnectTimeoutMs: 20_000,
      });
      try {
        assert.ok((await trusted.whoAmI()).some((info) => info.authScheme === "x509" && info.user === "CN=corral-test-client"));
      } finally {
        await trusted.close();
      }
      const quick = { initialConnectTimeoutMs: 3000, reconnectDelayMs: 200 };
      assert.notEqual(await attempt(createClient(`${HOST}:${handle.port}`, { tls: { ca: certs.read(certs.caCert) }, ...quick })), "connected");
      const rogue = { ca: certs.read(certs.caCert), cert: certs.read(certs.rogueClientCert), key: certs.read(certs.rogueClientKey) };
      assert.notEqual(await attempt(createClient(`${HOST}:${handle.port}`, { tls: rogue, ...quick })), "connected");
      await waitFor(() => logger.lines.some((line) => /client certificate|TLS handshake failed/.test(line.message)), { timeoutMs: 5000, what: "the refusals logged" });
      // As ZooKeeper's unified port: clientAuth binds TLS connections only.
      assert.equal(await attempt(createClient(`${HOST}:${handle.port}`, { initialConnectTimeoutMs: 20_000 })), "connected");
    } finally {
      await handle.close();
    }
  });

  test("clientAuth=want: a TLS client without a certificate gets in, one with an untrusted certificate does not", { skip: noClientCertificates }, async () => {
    const handle = await unifiedServer(storeLines(certs, "want"));
    try {
      assert.equal(await attempt(createClient(`${HOST}:${handle.port}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 })), "connected");
      const rogue = { ca: certs.read(certs.caCert), cert: certs.read(certs.rogueClientCert), key: certs.read(certs.rogueClientKey) };
      assert.notEqual(await attempt(createClient(`${HOST}:${handle.port}`, { tls: rogue, initialConnectTimeoutMs: 3000, reconnectDelayMs: 200 })), "connected");
    } finally {
      await handle.close();
    }
  });

  test("a damaged TLS record after the handshake closes the connection", async () => {
    const handle = await unifiedServer(storeLines(certs, "none"));
    try {
      assert.equal(await closesOnDamagedRecord(HOST, handle.port, certs.read(certs.caCert), CONNECT_REQUEST, 3000), "closed");
    } finally {
      await handle.close();
    }
  });

  test("a connection that says nothing, or stops half-way through a TLS hello, is dropped after ssl.handshakeDetectionTimeoutMillis", async () => {
    const handle = await unifiedServer([...storeLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=600"]);
    try {
      const silent = await rawUntilClosed(HOST, handle.port, null, 8000);
      assert.notEqual(silent.closedAfterMs, null, "a silent connection must be dropped");
      assert.ok(silent.closedAfterMs! >= 450, `dropped after ${silent.closedAfterMs} ms, before the timeout`);
      const partial = await rawUntilClosed(HOST, handle.port, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), 8000);
      assert.notEqual(partial.closedAfterMs, null, "a stalled TLS handshake must be dropped");
      assert.ok(partial.closedAfterMs! >= 450, `dropped after ${partial.closedAfterMs} ms, before the timeout`);
      assert.equal(handle.server.status().sessionCount + handle.server.connections().length, 0);
    } finally {
      await handle.close();
    }
  });

  test("connections not yet past their first bytes or handshake are capped (handshakesPendingMax): a newcomer pushes the oldest out, so real clients get through", async () => {
    const handle = await unifiedServer([...storeLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=6000"], { handshakesPendingMax: 2 });
    try {
      const first = rawUntilClosed(HOST, handle.port, null, 10_000);
      const second = rawUntilClosed(HOST, handle.port, null, 10_000);
      let firstClosed = false;
      void first.then(() => firstClosed = true);
      // Silent newcomers (each gone after 300 ms) until one has pushed the first out.
      await waitFor(async () => {
        await rawUntilClosed(HOST, handle.port, null, 300);
        return firstClosed;
      }, { timeoutMs: 4000, what: "the oldest silent connection to be closed for a newcomer, long before its timeout" });
      assert.ok((await first).closedAfterMs! < 5000);
      // With silent connections holding every slot, real clients still connect.
      const holders = [rawUntilClosed(HOST, handle.port, null, 10_000), rawUntilClosed(HOST, handle.port, null, 10_000)];
      assert.equal(await attempt(createClient(`${HOST}:${handle.port}`, { initialConnectTimeoutMs: 20_000 })), "connected");
      assert.equal(await attempt(createClient(`${HOST}:${handle.port}`, { tls: { ca: certs.read(certs.caCert) }, initialConnectTimeoutMs: 20_000 })), "connected");
      await Promise.all([second, ...holders]);
    } finally {
      await handle.close();
    }
  });

  test("closing the server closes connections still waiting for their first bytes, not only when their timeout comes", async () => {
    const handle = await unifiedServer([...storeLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=6000"], { handshakesPendingPerAddressMax: 1 });
    const silent = rawUntilClosed(HOST, handle.port, null, 10_000);
    try {
      await waitFor(async () => {
        const second = await rawUntilClosed(HOST, handle.port, null, 700);
        return second.closedAfterMs !== null && second.closedAfterMs < 700;
      }, { timeoutMs: 5000, what: "the silent connection to hold its address's one pending slot" });
    } finally {
      await handle.close();
    }
    const closedAt = Date.now();
    const outcome = await silent;
    assert.notEqual(outcome.closedAfterMs, null);
    assert.ok(Date.now() - closedAt < 2000, `closed ${Date.now() - closedAt} ms after the server, not at once`);
  });

  test("one client address cannot hold every pending slot (handshakesPendingPerAddressMax): others still connect", { skip: linuxLoopback() }, async () => {
    const handle = await unifiedServer([...storeLines(certs, "none"), "ssl.handshakeDetectionTimeoutMillis=3000"], { handshakesPendingPerAddressMax: 2 });
    try {
      const other = "127.0.0.2";
      const first = rawUntilClosed(HOST, handle.port, null, 8000, other);
      const second = rawUntilClosed(HOST, handle.port, null, 8000, other);
      await waitFor(async () => {
        const third = await rawUntilClosed(HOST, handle.port, null, 1000, other);
        return third.closedAfterMs !== null && third.closedAfterMs < 1000;
      }, { timeoutMs: 5000, what: "a third silent connection from 127.0.0.2 to be refused at once" });
      assert.equal(await attempt(createClient(`${HOST}:${handle.port}`, { initialConnectTimeoutMs: 20_000 })), "connected", "a client from 127.0.0.1");
      await Promise.all([first, second]);
    } finally {
      await handle.close();
    }
  });

  test("a client with a certificate resumes its TLS session (clientAuth=need), and cannot renegotiate", { skip: noClientCertificates }, async () => {
    const handle = await unifiedServer([...storeLines(certs, "need"), "ssl.enabledProtocols=TLSv1.2"]);
    try {
      const options = { host: HOST, port: handle.port, ca: certs.read(certs.caCert), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey), maxVersion: "TLSv1.2" as const };
      const open = (session?: Buffer) =>
        new Promise<TLSSocket>((resolve, reject) => {
          const socket = tlsConnect({ ...options, ...(session === undefined ? {} : { session }) }, () => resolve(socket));
          socket.once("error", reject);
        });
      const first = await open();
      const session = await waitFor(() => first.getSession(), { timeoutMs: 5000, what: "a TLS session to resume" });
      const renegotiated = await new Promise<Error | null>((resolve) => {
        first.once("error", (error) => resolve(error));
        first.once("close", () => resolve(new Error("closed")));
        if (!first.renegotiate({}, (error) => resolve(error ?? null))) resolve(new Error("refused at once"));
      });
      first.destroy();
      assert.notEqual(renegotiated, null, "the server must not renegotiate");
      const second = await open(session);
      try {
        assert.equal(second.isSessionReused(), true);
      } finally {
        second.destroy();
      }
    } finally {
      await handle.close();
    }
  });
});

/** Why 127.0.0.2 cannot be a second client host here, or false (Linux routes all of 127/8 to lo). */
function linuxLoopback(): string | false {
  return process.platform === "linux" ? false : "needs Linux's loopback, where 127.0.0.2 is a local address";
}
