/**
 * The audit log's events (src/core/audit.ts) as the server emits them: ZooKeeper's operations,
 * fields and results, on the member holding the connection, plus the ephemerals a closed session
 * loses. tests/compat/audit_log_test.ts compares the same with Apache ZooKeeper 3.8's audit log.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AuditEvent } from "../../src/core/audit.ts";
import { bytes, create, createHarness, type Harness, openSession } from "./support/core_harness.ts";

function events(h: Harness): Array<Omit<AuditEvent, "session">> {
  return h.outputs.flatMap((output) => output.kind === "audit" ? [output.event] : []).map(({ session: _session, ...rest }) => rest);
}

describe("audit log events", () => {
  test("writes, failures, multis and a closed session's ephemerals; reads and a server without audit.enable give none", () => {
    const h = createHarness({ audit: true });
    const client = openSession(h);
    client.send({ kind: "auth", type: 0, scheme: "digest", auth: bytes("bob:secret") });
    client.send(create("/a"));
    client.send(create("/a/s-", "", 2));
    client.send(create("/a/e", "", 1));
    client.send({ kind: "setData", path: "/a", data: null, version: -1 });
    client.send({ kind: "setACL", path: "/a", acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], version: -1 });
    client.send({ kind: "delete", path: "/missing", version: -1 });
    client.send({ kind: "getData", path: "/a", watch: false });
    client.send({ kind: "multi", ops: [create("/a/m") as never, { kind: "setData", path: "/a/m", data: null, version: -1 }, { kind: "check", path: "/a", version: -1 }] });
    client.send({ kind: "multi", ops: [{ kind: "delete", path: "/nope", version: -1 }] });
    client.send({ kind: "closeSession" });
    // ZooKeeper's order (its identities' hash set): bob's digest before the ip.
    const who = { user: "bob,127.0.0.1", ip: "127.0.0.1" };
    assert.deepEqual(events(h), [
      { ...who, operation: "create", znode: "/a", znode_type: "persistent", result: "success" },
      { ...who, operation: "create", znode: "/a/s-0000000000", znode_type: "persistent_sequential", result: "success" },
      { ...who, operation: "create", znode: "/a/e", znode_type: "ephemeral", result: "success" },
      { ...who, operation: "setData", znode: "/a", result: "success" },
      { ...who, operation: "setAcl", znode: "/a", acl: "world:anyone:cdrwa", result: "success" },
      { ...who, operation: "delete", znode: "/missing", result: "failure" },
      { ...who, operation: "create", znode: "/a/m", znode_type: "persistent", result: "success" },
      { ...who, operation: "setData", znode: "/a/m", result: "success" },
      { ...who, operation: "multiOperation", result: "failure" },
      { user: null, ip: null, operation: "ephemeralZNodeDeletionOnSessionCloseOrExpire", znode: "/a/e", result: "success" },
    ]);
    // A recovered server (the log replayed) audits what happens after, not the replay.
    const recovered = createHarness({ audit: true });
    recovered.server.restoreSnapshot({ zxid: 0, sessions: [] });
    for (const output of h.outputs) {
      if (output.kind === "persist" && output.request.kind === "append") for (const entry of output.request.entries) recovered.server.replay(entry);
    }
    recovered.server.finishRecovery();
    const again = openSession(recovered);
    again.send(create("/a/e2", "", 1));
    again.send({ kind: "closeSession" });
    assert.deepEqual(events(recovered).map((event) => `${event.operation} ${event.znode}`), [
      "create /a/e2",
      "ephemeralZNodeDeletionOnSessionCloseOrExpire /a/e2",
    ]);
    const quiet = createHarness();
    openSession(quiet).send(create("/a"));
    assert.deepEqual(events(quiet), []);
  });
});
