/**
 * SASL (opcode 102) through the pure server core: the exchange's replies (xid echoed, zxid 0,
 * SetSASLResponse), the `sasl:<user>` identity it grants and how ACLs with scheme sasl treat it, and
 * the refusals (AUTHFAILED with a null token, then close). The client side is computed here with
 * node:crypto, independently of src/core/md5.ts.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createHarness, type Harness, register, TestSession } from "./support/core_harness.ts";
import { Code } from "../../src/core/errors.ts";
import type { Reply } from "../../src/core/records.ts";
import type { SaslConfig } from "../../src/core/sasl_exchange.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const USERS: SaslConfig = { users: new Map([["bob", "bobsecret"], ["alice", "alicesecret"]]) };
const BOB_ONLY = [{ perms: 31, id: { scheme: "sasl", id: "bob" } }];

let nonceCounter = 0;

/** A session whose connection was opened with a SASL nonce (as the driver does when SASL is on). */
function saslSession(h: Harness, nonce: string | null = `nonce-${++nonceCounter}-abcdefgh`): TestSession {
  const session = new TestSession(h);
  // Re-open the same connection id with the nonce (the harness opens without one).
  h.server.open(session.connection, { remoteAddress: "127.0.0.1", remotePort: 40000, ...(nonce === null ? {} : { saslNonce: nonce }) });
  register(session);
  session.connect();
  return session;
}

