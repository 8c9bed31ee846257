import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  concurrentHashMapOrder,
  delimitedHost,
  hashMapOrder,
  javaStringHash,
  type QuorumConfig,
  quorumConfigText,
} from "../../src/core/quorum_config.ts";
import { Replica } from "../../src/core/replica.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { DataTree } from "../../src/core/data_tree.ts";

const text = (bytes: Uint8Array | null) => bytes === null ? null : new TextDecoder().decode(bytes);

/** Four members as Apache ZooKeeper 3.8 printed them (probe of 2026-12-05): 17 shares 1's bucket. */
const PROBED: QuorumConfig = {
  version: 0,
  keys: ["tickTime", "initLimit", "syncLimit", "dataDir", "4lw.commands.whitelist", "server.1", "server.2", "server.3", "server.17"],
  members: [
    { id: 1, host: "127.0.0.1", quorumPort: 42467, electionPort: 46425, role: "participant", client: { host: "127.0.0.1", port: 40585 } },
    { id: 2, host: "127.0.0.1", quorumPort: 41005, electionPort: 38009, role: "participant", client: null },
    { id: 3, host: "127.0.0.1", quorumPort: 43767, electionPort: 36751, role: "participant", client: { host: "127.0.0.1", port: 32987 } },
    { id: 17, host: "127.0.0.1", quorumPort: 35157, electionPort: 36847, role: "observer", client: { host: "127.0.0.1", port: 43345 } },
  ],
};

describe("/zookeeper/config text (QuorumMaj.toString)", () => {
  test("matches the bytes Apache ZooKeeper 3.8 wrote for the same members", () => {
    assert.equal(
      quorumConfigText(PROBED),
      "server.1=127.0.0.1:42467:46425:participant;127.0.0.1:40585\n" +
        "server.17=127.0.0.1:35157:36847:observer;127.0.0.1:43345\n" +
        "server.2=127.0.0.1:41005:38009:participant\n" +
        "server.3=127.0.0.1:43767:36751:participant;127.0.0.1:32987\n" +
        "version=0",
    );
  });

  test("version prints in hex; a client part of only a port prints 0.0.0.0", () => {
    const config: QuorumConfig = {
      version: 0x1_0000_0003,
      members: [
        { id: 1, host: "zk1.example", quorumPort: 2888, electionPort: 3888, role: "participant", client: { host: "0.0.0.0", port: 2181 } },
        { id: 2, host: "zk2.example", quorumPort: 2888, electionPort: 3888, role: "participant", client: null },
      ],
    };
    assert.equal(
      quorumConfigText(config),
      "server.1=zk1.example:2888:3888:participant;0.0.0.0:2181\nserver.2=zk2.example:2888:3888:participant\nversion=100000003",
    );
  });

  test("hosts print as Java's getHostString: IPv6 literals in full, bracketed", () => {
    assert.equal(delimitedHost("::1"), "[0:0:0:0:0:0:0:1]");
    assert.equal(delimitedHost("fe80::1%eth0"), "[fe80:0:0:0:0:0:0:1%eth0]");
    assert.equal(delimitedHost("2001:DB8::0a"), "[2001:db8:0:0:0:0:0:a]");
    assert.equal(delimitedHost("::ffff:10.0.0.1"), "10.0.0.1");
    assert.equal(delimitedHost("127.0.0.1"), "127.0.0.1");
    assert.equal(delimitedHost("localhost"), "localhost");
  });

  test("Java's String.hashCode", () => {
    assert.equal(javaStringHash(""), 0);
    // Values printed by OpenJDK 17's String.hashCode.
    assert.equal(javaStringHash("server.1"), 1379102790);
    assert.equal(javaStringHash("tickTime"), 1936851466);
  });

  test("HashMap<Long> order: by id modulo the table size, then insertion order; the table doubles past 3/4", () => {
    const ids = (list: number[]) => hashMapOrder(list.map((id) => ({ id }))).map((item) => item.id);
    assert.deepEqual(ids([3, 1, 2]), [1, 2, 3]);
    assert.deepEqual(ids([17, 1, 2]), [17, 1, 2]);
    assert.deepEqual(ids([1, 17, 2]), [1, 17, 2]);
    // 13 members: 32 bins, so 17 is no longer in 1's bin.
    assert.deepEqual(ids([33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17]), [33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17]);
  });

  test("Properties (ConcurrentHashMap) order as OpenJDK 17 iterates it, resizes included", () => {
    const keys = ["tickTime", "initLimit", "syncLimit", "dataDir", "4lw.commands.whitelist", "server.1", "server.2", "server.3", "server.17"];
    assert.deepEqual(concurrentHashMapOrder([...keys, "server.1"]), [
      "server.2", "server.1", "dataDir", "tickTime", "initLimit", "4lw.commands.whitelist", "syncLimit", "server.3", "server.17",
    ]);
    // 40 keys: two resizes (16 → 32 → 64 bins), whose reversals show in this order.
    const many = Array.from({ length: 40 }, (_, i) => `key${i}`);
    assert.deepEqual(
      concurrentHashMapOrder(many).join(" "),
      "key1 key2 key0 key5 key6 key3 key4 key9 key7 key8 key22 key21 key20 key15 key37 key14 key36 key13 key35 key12 " +
        "key34 key19 key18 key17 key39 key16 key38 key11 key33 key10 key32 key31 key30 key26 key25 key24 key23 key29 key28 key27",
    );
  });
});

