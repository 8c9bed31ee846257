/**
 * Against a real Apache ZooKeeper 3.8 (when installed): Corral's `mntr` keys are ZooKeeper's keys,
 * every key ZooKeeper prints is either printed by Corral or listed in LEFT_OUT with a reason, and
 * the AdminServer field table the other tests use (admin_support.ts) is what ZooKeeper answers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LEFT_OUT, LEFT_OUT_PATTERNS } from "../../src/driver/metrics/zookeeper_names.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { freePort } from "../support/free_port.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { exercise, fieldPaths, getJson, startOpsServer, ZOOKEEPER_38_FIELDS, ZOOKEEPER_38_TOP_LEVEL } from "./admin_support.ts";

/** mntr key → metric name: zk_ dropped, a summary's avg/min/max/cnt/sum/pNN prefix dropped. */
function metricName(key: string): string {
  const bare = key.replace(/^zk_/, "");
  if (/^(min|max|avg)_latency$/.test(bare) || /^(min|max)_(client_response_size|file_descriptor_count)$/.test(bare)) return bare;
  if (bare === "max_file_descriptor_count") return bare;
  return bare.replace(/^(avg|min|max|cnt|sum|p50|p95|p99|p999)_/, "");
}

function mntrKeys(text: string): string[] {
  return text.trim().split("\n").map((line) => line.split("\t")[0]!);
}

const JVM_FLAGS = ["-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xbootclasspath/a:/usr/share/java/servlet-api.jar"];

describe("ZooKeeper 3.8 as the judge", () => {
  test("mntr keys and AdminServer fields match ZooKeeper's", { skip: skipUnlessCompat(["java", "zookeeper"]) }, async () => {
    assertCompat(["java", "zookeeper"]);
    const adminPort = await freePort();
    const zk = await startRealZooKeeper({
      extraConfig: { "admin.enableServer": "true", "admin.serverAddress": "127.0.0.1", "admin.serverPort": String(adminPort) },
      jvmProperties: { "zookeeper.admin.enableServer": "true" },
      jvmFlags: JVM_FLAGS,
    });
    const ops = await startOpsServer();
    try {
      const zkClient = await exercise(zk.connectString);
      const corralClient = await exercise(`127.0.0.1:${ops.server.port}`);
      const zkKeys = mntrKeys(await fourLetterWord("127.0.0.1", zk.port, "mntr", 5000));
      const corralKeys = mntrKeys(ops.server.fourLetterWord("mntr"));
      assert.ok(zkKeys.length > 400, `ZooKeeper printed ${zkKeys.length} mntr lines`);
      const zkSet = new Set(zkKeys);
      for (const key of corralKeys) assert.ok(zkSet.has(key), `Corral's ${key} is not one of ZooKeeper 3.8's mntr keys`);
      const corralNames = new Set(corralKeys.map(metricName));
      for (const key of zkKeys) {
        const name = metricName(key);
        if (corralNames.has(name)) {
          assert.ok(corralKeys.includes(key), `Corral exports ${name} but not ZooKeeper's line ${key}`);
          continue;
        }
        const why = LEFT_OUT[name] ?? LEFT_OUT_PATTERNS.find((item) => item.pattern.test(name))?.reason;
        assert.ok(why !== undefined, `ZooKeeper's ${key} (${name}) is neither exported by Corral nor listed in LEFT_OUT`);
      }
      const zkAdmin = `http://127.0.0.1:${adminPort}/commands`;
      for (const [command, fields] of Object.entries(ZOOKEEPER_38_FIELDS)) {
        const zkAnswer = await getJson(`${zkAdmin}/${command}`);
        assert.deepEqual(fieldPaths(zkAnswer.body), [...fields].sort(), `ZooKeeper's ${command} fields changed: update ZOOKEEPER_38_FIELDS`);
        const corral = await getJson(`${ops.adminUrl}/${command}`);
        assert.deepEqual(fieldPaths(corral.body), fieldPaths(zkAnswer.body), `${command}: Corral's fields differ from ZooKeeper's`);
      }
      for (const [command, fields] of Object.entries(ZOOKEEPER_38_TOP_LEVEL)) {
        const zkAnswer = await getJson(`${zkAdmin}/${command}`);
        assert.deepEqual(Object.keys(zkAnswer.body).sort(), [...fields].sort(), `ZooKeeper's ${command} fields changed`);
      }
      const unknown = await getJson(`${zkAdmin}/nosuchcommand`);
      const corralUnknown = await getJson(`${ops.adminUrl}/nosuchcommand`);
      assert.deepEqual([corralUnknown.status, corralUnknown.body], [unknown.status, unknown.body], "unknown command answers");
      await zkClient.close();
      await corralClient.close();
    } finally {
      await ops.stop();
      await zk.stop();
    }
  });
});