function md5hex(data: string | Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** The digest-response a DIGEST-MD5 client sends for this challenge. */
function answer(challenge: Uint8Array, user: string, password: string): Uint8Array {
  const fields = new Map(dec.decode(challenge).split(",").map((kv) => {
    const [k, v] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
    return [k, v.replace(/^"|"$/g, "")] as const;
  }));
  const realm = fields.get("realm")!, nonce = fields.get("nonce")!, cnonce = "0a4f113b", uri = "zookeeper/zk-sasl-md5";
  const a1 = Buffer.concat([createHash("md5").update(`${user}:${realm}:${password}`).digest(), Buffer.from(`:${nonce}:${cnonce}`)]);
  const response = md5hex(`${md5hex(a1)}:${nonce}:00000001:${cnonce}:auth:${md5hex(`AUTHENTICATE:${uri}`)}`);
  return enc.encode(`username="${user}",realm="${realm}",nonce="${nonce}",cnonce="${cnonce}",nc=00000001,qop=auth,digest-uri="${uri}",response=${response}`);
}

function saslToken(reply: Reply): Uint8Array | null {
  const body = reply.body as { kind: string; token: Uint8Array | null } | null;
  assert.equal(body?.kind, "sasl");
  return body!.token;
}

/** Runs the exchange; returns the second reply. */
function authenticate(s: TestSession, user: string, password: string): Reply {
  const first = s.send({ kind: "sasl", token: new Uint8Array(0) }, 7);
  assert.deepEqual(first.header, { xid: 7, zxid: 0, err: 0 });
  return s.send({ kind: "sasl", token: answer(saslToken(first)!, user, password) }, 8);
}

describe("server core: SASL DIGEST-MD5", () => {
  test("a good password: challenge, rspauth, identity sasl:bob, and sasl:bob ACLs let bob in", () => {
    const h = createHarness({ sasl: USERS });
    const bob = saslSession(h);
    const done = authenticate(bob, "bob", "bobsecret");
    assert.deepEqual(done.header, { xid: 8, zxid: 0, err: 0 });
    assert.match(dec.decode(saslToken(done)!), /^rspauth=[0-9a-f]{32}$/);
    assert.ok(!bob.closed);
    const who = bob.send({ kind: "whoAmI" }).body as { clientInfo: Array<{ authScheme: string; user: string }> };
    assert.ok(who.clientInfo.some((c) => c.authScheme === "sasl" && c.user === "bob"), JSON.stringify(who));
    assert.equal(bob.send({ kind: "create", path: "/s", data: enc.encode("x"), acl: BOB_ONLY, flags: 0, ttl: 0n }).header.err, 0);
    assert.equal(bob.send({ kind: "getData", path: "/s", watch: false }).header.err, 0);

    const alice = saslSession(h);
    assert.equal(authenticate(alice, "alice", "alicesecret").header.err, 0);
    assert.equal(alice.send({ kind: "getData", path: "/s", watch: false }).header.err, Code.NOAUTH);
    const anonymous = saslSession(h);
    assert.equal(anonymous.send({ kind: "getData", path: "/s", watch: false }).header.err, Code.NOAUTH);
  });

  test("the auth pseudo-scheme expands to the sasl identity", () => {
    const h = createHarness({ sasl: USERS });
    const bob = saslSession(h);
    authenticate(bob, "bob", "bobsecret");
    bob.send({ kind: "create", path: "/a", data: null, acl: [{ perms: 31, id: { scheme: "auth", id: "" } }], flags: 0, ttl: 0n });
    const acl = bob.send({ kind: "getACL", path: "/a" }).body as { acl: unknown };
    assert.deepEqual(acl.acl, BOB_ONLY);
  });

  test("a wrong password: AUTHFAILED with a null token, zxid 0, then close", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h);
    const reply = authenticate(s, "bob", "wrong");
    assert.deepEqual(reply.header, { xid: 8, zxid: 0, err: Code.AUTHFAILED });
    assert.equal(saslToken(reply), null);
    assert.ok(s.closed);
    assert.ok(h.outputs.some((o) => o.kind === "log" && /SASL authentication .* failed: wrong password/.test(o.message)));
  });

  test("a replayed response on a new connection is refused (a fresh nonce each time)", () => {
    const h = createHarness({ sasl: USERS });
    const first = saslSession(h);
    const challenge = saslToken(first.send({ kind: "sasl", token: new Uint8Array(0) }))!;
    const response = answer(challenge, "bob", "bobsecret");
    assert.equal(first.send({ kind: "sasl", token: response }).header.err, 0);
    const second = saslSession(h);
    second.send({ kind: "sasl", token: new Uint8Array(0) });
    assert.equal(second.send({ kind: "sasl", token: response }).header.err, Code.AUTHFAILED);
    assert.ok(second.closed);
  });

  test("a token after the exchange completed is refused and closes", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h);
    authenticate(s, "bob", "bobsecret");
    assert.equal(s.send({ kind: "sasl", token: new Uint8Array(0) }).header.err, Code.AUTHFAILED);
    assert.ok(s.closed);
  });

  test("GSSAPI (a non-empty first token) is refused with a log line saying only DIGEST-MD5 is supported", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h);
    assert.equal(s.send({ kind: "sasl", token: new Uint8Array([0x60, 0x82, 0x02]) }).header.err, Code.AUTHFAILED);
    assert.ok(s.closed);
    assert.ok(h.outputs.some((o) => o.kind === "log" && /GSSAPI.*only DIGEST-MD5/.test(o.message)));
  });

  test("without SASL configured every SASL request is AUTHFAILED and closes", () => {
    const h = createHarness();
    const s = saslSession(h);
    const reply = s.send({ kind: "sasl", token: new Uint8Array(0) });
    assert.deepEqual(reply.header, { xid: reply.header.xid, zxid: 0, err: Code.AUTHFAILED });
    assert.ok(s.closed);
  });

  test("configured but no nonce from the driver: refused, not a crash", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h, null);
    assert.equal(s.send({ kind: "sasl", token: new Uint8Array(0) }).header.err, Code.AUTHFAILED);
    assert.ok(s.closed);
  });

  test("zookeeper.superUser gets super; superPassword is user super's password", () => {
    const h = createHarness({ sasl: { ...USERS, superUser: "alice", superPassword: "rootpw" } });
    const bob = saslSession(h);
    authenticate(bob, "bob", "bobsecret");
    bob.send({ kind: "create", path: "/s", data: null, acl: BOB_ONLY, flags: 0, ttl: 0n });
    const alice = saslSession(h);
    authenticate(alice, "alice", "alicesecret");
    assert.equal(alice.send({ kind: "getData", path: "/s", watch: false }).header.err, 0);
    const root = saslSession(h);
    assert.equal(authenticate(root, "super", "rootpw").header.err, 0);
    // A sasl identity named "super" matches every sasl ACL entry (SASLAuthenticationProvider.matches).
    assert.equal(root.send({ kind: "getData", path: "/s", watch: false }).header.err, 0);
  });

  test("sasl ACL ids must be Kerberos names", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h);
    const create = (id: string) => s.send({ kind: "create", path: `/k${id.length}`, data: null, acl: [{ perms: 31, id: { scheme: "sasl", id } }], flags: 0, ttl: 0n }).header.err;
    assert.equal(create("bob@EXAMPLE.COM"), 0);
    assert.equal(create("zk/host.example@EXAMPLE.COM"), 0);
    assert.equal(create("a@b@c"), Code.INVALIDACL);
  });

  test("without SASL configured, sasl ACL ids are invalid (no provider for the scheme), as in ZooKeeper", () => {
    const h = createHarness();
    const s = saslSession(h, null);
    const reply = s.send({ kind: "create", path: "/nosasl", data: null, acl: BOB_ONLY, flags: 0, ttl: 0n });
    assert.equal(reply.header.err, Code.INVALIDACL);
  });

  test("an auth packet with scheme sasl fails (SASL is only the op-102 exchange)", () => {
    const h = createHarness({ sasl: USERS });
    const s = saslSession(h);
    assert.equal(s.send({ kind: "auth", type: 0, scheme: "sasl", auth: enc.encode("bob") }, -4).header.err, Code.AUTHFAILED);
  });
});
