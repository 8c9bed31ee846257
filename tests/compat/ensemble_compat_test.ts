/**
 * The compat judges against a 3-member Corral ensemble of `corral serve zoo.cfg` processes (connect
 * string listing every member): each judge's observations from the ensemble must equal its
 * observations from a standalone Corral, which kazoo_test.ts and node_zookeeper_client_test.ts hold
 * to Apache ZooKeeper's behaviour. kazoo runs its whole script (kazoo_script.py); the
 * node-zookeeper-client part runs the judge's core scenarios through its NzcSession.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertCompat, kazooPython, skipUnlessCompat } from "../support/compat_availability.ts";
import { ProcessEnsemble } from "../support/ensemble_processes.ts";
import { repoRoot, runtime } from "../support/runtime.ts";
import { CreateMode, errorName, type NzcEvent, NzcSession, statView } from "./node_zookeeper_client_session.ts";
import { type CompatServer, corralTarget } from "./targets.ts";

/** Explicit because Bun otherwise stops a test after 5 s. */
const testTimeoutMs = 150_000;
const scriptTimeoutMs = 90_000;

interface Servers {
  ensemble: ProcessEnsemble;
  standalone: CompatServer;
  dir: string;
}

describe("compat judges against a 3-member Corral ensemble", { skip: corralTarget.skip() }, () => {
  let servers: Servers | null = null;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-ensemble-compat-"));
    const ensemble = await ProcessEnsemble.create(dir, [runtime(), runtime(), runtime()], { extraArgs: ["--log-level", "warn"] });
    servers = { ensemble, standalone: await corralTarget.start(), dir };
    await ensemble.startAll();
  }, { timeout: testTimeoutMs });

  after(async () => {
    if (servers === null) return;
    await Promise.all([servers.ensemble.stop(), servers.standalone.stop()]);
    rmSync(servers.dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  /** Runs `observe` against the standalone server and the ensemble; the two must agree. */
  async function sameAsStandalone(judge: string, observe: (connectString: string) => Promise<unknown>): Promise<void> {
    const { ensemble, standalone } = servers!;
    try {
      const expected = await observe(standalone.connectString);
      // A scenario that threw is recorded as {"unexpected": ...}; agreeing on that would prove nothing.
      assert.doesNotMatch(JSON.stringify(expected), /"unexpected"/, `${judge} hit an unexpected error against the standalone Corral`);
      const observed = await observe(ensemble.connectString());
      assert.deepEqual(observed, expected, `${judge} observed something else from the ensemble than from a standalone Corral (ensemble first)`);
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- standalone ---\n${standalone.logTail().slice(-3000)}\n${ensemble.output()}`;
      throw error;
    }
  }

  test("kazoo sees the same behaviour as from a standalone Corral", { skip: skipUnlessCompat(["kazoo"]), timeout: testTimeoutMs }, async () => {
    assertCompat(["kazoo"]);
    await sameAsStandalone("kazoo", (connectString) => runKazooScript(connectString, "/kazoo"));
  });

  test("node-zookeeper-client sees the same behaviour as from a standalone Corral", { timeout: testTimeoutMs }, async () => {
    await sameAsStandalone("node-zookeeper-client", observeNzc);
  });
});

function runKazooScript(connectString: string, root: string): Promise<unknown> {
  const script = join(repoRoot(), "tests", "compat", "kazoo_script.py");
  return new Promise((resolve, reject) => {
    execFile(kazooPython(), [script, connectString, root], { timeout: scriptTimeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`kazoo_script.py failed against ${connectString} (${error.message}).\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop() ?? ""));
      } catch {
        reject(new Error(`kazoo_script.py printed no JSON line.\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
      }
    });
  });
}

// Buffers, not Uint8Arrays: the library checks Buffer.isBuffer.
const text = (value: string): Uint8Array => Buffer.from(value);
const decode = (value: Uint8Array | null) => (value === null ? null : new TextDecoder().decode(value));

/** The core of node_zookeeper_client_test.ts's scenarios, observed through one connect string. */
async function observeNzc(connectString: string): Promise<unknown> {
  const root = "/nzc-ensemble";
  const client = await NzcSession.connect(connectString);
  try {
    await client.create(root);
    const base = `${root}/basic`;
    await client.create(base);
    const created = await client.create(`${base}/a`, { data: text("hello") });
    const got = await client.getData(`${base}/a`);
    const basic = {
      created: created.slice(root.length),
      get: { data: decode(got.data), stat: statView(got.stat) },
      set: statView(await client.setData(`${base}/a`, text("world"), 0)),
      setStaleVersion: await errorName(client.setData(`${base}/a`, text("x"), 0)),
      createExisting: await errorName(client.create(`${base}/a`)),
      deleteNotEmpty: await errorName(client.remove(base)),
      delete: await errorName(client.remove(`${base}/a`, 1)),
      existsAfterDelete: await client.exists(`${base}/a`),
    };

    const watched = `${root}/watches`;
    const events: string[][] = [];
    const watcher = (label: string) => (event: NzcEvent) => events.push([label, event.getName(), event.getPath().slice(root.length)]);
    await client.create(watched, { data: text("0") });
    await client.getData(watched, watcher("data"));
    await client.getChildren(watched, watcher("child"));
    await client.exists(`${watched}/new`, watcher("exists"));
    await client.setData(watched, text("1"));
    await client.create(`${watched}/new`);
    await client.exists(`${watched}/fence`, watcher("fence"));
    await client.create(`${watched}/fence`);
    await waitForEvents(events, 4);
    assert.deepEqual(events.map(([label]) => label).sort(), ["child", "data", "exists", "fence"], `watch events: ${JSON.stringify(events)}`);

    const ephemerals = `${root}/ephemerals`;
    await client.create(ephemerals);
    const owner = await NzcSession.connect(connectString);
    await owner.create(`${ephemerals}/eph`, { mode: CreateMode.EPHEMERAL });
    const ephemeralSequential = (await owner.create(`${ephemerals}/seq-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL })).slice(root.length);
    await owner.close();
    const afterClose = (await client.getChildren(ephemerals)).children;

    const sequentials = `${root}/sequentials`;
    await client.create(sequentials);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push((await client.create(`${sequentials}/n-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL })).slice(root.length));
    const parent = statView((await client.getData(sequentials)).stat);

    const committed = await client.commit((t) => t.create(`${root}/tx`, text("x")).check(`${root}/tx`, 0).setData(`${root}/tx`, text("y"), 0));
    const failed = await client.commit((t) => t.create(`${root}/tx2`).check(`${root}/tx`, 99));
    const transaction = {
      committed: { error: committed.error, results: committed.results.map((result) => result.type) },
      failed: { error: failed.error, results: failed.results.map((result) => [result.type, result.err]) },
      failedIsAtomic: (await client.exists(`${root}/tx2`)) === null,
    };
    return { basic, events, ephemeralSequential, afterClose, names, parent, transaction };
  } finally {
    await client.close().catch(() => {});
  }
}

async function waitForEvents(events: string[][], count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (events.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(events.length >= count, `only ${events.length} of ${count} watch events arrived: ${JSON.stringify(events)}`);
}
