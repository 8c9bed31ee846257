/**
 * Real processes: a 3-member ensemble of `corral serve zoo.cfg` on 127.0.0.1 (one zoo.cfg with the
 * server.N lines; each process gets its own --data-dir holding its myid, and its own --port). Under
 * a write load from a client that knows every member, the leader is killed with SIGKILL; a new
 * leader must serve within a few seconds and the client carries on; the killed member restarts
 * from its dataDir, rejoins, and every member ends with the same znodes, every acknowledged write
 * among them. Run once with every member on the test's runtime, and (under the Node runner only)
 * once with one member on each of Node, Deno and Bun (skipped when one of them is not installed).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient, KeeperError } from "../../src/client/mod.ts";
import { parseArgs } from "../../src/cli/args.ts";
import { planServe, ServePlanError } from "../../src/cli/serve_command.ts";
import { parseZooCfg } from "../../src/cli/zoo_cfg.ts";
import { runtimeCommand } from "../support/corral_process.ts";
import { createAcknowledged } from "../support/acknowledged_create.ts";
import { bounded, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { runtime, type RuntimeName } from "../support/runtime.ts";
import { waitFor } from "../support/wait_for.ts";

const TICK_MS = 100;
const FAILOVER_MS_MAX = 10_000;
const STEP_MS = 30_000;
/** Writes of the load; the kill comes after the first KILL_AFTER of them are acknowledged. */
const WRITES = 300;
const KILL_AFTER = 60;

/**
 * The children of /load on one member, read after a sync. A loaded CI machine can stall a member
 * for seconds; like any client, retry a lost connection (a few times, bounded).
 */
async function loadChildren(connectString: string): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const client = await createClient(connectString, { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: STEP_MS });
    try {
      await client.sync("/load");
      return (await client.getChildren("/load")).sort();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof KeeperError && error.codeName === "CONNECTIONLOSS")) throw error;
    } finally {
      await client.close().catch(() => {});
    }
  }
}

async function killTheLeaderAndRecover(runtimes: RuntimeName[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "corral-ensemble-"));
  const ensemble = await ProcessEnsemble.create(dir, runtimes, { tickMs: TICK_MS, stepMs: STEP_MS });
  let client: Client | null = null;
  try {
    const first = await ensemble.startAll();
    client = await createClient(ensemble.connectString(), { sessionTimeoutMs: 20_000, initialConnectTimeoutMs: STEP_MS, reconnectDelayMs: 50 });
    await client.create("/load", "");
    const acked: string[] = [];
    const writer = client;
    const load = (async () => {
      for (let i = 0; i < WRITES; i++) {
        const name = `w${String(i).padStart(4, "0")}`;
        if ((await createAcknowledged(writer, `/load/${name}`, STEP_MS)) === "acked") acked.push(name);
      }
    })();
    // Awaited below; until then a failure must not surface as an unhandled rejection.
    load.catch(() => {});
    await waitFor(() => acked.length >= KILL_AFTER, { timeoutMs: STEP_MS, what: "the load to get going" });
    const killedAt = Date.now();
    await ensemble.kill(first);
    const second = await ensemble.waitForLeader("a new leader after SIGKILL");
    const failoverMs = Date.now() - killedAt;
    console.log(`ensemble (${runtimes.join(", ")}): leader ${first.id} killed; leader ${second.id} served after ${failoverMs} ms`);
    assert.notEqual(second.id, first.id);
    assert.ok(failoverMs < FAILOVER_MS_MAX, `the new leader took ${failoverMs} ms`);
    await bounded(load, 2 * STEP_MS, () => `the load to finish (${acked.length} acknowledged so far)`);
    assert.ok(acked.length >= WRITES - 5, `${acked.length} of ${WRITES} writes acknowledged`);

    await ensemble.start(first);
    await waitFor(async () => (await ensemble.modes()).get(first.id) === "follower", { timeoutMs: STEP_MS, what: "the killed member to rejoin as a follower" });

    // Then a follower: the other two still form a quorum and keep acknowledging writes.
    const follower = ensemble.members.find((member) => member.id !== second.id)!;
    await ensemble.kill(follower);
    for (let i = 0; i < 20; i++) {
      const name = `f${String(i).padStart(4, "0")}`;
      assert.equal(await createAcknowledged(writer, `/load/${name}`, STEP_MS), "acked", `write ${name} with follower ${follower.id} down`);
      acked.push(name);
    }
    await ensemble.start(follower);
    await waitFor(async () => (await ensemble.modes()).get(follower.id) === "follower", { timeoutMs: STEP_MS, what: "the killed follower to rejoin" });
    const views = new Map<number, string[]>();
    for (const member of ensemble.members) views.set(member.id, await loadChildren(`127.0.0.1:${member.clientPort}`));
    for (const [id, children] of views) {
      const present = new Set(children);
      const missing = acked.filter((name) => !present.has(name));
      assert.deepEqual(missing, [], `member ${id} lacks acknowledged writes`);
      assert.deepEqual(children, views.get(second.id), `member ${id} and the leader ${second.id} hold the same znodes`);
    }
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}`, { cause: error });
  } finally {
    await client?.close().catch(() => {});
    await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function unavailable(runtimes: RuntimeName[]): string | false {
  for (const which of new Set(runtimes)) {
    try {
      runtimeCommand(which);
    } catch (error) {
      return `${which} is not available: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return false;
}

