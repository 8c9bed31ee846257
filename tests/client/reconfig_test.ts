/**
 * Client.reconfig (ZooKeeperAdmin.reconfigure): the bytes it sends (checked against a hand-written
 * jute encoding, not the codec that produced them), the arguments it refuses before sending, FIFO
 * order with other writes, the reply and error mapping; then against Corral in this process
 * (RECONFIGDISABLED) and a one-member Apache ZooKeeper 3.8 ensemble with reconfigEnabled=true.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Client, KeeperError, type ReconfigOptions, startServer } from "../../mod.ts";
import type { Stat } from "../../src/core/records.ts";
import type {
  ConnectOptions,
  Listener,
  Socket,
  SocketHandler,
  Transport,
} from "../../src/transport/transport.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { freePort } from "../support/free_port.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import {
  type ScriptedConnection,
  ScriptedTransport,
  type SentFrame,
  waitFor,
} from "./support/scripted_transport.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 120_000;
const RECONFIG_OPCODE = 16;
const text = (value: Uint8Array) => new TextDecoder().decode(value);

// ---------------------------------------------------------------------------------------------------
// A scripted server whose raw socket writes are kept, to check the exact bytes of each frame.

class RecordingTransport implements Transport {
  readonly name = "recording";
  readonly scripted = new ScriptedTransport();
  readonly written: Uint8Array[] = [];
  listen(): Promise<Listener> {
    return Promise.reject(new Error("RecordingTransport only connects"));
  }
  async connect(options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
    const inner = await this.scripted.connect(options, handler);
    const written = this.written;
    return {
      remoteAddress: inner.remoteAddress,
      remotePort: inner.remotePort,
      get bufferedBytes() {
        return inner.bufferedBytes;
      },
      write(bytes: Uint8Array) {
        written.push(bytes.slice());
        inner.write(bytes);
      },
      close: () => inner.close(),
    };
  }
  get connection(): ScriptedConnection {
    const connection = this.scripted.connections[0];
    assert.ok(connection !== undefined, "the client has not connected");
    return connection;
  }
  /** Every frame after the ConnectRequest: xid, opcode and the body's bytes. */
  frames(): { xid: number; type: number; body: Uint8Array }[] {
    const all = concat(this.written);
    const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
    const frames: { xid: number; type: number; body: Uint8Array }[] = [];
    let offset = 0;
    for (let count = 0; offset < all.length && count < 1000; count++) {
      const length = view.getInt32(offset);
      if (count > 0) {
        frames.push({
          xid: view.getInt32(offset + 4),
          type: view.getInt32(offset + 8),
          body: all.slice(offset + 12, offset + 4 + length),
        });
      }
      offset += 4 + length;
    }
    return frames;
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** Jute's ustring: int32 length then UTF-8, or length -1 for null. */
function juteString(value: string | null): Uint8Array {
  if (value === null) return Uint8Array.of(0xff, 0xff, 0xff, 0xff);
  const bytes = new TextEncoder().encode(value);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setInt32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function juteLong(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, value);
  return out;
}

function reconfigBody(
  joining: string | null,
  leaving: string | null,
  members: string | null,
  configId: bigint,
) {
  return concat([juteString(joining), juteString(leaving), juteString(members), juteLong(configId)]);
}

const STAT: Stat = {
  czxid: 0,
  mzxid: 0x100000005,
  ctime: 0,
  mtime: 1_700_000_000_000,
  version: -1,
  cversion: 0,
  aversion: -1,
  ephemeralOwner: 0n,
  dataLength: 0,
  numChildren: 0,
  pzxid: 0,
};

async function scriptedClient(): Promise<{ client: Client; transport: RecordingTransport }> {
  const transport = new RecordingTransport();
  const client = await Client.connect("127.0.0.1:2181", { transport, sessionTimeoutMs: 30_000 });
  return { client, transport };
}

/** Waits for the client's next request and returns its xid (scripted requests arrive in order). */
async function nextRequest(connection: ScriptedConnection, index: number): Promise<SentFrame> {
  await waitFor(() => connection.requests.length > index, `request #${index}`);
  return connection.requests[index]!;
}

/** `promise`, or a failure after `timeoutMs`: a planted bug must fail a test, not hang it. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a scripted client (closeSession is answered by the script). */
async function closeQuietly(client: Client): Promise<void> {
  await client.close().catch(() => undefined);
}

describe("Client.reconfig: the request on the wire", () => {
  test("incremental: lists joined with commas, members null, fromConfig as a long", {
    timeout: testTimeoutMs,
  }, async () => {
    const { client, transport } = await scriptedClient();
    try {
      const joining = [
        "server.4=10.0.0.4:2888:3888:observer;10.0.0.4:2181",
        "server.5=10.0.0.5:2888:3888;2181",
      ];
      const pending = client.reconfig({ joining, leaving: [3, "7"], fromConfig: 0x100000005n });
      pending.catch(() => undefined); // if an assertion fails first, close() rejects it: not unhandled
      const request = await nextRequest(transport.connection, 0);
      const frame = transport.frames().find((each) => each.xid === request.xid);
      assert.ok(frame !== undefined);
      assert.equal(frame.type, RECONFIG_OPCODE);
      assert.deepEqual(frame.body, reconfigBody(joining.join(","), "3,7", null, 0x100000005n));

      const config = "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000006";
      transport.connection.reply(request.xid, {
        kind: "getData",
        data: new TextEncoder().encode(config),
        stat: STAT,
      });
      const result = await within(pending, "the reconfig");
      assert.equal(text(result.data), config);
      assert.deepEqual(result.stat, STAT);
      assert.equal(Object.getPrototypeOf(result.data), Uint8Array.prototype);
    } finally {
      await closeQuietly(client);
    }
  });

  test(
    "absent lists are null, strings go as they are, fromConfig defaults to -1",
    { timeout: testTimeoutMs },
    async () => {
      const { client, transport } = await scriptedClient();
      try {
        const first = client.reconfig({ leaving: "2,3" });
        const second = client.reconfig({ joining: "server.9=h:1:2;h:3" });
        const members = ["server.1=a:1:2;a:3", "server.2=b:1:2:observer;b:3"];
        const third = client.reconfig({ members, fromConfig: 4294967301 });
        for (const call of [first, second, third]) call.catch(() => undefined);
        const requests: SentFrame[] = [];
        for (let index = 0; index < 3; index++) requests.push(await nextRequest(transport.connection, index));
        const bodies = requests.map((request) =>
          transport.frames().find((frame) => frame.xid === request.xid)?.body
        );
        assert.deepEqual(bodies, [
          reconfigBody(null, "2,3", null, -1n),
          reconfigBody("server.9=h:1:2;h:3", null, null, -1n),
          reconfigBody(null, null, members.join(","), 4294967301n),
        ]);
        for (const request of requests) transport.connection.reply(request.xid, null, -13);
        for (const pending of [first, second, third]) {
          await assert.rejects(within(pending, "a failed reconfig"), (error: unknown) => {
            assert.ok(error instanceof KeeperError, String(error));
            assert.equal(error.codeName, "NEWCONFIGNOQUORUM");
            assert.match(error.message, /reconfig .*NEWCONFIGNOQUORUM: no quorum of the new config/);
            return true;
          });
        }
      } finally {
        await closeQuietly(client);
      }
    },
  );

  test("a reconfig keeps its place among other writes (FIFO)", { timeout: testTimeoutMs }, async () => {
    const { client, transport } = await scriptedClient();
    try {
      const order: string[] = [];
      const calls = [
        client.setData("/a", "1").then(() => order.push("setData")),
        client.reconfig({ joining: [] }).then(() => order.push("reconfig")),
        client.getData("/a").then(() => order.push("getData")),
      ];
      for (const call of calls) call.catch(() => undefined);
      const requests: SentFrame[] = [];
      for (let index = 0; index < 3; index++) requests.push(await nextRequest(transport.connection, index));
      assert.deepEqual(requests.map((request) => request.request?.kind), ["setData", "reconfig", "getData"]);
      const reconfigFrame = transport.frames().find((frame) => frame.xid === requests[1]!.xid);
      assert.deepEqual(
        reconfigFrame?.body,
        reconfigBody("", null, null, -1n),
        "an empty list is an empty string, as Java's",
      );
      transport.connection.reply(requests[0]!.xid, { kind: "stat", stat: STAT });
      transport.connection.reply(requests[1]!.xid, { kind: "getData", data: new Uint8Array(0), stat: STAT });
      transport.connection.reply(requests[2]!.xid, { kind: "getData", data: new Uint8Array(0), stat: STAT });
      await within(Promise.all(calls), "three replies");
      assert.deepEqual(order, ["setData", "reconfig", "getData"]);
    } finally {
      await closeQuietly(client);
    }
  });
});

describe("Client.reconfig: arguments refused before sending", () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    [
      "members with joining",
      { members: ["server.1=a:1:2;a:3"], joining: "server.2=b:1:2;b:3" },
      /cannot be combined/,
    ],
    ["members with leaving", { members: "server.1=a:1:2;a:3", leaving: [2] }, /cannot be combined/],
    [
      "members with an empty leaving list",
      { members: "server.1=a:1:2;a:3", leaving: [] },
      /cannot be combined/,
    ],
    ["nothing at all", {}, /nothing to change/],
    ["only nulls", { joining: null, leaving: null, members: null }, /nothing to change/],
    ["empty members", { members: [] }, /members is empty/],
    ["a fractional fromConfig", { leaving: [2], fromConfig: 1.5 }, /fromConfig 1.5 is not an integer/],
    ["a fromConfig past a long", { leaving: [2], fromConfig: 2n ** 63n }, /outside a 64-bit long/],
    ["a negative server id", { leaving: [-2] }, /server id -2/],
    ["a joining entry that is not a string", { joining: [4] }, /every joining entry must be a string/],
    ["a members object", { members: { 1: "x" } }, /members must be a string or an array/],
  ];
  test("TypeError for each, and nothing reaches the server", { timeout: testTimeoutMs }, async () => {
    const { client, transport } = await scriptedClient();
    try {
      for (const [what, options, message] of refused) {
        const call = client.reconfig(options as unknown as ReconfigOptions);
        await assert.rejects(within(call, what), (error: unknown) => {
          assert.ok(error instanceof TypeError, `${what}: expected a TypeError, got ${String(error)}`);
          assert.match(error.message, message, what);
          return true;
        });
      }
      // The next request is the first one the server sees.
      const reading = client.getData("/after");
      reading.catch(() => undefined);
      const request = await nextRequest(transport.connection, 0);
      assert.equal(request.request?.kind, "getData");
      assert.deepEqual(transport.frames().map((frame) => frame.type), [4]);
      transport.connection.reply(request.xid, { kind: "getData", data: new Uint8Array(0), stat: STAT });
      await within(reading, "getData");
    } finally {
      await closeQuietly(client);
    }
  });
});