describe("/zookeeper/config in the tree", () => {
  test("a fresh tree's system nodes hold empty data (a zero-length buffer, as ZooKeeper's), not null", () => {
    const tree = new DataTree();
    for (const path of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
      const node = tree.get(path)!;
      assert.equal(node.data?.length, 0, `${path} data`);
    }
    const config = tree.get("/zookeeper/config")!;
    assert.equal(config.aversion, -1);
    assert.equal(config.version, 0);
    assert.deepEqual(config.acl, [{ perms: 1, id: { scheme: "world", id: "anyone" } }]);
  });

  function replica(nowMs: number): Replica {
    return new Replica({
      server: defaultServerConfig({ serverId: 2, tickTimeMs: 100, sessionIdSeedMs: nowMs }),
      voters: [1, 2, 3],
      observers: [17],
      initLimitTicks: 10,
      syncLimitTicks: 5,
      quorumConfig: PROBED,
    }, nowMs);
  }

  test("an ensemble member holds its membership with ZooKeeper's Stat: mzxid = version, version -1, aversion -1, read-only", () => {
    const member = replica(1_700_000_000_000);
    const node = member.server.tree.get("/zookeeper/config")!;
    assert.equal(text(node.data), quorumConfigText(PROBED));
    assert.deepEqual(
      { czxid: node.czxid, mzxid: node.mzxid, ctime: node.ctime, mtime: node.mtime, version: node.version, cversion: node.cversion, aversion: node.aversion, ephemeralOwner: node.ephemeralOwner, pzxid: node.pzxid },
      { czxid: 0, mzxid: 0, ctime: 0, mtime: 1_700_000_000_000, version: -1, cversion: 0, aversion: -1, ephemeralOwner: 0n, pzxid: 0 },
    );
    assert.deepEqual(node.acl, [{ perms: 1, id: { scheme: "world", id: "anyone" } }]);
    assert.equal(member.server.tree.get("/zookeeper")!.children.has("config"), true);
  });

  test("recovery from a snapshot holding another config puts this member's own back (as ZooKeeper's learners after sync)", () => {
    const member = replica(1_700_000_000_000);
    member.restoreSnapshot({ zxid: 0x1_0000_0005, sessions: [] });
    for (const path of ["/", "/zookeeper", "/zookeeper/quota"]) {
      member.restoreNode({ path, data: new Uint8Array(0), acl: [], czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0 });
    }
    member.restoreNode({
      path: "/zookeeper/config",
      data: new TextEncoder().encode("server.9=old:1:2:participant\nversion=0"),
      acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }],
      czxid: 0, mzxid: 0, ctime: 0, mtime: 5, version: -1, cversion: 0, aversion: -1, ephemeralOwner: 0n, pzxid: 0,
    });
    member.start();
    assert.equal(text(member.server.tree.get("/zookeeper/config")!.data), quorumConfigText(PROBED));
  });

  test("without a quorum config (a standalone server) the node stays empty, version 0", () => {
    const member = new Replica({
      server: defaultServerConfig({ serverId: 1, tickTimeMs: 100 }),
      voters: [1, 2, 3],
      observers: [],
      initLimitTicks: 10,
      syncLimitTicks: 5,
    }, 1000);
    const node = member.server.tree.get("/zookeeper/config")!;
    assert.equal(node.data?.length ?? 0, 0);
    assert.equal(node.version, 0);
  });
});
