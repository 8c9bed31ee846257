/**
 * Three ensemble members in one process, over real TCP on 127.0.0.1 (the runtime's own adapter) with
 * durable stores in temporary directories: election, writes through every member with our client,
 * the leader stopped → a new leader within seconds → the client fails over → every acknowledged
 * write on every member; the old leader restarts from its dataDir and catches up.
 */
import { describe, test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "../../src/client/mod.ts";
import type { Sid } from "../../src/core/peer_messages.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { treeDigest } from "../../src/core/tree_digest.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { type ReplicaHandle, type ReplicaMember, serveReplica } from "../../src/driver/replica_driver.ts";
import type { FileSystem } from "../../src/storage/file_system.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { NodeFileSystem } from "../../src/storage/node_file_system.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { createAcknowledged } from "../support/acknowledged_create.ts";
import { freePort } from "../support/free_port.ts";
import { waitFor } from "../support/wait_for.ts";

const TICK_MS = 100;
/** How long a new leader may take to serve after the old one stops. */
const FAILOVER_MS_MAX = 8000;
const STEP_MS = 20_000;

/** Where the members run: sockets and disks. */
interface World {
  transport(host: string): Transport;
  /** The host a member listens on (clients and peers). */
  host(id: Sid): string;
  quorumPort(id: Sid): Promise<number>;
  fs(id: Sid): FileSystem;
  dataDir(id: Sid): string;
  cleanup(): void;
}

async function tcpWorld(): Promise<World> {
  const transport = await defaultTransport();
  const dir = mkdtempSync(join(tmpdir(), "corral-replicas-"));
  const fs = new NodeFileSystem();
  return {
    transport: () => transport,
    host: () => "127.0.0.1",
    quorumPort: () => freePort(),
    fs: () => fs,
    dataDir: (id) => join(dir, `server${id}`),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A MemoryNetwork and one MemoryFileSystem per member (kept across its restarts). */
function memoryWorld(): World & { disks: Map<Sid, MemoryFileSystem> } {
  const network = new MemoryNetwork();
  const disks = new Map<Sid, MemoryFileSystem>();
  return {
    disks,
    transport: (host) => network.transport(host),
    host: (id) => `member${id}`,
    quorumPort: (id) => Promise.resolve(2888 + id),
    fs: (id) => {
      if (!disks.has(id)) disks.set(id, new MemoryFileSystem());
      return disks.get(id)!;
    },
    dataDir: () => "/data",
    cleanup: () => {},
  };
}

class Ensemble {
  readonly members: ReplicaMember[];
  readonly handles = new Map<Sid, ReplicaHandle>();
  readonly loggers = new Map<Sid, MemoryLogger>();
  readonly world: World;

  constructor(members: ReplicaMember[], world: World) {
    this.members = members;
    this.world = world;
  }

  static async create(voters: number, world?: World, observers = 0): Promise<Ensemble> {
    const where = world ?? await tcpWorld();
    const members: ReplicaMember[] = [];
    for (let id = 1; id <= voters + observers; id++) {
      members.push({ id, host: where.host(id), quorumPort: await where.quorumPort(id), observer: id > voters });
    }
    return new Ensemble(members, where);
  }

  async start(id: Sid): Promise<ReplicaHandle> {
    const logger = new MemoryLogger();
    const host = this.world.host(id);
    const handle = await serveReplica({
      transport: this.world.transport(host),
      host,
      port: 0,
      config: defaultServerConfig({ tickTimeMs: TICK_MS, sessionIdSeedMs: Date.now(), maxSessionTimeoutMs: 60_000, snapshotTxnCount: 50 }),
      myId: id,
      members: this.members,
      initLimitTicks: 20,
      syncLimitTicks: 10,
      store: { fs: this.world.fs(id), dataDir: this.world.dataDir(id) },
      peers: { heartbeatMs: 200, idleTimeoutMs: 5000, reconnectDelayMaxMs: 500 },
      logger,
    });
    this.handles.set(id, handle);
    this.loggers.set(id, logger);
    return handle;
  }

  async stop(id: Sid): Promise<void> {
    await this.handles.get(id)?.close();
    this.handles.delete(id);
  }

  /** The leader every running member follows, once all of them serve; null until then. */
  stableLeader(): Sid | null {
    const statuses = [...this.handles.values()].map((handle) => handle.status());
    const leader = statuses.find((status) => status.mode === "leader");
    if (leader === undefined) return null;
    return statuses.every((status) => status.serving && status.leader === leader.myId) ? leader.myId : null;
  }

  async waitForLeader(what: string): Promise<Sid> {
    return await waitFor(() => this.stableLeader(), { timeoutMs: STEP_MS, what: `${what} (${this.describe()})` });
  }

  connectString(ids: Sid[]): string {
    return ids.map((id) => `${this.world.host(id)}:${this.handles.get(id)!.port}`).join(",");
  }

  /** Every running member at the same zxid with the same tree. */
  converged(): boolean {
    const handles = [...this.handles.values()];
    const zxids = new Set(handles.map((handle) => handle.replica.server.tree.lastZxid));
    return zxids.size === 1 && new Set(handles.map((handle) => treeDigest(handle.replica.server.tree))).size === 1;
  }

  describe(): string {
    return [...this.handles.values()].map((handle) => {
      const status = handle.status();
      return `${status.myId}:${status.mode}/leader ${status.leader}/zxid 0x${status.lastZxid.toString(16)}`;
    }).join(", ");
  }

  logs(): string {
    return [...this.loggers].map(([id, logger]) => logger.lines.slice(-15).map((line) => `${id} ${line.level} ${line.message}`).join("\n")).join("\n");
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((id) => this.stop(id)));
    this.world.cleanup();
  }
}

/** Creates `path`, retrying on connection loss (NODEEXISTS on a retry means an earlier try was applied). */
describe("replica driver: a 3-member ensemble over TCP in one process", () => {
  test("elects, replicates writes made through every member, survives the leader stopping", { timeout: 90_000 }, async () => {
    const ensemble = await Ensemble.create(3);
    const clients: Client[] = [];
    const connect = async (ids: Sid[]) => {
      // A short session keeps close() short: closeSession through a follower goes unanswered (see
      // the KNOWN BUG test below), so close() waits for its read timeout (2/3 of the session timeout).
      const client = await createClient(ensemble.connectString(ids), { sessionTimeoutMs: 6000, initialConnectTimeoutMs: STEP_MS, reconnectDelayMs: 50 });
      clients.push(client);
      return client;
    };
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member.id)));
      const first = await ensemble.waitForLeader("a first leader");
      const followers = [1, 2, 3].filter((id) => id !== first);
      assert.match(ensemble.handles.get(first)!.fourLetterWord("srvr"), /Mode: leader/);
      assert.match(ensemble.handles.get(followers[0]!)!.fourLetterWord("srvr"), /Mode: follower/);
      assert.match(ensemble.handles.get(first)!.fourLetterWord("conf"), new RegExp(`serverId=${first}`));

      // Writes through each member, each client pinned to one.
      const acked: string[] = [];
      for (const id of [1, 2, 3]) {
        const client = await connect([id]);
        for (let i = 0; i < 10; i++) {
          const path = `/via${id}-${i}`;
          await client.create(path, `from ${id}`);
          acked.push(path);
        }
      }
      // A write through a follower is visible to a read on another follower after sync.
      const reader = await connect([followers[1]!]);
      await reader.sync("/");
      assert.equal(new TextDecoder().decode((await reader.getData(`/via${followers[0]}-9`)).data), `from ${followers[0]}`);

      // A client that knows every member keeps writing while the leader stops.
      const roaming = await connect(followers);
      const load = (async () => {
        for (let i = 0; i < 400; i++) {
          const path = `/roam-${i}`;
          if ((await createAcknowledged(roaming, path, STEP_MS)) === "acked") acked.push(path);
        }
      })();
      await waitFor(() => acked.some((path) => path.startsWith("/roam-")), { timeoutMs: STEP_MS, what: "the roaming load to start" });
      const stoppedAt = Date.now();
      await ensemble.stop(first);
      const second = await ensemble.waitForLeader("a new leader after the old one stopped");
      const failoverMs = Date.now() - stoppedAt;
      assert.notEqual(second, first);
      assert.ok(failoverMs < FAILOVER_MS_MAX, `a new leader served ${failoverMs} ms after the old one stopped`);
      await load;
      assert.ok(acked.filter((path) => path.startsWith("/roam-")).length >= 390, "the roaming client's writes were acknowledged");

      // The old leader comes back from its dataDir, as a follower, and catches up.
      await ensemble.start(first);
      await waitFor(() => ensemble.stableLeader() === second && ensemble.handles.get(first)!.status().mode === "follower", {
        timeoutMs: STEP_MS,
        what: `the old leader to follow (${ensemble.describe()})`,
      });
      await createAcknowledged(roaming, "/after-rejoin", STEP_MS);
      acked.push("/after-rejoin");
      await waitFor(() => {
        const zxids = new Set([...ensemble.handles.values()].map((handle) => handle.replica.server.tree.lastZxid));
        return zxids.size === 1;
      }, { timeoutMs: STEP_MS, what: `every member at the same zxid (${ensemble.describe()})` });
      const digests = new Set([...ensemble.handles.values()].map((handle) => treeDigest(handle.replica.server.tree)));
      assert.equal(digests.size, 1, "every member has the same tree");
      for (const handle of ensemble.handles.values()) {
        const missing = acked.filter((path) => handle.replica.server.tree.get(path) === undefined);
        assert.deepEqual(missing, [], `member ${handle.myId} lacks acknowledged writes`);
      }
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- member logs (tail) ---\n${ensemble.logs()}`, { cause: error });
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await ensemble.close();
    }
  });

  test("a client's closeSession through a follower is answered at once", { timeout: 60_000 }, async () => {
    const ensemble = await Ensemble.create(3);
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member.id)));
      const leader = await ensemble.waitForLeader("a leader");
      const follower = [1, 2, 3].find((id) => id !== leader)!;
      const client = await createClient(ensemble.connectString([follower]), { sessionTimeoutMs: 30_000, initialConnectTimeoutMs: STEP_MS });
      const startedAt = Date.now();
      await client.close();
      assert.ok(Date.now() - startedAt < 2000, `close() took ${Date.now() - startedAt} ms`);
    } finally {
      await ensemble.close();
    }
  });
});

describe("replica driver over a MemoryNetwork with memory disks", () => {
  test("an observer learns, serves reads and writes, and does not vote", { timeout: 60_000 }, async () => {
    const world = memoryWorld();
    const ensemble = await Ensemble.create(3, world, 1);
    let client: Client | null = null;
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member.id)));
      const leader = await ensemble.waitForLeader("a leader");
      assert.ok(leader <= 3, "the observer never leads");
      const observer = ensemble.handles.get(4)!;
      assert.equal(observer.status().mode, "observer");
      assert.match(observer.fourLetterWord("srvr"), /Mode: observer/);
      client = await createClient(ensemble.connectString([4]), { transport: world.transport("client"), sessionTimeoutMs: 4000, initialConnectTimeoutMs: STEP_MS });
      for (let i = 0; i < 20; i++) await client.create(`/o${i}`, "x");
      await waitFor(() => ensemble.converged(), { timeoutMs: STEP_MS, what: `convergence (${ensemble.describe()})` });
      // Stopping two voters leaves no quorum, even with the observer up: nobody serves.
      const voters = [1, 2, 3].filter((id) => id !== leader);
      await ensemble.stop(voters[0]!);
      await ensemble.stop(leader);
      await waitFor(() => [...ensemble.handles.values()].every((handle) => !handle.status().serving), { timeoutMs: STEP_MS, what: "no member to serve without a quorum of voters" });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- member logs (tail) ---\n${ensemble.logs()}`, { cause: error });
    } finally {
      await client?.close();
      await ensemble.close();
    }
  });

  test("a member whose disk fails stops itself and says why; the others go on; it rejoins from that disk", { timeout: 60_000 }, async () => {
    const world = memoryWorld();
    const ensemble = await Ensemble.create(3, world);
    let client: Client | null = null;
    try {
      await Promise.all(ensemble.members.map((member) => ensemble.start(member.id)));
      const leader = await ensemble.waitForLeader("a leader");
      const victim = [1, 2, 3].find((id) => id !== leader)!;
      client = await createClient(ensemble.connectString([leader]), { transport: world.transport("client"), sessionTimeoutMs: 4000, initialConnectTimeoutMs: STEP_MS });
      await client.create("/before", "x");
      const stopped = ensemble.handles.get(victim)!.stopped;
      world.disks.get(victim)!.failWhen((context) => context.op === "append" ? "ENOSPC" : undefined);
      await client.create("/during", "x");
      const error = await stopped;
      assert.match(String(error?.message), new RegExp(`server ${victim}: storage failed, stopping this member`));
      ensemble.handles.delete(victim);
      for (let i = 0; i < 10; i++) await client.create(`/after${i}`, "x");
      world.disks.get(victim)!.failWhen(null);
      await ensemble.start(victim);
      await waitFor(() => ensemble.stableLeader() === leader && ensemble.converged(), { timeoutMs: STEP_MS, what: `the member to rejoin and catch up (${ensemble.describe()})` });
      assert.ok(ensemble.handles.get(victim)!.replica.server.tree.get("/after9") !== undefined);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- member logs (tail) ---\n${ensemble.logs()}`, { cause: error });
    } finally {
      await client?.close();
      await ensemble.close();
    }
  });
});
