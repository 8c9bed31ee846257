/**
 * The model checker (src/testing/checkers/model_checker.ts): fed a history whose txns or replies
 * break ZooKeeper's semantics — the bugs the old reference replay could not see because it shared the
 * server's semantics — it must fail, naming the request; fed a good one it must pass.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { ACL, Reply, Request, Stat } from "../../src/core/records.ts";
import type { Txn, TxnEntry } from "../../src/core/txn.ts";
import { zxidOf } from "../../src/core/zxid.ts";
import { checkAgainstModel, type ObservedNode } from "../../src/testing/checkers/model_checker.ts";
import { collectViolations } from "../../src/testing/checkers/violation.ts";
import { History } from "../../src/testing/history.ts";

const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const S1 = 0x100n;
const S2 = 0x200n;
const z = (counter: number) => zxidOf(1, counter);
const CONFIG = { extendedTypesEnabled: false, superDigest: null };

function entry(counter: number, txn: Txn, sessionId: bigint, cxid: number): TxnEntry {
  return { header: { sessionId, cxid, zxid: z(counter), time: 1000 + counter }, txn };
}

function stat(fields: Partial<Stat>): Stat {
  return {
    czxid: 0,
    mzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 0,
    numChildren: 0,
    pzxid: 0,
    ...fields,
  };
}

const createTxn = (path: string, parentCVersion: number): Txn => ({
  type: "create",
  path,
  data: null,
  acl: OPEN,
  ephemeralOwner: 0n,
  parentCVersion,
  replyKind: "create2",
});
const reply = (xid: number, zxid: number, err: number, body: Reply["body"] = null): Reply => ({
  header: { xid, zxid, err },
  body,
});

interface Scenario {
  entries: TxnEntry[];
  history: History;
}

/**
 * S1 creates /a (z3), S2 sets it at version 0 (z4), S1 creates /a/s- sequentially without hearing
 * back (z5), S2's second setData at version 0 fails BADVERSION (z6); reads in between.
 */
function scenario(change: (entries: TxnEntry[], replies: Map<string, Reply>) => void = () => {}): Scenario {
  const entries = [
    entry(1, { type: "createSession", timeoutMs: 5000 }, S1, 0),
    entry(2, { type: "createSession", timeoutMs: 5000 }, S2, 0),
    entry(3, createTxn("/a", 1), S1, 1),
    entry(4, { type: "setData", path: "/a", data: null, version: 1 }, S2, 1),
    entry(5, createTxn("/a/s-0000000000", 1), S1, 2),
    entry(6, { type: "error", err: Code.BADVERSION }, S2, 2),
  ];
  const aStat = stat({ czxid: z(3), mzxid: z(3), ctime: 1003, mtime: 1003, pzxid: z(3) });
  const replies = new Map<string, Reply>([
    ["create", reply(1, z(3), 0, { kind: "create2", path: "/a", stat: aStat })],
    [
      "setData",
      reply(1, z(4), 0, { kind: "stat", stat: { ...aStat, mzxid: z(4), mtime: 1004, version: 1 } }),
    ],
    ["badVersion", reply(2, z(6), Code.BADVERSION)],
    ["children", reply(3, z(5), 0, { kind: "getChildren", children: ["s-0000000000"] })],
    [
      "getData",
      reply(3, z(4), 0, {
        kind: "getData",
        data: null,
        stat: { ...aStat, mzxid: z(4), mtime: 1004, version: 1 },
      }),
    ],
  ]);
  change(entries, replies);
  const history = new History();
  const op = (
    client: number,
    sessionId: bigint,
    xid: number,
    request: Request,
    answer: Reply | null,
    atMs: number,
  ) => {
    const record = history.invoke({
      client,
      sessionId,
      connection: client,
      sid: 1,
      xid,
      request,
      invokeMs: atMs,
    });
    if (answer !== null) history.complete(record, answer, atMs + 1);
  };
  op(
    1,
    S1,
    1,
    { kind: "create2", path: "/a", data: null, acl: OPEN, flags: 0, ttl: 0n },
    replies.get("create")!,
    10,
  );
  op(2, S2, 1, { kind: "setData", path: "/a", data: null, version: 0 }, replies.get("setData")!, 20);
  op(1, S1, 2, { kind: "create", path: "/a/s-", data: null, acl: OPEN, flags: 2, ttl: 0n }, null, 30);
  op(2, S2, 2, { kind: "setData", path: "/a", data: null, version: 0 }, replies.get("badVersion")!, 40);
  op(1, S1, 3, { kind: "getChildren", path: "/a", watch: false }, replies.get("children")!, 50);
  op(2, S2, 3, { kind: "getData", path: "/a", watch: true }, replies.get("getData")!, 60);
  return { entries, history };
}

function check(s: Scenario, finalTree?: ObservedNode[]) {
  const { report, violations } = collectViolations();
  const triggers = checkAgainstModel({
    entries: s.entries,
    ops: s.history.ops,
    config: CONFIG,
    clientAddress: "10.0.0.1",
    report,
    ...(finalTree ? { finalTree } : {}),
  });
  return { violations, triggers };
}

function invariants(s: Scenario): string[] {
  return check(s).violations.map((violation) => violation.invariant);
}