// ---------------------------------------------------------------------------------------------------

test(
  "Corral in this process answers RECONFIGDISABLED; the client stays usable",
  { timeout: testTimeoutMs },
  async () => {
    const server = await startServer({ port: 0 });
    const client = await Client.connect(`127.0.0.1:${server.port}`, { sessionTimeoutMs: 10_000 });
    try {
      await client.create("/before", "x");
      const attempts = [
        client.reconfig({ joining: "server.2=127.0.0.1:2888:3888:observer;127.0.0.1:2182" }),
        client.reconfig({ members: ["server.1=127.0.0.1:2888:3888;127.0.0.1:2181"], fromConfig: 5 }),
      ];
      for (const attempt of attempts) {
        await assert.rejects(attempt, (error: unknown) => {
          assert.ok(error instanceof KeeperError, String(error));
          assert.equal(error.code, -123);
          assert.equal(error.codeName, "RECONFIGDISABLED");
          assert.match(error.message, /reconfigEnabled=false/);
          return true;
        });
      }
      assert.equal(client.state, "connected");
      assert.equal(text((await client.getData("/before")).data), "x");
      await client.setData("/before", "y");
      assert.equal(text((await client.getData("/before")).data), "y");
    } finally {
      await client.close();
      await server.close();
    }
  },
);

