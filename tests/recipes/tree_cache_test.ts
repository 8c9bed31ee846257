/**
 * TreeCache against a real server: after seeded random changes from two other clients the cache
 * equals the tree; events arrive in a sensible order; maxDepth limits it; after a lost connection
 * (changes made while it was away) a resync brings it back in line.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Client, KeeperError } from "../../mod.ts";
import { TreeCache, type TreeCacheEvent } from "../../src/recipes/mod.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";
import { waitFor } from "../support/wait_for.ts";
import { startFaultProxy } from "./support/fault_proxy.ts";
import { readTree, withHarness } from "./support/harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function cacheContents(cache: TreeCache): Map<string, string> {
  return new Map(cache.nodes().map((node) => [node.path, text(node.data)]));
}

function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, data]) => b.get(path) === data);
}

/** One random create, setData or delete under `root`; conflicts with the other writer are expected. */
async function randomChange(client: Client, root: string, prng: Prng, known: string[]): Promise<void> {
  const roll = prng.next();
  const target = known.length === 0 ? root : known[prng.int(known.length)]!;
  try {
    if (roll < 0.5 || known.length === 0) {
      const parent = target.split("/").length > 5 ? root : target;
      const path = `${parent}/n${prng.int(4)}`;
      await client.create(path, `v${prng.int(1000)}`);
      known.push(path);
    } else if (roll < 0.8) {
      await client.setData(target, `v${prng.int(1000)}`);
    } else {
      await client.delete(target);
      known.splice(known.indexOf(target), 1);
    }
  } catch (error) {
    if (!["NODEEXISTS", "NONODE", "NOTEMPTY"].some((name) => KeeperError.is(error, name as "NONODE"))) {
      throw error;
    }
    if (KeeperError.is(error, "NONODE")) known.splice(known.indexOf(target), 1);
  }
}

describe("TreeCache", () => {
  test("matches the tree after seeded random changes from two writers", async () => {
    await withHarness(async (harness) => {
      const [reader, writerA, writerB] = await Promise.all([
        harness.connect(),
        harness.connect(),
        harness.connect(),
      ]);
      await writerA.create("/tree", "root");
      await writerA.create("/tree/pre", "existing");
      const cache = new TreeCache(reader, "/tree");
      const events: TreeCacheEvent[] = [];
      cache.on((event) => events.push(event));
      await cache.start();
      assert.deepEqual(events.map((event) => event.type), ["added", "added", "initialized"]);
      for (const seed of [1, 2, 3]) {
        const prng = createPrng(seed);
        const existing = [...(await readTree(writerA, "/tree")).keys()].filter((path) => path !== "/tree");
        const knownA = [...existing];
        const knownB = [...existing];
        await Promise.all([
          (async () => {
            for (let step = 0; step < 60; step++) await randomChange(writerA, "/tree", prng, knownA);
          })(),
          (async () => {
            for (let step = 0; step < 60; step++) await randomChange(writerB, "/tree", prng, knownB);
          })(),
        ]);
        const expected = await readTree(writerA, "/tree");
        await waitFor(() => sameTree(cacheContents(cache), expected), {
          timeoutMs: 5_000,
          what: `the cache to match the tree (seed ${seed}, ${expected.size} nodes)`,
        });
        for (const [path] of expected) {
          if (path === "/tree") continue;
          const parent = path.substring(0, path.lastIndexOf("/"));
          assert.ok(
            cache.children(parent).includes(path.substring(parent.length + 1)),
            `${path} listed under its parent`,
          );
        }
      }
      assert.equal(events.filter((event) => event.type === "error").length, 0);
      await cache.close();
    });
  });

  test("reports removals deepest first and follows a root that comes and goes", async () => {
    await withHarness(async (harness) => {
      const [reader, writer] = await Promise.all([harness.connect(), harness.connect()]);
      const cache = new TreeCache(reader, "/later");
      const events: string[] = [];
      cache.on((event) => events.push("path" in event ? `${event.type} ${event.path}` : event.type));
      await cache.start();
      assert.equal(cache.size, 0);
      await writer.create("/later", "");
      await writer.create("/later/a", "1");
      await writer.setData("/later/a", "2");
      await waitFor(() => text(cache.get("/later/a")?.data ?? new Uint8Array()) === "2", {
        timeoutMs: 5_000,
        what: "a=2",
      });
      await writer.delete("/later/a");
      await writer.delete("/later");
      await waitFor(() => cache.size === 0, { timeoutMs: 5_000, what: "an empty cache" });
      assert.deepEqual(events.filter((line) => line.startsWith("removed")), [
        "removed /later/a",
        "removed /later",
      ]);
      await cache.close();
    });
  });

  test("maxDepth limits the cache to the root and its children", async () => {
    await withHarness(async (harness) => {
      const [reader, writer] = await Promise.all([harness.connect(), harness.connect()]);
      await writer.create("/shallow", "");
      await writer.create("/shallow/a", "");
      await writer.create("/shallow/a/deep", "");
      const cache = new TreeCache(reader, "/shallow", { maxDepth: 1 });
      await cache.start();
      await writer.create("/shallow/b", "");
      await writer.create("/shallow/b/deep", "");
      await waitFor(() => cache.get("/shallow/b") !== undefined, { timeoutMs: 5_000, what: "/shallow/b" });
      await reader.sync("/");
      assert.deepEqual(cache.nodes().map((node) => node.path).sort(), [
        "/shallow",
        "/shallow/a",
        "/shallow/b",
      ]);
      await cache.close();
    });
  });

  test("after a lost connection it reads the tree again and reports what changed meanwhile", async () => {
    await withHarness(async (harness) => {
      const proxy = await startFaultProxy({ host: "127.0.0.1", port: harness.port });
      try {
        const reader = await harness.connect({ connectString: proxy.connectString });
        const writer = await harness.connect();
        await writer.create("/resync", "");
        await writer.create("/resync/stays", "old");
        await writer.create("/resync/goes", "");
        const cache = new TreeCache(reader, "/resync");
        const events: TreeCacheEvent[] = [];
        cache.on((event) => events.push(event));
        await cache.start();
        proxy.block(true);
        proxy.cutAll();
        await waitFor(() => reader.state === "disconnected", {
          timeoutMs: 5_000,
          what: "the reader to notice",
        });
        await writer.setData("/resync/stays", "new");
        await writer.delete("/resync/goes");
        await writer.create("/resync/arrives", "");
        proxy.block(false);
        await waitFor(() => events.some((event) => event.type === "resynced"), {
          timeoutMs: 10_000,
          what: "a resync",
        });
        assert.ok(sameTree(cacheContents(cache), await readTree(writer, "/resync")));
        assert.equal(reader.state, "connected");
        await cache.close();
      } finally {
        await proxy.close();
      }
    });
  });
});
