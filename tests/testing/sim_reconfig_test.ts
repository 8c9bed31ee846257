/**
 * Dynamic reconfiguration in the simulator: the seed's switch (its own stream: seeds drawn off keep
 * their exact runs), the model's judgement of a reconfig's answer, and whole runs that reconfigure
 * under faults and pass every checker.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/errors.ts";
import type { ReconfigRequest } from "../../src/core/records.ts";
import { formatFailure } from "../../src/testing/campaign.ts";
import { judgeReconfig } from "../../src/testing/model/model_reconfig.ts";
import { runSimulation } from "../../src/testing/simulator.ts";
import { drawReconfig, memberSpecText, simQuorumConfigBytes } from "../../src/testing/sim_reconfig.ts";

const utf8 = new TextEncoder();
const STATIC = simQuorumConfigBytes([1, 2, 3], [4]);

function request(fields: Partial<ReconfigRequest>): ReconfigRequest {
  return { kind: "reconfig", joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n, ...fields };
}

function configText(version: number, members: Array<[number, "participant" | "observer"]>): Uint8Array {
  const lines = members.map(([sid, role]) => `server.${sid}=10.0.0.${sid}:2888:3888:${role};0.0.0.0:2181`);
  return utf8.encode(`${lines.join("\n")}\nversion=${version.toString(16)}`);
}

describe("the reconfig switch", () => {
  test("about a third of the seeds, drawn from the seed alone", () => {
    let on = 0;
    for (let seed = 1; seed <= 3_000; seed++) if (drawReconfig(seed)) on++;
    assert.ok(on > 850 && on < 1_150, `${on} of 3000 seeds reconfigure`);
    assert.equal(drawReconfig(12345), drawReconfig(12345));
  });

  test("a seed drawn off runs exactly as with the switch forced off", async () => {
    const seed = [1, 2, 3, 4, 5, 6].find((candidate) => !drawReconfig(candidate))!;
    const drawn = await runSimulation({ seed, voters: 3, ticks: 20 });
    const off = await runSimulation({ seed, voters: 3, ticks: 20, reconfig: false });
    assert.equal(drawn.plan.server.reconfigEnabled, undefined);
    assert.deepEqual(off.stats, drawn.stats);
    assert.equal(off.replay, `SEED=${seed} deno task sim --servers 3 --ticks 20 --reconfig off`);
  });
});

describe("the model's judgement of a reconfig", () => {
  const enabled = { reconfigEnabled: true };
  const state = (fields: Partial<Parameters<typeof judgeReconfig>[1]> = {}) => ({
    configText: configText(0x100000007, [[1, "participant"], [2, "participant"], [3, "participant"], [4, "observer"]]),
    version: 0x100000007,
    allowed: true,
    zxid: 0x100000020,
    ...fields,
  });

  test("disabled: RECONFIGDISABLED and nothing else", () => {
    const verdict = judgeReconfig(request({ leavingServers: "3" }), state(), {}, { err: Code.NEWCONFIGNOQUORUM });
    assert.equal(verdict.err, Code.RECONFIGDISABLED);
  });

  test("a stale version is BADVERSION (or an answer that depends on the ensemble)", () => {
    const stale = request({ leavingServers: "3", curConfigId: 0x100000001n });
    assert.equal(judgeReconfig(stale, state(), enabled, { data: new Uint8Array() }).err, Code.BADVERSION);
    assert.equal(judgeReconfig(stale, state(), enabled, { err: Code.RECONFIGINPROGRESS }).err, Code.RECONFIGINPROGRESS);
  });

  test("before any reconfig, an epoch-start version may match zoo.cfg's stamped one", () => {
    const fresh = state({ configText: STATIC, version: 0 });
    const from = request({ leavingServers: "3", curConfigId: 0x100000000n });
    assert.equal(judgeReconfig(from, fresh, enabled, { err: Code.BADVERSION }).err, Code.BADVERSION);
    assert.equal(judgeReconfig(from, fresh, enabled, { err: Code.NEWCONFIGNOQUORUM }).err, Code.NEWCONFIGNOQUORUM);
    assert.equal(judgeReconfig(request({ leavingServers: "3", curConfigId: 0n }), fresh, enabled, { err: Code.NEWCONFIGNOQUORUM }).err, Code.BADVERSION);
  });

  test("leaving a single voter is BADARGUMENTS; NOAUTH only for a valid membership", () => {
    const one = request({ leavingServers: "2,3" });
    assert.equal(judgeReconfig(one, state({ allowed: false }), enabled, { err: Code.NOAUTH }).err, Code.BADARGUMENTS);
    const fine = request({ leavingServers: "3" });
    assert.equal(judgeReconfig(fine, state({ allowed: false }), enabled, { err: Code.NOAUTH }).err, Code.NOAUTH);
    assert.equal(judgeReconfig(fine, state({ allowed: false }), enabled, { data: new Uint8Array() }).err, Code.NOAUTH);
  });

  test("a success must carry exactly the new membership, versioned with its zxid", () => {
    const demote = request({ joiningServers: memberSpecText(3, "observer") });
    const right = configText(0x100000020, [[1, "participant"], [2, "participant"], [3, "observer"], [4, "observer"]]);
    assert.deepEqual(judgeReconfig(demote, state(), enabled, { data: right }), { err: Code.OK, problem: null });
    const wrongVersion = configText(0x100000021, [[1, "participant"], [2, "participant"], [3, "observer"], [4, "observer"]]);
    assert.match(judgeReconfig(demote, state(), enabled, { data: wrongVersion }).problem ?? "", /not its zxid/);
    const wrongMembers = configText(0x100000020, [[1, "participant"], [2, "participant"], [3, "participant"], [4, "observer"]]);
    assert.match(judgeReconfig(demote, state(), enabled, { data: wrongMembers }).problem ?? "", /the request makes/);
  });

  test("a whole membership (newMembers) is taken as given", () => {
    const whole = request({ newMembers: [memberSpecText(1, "participant"), memberSpecText(4, "participant")].join(",") });
    const right = configText(0x100000020, [[1, "participant"], [4, "participant"]]);
    assert.equal(judgeReconfig(whole, state(), enabled, { data: right }).problem, null);
    assert.equal(judgeReconfig(whole, state(), enabled, { err: Code.NEWCONFIGNOQUORUM }).err, Code.NEWCONFIGNOQUORUM);
  });
});

describe("runs that reconfigure", () => {
  for (const shape of [{ seed: 12, voters: 3, observers: 1 }, { seed: 18, voters: 5, observers: 2 }]) {
    test(`seed ${shape.seed}, ${shape.voters} voters and ${shape.observers} observer(s): every checker passes, reconfigs commit`, async () => {
      const result = await runSimulation({ ...shape, ticks: 60, reconfig: true });
      assert.equal(result.failure, null, result.failure === null ? "" : formatFailure(result));
      assert.ok(result.stats.reconfigs > 0, "no reconfig committed");
      assert.equal(result.plan.server.reconfigEnabled, true);
    });
  }
});