// ---------------------------------------------------------------------------------------------------

const SUPER = "super:reconfig-test";

/** A one-voter ensemble (standaloneEnabled=false) with reconfigEnabled and a super digest. */
async function oneVoter(): Promise<{ server1: string; clientPort: number; zooCfg: Record<string, string>; superDigest: string }> {
  const [quorumPort, electionPort, clientPort] = [await freePort(), await freePort(), await freePort()];
  return {
    server1: `server.1=127.0.0.1:${quorumPort}:${electionPort}:participant;127.0.0.1:${clientPort}`,
    clientPort,
    superDigest: `super:${createHash("sha1").update(SUPER).digest("base64")}`,
    zooCfg: {
      reconfigEnabled: "true",
      standaloneEnabled: "false",
      initLimit: "10",
      syncLimit: "5",
      "server.1": `127.0.0.1:${quorumPort}:${electionPort};127.0.0.1:${clientPort}`,
    },
  };
}

/** NOAUTH, BADVERSION, an observer joins and leaves, NEWCONFIGNOQUORUM, BADARGUMENTS: the same on both servers. */
async function oneVoterScenario(connectString: string, server1: string): Promise<void> {
  const anonymous = await Client.connect(connectString, { sessionTimeoutMs: 10_000 });
  const admin = await Client.connect(connectString, {
    sessionTimeoutMs: 10_000,
    auth: [{ scheme: "digest", auth: SUPER }],
  });
  try {
    const initial = await admin.getConfig();
    const initialVersion = versionOf(text(initial.data));
    assert.equal(text(initial.data), `${server1}\nversion=${initialVersion.toString(16)}`);

    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const observer = `server.2=127.0.0.1:${p1}:${p2}:observer;127.0.0.1:${p3}`;
    await rejectsWith(anonymous.reconfig({ joining: observer }), "NOAUTH");
    await rejectsWith(
      admin.reconfig({ joining: observer, fromConfig: initialVersion + 12345n }),
      "BADVERSION",
    );

    // An observer is no voter: the one voter (the leader) is still a synced quorum, so it commits.
    const current = versionOf(text((await admin.getConfig()).data));
    const added = await admin.reconfig({ joining: [observer], fromConfig: current });
    const addedVersion = versionOf(text(added.data));
    assert.equal(text(added.data), `${server1}\n${observer}\nversion=${addedVersion.toString(16)}`);
    assert.ok(addedVersion > current, "a reconfig's version is its zxid");
    assert.equal(BigInt(added.stat.mzxid), addedVersion);
    assert.equal(added.stat.version, -1, "ZooKeeper leaves /zookeeper/config's version at -1");
    assert.deepEqual(await admin.getConfig(), added);
    // The old version no longer matches.
    await rejectsWith(admin.reconfig({ leaving: [2], fromConfig: current }), "BADVERSION");

    // A second voter nobody runs: the new config has no synced quorum, nothing changes.
    const [q1, q2, q3] = [await freePort(), await freePort(), await freePort()];
    await rejectsWith(
      admin.reconfig({ joining: `server.3=127.0.0.1:${q1}:${q2}:participant;127.0.0.1:${q3}` }),
      "NEWCONFIGNOQUORUM",
    );
    // Removing the only voter leaves no quorum at all.
    await rejectsWith(admin.reconfig({ leaving: [1] }), "BADARGUMENTS");
    assert.equal(text((await admin.getConfig()).data), text(added.data));

    const removed = await admin.reconfig({ leaving: "2" });
    assert.equal(text(removed.data), `${server1}\nversion=${versionOf(text(removed.data)).toString(16)}`);
    assert.deepEqual(await admin.getConfig(), removed);
    // Non-incremental: the same single member again.
    const same = await admin.reconfig({ members: [server1] });
    assert.match(text(same.data), new RegExp(`^${server1.replaceAll(".", "\\.")}\nversion=[0-9a-f]+$`));

    assert.equal(admin.state, "connected");
    assert.equal((await admin.getData("/zookeeper")).stat.version, 0);
  } finally {
    await Promise.all([anonymous.close(), admin.close()]);
  }
}

