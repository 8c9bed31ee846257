/**
 * enforce.auth (ZooKeeper 3.8's AuthenticationHelper): with enforce.auth.schemes set, a connection
 * must hold an identity of one of them before any request but auth and SASL; otherwise that request
 * is answered SESSIONCLOSEDREQUIRESASLAUTH (−124) and the connection is closed, the session left to
 * expire (or be resumed, authenticated). tests/compat/enforce_auth_test.ts judges it against ZooKeeper.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code } from "../../src/core/errors.ts";
import { bytes, create, createHarness, openSession, TestSession, register } from "./support/core_harness.ts";

describe("enforce.auth.schemes", () => {
  test("an unauthenticated request, a ping included, is answered SESSIONCLOSEDREQUIRESASLAUTH and the connection closed", () => {
    for (const request of [{ kind: "getData", path: "/", watch: false }, { kind: "ping" }] as const) {
      const h = createHarness({ enforceAuthSchemes: ["digest"] });
      const session = openSession(h);
      const reply = session.send(request, 7);
      assert.deepEqual(reply.header, { xid: 7, zxid: 0, err: Code.SESSIONCLOSEDREQUIRESASLAUTH });
      assert.equal(session.closed, true);
      // The session itself lives on: the client may come back authenticated.
      const again = register(new TestSession(h));
      assert.notEqual(again.connect({ sessionId: session.sessionId, passwd: session.passwd }).timeOut, 0);
      assert.equal(again.send({ kind: "auth", type: 0, scheme: "digest", auth: bytes("bob:secret") }).header.err, Code.OK);
      assert.equal(again.send(create("/after")).header.err, Code.OK);
      assert.equal(again.closed, false);
    }
  });

  test("an identity of another scheme is not enough; ip counts (every connection has one); off by default", () => {
    const digestOnly = createHarness({ enforceAuthSchemes: ["sasl"] });
    const session = openSession(digestOnly);
    assert.equal(session.send({ kind: "auth", type: 0, scheme: "digest", auth: bytes("bob:secret") }).header.err, Code.OK);
    assert.equal(session.send({ kind: "exists", path: "/", watch: false }).header.err, Code.SESSIONCLOSEDREQUIRESASLAUTH);
    const ip = openSession(createHarness({ enforceAuthSchemes: ["ip"] }));
    assert.equal(ip.send({ kind: "exists", path: "/", watch: false }).header.err, Code.OK);
    const off = openSession(createHarness());
    assert.equal(off.send({ kind: "exists", path: "/", watch: false }).header.err, Code.OK);
  });
});
