import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ServerStatus, SessionDump } from "../../src/core/server_io.ts";
import {
  type ConnectionReport,
  DEFAULT_FOUR_LETTER_WHITELIST,
  formatConnection,
  FOUR_LETTER_WORDS,
  type FourLetterSource,
  fourLetterWordCode,
  fourLetterWordOf,
  hexLong,
  javaDateString,
  javaDouble,
  NOT_SERVING,
  runFourLetterWord,
} from "../../src/driver/four_letter_words.ts";

const ALL = new Set(["*"]);
const VERSION = "3.8.0-corral-0.1.0, built on 2026-11-22 00:00 UTC";

function status(overrides: Partial<ServerStatus> = {}): ServerStatus {
  return {
    mode: "standalone",
    lastZxid: 0x1f,
    nodeCount: 5,
    approximateDataSize: 44,
    ephemeralsCount: 1,
    sessionCount: 2,
    localSessionCount: 0,
    watchCount: 3,
    dataWatchPaths: 1,
    dataWatchConnections: 1,
    dataWatchTotal: 1,
    outstandingRequests: 0,
    ...overrides,
  };
}

function connection(overrides: Partial<ConnectionReport> = {}): ConnectionReport {
  return {
    remoteAddress: "127.0.0.1",
    remotePort: 50000,
    interestOps: 1,
    queued: 0,
    received: 5,
    sent: 4,
    sessionId: 0x100000997c60000n,
    lastOperation: "GETD",
    establishedAtMs: 1700000000000,
    sessionTimeoutMs: 30000,
    lastCxid: 3,
    lastZxid: -1,
    lastResponseAtMs: 1700000000500,
    lastLatencyMs: 1,
    latency: { count: 2, totalMs: 3, minMs: 1, maxMs: 2 },
    ...overrides,
  };
}

function source(overrides: Partial<FourLetterSource> = {}): FourLetterSource & { resets: string[] } {
  const resets: string[] = [];
  let mask = 306n;
  const sessions: SessionDump[] = [
    { sessionId: 0x100000997c60000n, timeoutMs: 30000, expiresAtMs: Date.UTC(2026, 10, 22, 4, 13, 0), ephemerals: ["/e1", "/e2"] },
    { sessionId: 0x100000997c60001n, timeoutMs: 30000, expiresAtMs: Date.UTC(2026, 10, 22, 4, 13, 0), ephemerals: [] },
  ];
  return {
    resets,
    version: VERSION,
    serving: true,
    readOnly: false,
    nowMs: 0,
    status: () => status(),
    counters: () => ({ packetsReceived: 10, packetsSent: 9, latency: { count: 3, totalMs: 10, minMs: 0, maxMs: 7 }, aliveConnections: 2, uptimeMs: 1234 }),
    connections: () => [connection(), connection({ remotePort: 50001, interestOps: 0, sessionId: null, received: 1, sent: 0 })],
    sessions: () => sessions,
    dataWatches: () => new Map([["/a", [0x100000997c60000n]], ["/b", [0x100000997c60000n, 0x100000997c60001n]]]),
    connectionExpiries: () => [{ remoteAddress: "127.0.0.1", remotePort: 50001, sessionId: null, expiresAtMs: Date.UTC(2026, 10, 22, 4, 13, 10) }],
    conf: () => ({
      clientPort: 2181, dataDir: "/var/zk", dataLogDir: "/var/zk", tickTimeMs: 2000, maxClientCnxns: 60,
      minSessionTimeoutMs: 4000, maxSessionTimeoutMs: 40000, serverId: 0,
    }),
    environment: () => [["zookeeper.version", VERSION], ["host.name", "box"]],
    resetServerStats: () => resets.push("server"),
    resetConnectionStats: () => resets.push("connections"),
    traceMask: () => mask,
    setTraceMask: (value) => {
      mask = value;
    },
    ...overrides,
  };
}

