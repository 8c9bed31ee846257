/**
 * The 3-server ensembles the ZooKeeper comparison measures: three Apache ZooKeeper QuorumPeerMain
 * JVMs, or three `corral serve zoo.cfg` processes under one runtime. Each member is its own process
 * with its own zoo.cfg (made by memberZooCfg: same timing, same server.N lines), dataDir and myid
 * in one temporary directory, fsync on, everything on 127.0.0.1. A start resolves only once `srvr`
 * on every member shows one leader and the rest followers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath } from "../tests/support/compat_availability.ts";
import { type CorralProcess, startCorralProcess } from "../tests/support/corral_process.ts";
import { fourLetterWord } from "../tests/support/four_letter_word.ts";
import { log4jProperties, zooKeeperClasspath } from "../tests/support/real_zookeeper.ts";
import type { RuntimeName } from "../tests/support/runtime.ts";
import { type SpawnedProcess, spawnProcess } from "../tests/support/spawned_process.ts";
import { type BenchTarget, javaVersion, runtimeVersion } from "./vs_zookeeper_targets.ts";
import { ENSEMBLE_TIMING, memberZooCfg } from "./zookeeper_cfg.ts";
import { type EnsembleMemberLayout, layOutEnsemble, waitForEnsembleFormed } from "./zookeeper_ensemble.ts";

export const ENSEMBLE_SIZE = 3;
/** Per attempt: three JVMs (or three Deno type-checks) starting on two shared cores, then an election. */
const FORMATION_TIMEOUT_MS = 60_000;
/** A second attempt only helps when a port picked as free was taken meanwhile. */
const ATTEMPTS_MAX = 2;
const PORT_TAKEN = /BindException|Address already in use|EADDRINUSE/;

