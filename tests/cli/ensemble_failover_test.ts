/**
 * Real processes: a 5-member ensemble of `corral serve zoo.cfg` on 127.0.0.1. Under a write load
 * from several of our clients and one kazoo client (all given every member), the leader is killed
 * with SIGKILL; a new leader must serve within a few seconds; then a follower is killed too. The
 * clients fail over and carry on. After the load, both killed members restart from their dataDirs
 * and every member must hold the same tree (same children of the written parents, same srvr Zxid
 * and node count) with every acknowledged write, ours and kazoo's, in it.
 *
 * kazoo (Debian's python3-kazoo) is optional: without it the kazoo part is skipped with a reason,
 * unless CORRAL_REQUIRE_COMPAT=1, which makes it a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient, KeeperError } from "../../src/client/mod.ts";
import { createAcknowledged } from "../support/acknowledged_create.ts";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { bounded, type EnsembleMember, ProcessEnsemble } from "../support/ensemble_processes.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { repoRoot, runtime } from "../support/runtime.ts";
import { spawnProcess, type SpawnedProcess } from "../support/spawned_process.ts";
import { waitFor } from "../support/wait_for.ts";

const MEMBERS = 5; // the larger ensemble; a 3-member one runs too
const WRITERS = 3;
const FAILOVER_MS_MAX = 10_000;
const STEP_MS = 20_000;
/** Acknowledged writes (ours) between steps, so each fault lands in the middle of the load. */
const PROGRESS = 20;
/** kazoo's acknowledged writes before the first kill and after the second. */
const KAZOO_PROGRESS = 5;

const kazooSkip = skipUnlessCompat(["kazoo"]);

/** Our writers: each creates /load/cN-wNNNNN until told to stop; `acked` collects acknowledged names. */
function startWriters(clients: Client[], acked: string[]): { stop(): Promise<void> } {
  let stopping = false;
  const loops = clients.map(async (client, n) => {
    for (let i = 0; !stopping; i++) {
      const name = `c${n}-w${String(i).padStart(5, "0")}`;
      if ((await createAcknowledged(client, `/load/${name}`, STEP_MS)) === "acked") acked.push(name);
    }
  });
  const all = Promise.all(loops);
  all.catch(() => {}); // awaited in stop(); until then a failure must not be an unhandled rejection
  return {
    async stop() {
      stopping = true;
      await bounded(all, STEP_MS + 5000, () => `our writers to finish (${acked.length} acknowledged)`);
    },
  };
}

interface KazooLoad {
  /** Paths kazoo printed as acknowledged, so far. */
  acked(): string[];
  stop(): Promise<void>;
  output(): string;
}

function startKazooLoad(connectString: string, dir: string): KazooLoad {
  const stopFile = join(dir, "kazoo.stop");
  const script = join(repoRoot(), "tests", "cli", "support", "kazoo_sequential_load.py");
  const acked: string[] = [];
  let pending = "";
  let done = false;
  const child: SpawnedProcess = spawnProcess(kazooPython(), [script, connectString, "/kazoo-load", stopFile, "120"], {
    cwd: repoRoot(),
    onStdout: (text) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("acked ")) acked.push(line.slice("acked ".length));
        if (line.startsWith("done ")) done = true;
      }
    },
  });
  return {
    acked: () => acked,
    output: () => child.output().slice(-3000),
    async stop() {
      writeFileSync(stopFile, "");
      const exit = await bounded(child.exited, STEP_MS + 10_000, () => "the kazoo load to exit");
      assert.ok(exit.code === 0 && done, `the kazoo load failed (code ${exit.code}, signal ${exit.signal}):\n${child.output()}`);
      await child.stop(1000);
    },
  };
}

/**
 * What one member holds, read through a client pinned to it after a sync. A loaded CI machine can
 * stall a member for seconds; like any client, retry a lost connection (a few times, bounded).
 */
async function memberView(member: EnsembleMember): Promise<{ load: string[]; kazoo: string[] }> {
  for (let attempt = 1; ; attempt++) {
    const client = await createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: STEP_MS });
    try {
      await client.sync("/");
      const load = (await client.getChildren("/load")).sort();
      const kazoo = (await client.exists("/kazoo-load")) === null ? [] : (await client.getChildren("/kazoo-load")).sort();
      return { load, kazoo };
    } catch (error) {
      if (attempt >= 3 || !(error instanceof KeeperError && error.codeName === "CONNECTIONLOSS")) throw error;
    } finally {
      await client.close().catch(() => {});
    }
  }
}

/** srvr's "Zxid: 0x..." and "Node count: N" lines, which must agree once the members converge. */
async function zxidAndNodeCount(member: EnsembleMember): Promise<string> {
  const text = await fourLetterWord("127.0.0.1", member.clientPort, "srvr");
  return `${/Zxid: (\S+)/.exec(text)?.[1]} / ${/Node count: (\d+)/.exec(text)?.[1]}`;
}