describe("four-letter words", () => {
  test("codes are the ASCII bytes as a big-endian int; unknown words are frame lengths", () => {
    assert.equal(fourLetterWordCode("ruok"), 0x72756f6b);
    assert.equal(fourLetterWordCode("srvr"), 0x73727672);
    for (const word of FOUR_LETTER_WORDS) assert.equal(fourLetterWordOf(fourLetterWordCode(word)), word);
    assert.equal(fourLetterWordOf(45), null);
    assert.equal(fourLetterWordOf(fourLetterWordCode("xxxx")), null);
    assert.equal(fourLetterWordOf(0xfff4fffd | 0), "telnetClose");
    assert.equal(fourLetterWordOf(0xfff4fffd), "telnetClose");
  });

  test("only srvr is whitelisted by default; others get the reference's sentence", () => {
    assert.ok(runFourLetterWord("srvr", source(), { whitelist: DEFAULT_FOUR_LETTER_WHITELIST }).startsWith("Zookeeper version: "));
    assert.equal(runFourLetterWord("ruok", source(), { whitelist: DEFAULT_FOUR_LETTER_WHITELIST }), "ruok is not executed because it is not in the whitelist.\n");
    assert.equal(runFourLetterWord("stat", source(), { whitelist: new Set(["ruok"]) }), "stat is not executed because it is not in the whitelist.\n");
    assert.equal(runFourLetterWord("ruok", source(), { whitelist: ALL }), "imok");
  });

  test("srvr has the reference's lines in order", () => {
    assert.equal(
      runFourLetterWord("srvr", source(), { whitelist: ALL }),
      `Zookeeper version: ${VERSION}\n` +
        "Latency min/avg/max: 0/3.3333/7\n" +
        "Received: 10\nSent: 9\nConnections: 2\nOutstanding: 0\nZxid: 0x1f\nMode: standalone\nNode count: 5\n",
    );
  });

  test("stat lists brief connection lines between the version and the latency line", () => {
    const text = runFourLetterWord("stat", source(), { whitelist: ALL });
    assert.equal(
      text.split("Latency")[0],
      `Zookeeper version: ${VERSION}\nClients:\n` +
        " /127.0.0.1:50000[1](queued=0,recved=5,sent=4)\n" +
        " /127.0.0.1:50001[0](queued=0,recved=1,sent=0)\n\n",
    );
    assert.ok(text.endsWith("Mode: standalone\nNode count: 5\n"));
  });

  test("cons prints session details only for connections with a session, then an empty line", () => {
    assert.equal(
      runFourLetterWord("cons", source(), { whitelist: ALL }),
      " /127.0.0.1:50000[1](queued=0,recved=5,sent=4,sid=0x100000997c60000,lop=GETD,est=1700000000000,to=30000," +
        "lcxid=0x3,lzxid=0xffffffffffffffff,lresp=1700000000500,llat=1,minlat=1,avglat=1,maxlat=2)\n" +
        " /127.0.0.1:50001[0](queued=0,recved=1,sent=0)\n\n",
    );
    assert.ok(!formatConnection(connection({ lastCxid: -2 }), false).includes("lcxid"), "lcxid only for cxid >= 0");
  });

  test("mntr starts with version and state, tab-separated", () => {
    const lines = runFourLetterWord("mntr", source(), { whitelist: ALL }).split("\n");
    assert.equal(lines[0], `zk_version\t${VERSION}`);
    assert.equal(lines[1], "zk_server_state\tstandalone");
    for (const key of ["zk_avg_latency\t3.3333", "zk_max_latency\t7", "zk_min_latency\t0", "zk_packets_received\t10",
      "zk_num_alive_connections\t2", "zk_znode_count\t5", "zk_watch_count\t3", "zk_ephemerals_count\t1",
      "zk_approximate_data_size\t44", "zk_global_sessions\t2", "zk_uptime\t1234"]) {
      assert.ok(lines.includes(key), `mntr has ${JSON.stringify(key)}`);
    }
    assert.equal(lines.at(-1), "", "ends with a newline");
  });

  test("conf prints the reference's keys", () => {
    assert.equal(
      runFourLetterWord("conf", source(), { whitelist: ALL }),
      "clientPort=2181\nsecureClientPort=-1\ndataDir=/var/zk\ndataDirSize=0\ndataLogDir=/var/zk\ndataLogSize=0\n" +
        "tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n",
    );
  });

  test("envi starts with Environment:", () => {
    assert.equal(runFourLetterWord("envi", source(), { whitelist: ALL }), `Environment:\nzookeeper.version=${VERSION}\nhost.name=box\n`);
  });

  test("wchs, wchc, wchp over the data watch table", () => {
    assert.equal(runFourLetterWord("wchs", source(), { whitelist: ALL }), "1 connections watching 1 paths\nTotal watches:1\n");
    assert.equal(
      runFourLetterWord("wchc", source(), { whitelist: ALL }),
      "0x100000997c60000\n\t/a\n\t/b\n0x100000997c60001\n\t/b\n\n",
    );
    assert.equal(
      runFourLetterWord("wchp", source(), { whitelist: ALL }),
      "/a\n\t0x100000997c60000\n/b\n\t0x100000997c60000\n\t0x100000997c60001\n\n",
    );
    assert.equal(runFourLetterWord("wchc", source({ dataWatches: () => new Map() }), { whitelist: ALL }), "\n");
  });

  test("dump: sessions by expiry bucket, ephemerals, connections", () => {
    assert.equal(
      runFourLetterWord("dump", source(), { whitelist: ALL }),
      "SessionTracker dump:\nSession Sets (1)/(2):\n2 expire at Sun Nov 22 04:13:00 UTC 2026:\n" +
        "\t0x100000997c60000\n\t0x100000997c60001\n" +
        "ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x100000997c60000:\n\t/e1\n\t/e2\n" +
        "Connections dump:\nConnections Sets (1)/(1):\n1 expire at Sun Nov 22 04:13:10 UTC 2026:\n" +
        "\tip: /127.0.0.1:50001 sessionId: 0x0\n",
    );
  });

  test("isro, gtmk, stmk, srst, crst, dirs, hash", () => {
    const s = source();
    assert.equal(runFourLetterWord("isro", s, { whitelist: ALL }), "rw");
    assert.equal(runFourLetterWord("isro", source({ readOnly: true }), { whitelist: ALL }), "ro");
    assert.equal(runFourLetterWord("gtmk", s, { whitelist: ALL }), "306");
    assert.equal(runFourLetterWord("stmk", s, { whitelist: ALL, stmkArgument: 255n }), "255");
    assert.equal(runFourLetterWord("gtmk", s, { whitelist: ALL }), "255");
    assert.equal(runFourLetterWord("srst", s, { whitelist: ALL }), "Server stats reset.\n");
    assert.equal(runFourLetterWord("crst", s, { whitelist: ALL }), "Connection stats reset.\n");
    assert.deepEqual(s.resets, ["server", "connections"]);
    assert.equal(runFourLetterWord("dirs", s, { whitelist: ALL }), "datadir_size: 0\nlogdir_size: 0\n");
    assert.equal(runFourLetterWord("hash", s, { whitelist: ALL }), "");
  });

  test("a server that is not serving says so, except ruok, envi and isro", () => {
    const s = source({ serving: false });
    assert.equal(runFourLetterWord("srvr", s, { whitelist: ALL }), NOT_SERVING);
    assert.equal(runFourLetterWord("mntr", s, { whitelist: ALL }), NOT_SERVING);
    assert.equal(runFourLetterWord("ruok", s, { whitelist: ALL }), "imok");
    assert.equal(runFourLetterWord("isro", s, { whitelist: ALL }), "null");
    assert.ok(runFourLetterWord("envi", s, { whitelist: ALL }).startsWith("Environment:\n"));
  });

  test("Java-compatible formatting", () => {
    assert.equal(javaDouble(0), "0.0");
    assert.equal(javaDouble(5.1783), "5.1783");
    assert.equal(javaDouble(12), "12.0");
    assert.equal(javaDouble(1e7), "1.0E7");
    assert.equal(javaDouble(1.5e-4), "1.5E-4");
    assert.equal(hexLong(-1), "0xffffffffffffffff");
    assert.equal(hexLong(0x100000002), "0x100000002");
    assert.equal(javaDateString(Date.UTC(2025, 0, 5, 3, 4, 5)), "Sun Jan 05 03:04:05 UTC 2025");
  });
});