test(
  "Apache ZooKeeper 3.8, one voter, reconfigEnabled: NOAUTH, BADVERSION, an observer joins and leaves",
  { skip: skipUnlessCompat(["java", "zookeeper"]), timeout: testTimeoutMs },
  async () => {
    assertCompat(["java", "zookeeper"]);
    const { server1, clientPort, zooCfg, superDigest } = await oneVoter();
    const zookeeper = await startRealZooKeeper({
      clientPort,
      myId: 1,
      expectMode: "leader",
      extraConfig: zooCfg,
      jvmProperties: { "zookeeper.DigestAuthenticationProvider.superDigest": superDigest },
    });
    try {
      await oneVoterScenario(zookeeper.connectString, server1);
    } finally {
      await zookeeper.stop();
    }
  },
);

test("corral serve, one voter, reconfigEnabled: the same as Apache ZooKeeper 3.8", { timeout: testTimeoutMs }, async () => {
  const { server1, clientPort, zooCfg, superDigest } = await oneVoter();
  const dir = mkdtempSync(join(tmpdir(), "corral-reconfig-one-"));
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, "myid"), "1\n");
  const lines = [`dataDir=${dataDir}`, "tickTime=200", `DigestAuthenticationProvider.superDigest=${superDigest}`, ...Object.entries(zooCfg).map(([key, value]) => `${key}=${value}`)];
  writeFileSync(join(dir, "zoo.cfg"), lines.join("\n") + "\n");
  const corral = await startCorralProcess({ args: [join(dir, "zoo.cfg"), "--port", String(clientPort)], startTimeoutMs: 60_000 });
  try {
    await oneVoterScenario(`127.0.0.1:${clientPort}`, server1);
  } finally {
    await corral.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The `version=<hex>` line of a config text, as a number. */
function versionOf(config: string): bigint {
  const match = /(?:^|\n)version=([0-9a-f]+)$/.exec(config);
  assert.ok(match !== null, `no version line in ${JSON.stringify(config)}`);
  return BigInt(`0x${match[1]}`);
}

async function rejectsWith(promise: Promise<unknown>, codeName: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KeeperError, `expected a KeeperError ${codeName}, got ${String(error)}`);
    assert.equal(error.codeName, codeName, error.message);
    return true;
  });
}