for (const members of [3, MEMBERS]) {
  test(`corral serve: ${members}-member ensemble (all on ${runtime()}), SIGKILL the leader then a follower under load from our clients and kazoo`, { timeout: 180_000 }, () => failover(members));
}

/**
 * Kills the leader, then a follower, under load. With 3 members the old leader is restarted first,
 * since two dead members of three leave no quorum.
 */
async function failover(memberCount: number): Promise<void> {
  const withKazoo = kazooSkip === false;
  if (withKazoo) assertCompat(["kazoo"]);
  else console.log(`ensemble failover: kazoo part skipped: ${kazooSkip}`);
  const dir = mkdtempSync(join(tmpdir(), "corral-failover-"));
  const ensemble = await ProcessEnsemble.create(dir, Array.from({ length: memberCount }, () => runtime()), { stepMs: STEP_MS, extraArgs: ["--log-level", "warn"] });
  const clients: Client[] = [];
  let kazoo: KazooLoad | null = null;
  try {
    const first = await ensemble.startAll();
    for (let n = 0; n < WRITERS; n++) {
      clients.push(await createClient(ensemble.connectString(), { sessionTimeoutMs: 20_000, initialConnectTimeoutMs: STEP_MS, reconnectDelayMs: 50 }));
    }
    await clients[0]!.create("/load", "");
    const acked: string[] = [];
    const writers = startWriters(clients, acked);
    if (withKazoo) kazoo = startKazooLoad(ensemble.connectString(), dir);
    const progress = async (what: string) => {
      const ours = acked.length;
      const theirs = kazoo?.acked().length ?? 0;
      await waitFor(() => acked.length >= ours + PROGRESS && (kazoo === null || kazoo.acked().length >= theirs + KAZOO_PROGRESS), {
        timeoutMs: STEP_MS,
        what: `${what} (ours: ${acked.length} acknowledged, kazoo: ${kazoo?.acked().length ?? "-"})`,
      });
    };
    await progress("the load to get going");

    const killedAt = Date.now();
    await ensemble.kill(first);
    const second = await ensemble.waitForLeader("a new leader after the leader's SIGKILL");
    const failoverMs = Date.now() - killedAt;
    assert.notEqual(second.id, first.id);
    assert.ok(failoverMs < FAILOVER_MS_MAX, `the new leader took ${failoverMs} ms`);
    await progress("the load to carry on under the new leader");
    if (memberCount === 3) {
      await ensemble.start(first);
      await waitFor(async () => (await ensemble.modes()).get(first.id) === "follower", { timeoutMs: STEP_MS, what: "the old leader to rejoin" });
    }

    const follower = ensemble.running().find((member) => member.id !== second.id)!;
    await ensemble.kill(follower);
    await progress("the load to carry on without a follower");
    console.log(`ensemble failover: leader ${first.id} killed, leader ${second.id} served after ${failoverMs} ms; follower ${follower.id} killed`);

    await writers.stop();
    await kazoo?.stop();
    const kazooAcked = kazoo?.acked().map((path) => path.slice("/kazoo-load/".length)) ?? [];
    console.log(`ensemble failover: ${acked.length} of our writes and ${kazooAcked.length} of kazoo's acknowledged`);

    // Closing a session through a follower can wait for the client's read timeout (see
    // ensemble_test.ts), so the writers close while the killed members restart.
    const closing = Promise.all(clients.splice(0).map((client) => client.close().catch(() => {})));
    // The follower killed may be the old leader that rejoined (3 members): start each member once.
    const restarts = [...new Set([first, follower])].filter((member) => member.process === null).map((member) => ensemble.start(member));
    await Promise.all([...restarts, closing]);
    await waitFor(async () => (await ensemble.stableLeader()) !== null && ensemble.running().length === memberCount, {
      timeoutMs: STEP_MS,
      what: "the killed members to rejoin",
    });
    await waitFor(async () => new Set(await Promise.all(ensemble.members.map(zxidAndNodeCount))).size === 1, {
      timeoutMs: STEP_MS,
      what: "every member to report the same srvr Zxid and node count",
    });
    const views = new Map<number, { load: string[]; kazoo: string[] }>();
    for (const member of ensemble.members) views.set(member.id, await memberView(member));
    const reference = views.get(second.id)!;
    for (const [id, view] of views) {
      const load = new Set(view.load);
      assert.deepEqual(acked.filter((name) => !load.has(name)), [], `member ${id} lacks acknowledged writes of ours`);
      const kazooNodes = new Set(view.kazoo);
      assert.deepEqual(kazooAcked.filter((name) => !kazooNodes.has(name)), [], `member ${id} lacks acknowledged kazoo writes`);
      assert.deepEqual(view, reference, `member ${id} and the leader ${second.id} hold the same znodes`);
    }
  } catch (error) {
    const kazooOutput = kazoo === null ? "" : `\n--- kazoo load ---\n${kazoo.output()}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}${kazooOutput}`, { cause: error });
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await kazoo?.stop().catch(() => {});
    await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
