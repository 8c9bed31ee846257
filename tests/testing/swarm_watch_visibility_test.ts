/**
 * The broad swarm workload (ACL'd nodes, auth) exposed a false positive of the watch checker: since
 * ZooKeeper 3.8.4 a watch event goes only to connections with READ on the node (the parent for a
 * children event) and a one-shot watch hidden that way is consumed silently (protocol reference
 * §6.3). Seeds 31 at 3 voters and 318821377 at 5 voters (src/testing/ci_campaign.ts REGRESSION_SEEDS)
 * found it; here the rule itself, on a hand-made history.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ACL, Id } from "../../src/core/records.ts";
import { checkWatches, type WatchVisibility } from "../../src/testing/checkers/watch_checker.ts";
import { History } from "../../src/testing/history.ts";

const Z3 = 0x100000003;
const Z4 = 0x100000004;
const Z5 = 0x100000005;
const SESSION = 0x2000000000000001n;
const NO_READ: ACL[] = [{ perms: 2, id: { scheme: "world", id: "anyone" } }];
const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

/** A getData watch on /a set at Z3, a setData of /a at Z4 (with `acl`), then a reply at Z5. */
function check(acl: ACL[] | null, eventBeforeZ5: boolean, visibility = true): string[] {
  const history = new History();
  history.opened({ connection: 1, client: 1, sessionId: SESSION, sid: 1, openedMs: 0 });
  const watchOp = history.invoke({ client: 1, sessionId: SESSION, connection: 1, sid: 1, xid: 1, request: { kind: "getData", path: "/a", watch: true }, invokeMs: 1 });
  history.complete(watchOp, { header: { xid: 1, zxid: Z3, err: 0 }, body: null }, 2);
  if (eventBeforeZ5) history.event(1, { type: 3, path: "/a", zxid: Z4 }, 3);
  const later = history.invoke({ client: 1, sessionId: SESSION, connection: 1, sid: 1, xid: 2, request: { kind: "exists", path: "/b", watch: false }, invokeMs: 3 });
  history.complete(later, { header: { xid: 2, zxid: Z5, err: -101 }, body: null }, 4);
  const triggers = {
    dataTriggers: new Map([["/a", [Z4]]]),
    childTriggers: new Map<string, number[]>(),
    changeTypes: new Map([[`${Z4} /a`, new Set(["dataChanged"])]]),
  };
  const seen: WatchVisibility = {
    changeAcls: new Map(acl === null ? [] : [[`${Z4} /a`, acl]]),
    identities: (): Id[] => [{ scheme: "ip", id: "10.0.0.1" }],
  };
  const violations: string[] = [];
  // deno-lint-ignore no-explicit-any
  checkWatches(history.connections.values(), history.ops, triggers as any, (invariant) => violations.push(invariant), visibility ? seen : undefined);
  return violations;
}

describe("watch checker: events only for connections with READ (3.8.4+)", () => {
  test("a visible change must be notified before a reply reveals it", () => {
    assert.deepEqual(check(OPEN, true), []);
    assert.deepEqual(check(OPEN, false), ["a watch fires before a reply that reveals its change"]);
  });

  test("a change hidden by the node's ACL consumes the watch silently: no event is right", () => {
    assert.deepEqual(check(NO_READ, false), []);
  });

  test("an event for a hidden change is a leak", () => {
    assert.deepEqual(check(NO_READ, true), ["watch events reach only connections with READ"]);
  });

  test("an unknown ACL (a node created and deleted by one multi) lets either outcome pass", () => {
    assert.deepEqual(check(null, false), []);
    assert.deepEqual(check(null, true), []);
  });

  test("without visibility the checker keeps its old rule (every change is visible)", () => {
    assert.deepEqual(check(NO_READ, false, false), ["a watch fires before a reply that reveals its change"]);
  });
});