describe("ensemble plan (zoo.cfg server.N lines + myid)", () => {
  const serveArgs = (argv: string[]) => {
    const command = parseArgs(["serve", ...argv]);
    return command.kind === "serve" ? command.args : (null as never);
  };
  const cfg = (extra = "") =>
    parseZooCfg(`tickTime=500\ndataDir=/d\nclientPort=2181\ninitLimit=7\nsyncLimit=3\n` +
      `server.1=h1:2888:3888\nserver.2=h2:2889:3889\nserver.3=h3:2890:3890:observer;127.0.0.1:2183\n${extra}`);

  test("myid picks this member; observers, limits and the quorum listener come from zoo.cfg", () => {
    const voter = planServe(serveArgs(["zoo.cfg"]), cfg(), 0, "2\n").ensemble!;
    assert.equal(voter.myId, 2);
    assert.deepEqual(voter.members.map((m) => [m.id, m.host, m.quorumPort, m.observer]), [[1, "h1", 2888, false], [2, "h2", 2889, false], [3, "h3", 2890, true]]);
    assert.deepEqual(voter.quorumListen, { host: "h2", port: 2889 });
    assert.equal(voter.initLimitTicks, 7);
    assert.equal(voter.syncLimitTicks, 3);
    assert.equal(voter.observer, false);
    const observer = planServe(serveArgs(["zoo.cfg"]), cfg("quorumListenOnAllIPs=true\npeerType=participant\n"), 0, "3");
    assert.equal(observer.ensemble!.observer, true);
    assert.deepEqual(observer.ensemble!.quorumListen, { host: "0.0.0.0", port: 2890 });
    assert.ok(observer.warnings.some((w) => /peerType=participant disagrees with server\.3's role \(observer\)/.test(w)));
    assert.equal(observer.port, 2181, "clientPort wins over the server line's client port");
    const defaults = planServe(serveArgs(["zoo.cfg"]), parseZooCfg("dataDir=/d\nserver.1=a:1:2;2191\nserver.2=b:1:2;2192\n"), 0, "2");
    assert.equal(defaults.port, 2192, "without clientPort, this member's server line gives it");
    assert.ok(defaults.warnings.some((w) => /initLimit is not set; using 10 ticks/.test(w)));
    assert.equal(planServe(serveArgs(["zoo.cfg"]), parseZooCfg("clientPort=1\nserver.1=a:1:2\n"), 0).ensemble, null, "one server line is standalone");
  });

  test("a missing or foreign myid is refused with what to do", () => {
    assert.throws(() => planServe(serveArgs(["zoo.cfg"]), cfg(), 0, null), (error: Error) =>
      error instanceof ServePlanError && /\/d\/myid does not exist: write this server's id/.test(error.message));
    assert.throws(() => planServe(serveArgs(["zoo.cfg"]), cfg(), 0, "7"), /\/d\/myid says "7", which is not the id of a server\.N line/);
    assert.throws(() => planServe(serveArgs(["zoo.cfg"]), cfg(), 0, "two"), /says "two"/);
  });
});

describe("corral serve: a 3-member ensemble of processes", () => {
  const same: RuntimeName[] = [runtime(), runtime(), runtime()];
  test(`SIGKILL the leader, then a follower (all on ${runtime()}): a new leader serves, members rejoin, nothing acknowledged is lost`, { timeout: 180_000 }, async () => {
    await killTheLeaderAndRecover(same);
  });

  const mixed: RuntimeName[] = ["node", "deno", "bun"];
  // The members run on all three runtimes whoever runs the test, so one runner is enough.
  const mixedSkip = runtime() !== "node" ? "runs under the Node test runner only (its members use all three runtimes)" : unavailable(mixed);
  test("the same with one member each on Node, Deno and Bun", { timeout: 240_000, skip: mixedSkip }, async () => {
    await killTheLeaderAndRecover(mixed);
  });
});
