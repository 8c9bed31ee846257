/**
 * Corral's client with SASL DIGEST-MD5 (ClientOptions.sasl) against the server core with SASL
 * configured, over real TCP on 127.0.0.1: the exchange grants sasl:bob (a sasl:bob ACL lets the
 * client in, requests made before it finished wait for it), a wrong password ends the client with
 * AUTHFAILED, the exchange reruns after a reconnect before anything else is sent, a server whose
 * rspauth is wrong is refused, and one that never answers holds the connection for the read timeout
 * at most. The DIGEST-MD5 client itself is also checked on hostile tokens.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, Code, createClient, KeeperError, type WatchEvent } from "../../src/client/mod.ts";
import { DigestMd5Client } from "../../src/client/sasl_digest_client.ts";
import type { ACL } from "../../src/core/records.ts";
import type { SaslConfig } from "../../src/core/sasl_exchange.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { serve } from "../../src/driver/server_driver.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { waitFor } from "../support/wait_for.ts";
import { TappedTransport } from "./support/tapped_transport.ts";

const testTimeoutMs = 60_000;
const HOST = "127.0.0.1";
const USERS: SaslConfig = { users: new Map([["bob", "bobsecret"], ["alice", "alicesecret"]]) };
const BOB_ONLY: ACL[] = [{ perms: 31, id: { scheme: "sasl", id: "bob" } }];
const enc = new TextEncoder();
const dec = new TextDecoder();

async function withSaslServer(
  body: (connectString: string, transport: TappedTransport, logger: MemoryLogger) => Promise<void>,
): Promise<void> {
  const inner = await defaultTransport();
  const logger = new MemoryLogger();
  const handle = await serve({
    host: HOST,
    port: 0,
    config: defaultServerConfig({ tickTimeMs: 200, sasl: USERS }),
    logger,
    transport: inner,
  });
  try {
    await body(`${HOST}:${handle.port}`, new TappedTransport(inner), logger);
  } finally {
    await handle.close();
  }
}

function bobOptions(transport: Transport, password = "bobsecret") {
  return {
    transport,
    sessionTimeoutMs: 6000,
    reconnectDelayMs: 100,
    sasl: { mechanism: "DIGEST-MD5" as const, username: "bob", password },
  };
}

async function rejection(promise: Promise<unknown>): Promise<KeeperError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    assert.ok(error instanceof KeeperError, `expected a KeeperError, got ${String(error)}`);
    return error;
  }
  // A client that connected after all is closed, so that it does not keep reconnecting after the test.
  if (value instanceof Client) await value.close();
  assert.fail("expected a rejection");
}

function authenticatedLines(logger: MemoryLogger): number {
  return logger.lines.filter((line) => line.message.includes("authenticated as sasl:bob")).length;
}

describe("client SASL DIGEST-MD5 against the core server", () => {
  test("a good password: sasl:bob, and requests made before the exchange ended wait for it", { timeout: testTimeoutMs }, async () => {
    await withSaslServer(async (connectString, transport) => {
      const setup = await createClient(connectString, bobOptions(transport));
      try {
        assert.equal(setup.saslAuthenticated, true);
        const who = await setup.whoAmI();
        assert.ok(who.some((c) => c.authScheme === "sasl" && c.user === "bob"), JSON.stringify(who));
        await setup.create("/bob", "for bob", { acl: BOB_ONLY });
        assert.equal(dec.decode((await setup.getData("/bob")).data), "for bob");
      } finally {
        await setup.close();
      }

      // Not awaiting connect: the read is made before the handshake, so it is queued and must go out
      // only after the SASL exchange (the server would otherwise check it without sasl:bob).
      const client = new Client(connectString, bobOptions(transport));
      const connecting = client.connect();
      const early = client.getData("/bob");
      await connecting;
      try {
        assert.equal(dec.decode((await early).data), "for bob");
      } finally {
        await client.close();
      }

      const alice = await createClient(connectString, {
        transport,
        sasl: { mechanism: "DIGEST-MD5", username: "alice", password: "alicesecret" },
      });
      const anonymous = await createClient(connectString, { transport });
      try {
        assert.equal((await rejection(alice.getData("/bob"))).code, Code.NOAUTH);
        assert.equal((await rejection(anonymous.getData("/bob"))).code, Code.NOAUTH);
        assert.equal(anonymous.saslAuthenticated, false);
      } finally {
        await alice.close();
        await anonymous.close();
      }
    });
  });

  test("a wrong password: AUTHFAILED, the client ends in authFailed, queued requests fail", { timeout: testTimeoutMs }, async () => {
    await withSaslServer(async (connectString, transport, logger) => {
      const client = new Client(connectString, bobOptions(transport, "wrong"));
      const queued = client.getData("/");
      const error = await rejection(client.connect());
      assert.equal(error.code, Code.AUTHFAILED);
      assert.match(error.message, /SASL/);
      assert.equal(client.state, "authFailed");
      assert.equal((await rejection(queued)).code, Code.AUTHFAILED);
      assert.equal((await rejection(client.getData("/"))).code, Code.AUTHFAILED);
      assert.ok(logger.has('wrong password for user "bob"'), "the server refused the response");
    });
  });

  test("the exchange reruns after a reconnect, before the queued requests", { timeout: testTimeoutMs }, async () => {
    await withSaslServer(async (connectString, transport, logger) => {
      const client = await createClient(connectString, bobOptions(transport));
      try {
        await client.create("/bob", "v1", { acl: BOB_ONLY });
        const events: string[] = [];
        const watch = (event: WatchEvent) => events.push(event.type === "None" ? event.state : event.type);
        await client.getData("/bob", { watch });
        assert.equal(authenticatedLines(logger), 1);
        const sessionId = client.sessionId;

        // Made while disconnected (the client reconnects at once, so from the state listener): queued,
        // then sent on the new connection, which has sasl:bob only if the exchange ran again first.
        let requests: [Promise<{ data: Uint8Array }>, Promise<unknown>] | null = null;
        const unsubscribe = client.on("state", (state) => {
          if (state === "disconnected" && requests === null) requests = [client.getData("/bob"), client.setData("/bob", "v2")];
        });
        transport.lastSocket!.close();
        const [read, write] = await waitFor(() => requests, { timeoutMs: 10_000, what: "the client to notice the drop" });
        unsubscribe();
        assert.equal(dec.decode((await read).data), "v1");
        await write;
        assert.equal(client.sessionId, sessionId);
        assert.equal(client.saslAuthenticated, true);
        assert.equal(authenticatedLines(logger), 2);
        await waitFor(() => events.includes("NodeDataChanged"), { timeoutMs: 10_000, what: "the re-registered watch" });
        assert.deepEqual(events, ["Disconnected", "SyncConnected", "SaslAuthenticated", "NodeDataChanged"]);
      } finally {
        await client.close();
      }
    });
  });

  test("a server whose rspauth is wrong is refused: AUTHFAILED", { timeout: testTimeoutMs }, async () => {
    await withSaslServer(async (connectString, transport, logger) => {
      const marker = enc.encode("rspauth=");
      let tampered = 0;
      transport.rewrite = (chunk) => {
        const at = indexOf(chunk, marker);
        if (at === -1) return chunk;
        const copy = chunk.slice();
        const i = at + marker.length;
        copy[i] = copy[i] === 0x30 ? 0x31 : 0x30; // another hex digit
        tampered++;
        return copy;
      };
      const error = await rejection(createClient(connectString, bobOptions(transport)));
      assert.equal(tampered, 1);
      assert.equal(error.code, Code.AUTHFAILED);
      assert.match(error.message, /rspauth does not match/);
      // The server did accept the password: only the client's check refused.
      assert.equal(authenticatedLines(logger), 1);
    });
  });

  test("a server that never answers the challenge: the read timeout bounds the exchange", { timeout: testTimeoutMs }, async () => {
    await withSaslServer(async (connectString, transport) => {
      // Swallow every SASL challenge (the server's only message with a qop directive).
      const qop = enc.encode('qop="auth"');
      transport.rewrite = (chunk) => indexOf(chunk, qop) === -1 ? chunk : new Uint8Array(0);
      const error = await rejection(createClient(connectString, { ...bobOptions(transport), initialConnectTimeoutMs: 8000 }));
      assert.equal(error.code, Code.CONNECTIONLOSS);
      // The server grants 4000 ms (20 ticks of 200 ms), so each attempt's exchange gets 2667 ms.
      assert.match(error.message, /the SASL exchange did not finish within 2667 ms/);
    });
  });

  test("the client refuses an unsupported mechanism up front", () => {
    assert.throws(
      () => new Client("127.0.0.1:2181", { sasl: { mechanism: "GSSAPI" as "DIGEST-MD5", username: "bob", password: "x" } }),
      /GSSAPI/,
    );
  });
});

describe("DigestMd5Client on hostile tokens", () => {
  const credentials = { username: "bob", password: "bobsecret" };
  const challenge = 'realm="zk-sasl-md5",nonce="abcdefgh12345678",qop="auth",charset=utf-8,algorithm=md5-sess';

  test("a challenge of 2048 bytes or more is refused", () => {
    const client = new DigestMd5Client(credentials, "0123456789abcdef");
    const step = client.step(enc.encode(`${challenge},x="${"y".repeat(2048)}"`));
    assert.equal(step.kind, "failure");
    assert.match((step as { reason: string }).reason, /2048/);
  });

  test("no auth qop, another algorithm, or no nonce is refused", () => {
    for (const bad of [challenge.replace('qop="auth"', 'qop="auth-conf"'), challenge.replace("md5-sess", "md5"), challenge.replace('nonce="abcdefgh12345678",', "")]) {
      assert.equal(new DigestMd5Client(credentials, "0123456789abcdef").step(enc.encode(bad)).kind, "failure", bad);
    }
  });

  test("a missing rspauth and a third token are refused", () => {
    const client = new DigestMd5Client(credentials, "0123456789abcdef");
    assert.equal(client.step(enc.encode(challenge)).kind, "send");
    assert.equal(client.step(null).kind, "failure");
    assert.equal(client.step(enc.encode("rspauth=00")).kind, "failure");
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
