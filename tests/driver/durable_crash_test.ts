/**
 * Durability end to end: a server with a write-ahead log on a simulated disk, clients pipelining
 * writes over a simulated network, and a power loss at a random moment. Whatever a client was told
 * succeeded must be there after recovery; per client, what survives is a prefix of what it sent (no
 * gap, no reordering); unacknowledged writes may or may not survive.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Client, createClient } from "../../src/client/mod.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { serveDurable } from "../../src/driver/durable_server.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";

const CLIENTS = 3;
const WRITES_PER_CLIENT = 120;
const SEEDS = Number(process.env.CORRAL_CRASH_SEEDS ?? 150);

async function startServer(network: MemoryNetwork, fs: MemoryFileSystem) {
  return await serveDurable({
    transport: network.transport("server"),
    host: "server",
    port: 2181,
    fs,
    dataDir: "/data",
    // Small snapshot threshold so crashes also land during and after snapshots.
    config: defaultServerConfig({ sessionIdSeedMs: 1_000_000, snapshotTxnCount: 40 }),
    sessionlessTimeoutMs: 60_000,
  });
}

/** One client's writes: creates of /w/<client>-<i>, issued in order, pipelined in windows. */
async function writeLoad(client: Client, name: string, acknowledged: number[], stop: { now: boolean }) {
  const window: Promise<void>[] = [];
  for (let i = 0; i < WRITES_PER_CLIENT && !stop.now; i++) {
    window.push(client.create(`/w/${name}-${String(i).padStart(4, "0")}`, `${i}`).then(() => {
      acknowledged.push(i);
    }, () => {}));
    if (window.length >= 8) await window.shift();
  }
  await Promise.all(window);
}

test("after a power loss at a random moment, every acknowledged write is recovered, as a per-client prefix", async () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const prng = createPrng(seed);
    const network = new MemoryNetwork();
    const fs = new MemoryFileSystem({ seed, tearLastWrite: true });
    const first = await startServer(network, fs);
    const setup = await createClient("server:2181", { transport: network.transport("setup") });
    await setup.create("/w", "");
    await setup.close();

    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => createClient("server:2181", { transport: network.transport(`c${i}`), sessionTimeoutMs: 30_000 })),
    );
    const acknowledged = clients.map(() => [] as number[]);
    const stop = { now: false };
    const crashAfter = 1 + prng.int(CLIENTS * WRITES_PER_CLIENT - 1);
    const loads = clients.map((client, i) => writeLoad(client, `c${i}`, acknowledged[i]!, stop));
    // Power loss once `crashAfter` writes were acknowledged (or the load ends first).
    for (let spins = 0; spins < 100_000; spins++) {
      const total = acknowledged.reduce((sum, list) => sum + list.length, 0);
      if (total >= crashAfter || stop.now) break;
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (spins > 0 && acknowledged.every((list) => list.length === WRITES_PER_CLIENT)) break;
    }
    fs.crash();
    const snapshotOfAcks = acknowledged.map((list) => [...list]);
    stop.now = true;
    await first.close().catch(() => {});
    await Promise.allSettled(clients.map((client) => client.close()));
    await Promise.allSettled(loads);

    const second = await startServer(new MemoryNetwork(), fs);
    try {
      const children = new Set(second.server.tree.get("/w") ? [...second.server.tree.get("/w")!.children] : []);
      for (let c = 0; c < CLIENTS; c++) {
        const survived = [...children].filter((name) => name.startsWith(`c${c}-`)).map((name) => Number(name.slice(name.indexOf("-") + 1))).sort((a, b) => a - b);
        survived.forEach((value, index) => assert.equal(value, index, `seed ${seed}: client c${c}'s surviving writes are not a prefix: ${survived.join(",")}`));
        for (const acked of snapshotOfAcks[c]!) {
          assert.ok(acked < survived.length, `seed ${seed}: client c${c}'s acknowledged write ${acked} was lost (survived ${survived.length}, crash after ${crashAfter} acks)`);
        }
      }
    } finally {
      await second.close();
    }
  }
});
