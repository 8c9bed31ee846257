/**
 * Real processes: dynamic reconfiguration 3 → 5 → 3 under a write load, with a leader kill in
 * between (issue: "loses no acknowledged write"). Five member slots on 127.0.0.1, each with a
 * zoo.cfg of its own (members rewrite theirs once a membership is in force):
 * 1. members 1..3 start from zoo.cfg files naming servers 1..3 only; 4 and 5 (joiners) from files
 *    naming 1..5, started later;
 * 2. two clients create sequential znodes for the whole test; each acknowledged create is recorded
 *    (an error is an unknown outcome, not recorded);
 * 3. a super user reconfigs joining 4 and 5: the reply lists 5 participants, every member's
 *    getConfig (after sync) agrees, and all five serve (one leader, four followers);
 * 4. SIGKILL the leader; the other four elect a new one; the load goes on;
 * 5. reconfig (through a member that stays) leaving the killed member and the new leader: 3 voters
 *    remain, the removed leader steps down and keeps serving as a non-voting follower whose config
 *    does not name it;
 * 6. the load stops; every running member (after sync) holds every acknowledged znode, and they all
 *    hold the same children;
 * 7. a remaining voter's zoo-<id>.cfg now names a dynamic file listing exactly the 3 voters; it
 *    restarts from it (same zoo.cfg) and serves with the data.
 *
 * Node only: the rules are the core's and the same under every runtime; a five-process ensemble
 * under Deno or Bun would double this file's minutes for no new coverage (tests/cli/ensemble_test.ts
 * runs members on each runtime).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, CreateMode, createClient, KeeperError } from "../../src/client/mod.ts";
import { digestOf } from "../../src/core/acl.ts";
import { bounded, type EnsembleMember, ProcessEnsemble, serverLine } from "../support/ensemble_processes.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { runtime } from "../support/runtime.ts";
import { waitFor } from "../support/wait_for.ts";

/** Generous: a loaded 2-core machine can stall a member (or a Node start) for seconds. */
const STEP_MS = 60_000;
const SUPER_AUTH = "super:test";
const WRITERS = 2;
/** Acknowledged writes between steps, so each change lands in the middle of the load. */
const PROGRESS = 20;
/** Bounds of the load, whatever happens: creates per writer, and time. */
const MAX_CREATES = 50_000;
const LOAD_MS = 170_000;

const nodeOnly = runtime() !== "node" ? `Node only: a five-process ensemble under ${runtime()} adds minutes and no coverage (the rules are the core's)` : false;

