/**
 * Dynamic configuration files (src/cli/dynamic_config.ts): a membership in force is written to
 * `<zoo.cfg>.dynamic.<hex>` and zoo.cfg is rewritten to name it, as ZooKeeper does; at start the
 * dynamic file's server.N lines and version come back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDynamicConfig, withDynamicConfig, writeDynamicConfig } from "../../src/cli/dynamic_config.ts";
import { planEnsemble } from "../../src/cli/ensemble_plan.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { parseQuorumConfigText } from "../../src/core/member_spec.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";

const ZOO_CFG = [
  "tickTime=2000",
  "dataDir=/data",
  "clientPort=2181",
  "reconfigEnabled=true",
  "server.1=10.0.0.1:2888:3888;2181",
  "server.2=10.0.0.2:2888:3888;2181",
  "server.3=10.0.0.3:2888:3888;2181",
  "",
].join("\n");

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("dynamic configuration files", () => {
  test("a membership in force goes to zoo.cfg.dynamic.<hex>, and zoo.cfg names it instead of its server lines", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/etc");
    const config = parseQuorumConfigText("server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.0.2:2888:3888:observer;0.0.0.0:2181\nversion=100000003");
    const next = await writeDynamicConfig(fs, "/etc/zoo.cfg", ZOO_CFG, config, true);
    assert.equal(
      text(await fs.readFile("/etc/zoo.cfg.dynamic.100000003")),
      "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.0.2:2888:3888:observer;0.0.0.0:2181\n",
    );
    assert.equal(text(await fs.readFile("/etc/zoo.cfg")), next);
    // The member's own line has its client address, so clientPort goes too (as ZooKeeper's editStaticConfig).
    assert.equal(next, "tickTime=2000\ndataDir=/data\nreconfigEnabled=true\ndynamicConfigFile=/etc/zoo.cfg.dynamic.100000003\n");
  });

  test("zoo.cfg naming a dynamic file starts from its members and version", async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdirp("/etc");
    const config = parseQuorumConfigText("server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\nserver.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\nversion=1a");
    const zooCfg = await writeDynamicConfig(fs, "/etc/zoo.cfg", ZOO_CFG, config, false);
    const read = (path: string) => fs.readFile(path).then(text);
    const cfg = await withDynamicConfig(parseZooCfg(zooCfg, { source: "/etc/zoo.cfg" }), "/etc/zoo.cfg", read);
    assert.deepEqual(cfg.servers.map((server) => server.id), [1, 2]);
    assert.equal(cfg.configVersion, 0x1a);
    const plan = planEnsemble(cfg, "/etc/zoo.cfg", "/data", "2", []);
    assert.equal(plan.quorumConfig.version, 0x1a);
    assert.deepEqual(plan.members.map((member) => member.id), [1, 2]);
  });

  test("refused: a version= line inside, other keys, server lines in both places, an unreadable file", async () => {
    assert.throws(() => parseDynamicConfig("server.1=10.0.0.1:2888:3888\nversion=3\n", "/etc/zoo.cfg.dynamic.3"), /version= line/);
    assert.throws(() => parseDynamicConfig("server.1=10.0.0.1:2888:3888\ntickTime=3\n", "/etc/zoo.cfg.dynamic.3"), /server\.N lines only/);
    assert.equal(parseDynamicConfig("server.1=10.0.0.1:2888:3888\n", "/etc/zoo.cfg.dynamic").version, 0);
    assert.throws(() => parseDynamicConfig("server.1=10.0.0.1:2888:3888\n", "/etc/zoo.cfg.dynamic.ffffffffffffffff"), /larger than a zxid can be/);
    const both = parseZooCfg(ZOO_CFG + "dynamicConfigFile=/etc/zoo.cfg.dynamic.1\n", { source: "/etc/zoo.cfg" });
    await assert.rejects(withDynamicConfig(both, "/etc/zoo.cfg", () => Promise.resolve("")), /keep the members in one place/);
    const missing = parseZooCfg("dynamicConfigFile=/nowhere.dynamic.1\n", { source: "/etc/zoo.cfg" });
    await assert.rejects(withDynamicConfig(missing, "/etc/zoo.cfg", () => Promise.reject(new Error("ENOENT"))), /cannot be read: ENOENT/);
  });
});
