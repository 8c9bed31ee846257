/**
 * SASL through the real driver and sockets: the driver gives every connection a fresh nonce (the
 * core has no randomness), the exchange completes over the wire, and a wrong password gets
 * AUTHFAILED with a null token and a closed connection, logged once with the reason.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Code } from "../../src/core/errors.ts";
import { liveServerConfig, withLiveServer } from "./support/live_server.ts";
import { type ReplyFrame, SessionClient } from "./support/session_client.ts";
import { waitFor } from "../support/wait_for.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SASL = { users: new Map([["bob", "bobsecret"]]) };

/** The SetSASLResponse token after the 16-byte ReplyHeader (null for length −1). */
function tokenOf(reply: ReplyFrame): Uint8Array | null {
  const view = new DataView(reply.frame.buffer, reply.frame.byteOffset, reply.frame.byteLength);
  const length = view.getInt32(16);
  return length < 0 ? null : reply.frame.subarray(20, 20 + length);
}

function md5hex(data: string | Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

function answer(challenge: Uint8Array, user: string, password: string): Uint8Array {
  const nonce = /nonce="([^"]+)"/.exec(dec.decode(challenge))![1]!;
  const realm = "zk-sasl-md5", cnonce = "cafe0123", uri = "zookeeper/zk-sasl-md5";
  const a1 = Buffer.concat([createHash("md5").update(`${user}:${realm}:${password}`).digest(), Buffer.from(`:${nonce}:${cnonce}`)]);
  const response = md5hex(`${md5hex(a1)}:${nonce}:00000001:${cnonce}:auth:${md5hex(`AUTHENTICATE:${uri}`)}`);
  return enc.encode(`username="${user}",realm="${realm}",nonce="${nonce}",cnonce="${cnonce}",nc=00000001,qop=auth,digest-uri="${uri}",response=${response}`);
}

describe("driver: SASL DIGEST-MD5 over sockets", () => {
  test("fresh nonces per connection, a good password authenticates, a wrong one is refused and closed", { timeout: 60_000 }, async () => {
    await withLiveServer({ config: liveServerConfig({ sasl: SASL }) }, async ({ handle, transport, logger }) => {
      const bob = await SessionClient.open(transport, handle.port);
      const mallory = await SessionClient.open(transport, handle.port);
      try {
        const challenge = await bob.request({ kind: "sasl", token: new Uint8Array(0) });
        const other = await mallory.request({ kind: "sasl", token: new Uint8Array(0) });
        assert.deepEqual([challenge.zxid, challenge.err], [0, 0]);
        const nonceOf = (reply: ReplyFrame) => /nonce="([^"]+)"/.exec(dec.decode(tokenOf(reply)!))?.[1];
        assert.ok(nonceOf(challenge) !== undefined && nonceOf(challenge)!.length >= 16);
        assert.notEqual(nonceOf(challenge), nonceOf(other), "every connection gets its own nonce");

        const done = await bob.request({ kind: "sasl", token: answer(tokenOf(challenge)!, "bob", "bobsecret") });
        assert.equal(done.err, 0);
        assert.match(dec.decode(tokenOf(done)!), /^rspauth=[0-9a-f]{32}$/);
        const created = await bob.request({ kind: "create", path: "/b", data: null, acl: [{ perms: 31, id: { scheme: "sasl", id: "bob" } }], flags: 0, ttl: 0n });
        assert.equal(created.err, 0);
        assert.equal((await bob.request({ kind: "getData", path: "/b", watch: false })).err, 0);

        const refused = await mallory.request({ kind: "sasl", token: answer(tokenOf(other)!, "bob", "guess") });
        assert.deepEqual([refused.zxid, refused.err], [0, Code.AUTHFAILED]);
        assert.equal(tokenOf(refused), null);
        await waitFor(() => mallory.closed, { timeoutMs: 10_000, what: "the server to close the refused connection" });
        assert.equal(logger.lines.filter((line) => /SASL authentication .* failed: wrong password/.test(line.message)).length, 1);
      } finally {
        bob.close();
        mallory.close();
      }
    });
  });
});