test("corral serve: reconfig 3 → 5 → 3 under a write load, SIGKILL of the leader in between, loses no acknowledged write; a member restarts from its dynamic file", { timeout: 240_000, skip: nodeOnly }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-reconfig-"));
  const ensemble = await ProcessEnsemble.create(dir, ["node", "node", "node", "node", "node"], {
    stepMs: STEP_MS,
    extraLines: ["reconfigEnabled=true", `DigestAuthenticationProvider.superDigest=${digestOf(SUPER_AUTH)}`],
    // 1..3 are the ensemble; 4 and 5 are joiners whose zoo.cfg already names them all.
    serversOf: (id) => id <= 3 ? [1, 2, 3] : [1, 2, 3, 4, 5],
  });
  const byId = (id: number) => ensemble.members.find((member) => member.id === id)!;
  const clients: Client[] = [];
  let load: Load | null = null;
  let step = "starting members 1..3";
  try {
    // 1. The three-member ensemble.
    await Promise.all([1, 2, 3].map((id) => ensemble.start(byId(id))));
    await ensemble.waitForLeader("a first leader among members 1..3");

    // 2. The write load, through every member (4 and 5 refuse sessions until they serve).
    step = "starting the load";
    for (let n = 0; n < WRITERS; n++) {
      clients.push(await createClient(ensemble.connectString(), { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: STEP_MS, reconnectDelayMs: 50 }));
    }
    await clients[0]!.create("/load", "");
    load = startLoad(clients);
    await load.progress("writes on the 3-member ensemble");

    // 3. 3 → 5.
    step = "joining 4 and 5";
    await Promise.all([4, 5].map((id) => ensemble.start(byId(id))));
    const grown = await reconfigThrough(byId(1), { joining: [serverLine(byId(4)), serverLine(byId(5))] }, (text) => sameIds(voters(text), [1, 2, 3, 4, 5]));
    assert.deepEqual(voters(grown), [1, 2, 3, 4, 5], `the reconfig's reply should list 5 participants:\n${grown}`);
    await everyConfigIs(ensemble, ensemble.running(), grown, "every member's config to be the 5-member one");
    const leader = await ensemble.waitForLeader("all five to serve, one leading");
    assert.equal(await quorumSize(byId(1)), 5, "mntr's zk_quorum_size follows the membership in force");
    await load.progress("writes on the 5-member ensemble");

    // 4. SIGKILL the leader.
    step = `killing leader ${leader.id}`;
    await ensemble.kill(leader);
    const newLeader = await ensemble.waitForLeader(`a new leader among the four left after killing ${leader.id}`);
    await load.progress(`writes after killing leader ${leader.id}`);

    // 5. 5 → 3: the killed member and the new leader leave, asked through a member that stays.
    step = `removing ${leader.id} (killed) and ${newLeader.id} (leading)`;
    const leaving = [leader.id, newLeader.id];
    const staying = ensemble.members.filter((member) => !leaving.includes(member.id)).map((member) => member.id);
    const shrunk = await reconfigThrough(byId(staying[0]!), { leaving }, (text) => sameIds(voters(text), staying));
    assert.deepEqual(voters(shrunk), staying, `the reconfig's reply should list exactly the 3 staying voters:\n${shrunk}`);
    const finalLeader = await ensemble.waitFor(async () => {
      const modes = await ensemble.modes();
      const leaders = staying.filter((id) => modes.get(id) === "leader");
      return leaders.length === 1 && [...modes.values()].every((mode) => mode === "leader" || mode === "follower") ? byId(leaders[0]!) : null;
    }, `one of ${staying.join(", ")} to lead and the removed ${newLeader.id} to follow`);
    await everyConfigIs(ensemble, ensemble.running(), shrunk, `every member's config (the removed ${newLeader.id}'s too) to be the 3-member one`);
    assert.equal(/Mode: (\w+)/.exec(await fourLetterWord("127.0.0.1", newLeader.clientPort, "srvr"))?.[1], "follower", `the removed member ${newLeader.id} should serve as a follower`);
    assert.equal(await quorumSize(byId(staying[0]!)), 3, "mntr's zk_quorum_size follows the membership in force");
    await load.progress("writes on the 3-member ensemble after the shrink");

    // 6. No acknowledged write lost, on any running member.
    step = "checking every member's data";
    const acked = await load.stop();
    load = null;
    assert.ok(acked.length >= 4 * PROGRESS, `the load made too little progress (${acked.length} acknowledged)`);
    const views = new Map<number, string[]>();
    for (const member of ensemble.running()) views.set(member.id, await loadChildren(member));
    for (const [id, children] of views) assertHolds(id, children, acked);
    const [first, ...rest] = [...views];
    for (const [id, children] of rest) assert.deepEqual(children, first![1], `members ${first![0]} and ${id} hold different /load children after sync`);

    // 7. A remaining voter restarts from its dynamic file.
    step = "restarting from the dynamic file";
    const restarted = byId(staying.find((id) => id !== finalLeader.id)!);
    const cfgPath = ensemble.configOf(restarted);
    // The writes follow the commit asynchronously: poll (zoo.cfg may name an older file at first).
    const dynamicIds = await waitFor(() => {
      const dynamicPath = /^dynamicConfigFile=(.+)$/m.exec(readFileSync(cfgPath, "utf8"))?.[1];
      if (dynamicPath === undefined) return null;
      const ids = idsOfLines(readFileSync(dynamicPath, "utf8").split("\n").filter((line) => line.startsWith("server.")));
      return sameIds(ids, staying) ? ids : null;
    }, { timeoutMs: STEP_MS, what: `${cfgPath} to name a dynamic file listing exactly ${staying.join(", ")}` });
    assert.deepEqual(dynamicIds, staying);
    assert.doesNotMatch(readFileSync(cfgPath, "utf8"), /^server\./m, `${cfgPath} should keep no server.N line once it names a dynamic file`);
    await restarted.process!.stop();
    restarted.process = null;
    await ensemble.start(restarted);
    await ensemble.waitFor(async () => {
      const modes = await ensemble.modes();
      return staying.filter((id) => modes.get(id) === "leader").length === 1 && [...modes.values()].every((mode) => mode === "leader" || mode === "follower");
    }, `member ${restarted.id} to serve again after its restart`);
    await everyConfigIs(ensemble, [restarted], shrunk, `the restarted member ${restarted.id}'s config to be the 3-member one`);
    assertHolds(restarted.id, await loadChildren(restarted), acked);
    console.log(`reconfig process: killed leader ${leader.id}, removed ${leaving.join(" and ")}, ${finalLeader.id} leads ${staying.join(", ")}, ${restarted.id} restarted from its dynamic file; ${acked.length} acknowledged creates, all held (${views.get(restarted.id)?.length} children)`);
  } catch (error) {
    throw new Error(`${step}: ${error instanceof Error ? error.message : String(error)}\n${load?.summary() ?? ""}\n${ensemble.output()}`, { cause: error });
  } finally {
    await load?.stop().catch(() => {});
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A removed member keeps following as a non-voter (docs/zookeeper_reconfig.md §7), also after the
 * remaining members restart. Today it does not: a restarted member's peer network knows only the
 * members of zoo.cfg (its dynamic file) and of the log's memberships, so it refuses the removed
 * member's connections ("server 3 is not a member of this ensemble"); at the next leader change
 * the removed member hears from too few voters to find the leader and stops serving (srvr Mode
 * "-"). Here: 3 leaves {1,2,3}; restarting 1 ends 2's epoch (2 voters, quorum 2), 2 leads again,
 * 3 never follows again. ZooKeeper's quorum and election ports accept a server outside the
 * configuration, which then follows as a non-voter. Opt-in until that is fixed
 * (CORRAL_REPRO_REMOVED_FOLLOWER=1), so the suite stays green meanwhile.
 */
const removedFollowerSkip = nodeOnly !== false ? nodeOnly : process.env.CORRAL_REPRO_REMOVED_FOLLOWER === "1" ? false : "known bug, opt-in: CORRAL_REPRO_REMOVED_FOLLOWER=1 (a removed member stops serving after a remaining member restarts)";

test("corral serve: a removed member keeps following after the remaining members restart", { timeout: 180_000, skip: removedFollowerSkip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-reconfig-removed-"));
  const ensemble = await ProcessEnsemble.create(dir, ["node", "node", "node"], {
    stepMs: STEP_MS / 2,
    extraLines: ["reconfigEnabled=true", `DigestAuthenticationProvider.superDigest=${digestOf(SUPER_AUTH)}`],
    serversOf: () => [1, 2, 3],
  });
  const byId = (id: number) => ensemble.members.find((member) => member.id === id)!;
  let step = "starting";
  try {
    await ensemble.startAll();
    step = "removing 3";
    const shrunk = await reconfigThrough(byId(1), { leaving: [3] }, (text) => sameIds(voters(text), [1, 2]));
    await everyConfigIs(ensemble, ensemble.running(), shrunk, "every member's config to be {1, 2}");
    await ensemble.waitForLeader("1 or 2 to lead and the removed 3 to follow");
    for (const id of [1, 2]) {
      step = `restarting ${id}`;
      const member = byId(id);
      await member.process!.stop();
      member.process = null;
      await ensemble.start(member);
      await ensemble.waitForLeader(`${id} back, one of 1 and 2 leading and the removed 3 following`);
    }
  } catch (error) {
    throw new Error(`${step}: ${error instanceof Error ? error.message : String(error)}\n${ensemble.output()}`, { cause: error });
  } finally {
    await ensemble.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Load {
  /** Waits (bounded) for PROGRESS more acknowledged creates. */
  progress(what: string): Promise<void>;
  /** Stops the writers and returns the acknowledged paths' names. */
  stop(): Promise<string[]>;
  summary(): string;
}

/** Each client creates /load/w-<seq> until stopped (bounded in count and time); records what was acknowledged. */
function startLoad(clients: Client[]): Load {
  const acked: string[] = [];
  const errors = new Map<string, number>();
  const deadline = Date.now() + LOAD_MS;
  let stopping = false;
  const loops = clients.map(async (client) => {
    for (let i = 0; i < MAX_CREATES && !stopping && Date.now() < deadline; i++) {
      try {
        const path = await client.create("/load/w-", "v", { mode: CreateMode.PERSISTENT_SEQUENTIAL });
        acked.push(path.slice("/load/".length));
      } catch (error) {
        // Unknown outcome (connection lost while a member died or left): not recorded, tried anew.
        const name = error instanceof KeeperError ? error.codeName : String(error);
        errors.set(name, (errors.get(name) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
  const all = Promise.all(loops);
  all.catch(() => {});
  const summary = () => `load: ${acked.length} acknowledged, errors ${JSON.stringify(Object.fromEntries(errors))}`;
  return {
    summary,
    async progress(what) {
      const from = acked.length;
      await waitFor(() => acked.length >= from + PROGRESS, { timeoutMs: STEP_MS, what: `${what} (${summary()})` });
    },
    async stop() {
      stopping = true;
      await bounded(all, STEP_MS, () => `the writers to finish (${summary()})`);
      return [...acked];
    },
  };
}

/**
 * Sends a reconfig through `member` as the super user. A lost reply (CONNECTIONLOSS) or a busy
 * ensemble (RECONFIGINPROGRESS) is an unknown outcome: the config is read back and the request sent
 * again unless `done(text)` says it is in force. Returns the config text in force.
 */
async function reconfigThrough(member: EnsembleMember, change: { joining?: string[]; leaving?: number[] }, done: (text: string) => boolean): Promise<string> {
  const client = await createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: STEP_MS, auth: [{ scheme: "digest", auth: SUPER_AUTH }] });
  try {
    return await waitFor(async () => {
      try {
        return new TextDecoder().decode((await client.reconfig(change)).data);
      } catch (error) {
        if (!(error instanceof KeeperError) || !["CONNECTIONLOSS", "RECONFIGINPROGRESS", "OPERATIONTIMEOUT"].includes(error.codeName)) throw Object.assign(error as Error, { fatal: true });
        await client.sync("/");
        const text = new TextDecoder().decode((await client.getConfig()).data);
        if (done(text)) return text;
        throw error;
      }
    }, { timeoutMs: STEP_MS, what: `reconfig ${JSON.stringify(change)} through member ${member.id}`, intervalMs: 500 });
  } finally {
    await client.close().catch(() => {});
  }
}

/** Waits until each of `members`, after a sync, answers getConfig with exactly `expected`. */
async function everyConfigIs(ensemble: ProcessEnsemble, members: readonly EnsembleMember[], expected: string, what: string): Promise<void> {
  const last = new Map<number, string>();
  try {
    await ensemble.waitFor(async () => {
      for (const member of members) last.set(member.id, await onMember(member, async (client) => {
        await client.sync("/");
        return new TextDecoder().decode((await client.getConfig()).data);
      }).catch((error) => `(${error instanceof Error ? error.message : String(error)})`));
      return [...last.values()].every((text) => text === expected);
    }, what);
  } catch (error) {
    const seen = [...last].map(([id, text]) => `member ${id}: ${JSON.stringify(text)}`).join("\n");
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nexpected ${JSON.stringify(expected)}; last seen:\n${seen}`);
  }
}

/** /load's children on `member`, after a sync, through a client pinned to it (a lost connection is retried, a few times). */
async function loadChildren(member: EnsembleMember): Promise<string[]> {
  return await waitFor(() =>
    onMember(member, async (client) => {
      await client.sync("/");
      return (await client.getChildren("/load")).sort();
    }), { timeoutMs: STEP_MS, what: `member ${member.id}'s /load children`, intervalMs: 500 });
}

async function onMember<T>(member: EnsembleMember, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await createClient(`127.0.0.1:${member.clientPort}`, { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: 10_000 });
  try {
    return await use(client);
  } finally {
    await client.close().catch(() => {});
  }
}

function assertHolds(id: number, children: readonly string[], acked: readonly string[]): void {
  const held = new Set(children);
  const lost = acked.filter((name) => !held.has(name));
  assert.deepEqual(lost, [], `member ${id} lost ${lost.length} of ${acked.length} acknowledged creates (it holds ${children.length})`);
  assert.ok(children.length >= acked.length, `member ${id} holds ${children.length} children, fewer than the ${acked.length} acknowledged`);
}

/** Ids of the participant server.N lines in a config text, ascending. */
/** mntr's zk_quorum_size on `member` (the voters of the membership it has in force). */
async function quorumSize(member: EnsembleMember): Promise<number> {
  const mntr = await fourLetterWord("127.0.0.1", member.clientPort, "mntr");
  return Number(/zk_quorum_size\s+(\d+)/.exec(mntr)?.[1] ?? NaN);
}

function voters(text: string): number[] {
  return idsOfLines(text.split("\n").filter((line) => /^server\.\d+=.*:participant(;|$)/.test(line)));
}

function idsOfLines(lines: readonly string[]): number[] {
  return lines.map((line) => Number(/^server\.(\d+)=/.exec(line)?.[1])).sort((a, b) => a - b);
}

function sameIds(ids: readonly number[], expected: readonly number[]): boolean {
  return ids.length === expected.length && ids.every((id, i) => id === [...expected].sort((a, b) => a - b)[i]);
}
