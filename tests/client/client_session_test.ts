/**
 * Sessions against real servers: reconnecting across a server restart with the same session
 * (ephemerals and watches kept; Apache ZooKeeper only, which can restart on the same port and data),
 * and, against every target, expiry when the session is killed, AUTHFAILED, and resuming a session
 * that no longer exists.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createClient,
  CreateMode,
  KeeperError,
  type SessionState,
  type WatchEvent,
} from "../../src/client/mod.ts";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { freePort } from "../support/free_port.ts";
import { waitFor } from "../support/wait_for.ts";
import { killSession } from "./support/kill_session.ts";
import { startRestartableZooKeeper } from "./support/restartable_zookeeper.ts";
import { startSilentServer } from "./support/silent_server.ts";
import { type CompatServer, TARGETS, targetSkip } from "../compat/targets.ts";

const testTimeoutMs = 90_000;
const skip = skipUnlessCompat(["java", "zookeeper"]);

test("the session survives a server restart: same id, ephemerals and watches kept", {
  skip,
  timeout: testTimeoutMs,
}, async () => {
  assertCompat(["java", "zookeeper"]);
  const server = await startRestartableZooKeeper();
  try {
    const client = await createClient(server.connectString, {
      sessionTimeoutMs: 20_000,
      reconnectDelayMs: 200,
    });
    const states: SessionState[] = [];
    client.on("state", (state) => states.push(state));
    const dataEvents: WatchEvent[] = [];
    const treeEvents: WatchEvent[] = [];
    try {
      const sessionId = client.sessionId;
      await client.create("/eph", "", { mode: CreateMode.EPHEMERAL });
      await client.create("/w", "0");
      await client.create("/tree", "");
      await client.getData("/w", { watch: (e) => dataEvents.push(e) });
      await client.addWatch("/tree", "persistentRecursive", (e) => treeEvents.push(e));

      await server.stop();
      await waitFor(() => client.state === "disconnected", {
        timeoutMs: 15_000,
        what: "the client to notice the stop",
      });
      await server.start();
      await waitFor(() => client.state === "connected", {
        timeoutMs: 45_000, // a JVM restarting on a loaded 2-core machine can take this long
        what: "the client to reconnect",
      });

      assert.equal(client.sessionId, sessionId);
      assert.deepEqual(states.slice(0, 2), ["disconnected", "connected"]);
      assert.ok((await client.exists("/eph")) !== null, "the ephemeral survived");
      const writer = await createClient(server.connectString);
      try {
        await writer.setData("/w", "1");
        await writer.create("/tree/x", "");
        await waitFor(() => dataEvents.some((e) => e.type === "NodeDataChanged"), {
          timeoutMs: 5000,
          what: "the re-registered data watch",
        });
        await waitFor(() => treeEvents.some((e) => e.type === "NodeCreated"), {
          timeoutMs: 5000,
          what: "the re-registered recursive watch",
        });
        assert.deepEqual(dataEvents.map((e) => e.type === "None" ? e.state : e.type), [
          "Disconnected",
          "SyncConnected",
          "NodeDataChanged",
        ]);
        assert.deepEqual(treeEvents.filter((e) => e.type !== "None").map((e) => [e.type, e.path]), [[
          "NodeCreated",
          "/tree/x",
        ]]);
      } finally {
        await writer.close();
      }
    } finally {
      await client.close();
    }
  } finally {
    await server.destroy();
  }
});

async function killedSessionExpires(server: CompatServer): Promise<void> {
  // After losing its connection the victim tries a host that never answers first, so the killer's
  // closeSession lands before the victim is back (otherwise its reconnect could win the race).
  const silent = await startSilentServer();
  try {
    const victim = await createClient(`${server.connectString},127.0.0.1:${silent.port}`, {
      sessionTimeoutMs: 10_000,
      connectTimeoutMs: 1000,
      random: () => 0,
    });
    const observer = await createClient(server.connectString);
    try {
      await victim.create("/victim", "", { mode: CreateMode.EPHEMERAL });
      const events: WatchEvent[] = [];
      await victim.exists("/victim", { watch: (e) => events.push(e) });
      const gone: WatchEvent[] = [];
      await observer.exists("/victim", { watch: (e) => gone.push(e) });

      await killSession("127.0.0.1", server.port, victim.sessionId, victim.sessionPassword);
      await waitFor(() => victim.state === "expired", {
        timeoutMs: 15_000,
        what: "the victim to see its session expire",
      });

      assert.deepEqual(events.map((e) => e.type === "None" ? e.state : e.type).slice(-1), ["Expired"]);
      await assert.rejects(victim.exists("/"), (e: unknown) => KeeperError.is(e, "SESSIONEXPIRED"));
      await waitFor(() => gone.length > 0, { timeoutMs: 5000, what: "the observer's NodeDeleted" });
      assert.deepEqual(gone.map((e) => e.type), ["NodeDeleted"]);
      assert.equal(await observer.exists("/victim"), null);
    } finally {
      await victim.close();
      await observer.close();
    }
  } finally {
    await silent.close();
  }
}

async function authFailureAndUnknownSession(server: CompatServer): Promise<void> {
  const client = await createClient(server.connectString);
  const events: WatchEvent[] = [];
  try {
    await client.exists("/", { watch: (e) => events.push(e) });
    await assert.rejects(
      client.addAuth("nosuchscheme", "x"),
      (e: unknown) => KeeperError.is(e, "AUTHFAILED"),
    );
    assert.equal(client.state, "authFailed");
    assert.deepEqual(events.map((e) => e.state), ["AuthFailed"]);
    await assert.rejects(client.exists("/"), (e: unknown) => KeeperError.is(e, "AUTHFAILED"));
  } finally {
    await client.close();
  }
  await assert.rejects(
    createClient(server.connectString, { sessionId: 0x1234n, password: new Uint8Array(16) }),
    (e: unknown) => KeeperError.is(e, "SESSIONEXPIRED"),
  );
  const nobody = await freePort();
  await assert.rejects(
    createClient(`127.0.0.1:${nobody}`, { initialConnectTimeoutMs: 1500, connectTimeoutMs: 500 }),
    (e: unknown) =>
      KeeperError.is(e, "CONNECTIONLOSS") && /not connected within 1500 ms/.test((e as Error).message),
  );
}

const sharedScenarios: Record<string, (server: CompatServer) => Promise<void>> = {
  "a killed session is reported as expired: requests fail with SESSIONEXPIRED, watches get Expired":
    killedSessionExpires,
  "auth failure ends the client; resuming an unknown session or reaching no server rejects":
    authFailureAndUnknownSession,
};

for (const target of TARGETS) {
  for (const [name, scenario] of Object.entries(sharedScenarios)) {
    test(
      `${name} against ${target.name}`,
      { skip: targetSkip(target, []), timeout: testTimeoutMs },
      async () => {
        assertCompat(target.needs);
        const server = await target.start();
        try {
          await scenario(server);
        } finally {
          await server.stop();
        }
      },
    );
  }
}
