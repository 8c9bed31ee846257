/**
 * The x509 scheme (ZooKeeper's X509AuthenticationProvider) in the core: a connection opened with a
 * verified client certificate's subject holds `x509:<subject>`; x509 ACL ids are valid only when
 * TLS clients present certificates (ServerConfig.x509); `auth` expands to the x509 identity; whoAmI
 * lists identities in ZooKeeper's order (its hash set's: see acl.ts inZooKeeperOrder), checked
 * against what ZooKeeper 3.8 printed (tests/compat/tls_kazoo_test.ts, audit_log_test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { digestOf, inZooKeeperOrder } from "../../src/core/acl.ts";
import { Code } from "../../src/core/errors.ts";
import { create, createHarness, register, TestSession } from "./support/core_harness.ts";

const SUBJECT = "CN=corral-test-client";

function tlsSession(x509: boolean) {
  const h = createHarness({ x509 });
  const session = register(new TestSession(h, "127.0.0.1", SUBJECT));
  session.connect();
  return session;
}

describe("x509 identities", () => {
  test("a certificate's subject is an identity: x509 ACLs admit it, auth expands to it, whoAmI lists it first as ZooKeeper does", () => {
    const session = tlsSession(true);
    const acl = [{ perms: 31, id: { scheme: "x509", id: SUBJECT } }];
    assert.equal(session.send(create("/mine", "", 0, acl)).header.err, Code.OK);
    assert.equal(session.send({ kind: "getData", path: "/mine", watch: false }).header.err, Code.OK);
    assert.equal(session.send(create("/auth", "", 0, [{ perms: 31, id: { scheme: "auth", id: "" } }])).header.err, Code.OK);
    const acls = session.send({ kind: "getACL", path: "/auth" });
    assert.deepEqual(acls.body?.kind === "getACL" ? acls.body.acl : null, acl);
    const whoAmI = session.send({ kind: "whoAmI" });
    assert.deepEqual(whoAmI.body?.kind === "whoAmI" ? whoAmI.body.clientInfo : null, [
      { authScheme: "x509", user: SUBJECT },
      { authScheme: "ip", user: "127.0.0.1" },
    ]);
  });

  test("without certificates on a TLS port the x509 scheme is invalid (INVALIDACL), as a scheme with no provider", () => {
    const session = tlsSession(false);
    assert.equal(session.send(create("/x", "", 0, [{ perms: 31, id: { scheme: "x509", id: SUBJECT } }])).header.err, Code.INVALIDACL);
  });

  test("ZooKeeper's identity order: the bins of Java's hash set, arrival order within one", () => {
    const ip = { scheme: "ip", id: "127.0.0.1" };
    const x509 = { scheme: "x509", id: SUBJECT };
    const digest = { scheme: "digest", id: digestOf("bob:secret") };
    // Both seen from ZooKeeper 3.8 itself (whoAmI over TLS; the audit log's user "bob,127.0.0.1").
    assert.deepEqual(inZooKeeperOrder([ip, x509]), [x509, ip]);
    assert.deepEqual(inZooKeeperOrder([ip, digest]), [digest, ip]);
  });
});
