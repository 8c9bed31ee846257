import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensembleFormed, layOutEnsemble, modeOf } from "../../bench/zookeeper_ensemble.ts";

describe("ensemble formation from srvr", () => {
  test("modeOf() reads the Mode line of ZooKeeper's and Corral's srvr replies", () => {
    const srvr = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.1/3\nMode: follower\nNode count: 5\n";
    assert.equal(modeOf(srvr), "follower");
    assert.equal(modeOf("Mode: leader\n"), "leader");
    assert.equal(modeOf("This ZooKeeper instance is not currently serving requests\n"), null);
    assert.equal(modeOf(""), null);
  });

  test("ensembleFormed() wants exactly one leader and every other member following", () => {
    assert.equal(ensembleFormed(["follower", "leader", "follower"]), true);
    assert.equal(ensembleFormed(["follower", null, "leader"]), false);
    assert.equal(ensembleFormed(["leader", "leader", "follower"]), false);
    assert.equal(ensembleFormed(["follower", "follower", "follower"]), false);
    assert.equal(ensembleFormed(["standalone", "leader", "follower"]), false);
  });

  test("layOutEnsemble() gives each member its myid and distinct ports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-vszk-layout-test-"));
    try {
      const members = await layOutEnsemble(dir, 3);
      assert.deepEqual(members.map((member) => member.id), [1, 2, 3]);
      for (const member of members) {
        assert.equal(readFileSync(join(member.dataDir, "myid"), "utf8").trim(), String(member.id));
        assert.equal(existsSync(member.configPath), false, "no zoo.cfg yet: the caller writes it");
      }
      const ports = members.flatMap((member) => [member.clientPort, member.quorumPort, member.electionPort]);
      assert.equal(new Set(ports).size, 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
