import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { ENSEMBLE_TIMING, memberZooCfg } from "../../bench/zookeeper_cfg.ts";

const members = [
  { id: 1, quorumPort: 41001, electionPort: 42001 },
  { id: 2, quorumPort: 41002, electionPort: 42002 },
  { id: 3, quorumPort: 41003, electionPort: 42003 },
];

function lines(text: string): string[] {
  return text.trimEnd().split("\n");
}

describe("memberZooCfg", () => {
  test("memberZooCfg() lists all three servers on 127.0.0.1 with quorum and election ports", () => {
    const text = memberZooCfg({
      flavour: "zookeeper",
      timing: ENSEMBLE_TIMING,
      members,
      dataDir: "/d/1",
      clientPort: 40001,
    });
    assert.deepEqual(lines(text).filter((line) => line.startsWith("server.")), [
      "server.1=127.0.0.1:41001:42001",
      "server.2=127.0.0.1:41002:42002",
      "server.3=127.0.0.1:41003:42003",
    ]);
  });

  test("memberZooCfg() gives both flavours the same timing, dataDir and client port; ZooKeeper adds forceSync=yes", () => {
    const input = {
      timing: { tickTimeMs: 2000, initLimitTicks: 10, syncLimitTicks: 5 },
      members,
      dataDir: "/d/2",
      clientPort: 40002,
    };
    const zookeeper = lines(memberZooCfg({ flavour: "zookeeper", ...input }));
    const corral = lines(memberZooCfg({ flavour: "corral", ...input }));
    for (
      const line of [
        "tickTime=2000",
        "initLimit=10",
        "syncLimit=5",
        "dataDir=/d/2",
        "clientPort=40002",
        "clientPortAddress=127.0.0.1",
      ]
    ) {
      assert.ok(zookeeper.includes(line), `ZooKeeper's zoo.cfg lacks ${line}`);
      assert.ok(corral.includes(line), `Corral's zoo.cfg lacks ${line}`);
    }
    assert.deepEqual(zookeeper.filter((line) => !corral.includes(line)), [
      "forceSync=yes",
      "admin.enableServer=false",
    ]);
    assert.deepEqual(corral.filter((line) => !zookeeper.includes(line)), []);
  });

  test("Corral's zoo.cfg parser reads the corral flavour without warnings, as an ensemble of three", () => {
    const cfg = parseZooCfg(
      memberZooCfg({
        flavour: "corral",
        timing: ENSEMBLE_TIMING,
        members,
        dataDir: "/d/3",
        clientPort: 40003,
      }),
    );
    assert.deepEqual(cfg.warnings, []);
    assert.equal(cfg.servers.length, 3);
    assert.equal(cfg.tickTimeMs, ENSEMBLE_TIMING.tickTimeMs);
    assert.equal(cfg.initLimit, ENSEMBLE_TIMING.initLimitTicks);
    assert.equal(cfg.syncLimit, ENSEMBLE_TIMING.syncLimitTicks);
    assert.equal(cfg.dataDir, "/d/3");
    assert.equal(cfg.clientPort, 40003);
  });

  test("memberZooCfg() throws for one member, repeated ids or repeated ports", () => {
    const base = { flavour: "corral" as const, timing: ENSEMBLE_TIMING, dataDir: "/d", clientPort: 1 };
    assert.throws(() => memberZooCfg({ ...base, members: members.slice(0, 1) }), /at least 2 members/);
    assert.throws(
      () => memberZooCfg({ ...base, members: [members[0]!, { ...members[1]!, id: 1 }] }),
      /ids repeat/,
    );
    assert.throws(
      () => memberZooCfg({ ...base, members: [members[0]!, { ...members[1]!, quorumPort: 42001 }] }),
      /ports repeat/,
    );
  });
});
