/**
 * The servers compatibility tests run against. Every judge (kazoo, node-zookeeper-client, the
 * differential runner) loops over TARGETS, so the same expectations hold for Apache ZooKeeper and
 * for Corral.
 */
import { type CompatNeed, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { ProcessEnsemble } from "../support/ensemble_processes.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CompatServer {
  host: string;
  port: number;
  connectString: string;
  /** Recent server output, for failure messages. */
  logTail(): string;
  stop(): Promise<void>;
}

export interface CompatTargetStartOptions {
  /** Keep the container reaper away during the run (the differential test creates containers). */
  slowContainerReaper?: boolean;
}

export interface CompatTarget {
  name: "zookeeper" | "corral" | "a corral ensemble";
  /** Judges this target itself needs, beyond the ones the test needs. */
  needs: readonly CompatNeed[];
  /** A skip reason, or false when the target can run. */
  skip(): string | false;
  start(options?: CompatTargetStartOptions): Promise<CompatServer>;
}

export const zookeeperTarget: CompatTarget = {
  name: "zookeeper",
  needs: ["java", "zookeeper"],
  skip: () => skipUnlessCompat(["java", "zookeeper"]),
  async start(options = {}) {
    const server = await startRealZooKeeper({
      jvmProperties: options.slowContainerReaper ? { "znode.container.checkIntervalMs": "3600000" } : {},
    });
    return { ...server, logTail: () => server.logTail() };
  },
};

export const corralTarget: CompatTarget = {
  name: "corral",
  needs: [],
  skip() {
    // CORRAL_COMPAT_CORRAL=0 leaves Corral out, e.g. to check the judges against ZooKeeper alone.
    if (process.env.CORRAL_COMPAT_CORRAL === "0") return "CORRAL_COMPAT_CORRAL=0: Corral target disabled";
    return false;
  },
  async start(options = {}) {
    // TODO(lead): slow the container reaper (znode.container.checkIntervalMs) once `corral serve` has
    // a flag or zoo.cfg key for it; today's runs finish long before the default 60 s period.
    void options.slowContainerReaper;
    // Same knobs as the ZooKeeper target's zoo.cfg: every four-letter word allowed.
    const server = await startCorralProcess({ args: ["--4lw", "*", "--log-level", "warn"] });
    return { ...server, logTail: () => server.output() };
  },
};

export const TARGETS: readonly CompatTarget[] = [zookeeperTarget, corralTarget];

/**
 * Three `corral serve` members; the judges' clients all connect to one follower, which serves reads
 * itself and forwards writes to the leader.
 */
export const ensembleTarget: CompatTarget = {
  name: "a corral ensemble",
  needs: [],
  skip: () => corralTarget.skip(),
  async start() {
    const dir = mkdtempSync(join(tmpdir(), "corral-compat-ensemble-"));
    const ensemble = await ProcessEnsemble.create(dir, ["node", "node", "node"], { extraArgs: ["--log-level", "warn"] });
    let leader;
    try {
      leader = await ensemble.startAll();
    } catch (error) {
      await ensemble.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    // Every client of a judge talks to the same follower: reads there are consistent with the
    // writes of all those clients (as on one ZooKeeper server), while writes go through the leader.
    const follower = ensemble.members.find((member) => member.id !== leader.id)!;
    return {
      host: "127.0.0.1",
      port: follower.clientPort,
      connectString: ensemble.connectString([follower]),
      logTail: () => ensemble.output(),
      stop: async () => {
        await ensemble.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The targets of the real-client judges (kazoo, node-zookeeper-client): standalone and ensemble. */
export const CLIENT_JUDGE_TARGETS: readonly CompatTarget[] = [...TARGETS, ensembleTarget];

/** The combined skip reason for running `needs` against `target`, or false. */
export function targetSkip(target: CompatTarget, needs: readonly CompatNeed[]): string | false {
  return target.skip() || skipUnlessCompat(needs);
}
