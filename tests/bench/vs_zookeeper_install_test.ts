import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { installDecision, summariseApt } from "../../bench/zookeeper_install.ts";

const absent = {
  missing: "java",
  packages: ["default-jre-headless"],
  command: "apt-get install -y default-jre-headless",
};

describe("installing ZooKeeper for the bench", () => {
  test("installDecision() is ready when nothing is missing", () => {
    assert.deepEqual(installDecision(null, { root: false, aptGet: false }), { kind: "ready" });
  });

  test("installDecision() installs java and zookeeper with apt-get when root", () => {
    assert.deepEqual(installDecision(absent, { root: true, aptGet: true }), {
      kind: "install",
      argv: ["apt-get", "install", "-y", "default-jre-headless", "zookeeper"],
    });
  });

  test("installDecision() skips with the apt-get line when not root or without apt-get", () => {
    for (const host of [{ root: false, aptGet: true }, { root: true, aptGet: false }]) {
      const decision = installDecision(absent, host);
      assert.equal(decision.kind, "skip");
      assert.match(
        decision.kind === "skip" ? decision.reason : "",
        /java not found.*`apt-get install -y default-jre-headless zookeeper`/,
      );
    }
  });

  test("summariseApt() counts packages set up, or names the last error and a time-out", () => {
    const argv = ["apt-get", "install", "-y", "zookeeper"];
    const ok = summariseApt({ argv, output: "Setting up a (1)\nSetting up b (2)\n", seconds: 41, code: 0 });
    assert.equal(ok, "`apt-get install -y zookeeper` exited 0 after 41 s (2 packages set up)");
    const failed = summariseApt({
      argv,
      output: "Reading...\nE: Unable to locate package zookeeper\n",
      seconds: 2,
      code: 100,
    });
    assert.equal(
      failed,
      "`apt-get install -y zookeeper` exited 100 after 2 s (E: Unable to locate package zookeeper)",
    );
    assert.equal(
      summariseApt({ argv: ["apt-get", "update"], output: "Hit:1 x\n", seconds: 3, code: 0 }),
      "`apt-get update` exited 0 after 3 s (ok)",
    );
    const late = summariseApt({ argv, output: "", seconds: 300, code: "timeout" });
    assert.match(late, /was stopped after 300 s \(time limit\)/);
  });
});