describe("checkAgainstModel", () => {
  test("passes a history that follows ZooKeeper's semantics, and gives the watch triggers", () => {
    const { violations, triggers } = check(scenario());
    assert.deepEqual(violations, []);
    assert.deepEqual(triggers.dataTriggers.get("/a"), [z(3), z(4)]);
    assert.deepEqual(triggers.childTriggers.get("/a"), [z(5)]);
    assert.deepEqual([...triggers.changeTypes.get(`${z(5)} /a`)!], ["childrenChanged"]);
  });

  test("fails when a stale setData version is accepted (committed although ZooKeeper says BADVERSION)", () => {
    const s = scenario((entries, replies) => {
      entries[5] = entry(6, { type: "setData", path: "/a", data: null, version: 2 }, S2, 2);
      replies.set("badVersion", reply(2, z(6), 0, { kind: "stat", stat: stat({}) }));
    });
    const violations = check(s).violations;
    assert.equal(violations[0]?.invariant, "committed writes follow ZooKeeper's semantics");
    assert.match(violations[0]!.message, /xid 2 setData \/a version 0 .*as success, but .* BADVERSION/);
  });

  test("fails when a setData reply does not carry the new mzxid", () => {
    const s = scenario((_, replies) => {
      const good = replies.get("setData")!;
      replies.set(
        "setData",
        reply(1, z(4), 0, { kind: "stat", stat: { ...(good.body as { stat: Stat }).stat, mzxid: z(3) } }),
      );
    });
    assert.deepEqual(invariants(s), ["replies follow ZooKeeper's semantics"]);
  });

  test("fails when a sequential name is off by one, even with no reply to compare", () => {
    const s = scenario((entries, replies) => {
      entries[4] = entry(5, createTxn("/a/s-0000000001", 1), S1, 2);
      replies.set("children", reply(3, z(5), 0, { kind: "getChildren", children: ["s-0000000001"] }));
    });
    assert.equal(invariants(s)[0], "committed writes follow ZooKeeper's semantics");
  });

  test("fails when a multi applies a prefix although a later op failed", () => {
    const s = scenario();
    s.entries.push(entry(7, { type: "multi", txns: [createTxn("/b", 2)] }, S1, 4));
    s.history.invoke({
      client: 1,
      sessionId: S1,
      connection: 1,
      sid: 1,
      xid: 4,
      request: {
        kind: "multi",
        ops: [{ kind: "create", path: "/b", data: null, acl: OPEN, flags: 0, ttl: 0n }, {
          kind: "setData",
          path: "/nope",
          data: null,
          version: -1,
        }],
      },
      invokeMs: 70,
    });
    assert.deepEqual(invariants(s), ["committed writes follow ZooKeeper's semantics"]);
  });

  test("fails when getChildren returns a stale list for its zxid", () => {
    const s = scenario((_, replies) =>
      replies.set("children", reply(3, z(5), 0, { kind: "getChildren", children: [] }))
    );
    assert.deepEqual(invariants(s), ["reads match the model at their zxid"]);
  });

  test("fails on a txn no client asked for, and on a failed write whose error txn is missing", () => {
    const orphan = scenario();
    orphan.entries.push(entry(7, createTxn("/x", 2), S1, 99));
    assert.deepEqual(invariants(orphan), ["every committed txn comes from a request"]);
    const missing = scenario();
    missing.entries.pop();
    assert.deepEqual(invariants(missing), ["every committed txn comes from a request"]);
  });

  test("fails when the reaper deletes a node that is not an empty used container or TTL node", () => {
    const s = scenario();
    s.entries.push(entry(7, { type: "deleteContainer", path: "/a/s-0000000000" }, 0n, 0));
    assert.deepEqual(invariants(s), ["the reaper deletes only empty used containers and TTL nodes"]);
  });

  test("SESSIONEXPIRED is a no-op, allowed only for a session that is closed or being closed", () => {
    const open = scenario((entries) => {
      entries[5] = entry(6, { type: "error", err: Code.SESSIONEXPIRED }, S2, 2);
    });
    open.history.ops[3]!.reply = null;
    assert.deepEqual(invariants(open), ["SESSIONEXPIRED only for a closing session"]);
    const closing = scenario((entries) => {
      entries[5] = entry(6, { type: "error", err: Code.SESSIONEXPIRED }, S2, 2);
      entries.push(entry(7, { type: "closeSession", paths: [] }, S2, 0));
    });
    closing.history.ops[3]!.reply = null;
    assert.deepEqual(invariants(closing), []);
  });

  test("compares the final tree node by node", () => {
    const s = scenario();
    const aStat = stat({
      czxid: z(3),
      mzxid: z(4),
      ctime: 1003,
      mtime: 1004,
      version: 1,
      cversion: 1,
      numChildren: 1,
      pzxid: z(5),
    });
    const leaf = stat({ czxid: z(5), mzxid: z(5), ctime: 1005, mtime: 1005, pzxid: z(5) });
    const system = (path: string, fields: Partial<Stat>, children: string[], acl = OPEN): ObservedNode => ({
      path,
      data: new Uint8Array(0),
      acl,
      stat: stat(fields),
      children,
    });
    const tree: ObservedNode[] = [
      system("/", { cversion: 0, numChildren: 2, pzxid: z(3) }, ["zookeeper", "a"]),
      system("/zookeeper", { cversion: -2, numChildren: 2 }, ["quota", "config"]),
      system("/zookeeper/quota", {}, []),
      system("/zookeeper/config", { aversion: -1 }, [], [{
        perms: 1,
        id: { scheme: "world", id: "anyone" },
      }]),
      { path: "/a", data: null, acl: OPEN, stat: aStat, children: ["s-0000000000"] },
      { path: "/a/s-0000000000", data: null, acl: OPEN, stat: leaf, children: [] },
    ];
    assert.deepEqual(check(s, tree).violations, []);
    tree[4] = { ...tree[4]!, stat: { ...aStat, cversion: 0 } };
    assert.deepEqual(check(s, tree).violations.map((v) => v.invariant), ["the final tree matches the model"]);
  });
});
