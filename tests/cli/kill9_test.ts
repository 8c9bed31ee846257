/**
 * The real-process crash test: `corral serve --data-dir` under a pipelined write load from several
 * clients is killed with SIGKILL at a random moment, restarted on the same dataDir, and must hold
 * every acknowledged write; per client, what survives is a prefix of what it sent (no gap, no
 * reordering). Several rounds per runtime, each loading on top of the previous recovery, so a
 * recovered store (and its snapshots, taken every SNAP_COUNT txns) is recovered again.
 *
 * The server runs under Node, Deno and Bun whichever runtime runs this file. The kill schedule is
 * seeded and printed (CORRAL_KILL9_SEED=<n> repeats it; the exact kill point still depends on timing).
 * tests/driver/durable_crash_test.ts checks the same property in-process on a simulated disk.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Client, createClient } from "../../src/client/mod.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";
import { type CorralProcess, runtimeCommand, startCorralProcess } from "../support/corral_process.ts";
import type { RuntimeName } from "../support/runtime.ts";
import { checkRecovered, ClientHistory, type Write } from "./support/kill9_history.ts";
import { createLayout, type LoadControl, readRecovered, runLoad } from "./support/kill9_load.ts";

const RUNTIMES: readonly RuntimeName[] = ["node", "deno", "bun"];
const ROUNDS = Number(process.env.CORRAL_KILL9_ROUNDS ?? 3);
const CLIENTS = 4;
/** The load runs this long (uniformly drawn, ms) before the kill. */
const LOAD_MS_MIN = 100;
const LOAD_MS_MAX = 600;
/** Small, so snapshots are taken (and crashed into) during the load. */
const SNAP_COUNT = 200;
const WRITES_PER_CLIENT_PER_ROUND_MAX = 20_000;
/** Bounds on each step, far above what they take, so a hang fails with a message instead of stalling. */
const STEP_TIMEOUT_MS = 20_000;
const SEED = process.env.CORRAL_KILL9_SEED === undefined ? Date.now() % 2 ** 32 : Number(process.env.CORRAL_KILL9_SEED);

console.log(`kill9: seed ${SEED} (set CORRAL_KILL9_SEED=${SEED} to repeat this kill schedule)`);

describe("the kill -9 history check", () => {
  const write = (seq: number, kind: "create" | "set", acknowledged = false): Write => ({ seq, kind, acknowledged, dead: false });
  const sent = [write(0, "create", true), write(1, "set", true), write(2, "create"), write(3, "set"), write(4, "create")];

  test("accepts any prefix that holds the acknowledged writes", () => {
    assert.deepEqual(checkRecovered("c0", sent, { creates: new Set([0]), counter: 1 }), { prefixLength: 2, problems: [] });
    assert.deepEqual(checkRecovered("c0", sent, { creates: new Set([0, 2, 4]), counter: 3 }), { prefixLength: 5, problems: [] });
  });

  test("reports a lost acknowledged write, a gap, a reordering and a resurrection", () => {
    assert.match(checkRecovered("c0", sent, { creates: new Set([0]), counter: -1 }).problems.join("\n"), /acknowledged setData 1 was lost/);
    assert.match(checkRecovered("c0", sent, { creates: new Set([0, 4]), counter: 3 }).problems.join("\n"), /gap: create 2 is missing/);
    assert.match(checkRecovered("c0", sent, { creates: new Set([0, 2, 4]), counter: 1 }).problems.join("\n"), /reordering: counter holds 1/);
    const history = new ClientHistory("c1");
    for (const kind of ["create", "create", "set"] as const) history.next(kind);
    assert.deepEqual(history.checkAndAdvance({ creates: new Set([0]), counter: -1 }).problems, []);
    assert.match(history.checkAndAdvance({ creates: new Set([0, 1]), counter: -1 }).problems.join("\n"), /create 1 was lost in an earlier crash but is back/);
  });
});

for (const [index, which] of RUNTIMES.entries()) {
  describe(`corral serve under ${which}, killed with SIGKILL`, () => {
    test(
      `keeps every acknowledged write, as a per-client prefix, over ${ROUNDS} kill/restart rounds`,
      { skip: runtimeUnavailable(which), timeout: 120_000 },
      async () => {
        await killRestartRounds(which, createPrng(SEED + index));
      },
    );
  });
}

