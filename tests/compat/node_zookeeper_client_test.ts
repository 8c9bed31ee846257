/**
 * node-zookeeper-client (npm) as a judge: the same kinds of operations as the kazoo judge, through
 * the library's callback API. EXPECTED is what Apache ZooKeeper 3.8.0 gives; the zookeeper target
 * re-checks it on every run.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { assertCompat } from "../support/compat_availability.ts";
import { waitFor } from "../support/wait_for.ts";
import {
  acl,
  CreateMode,
  errorName,
  type NzcEvent,
  NzcSession,
  sameBytes,
  statView,
} from "./node_zookeeper_client_session.ts";
import { CLIENT_JUDGE_TARGETS, targetSkip } from "./targets.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 120_000;

const root = "/nzc";
// Buffers, not Uint8Arrays: the library checks Buffer.isBuffer.
const text = (value: string): Uint8Array => Buffer.from(value);
const decode = (value: Uint8Array | null) => (value === null ? null : new TextDecoder().decode(value));
const plainStat = { aversion: 0, cversion: 0, dataLength: 0, ephemeral: false, numChildren: 0, version: 0 };
const aliceDigest = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="; // base64(sha1("alice:secret"))

const EXPECTED = {
  basic: {
    created: `${root}/basic/a`,
    get: { data: "hello", stat: { ...plainStat, dataLength: 5 } },
    zxidsAtCreate: true,
    set: { ...plainStat, dataLength: 5, version: 1 },
    setMovesMzxidOnly: true,
    setStaleVersion: "BAD_VERSION",
    createExisting: "NODE_EXISTS",
    createWithoutParent: "NO_NODE",
    deleteNotEmpty: "NOT_EMPTY",
    deleteBadVersion: "BAD_VERSION",
    delete: "ok",
    existsAfterDelete: null,
    getMissing: "NO_NODE",
    noData: { data: null, dataLength: 0 },
    // An empty Buffer is sent as length 0 and comes back empty, not null: null vs empty is preserved.
    emptyData: { data: "", dataLength: 0 },
  },
  children: {
    children: ["x", "y", "z"],
    parent: { ...plainStat, cversion: 3, numChildren: 3 },
    afterDelete: { children: ["x", "z"], stat: { ...plainStat, cversion: 4, numChildren: 2 } },
    childrenOfMissing: "NO_NODE",
  },
  watches: [
    ["data", "NODE_DATA_CHANGED", `${root}/watches`],
    ["exists", "NODE_CREATED", `${root}/watches/new`],
    ["child", "NODE_CHILDREN_CHANGED", `${root}/watches`],
    ["deleted", "NODE_DELETED", `${root}/watches/new`],
    ["child2", "NODE_CHILDREN_CHANGED", `${root}/watches`],
    ["fence", "NODE_CREATED", `${root}/watches/fence`],
  ],
  ephemerals: {
    ephemeral: `${root}/ephemerals/eph`,
    ephemeralSequential: `${root}/ephemerals/seq-0000000001`,
    ownerIsSession: true,
    childOfEphemeral: "NO_CHILDREN_FOR_EPHEMERALS",
    eventsAfterClose: [
      ["child", "NODE_CHILDREN_CHANGED", `${root}/ephemerals`],
      ["exists", "NODE_DELETED", `${root}/ephemerals/eph`],
    ],
    childrenAfterClose: [],
    existsAfterClose: null,
  },
  sequentials: {
    names: ["n-0000000000", "n-0000000001", "n-0000000002", "n-0000000003", "m-0000000005"],
    parent: { ...plainStat, cversion: 7, numChildren: 5 },
  },
  transaction: {
    committed: {
      error: "ok",
      results: [
        { type: 1, path: `${root}/transaction/a` },
        { type: 1, path: `${root}/transaction/a/b` },
        { type: 5, stat: { ...plainStat, cversion: 1, dataLength: 1, numChildren: 1, version: 1 } },
        { type: 13 },
        { type: 2 },
      ],
    },
    afterCommit: { data: "y", stat: { ...plainStat, cversion: 2, dataLength: 1, version: 1 } },
    failed: {
      error: "BAD_VERSION",
      results: [{ type: -1, err: 0 }, { type: -1, err: -103 }, { type: -1, err: -2 }],
    },
    failedIsAtomic: true,
  },
  acl: {
    ownerGet: "ok",
    anonymousGet: "NO_AUTH",
    anonymousSet: "NO_AUTH",
    anonymousGetAcl: "NO_AUTH",
    ownerAcls: [[31, "digest", aliceDigest]],
    afterAddAuthGet: "ok",
    readonlySet: "NO_AUTH",
    readonlyCreateChild: "NO_AUTH",
    maskedWithoutAdmin: [[1, "world", "anyone"], [31, "digest", "alice:x"]],
    invalidWorldId: "INVALID_ACL",
    setAclStat: { ...plainStat, aversion: 1, dataLength: 1 },
    setAclStaleVersion: "BAD_VERSION",
  },
};

for (const target of CLIENT_JUDGE_TARGETS) {
  test(`node-zookeeper-client sees the same behaviour from ${target.name}`, {
    skip: targetSkip(target, []),
    timeout: testTimeoutMs,
  }, async () => {
    assertCompat(target.needs);
    const server = await target.start();
    const client = await NzcSession.connect(server.connectString);
    try {
      await client.create(root);
      const observed = {
        basic: await basic(client, `${root}/basic`),
        children: await children(client, `${root}/children`),
        watches: await watches(client, `${root}/watches`),
        ephemerals: await ephemerals(client, server.connectString, `${root}/ephemerals`),
        sequentials: await sequentials(client, `${root}/sequentials`),
        transaction: await transaction(client, `${root}/transaction`),
        acl: await acls(client, server.connectString, `${root}/acl`),
      };
      assert.deepEqual(
        observed,
        EXPECTED,
        `node-zookeeper-client observed something else from ${target.name}`,
      );
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- ${target.name} log tail ---\n${server.logTail()}`;
      throw error;
    } finally {
      await client.close().catch(() => {});
      await server.stop();
    }
  });
}

async function basic(client: NzcSession, base: string) {
  await client.create(base);
  const path = `${base}/a`;
  const created = await client.create(path, { data: text("hello") });
  const got = await client.getData(path);
  const stat = got.stat;
  const stat2 = await client.setData(path, text("world"), 0);
  const out = {
    created,
    get: { data: decode(got.data), stat: statView(stat) },
    zxidsAtCreate: sameBytes(stat.czxid, stat.mzxid) && sameBytes(stat.czxid, stat.pzxid) &&
      sameBytes(stat.ctime, stat.mtime),
    set: statView(stat2),
    setMovesMzxidOnly: !sameBytes(stat2.mzxid, stat.mzxid) && sameBytes(stat2.czxid, stat.czxid) &&
      sameBytes(stat2.pzxid, stat.pzxid),
    setStaleVersion: await errorName(client.setData(path, text("again"), 0)),
    createExisting: await errorName(client.create(path)),
    createWithoutParent: await errorName(client.create(`${base}/missing/child`)),
    deleteNotEmpty: "",
    deleteBadVersion: await errorName(client.remove(path, 5)),
    delete: await errorName(client.remove(path, 1)),
    existsAfterDelete: await client.exists(path),
    getMissing: await errorName(client.getData(path)),
    noData: {},
    emptyData: {},
  };
  await client.create(`${base}/deep`);
  await client.create(`${base}/deep/child`);
  out.deleteNotEmpty = await errorName(client.remove(`${base}/deep`));
  // No data is sent as length -1 (null) and read back as null.
  await client.create(`${base}/nodata`);
  const noData = await client.getData(`${base}/nodata`);
  out.noData = { data: decode(noData.data), dataLength: noData.stat.dataLength };
  await client.create(`${base}/empty`, { data: new Uint8Array(0) });
  const empty = await client.getData(`${base}/empty`);
  out.emptyData = { data: decode(empty.data), dataLength: empty.stat.dataLength };
  return out;
}

async function children(client: NzcSession, base: string) {
  await client.create(base);
  for (const name of ["z", "x", "y"]) await client.create(`${base}/${name}`);
  const listed = await client.getChildren(base);
  await client.remove(`${base}/y`);
  const after = await client.getChildren(base);
  return {
    children: [...listed.children].sort(),
    parent: statView(listed.stat),
    afterDelete: { children: [...after.children].sort(), stat: statView(after.stat) },
    childrenOfMissing: await errorName(client.getChildren(`${base}/nope`)),
  };
}

/** Records watch events in arrival order, labelled by which watch fired. */
class EventLog {
  readonly events: string[][] = [];
  watcher(label: string): (event: NzcEvent) => void {
    return (event) => this.events.push([label, event.getName(), event.getPath()]);
  }
  async waitFor(count: number, what: string): Promise<string[][]> {
    await waitFor(() => this.events.length >= count, {
      timeoutMs: 10_000,
      what: `${count} watch events (${what})`,
    });
    return this.events.map((event) => [...event]);
  }
}

