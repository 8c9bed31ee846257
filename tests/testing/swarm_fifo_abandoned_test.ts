/**
 * A swarm seed (277749750 at 3 voters) showed a second false positive of the FIFO checker, beside
 * seed 1970's SESSIONMOVED no-ops: the client abandoned a connection with four requests still on
 * their way (slowly) to the leader, and closed its session on its new connection; the stale
 * requests then reached the leader and were committed as no-ops — SESSIONEXPIRED error txns, and
 * a second closeSession that deletes nothing (ZooKeeper does not check a closeSession's session
 * either) — after the newer close. The client never hears of them: not out of order in any way a
 * client can see. Anything else out of order is still reported.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { Request } from "../../src/core/records.ts";
import type { Txn, TxnEntry } from "../../src/core/txn.ts";
import { zxidOf } from "../../src/core/zxid.ts";
import { checkHistory } from "../../src/testing/checkers/history_checker.ts";
import { History } from "../../src/testing/history.ts";

const SESSION = 0x100n;
const z = (counter: number) => zxidOf(1, counter);

function entry(counter: number, cxid: number, txn: Txn): TxnEntry {
  return { header: { sessionId: SESSION, cxid, zxid: z(counter), time: 1000 + counter }, txn };
}

/**
 * Connection 1 (abandoned) sent xid 1 (delete) and xid 2 (closeSession), never answered; connection
 * 2 sent xid 3 (closeSession), committed first. `late` are the txns xids 1 and 2 became.
 */
function violations(late: { first: Txn; second: Txn }, options: { replied?: boolean; reopened?: boolean } = {}): string[] {
  const history = new History();
  history.opened({ connection: 1, client: 1, sessionId: SESSION, sid: 1, openedMs: 0 });
  if (options.reopened !== false) history.opened({ connection: 2, client: 1, sessionId: SESSION, sid: 2, openedMs: 50 });
  const send = (connection: number, xid: number, request: Request, invokeMs: number) =>
    history.invoke({ client: 1, sessionId: SESSION, connection, sid: connection, xid, request, invokeMs });
  const stale = send(1, 1, { kind: "delete", path: "/a", version: -1 }, 10);
  send(1, 2, { kind: "closeSession" }, 11);
  if (options.replied) history.complete(stale, { header: { xid: 1, zxid: z(3), err: Code.SESSIONEXPIRED }, body: null }, 90);
  const close = send(2, 3, { kind: "closeSession" }, 60);
  history.complete(close, { header: { xid: 3, zxid: z(2), err: 0 }, body: null }, 70);
  const entries = [
    entry(1, 0, { type: "createSession", timeoutMs: 4000 }),
    entry(2, 3, { type: "closeSession", paths: [] }),
    entry(3, 1, late.first),
    entry(4, 2, late.second),
  ];
  const found: string[] = [];
  checkHistory(entries, history.ops, (invariant) => found.push(invariant), history.connections.values());
  return found;
}

const expired: Txn = { type: "error", err: Code.SESSIONEXPIRED };
const closeAgain: Txn = { type: "closeSession", paths: [] };

describe("FIFO checker: no-ops of an abandoned connection after the session was closed", () => {
  test("SESSIONEXPIRED no-ops and a second, empty closeSession after the newer close pass", () => {
    assert.deepEqual(violations({ first: expired, second: closeAgain }), []);
  });

  test("the same txns are reported when the client heard of them, or never reconnected", () => {
    assert.deepEqual(violations({ first: expired, second: closeAgain }, { replied: true }), ["per-client FIFO order"]);
    assert.deepEqual(violations({ first: expired, second: closeAgain }, { reopened: false }), ["per-client FIFO order"]);
  });

  test("a stale request that changed something is still out of order", () => {
    assert.deepEqual(violations({ first: { type: "delete", path: "/a" }, second: closeAgain }), ["per-client FIFO order"]);
    assert.deepEqual(violations({ first: expired, second: { type: "closeSession", paths: ["/e"] } }), ["per-client FIFO order"]);
  });
});