/** A reason to skip when the runtime's binary cannot be found, else false. */
function runtimeUnavailable(which: RuntimeName): string | false {
  try {
    runtimeCommand(which);
    return false;
  } catch (error) {
    return `${which} is not available to run corral serve: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function killRestartRounds(which: RuntimeName, prng: Prng): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `corral-kill9-${which}-`));
  const config = join(dir, "zoo.cfg");
  // Flags give port, host and dataDir; zoo.cfg only what has no flag.
  writeFileSync(config, `snapCount=${SNAP_COUNT}\nautopurge.snapRetainCount=3\n`);
  const start = () => startCorralProcess({ runtime: which, args: ["--data-dir", join(dir, "data"), config], startTimeoutMs: STEP_TIMEOUT_MS });
  const names = Array.from({ length: CLIENTS }, (_, i) => `c${i}`);
  const histories = names.map((name) => new ClientHistory(name));
  let server: CorralProcess | null = null;
  try {
    server = await start();
    const setup = await connect(server);
    await createLayout(setup, names);
    await closeBounded([setup]);
    for (let round = 1; round <= ROUNDS; round++) {
      server = await loadAndKill(server, histories, prng, round);
      const killed = server;
      const files = readdirSync(join(dir, "data"), { recursive: true }).map(String);
      const startedAt = Date.now();
      server = await start();
      const restartMs = Date.now() - startedAt;
      const kept = await verify(server, histories, `${which} round ${round}`);
      console.log(roundReport({ label: `${which} round ${round}`, killed, restarted: server, files, restartMs }));
      console.log(
        `kill9: ${which} round ${round}: per client sent/acknowledged/kept so far: ${
          histories.map((history, i) => `${history.name} ${history.sent}/${history.acknowledged}/${kept[i]}`).join(", ")
        }`,
      );
    }
    await server.stop();
  } catch (error) {
    const output = server === null ? "" : `\n--- last server's output (tail) ---\n${server.output().slice(-4000)}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}${output}`, { cause: error });
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What storage did in a round: snapshots before the kill, files left, and what recovery had to repair. */
function roundReport(round: { label: string; killed: CorralProcess; restarted: CorralProcess; files: string[]; restartMs: number }): string {
  const snapshots = round.killed.output().match(/snapshot \S+: \d+ znodes/g)?.length ?? 0;
  const count = (pattern: RegExp) => round.files.filter((name) => pattern.test(name)).length;
  const repairs = round.restarted.output().split("\n").filter((line) => / WARN /.test(line)).map((line) => line.replace(/^\S+ WARN /, ""));
  return `kill9: ${round.label}: ${snapshots} snapshot(s) finished before the kill; dataDir had ${count(/^snapshot\.[0-9a-f]{16}$/)} snapshot(s), ${
    count(/^log\.[0-9a-f]{16}$/)
  } log segment(s), ${count(/\.tmp$/)} temporary file(s); restart took ${round.restartMs} ms${
    repairs.length > 0 ? ` and said: ${repairs.join(" | ")}` : ""
  }`;
}

/** One round: clients pipeline writes, the server is killed after a random time; returns the dead server once all settled. */
async function loadAndKill(server: CorralProcess, histories: readonly ClientHistory[], prng: Prng, round: number): Promise<CorralProcess> {
  const clients = await Promise.all(histories.map(() => connect(server)));
  const control: LoadControl = { stop: false, killed: false, unexpected: [] };
  const window = 1 + prng.int(32);
  const loads = clients.map((client, i) =>
    runLoad(client, histories[i]!, createPrng(prng.int(2 ** 32)), { window, setEvery: 4, writesMax: WRITES_PER_CLIENT_PER_ROUND_MAX }, control)
  );
  const loadMs = LOAD_MS_MIN + prng.int(LOAD_MS_MAX - LOAD_MS_MIN + 1);
  // The crash moment itself is what is randomized here, not a wait for something to settle.
  await new Promise((resolve) => setTimeout(resolve, loadMs));
  control.killed = true; // before the signal, so the failures it causes are classified as expected
  control.stop = true;
  process.kill(server.pid, "SIGKILL");
  await server.stop(); // reaps the killed process (SIGTERM to a dead pid is harmless)
  // Old clients are closed before the next server starts, so none can reach it with a stale write.
  await closeBounded(clients);
  await bounded(Promise.all(loads), "the load's writes to settle after the kill");
  assert.deepEqual(control.unexpected.slice(0, 20), [], `round ${round}: writes failed in ways a kill does not explain`);
  console.log(`kill9: ${server.runtime} round ${round}: killed pid ${server.pid} after ${loadMs} ms of load (window ${window})`);
  return server;
}

/** Reads the recovered store and checks every client's history against it; returns each client's kept count. */
async function verify(server: CorralProcess, histories: readonly ClientHistory[], label: string): Promise<number[]> {
  const reader = await connect(server);
  try {
    const states = await bounded(readRecovered(reader, histories.map((history) => history.name)), "reading the recovered store");
    const results = histories.map((history) => history.checkAndAdvance(states.get(history.name)!));
    const problems = results.flatMap((result) => result.problems);
    assert.deepEqual(problems.slice(0, 20), [], `${label}: the recovered store breaks durability (${problems.length} problems)`);
    return results.map((result) => result.prefixLength);
  } finally {
    await closeBounded([reader]);
  }
}

async function connect(server: CorralProcess): Promise<Client> {
  return await createClient(server.connectString, { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: STEP_TIMEOUT_MS });
}

async function closeBounded(clients: readonly Client[]): Promise<void> {
  await bounded(Promise.allSettled(clients.map((client) => client.close())), "clients to close");
}

async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms waiting for ${what}`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