async function watches(client: NzcSession, base: string) {
  const log = new EventLog();
  await client.create(base, { data: text("0") });
  await client.getData(base, log.watcher("data"));
  await client.getChildren(base, log.watcher("child"));
  await client.exists(`${base}/new`, log.watcher("exists"));
  await client.setData(base, text("1"));
  await client.create(`${base}/new`);
  await client.setData(base, text("2")); // the one-shot data watch is used up: no event
  await client.getChildren(base, log.watcher("child2"));
  await client.exists(`${base}/new`, log.watcher("deleted"));
  await client.remove(`${base}/new`);
  // A final event fences the others: notifications arrive in order, so a repeat would show first.
  await client.exists(`${base}/fence`, log.watcher("fence"));
  await client.create(`${base}/fence`);
  return await log.waitFor(6, "watches scenario");
}

async function ephemerals(client: NzcSession, connectString: string, base: string) {
  const log = new EventLog();
  await client.create(base);
  const owner = await NzcSession.connect(connectString);
  const ephemeral = await owner.create(`${base}/eph`, { data: text("e"), mode: CreateMode.EPHEMERAL });
  const ephemeralSequential = await owner.create(`${base}/seq-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
  const { stat } = await client.getData(`${base}/eph`);
  const ownerIsSession = sameBytes(stat.ephemeralOwner, owner.sessionId());
  const childOfEphemeral = await errorName(client.create(`${base}/eph/child`));
  await client.exists(`${base}/eph`, log.watcher("exists"));
  await client.getChildren(base, log.watcher("child"));
  await owner.close();
  // Session close deletes ephemerals in an unspecified order: compare the events as a set.
  const eventsAfterClose = (await log.waitFor(2, "ephemerals deleted on session close")).sort();
  return {
    ephemeral,
    ephemeralSequential,
    ownerIsSession,
    childOfEphemeral,
    eventsAfterClose,
    childrenAfterClose: (await client.getChildren(base)).children,
    existsAfterClose: await client.exists(`${base}/eph`),
  };
}

async function sequentials(client: NzcSession, base: string) {
  await client.create(base);
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    names.push(await client.create(`${base}/n-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
  }
  await client.remove(names[1]!);
  names.push(await client.create(`${base}/n-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
  await client.create(`${base}/plain`);
  names.push(await client.create(`${base}/m-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
  const { stat } = await client.getData(base);
  return { names: names.map((name) => name.slice(base.length + 1)), parent: statView(stat) };
}

async function transaction(client: NzcSession, base: string) {
  await client.create(base);
  const committed = await client.commit((t) =>
    t.create(`${base}/a`, text("x")).create(`${base}/a/b`).setData(`${base}/a`, text("y")).check(
      `${base}/a`,
      1,
    )
      .remove(`${base}/a/b`)
  );
  const afterCommit = await client.getData(`${base}/a`);
  const failed = await client.commit((t) => t.create(`${base}/c`).check(`${base}/a`, 99).create(`${base}/d`));
  return {
    committed: {
      error: committed.error,
      results: committed.results.map((result) => {
        const out: Record<string, unknown> = { type: result.type };
        if (result.path !== undefined) out.path = result.path;
        if (result.stat !== undefined) out.stat = statView(result.stat);
        return out;
      }),
    },
    afterCommit: { data: decode(afterCommit.data), stat: statView(afterCommit.stat) },
    failed: {
      error: failed.error,
      results: failed.results.map((result) => ({ type: result.type, err: result.err })),
    },
    failedIsAtomic: (await client.exists(`${base}/c`)) === null &&
      (await client.exists(`${base}/d`)) === null,
  };
}

async function acls(client: NzcSession, connectString: string, base: string) {
  await client.create(base);
  const alice = await NzcSession.connect(connectString, { auth: "alice:secret" });
  const anonymous = await NzcSession.connect(connectString);
  try {
    const secure = `${base}/secure`;
    await alice.create(secure, { data: text("s"), acls: [acl(31, "digest", aliceDigest)] });
    const out = {
      ownerGet: await errorName(alice.getData(secure)),
      anonymousGet: await errorName(anonymous.getData(secure)),
      anonymousSet: await errorName(anonymous.setData(secure, text("x"))),
      anonymousGetAcl: await errorName(anonymous.getACL(secure)),
      ownerAcls: (await alice.getACL(secure)).acls.map((
        entry,
      ) => [entry.permission, entry.id.scheme, entry.id.id]),
      afterAddAuthGet: "",
      readonlySet: "",
      readonlyCreateChild: "",
      maskedWithoutAdmin: [] as unknown[],
      invalidWorldId: await errorName(client.create(`${base}/bad`, { acls: [acl(31, "world", "someone")] })),
      setAclStat: statView(
        await alice.setACL(secure, [acl(31, "digest", aliceDigest), acl(1, "world", "anyone")]),
      ),
      setAclStaleVersion: await errorName(alice.setACL(secure, [acl(31, "world", "anyone")], 0)),
    };
    anonymous.addAuth("alice:secret");
    out.afterAddAuthGet = await errorName(anonymous.getData(secure));
    await client.create(`${base}/readonly`, { data: text("r"), acls: [acl(1, "world", "anyone")] });
    out.readonlySet = await errorName(client.setData(`${base}/readonly`, text("w")));
    out.readonlyCreateChild = await errorName(client.create(`${base}/readonly/child`));
    await alice.create(`${base}/mixed`, {
      acls: [acl(1, "world", "anyone"), acl(31, "digest", aliceDigest)],
    });
    out.maskedWithoutAdmin = (await client.getACL(`${base}/mixed`)).acls.map((
      entry,
    ) => [entry.permission, entry.id.scheme, entry.id.id]);
    return out;
  } finally {
    await alice.close().catch(() => {});
    await anonymous.close().catch(() => {});
  }
}