export async function startZooKeeperEnsembleTarget(): Promise<BenchTarget> {
  return await withRetry("Apache ZooKeeper ensemble", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-vszk-zk3-"));
    let members: EnsembleMemberLayout[] = [];
    const processes: SpawnedProcess[] = [];
    const stop = once(async () => {
      await Promise.allSettled(processes.map((child) => child.stop(5000)));
      rmSync(dir, { recursive: true, force: true });
    });
    try {
      members = await layOutEnsemble(dir, ENSEMBLE_SIZE);
      for (const member of members) processes.push(spawnZooKeeperMember(member, members));
      const failure = () => {
        const index = processes.findIndex((child) => child.exitStatus() !== null);
        if (index < 0) return null;
        return `member ${index + 1} exited:\n${processes[index]!.output().slice(-1000)}\n${
          logTail(members[index]!, 2000)
        }`;
      };
      const roles = await waitForEnsembleFormed({
        clientPorts: members.map((member) => member.clientPort),
        timeoutMs: FORMATION_TIMEOUT_MS,
        failure,
        diagnose: () => members.map((member) => `member ${member.id}: ${logProblems(member)}`).join("\n"),
        what: "the Apache ZooKeeper ensemble",
      });
      const srvr = await fourLetterWord("127.0.0.1", members[0]!.clientPort, "srvr", 5000).catch(() => "");
      const version = /Zookeeper version: ([\d.]+)/.exec(srvr)?.[1] ?? "3.8";
      return {
        kind: "zookeeper",
        label: `Apache ZooKeeper ${version} (${javaVersion()})`,
        pids: processes.map((child) => child.pid),
        servers: members.map((member) => `127.0.0.1:${member.clientPort}`),
        roles,
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  });
}

function spawnZooKeeperMember(
  member: EnsembleMemberLayout,
  members: readonly EnsembleMemberLayout[],
): SpawnedProcess {
  writeFileSync(
    member.configPath,
    memberZooCfg({
      flavour: "zookeeper",
      timing: ENSEMBLE_TIMING,
      members,
      dataDir: member.dataDir,
      clientPort: member.clientPort,
    }),
  );
  const log4jPath = join(member.dir, "log4j.properties");
  writeFileSync(log4jPath, log4jProperties(join(member.dir, "zookeeper.log")));
  const properties: Record<string, string> = {
    "log4j.configuration": `file:${log4jPath}`,
    "zookeeper.log.dir": member.dir,
    "zookeeper.admin.enableServer": "false",
    "zookeeper.jmx.log4j.disable": "true",
    "java.awt.headless": "true",
  };
  // No JVM flags: the JVM's own defaults (heap, GC, tiered JIT), as Debian's zkServer.sh starts it.
  const args = [
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
    "-cp",
    zooKeeperClasspath(),
    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
    member.configPath,
  ];
  return spawnProcess(findOnPath("java") ?? "java", args, { cwd: member.dir });
}

/** The end of a ZooKeeper member's log, for error messages. */
function logTail(member: EnsembleMemberLayout, chars: number): string {
  try {
    return readFileSync(join(member.dir, "zookeeper.log"), "utf8").slice(-chars);
  } catch {
    return "(no zookeeper.log)";
  }
}

/** The last warnings and errors of a member's log (a port taken shows as a BindException). */
function logProblems(member: EnsembleMemberLayout): string {
  const lines = logTail(member, 64 * 1024).split("\n").filter((line) =>
    /\b(WARN|ERROR)\b|Exception/.test(line)
  );
  return lines.length === 0 ? "no warnings logged" : lines.slice(-3).join("\n").slice(0, 1500);
}

export interface CorralEnsembleOptions {
  /** For Node only: each member writes a V8 CPU profile (--cpu-prof) into this directory when it stops. */
  cpuProfileDir?: string;
}

export async function startCorralEnsembleTarget(
  which: RuntimeName,
  options: CorralEnsembleOptions = {},
): Promise<BenchTarget> {
  const label = `Corral on ${runtimeVersion(which)}`;
  return await withRetry(`${label} ensemble`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `corral-vszk-${which}3-`));
    const started: CorralProcess[] = [];
    const stop = once(async () => {
      await Promise.allSettled(started.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    });
    try {
      const members = await layOutEnsemble(dir, ENSEMBLE_SIZE);
      // Node refuses --cpu-prof in NODE_OPTIONS, so it goes on the command line.
      const runtimeArgs = which === "node" && options.cpuProfileDir !== undefined
        ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
        : [];
      const starts = members.map((member) => startCorralMember({ which, member, members, runtimeArgs }));
      const outcomes = await Promise.allSettled(starts);
      for (const outcome of outcomes) if (outcome.status === "fulfilled") started.push(outcome.value);
      const failed = outcomes.find((outcome) => outcome.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      const roles = await waitForEnsembleFormed({
        clientPorts: members.map((member) => member.clientPort),
        timeoutMs: FORMATION_TIMEOUT_MS,
        failure: () => {
          const gone = started.findIndex((server) => !alive(server.pid));
          return gone < 0 ? null : `member ${gone + 1} exited:\n${started[gone]!.output().slice(-2000)}`;
        },
        what: `the ${label} ensemble`,
      });
      return {
        kind: which,
        label,
        pids: started.map((server) => server.pid),
        servers: members.map((member) => `127.0.0.1:${member.clientPort}`),
        roles,
        stop,
      };
    } catch (error) {
      await stop();
      throw error;
    }
  });
}

interface CorralMemberStart {
  which: RuntimeName;
  member: EnsembleMemberLayout;
  members: readonly EnsembleMemberLayout[];
  runtimeArgs: readonly string[];
}

function startCorralMember(
  { which, member, members, runtimeArgs }: CorralMemberStart,
): Promise<CorralProcess> {
  writeFileSync(
    member.configPath,
    memberZooCfg({
      flavour: "corral",
      timing: ENSEMBLE_TIMING,
      members,
      dataDir: member.dataDir,
      clientPort: member.clientPort,
    }),
  );
  // startCorralProcess puts `--port 0` first; this later --port wins.
  return startCorralProcess({
    runtime: which,
    runtimeArgs,
    args: [member.configPath, "--port", String(member.clientPort)],
    startTimeoutMs: FORMATION_TIMEOUT_MS,
  });
}

/** Runs `attempt` again, on new ports, only when it failed because a port was taken. */
async function withRetry(what: string, attempt: () => Promise<BenchTarget>): Promise<BenchTarget> {
  for (let n = 1;; n++) {
    try {
      return await attempt();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (n >= ATTEMPTS_MAX || !PORT_TAKEN.test(message)) throw error;
      console.error(`zookeeper bench: ${what} lost a port race (attempt ${n}); trying new ports`);
    }
  }
}

/** Signal 0 checks that the process exists (children are reaped, so an exited one is gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= action());
}
