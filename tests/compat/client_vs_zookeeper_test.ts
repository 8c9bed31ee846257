/**
 * Corral's own client (src/client) against Apache ZooKeeper 3.8 and against Corral, with the same
 * assertions (tests/compat/support/client_scenarios/, written from ZooKeeper's behaviour): every
 * operation and its error codes, multi, ACLs and auth, one-shot, persistent and recursive watches and
 * their removal, sync, close, expiry, connection loss with setWatches, chroot.
 *
 * One ZooKeeper and one Corral for the whole file (each start costs seconds), both with
 * extendedTypesEnabled=true so TTL nodes can be created; each scenario works under its own root
 * node. Each server sits behind a fault proxy too, for the scenarios that cut connections.
 *
 * ZooKeeper's half skips without Java or Debian's zookeeper package, and fails instead when
 * CORRAL_REQUIRE_COMPAT=1 (CI). A scenario where the two differ carries a skip naming the difference
 * (ClientScenario.knownDifference), for the target that differs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createClient } from "../../src/client/mod.ts";
import { assertCompat, type CompatNeed, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { startFaultProxy } from "../recipes/support/fault_proxy.ts";
import { corralTarget } from "./targets.ts";
import {
  CLIENT_SCENARIOS,
  type ScenarioServer,
  type ScenarioTargetName,
} from "./support/client_scenarios/mod.ts";

/** Per scenario, the first one including its server's start (a JVM on a busy 2-core machine). */
const testTimeoutMs = 120_000;

interface StartedTarget {
  server: ScenarioServer;
  logTail(): string;
  stop(): Promise<void>;
}

interface TargetSpec {
  name: ScenarioTargetName;
  needs: readonly CompatNeed[];
  skip(): string | false;
  start(): Promise<
    { host: string; port: number; connectString: string; logTail(): string; stop(): Promise<void> }
  >;
}

const SPECS: readonly TargetSpec[] = [
  {
    name: "zookeeper",
    needs: ["java", "zookeeper"],
    skip: () => skipUnlessCompat(["java", "zookeeper"]),
    async start() {
      const server = await startRealZooKeeper({
        jvmProperties: {
          "zookeeper.extendedTypesEnabled": "true",
          // Keep the container/TTL reaper out of the way: the scenarios assert which nodes exist.
          "znode.container.checkIntervalMs": "3600000",
        },
      });
      return { ...server, logTail: () => server.logTail() };
    },
  },
  {
    name: "corral",
    needs: [],
    skip: () => corralTarget.skip(),
    async start() {
      const dir = mkdtempSync(join(tmpdir(), "corral-client-compat-"));
      const config = join(dir, "zoo.cfg");
      // The same knobs as the ZooKeeper above (tickTime 2000, TTL nodes allowed), data in memory.
      writeFileSync(config, "tickTime=2000\nextendedTypesEnabled=true\n");
      try {
        const server = await startCorralProcess({ args: [config, "--4lw", "*", "--log-level", "warn"] });
        return {
          ...server,
          logTail: () => server.output(),
          stop: async () => {
            await server.stop();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    },
  },
];

async function startTarget(spec: TargetSpec): Promise<StartedTarget> {
  const started = await spec.start();
  try {
    const proxy = await startFaultProxy({ host: started.host, port: started.port });
    return {
      server: {
        name: spec.name,
        host: started.host,
        port: started.port,
        connectString: started.connectString,
        proxy,
      },
      logTail: () => started.logTail(),
      stop: async () => {
        await proxy.close();
        await started.stop();
      },
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** Creates the scenario's own (empty) root node. */
async function createRoot(connectString: string, root: string): Promise<void> {
  const client = await createClient(connectString, { sessionTimeoutMs: 20_000 });
  try {
    await client.create(root, "");
  } finally {
    await client.close();
  }
}

for (const spec of SPECS) {
  describe(`Corral's client against ${spec.name}`, () => {
    // Started by the first scenario that runs (so a skipped target starts nothing), stopped after all.
    let starting: Promise<StartedTarget> | null = null;
    const target = () => (starting ??= startTarget(spec));
    after(async () => {
      if (starting === null) return;
      const started = await starting.catch(() => null);
      await started?.stop();
    });

    CLIENT_SCENARIOS.forEach((scenario, index) => {
      const skip = spec.skip() || scenario.knownDifference?.[spec.name] || false;
      test(scenario.name, { skip, timeout: testTimeoutMs }, async () => {
        assertCompat(spec.needs);
        const started = await target();
        const root = `/scenario-${index}`;
        await createRoot(started.server.connectString, root);
        try {
          await scenario.run(started.server, root);
        } catch (error) {
          const detail = error instanceof Error ? error.stack ?? error.message : String(error);
          throw new Error(
            `${spec.name}: scenario "${scenario.name}" failed: ${detail}\n--- server log tail ---\n${
              started.logTail().slice(-2000)
            }`,
            { cause: error },
          );
        }
      });
    });
  });
}
