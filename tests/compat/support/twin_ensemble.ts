/**
 * One zoo.cfg, two servers: lays out an ensemble (ids, roles, ports, one data directory per member)
 * and starts it either as Apache ZooKeeper 3.8 JVMs or as `corral serve` processes, from the same
 * zoo.cfg text (only dataDir differs per member). The fidelity judges (/zookeeper/config, session
 * expiry timing, Curator, the C client) run the same scenario on both and compare what they see.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findOnPath } from "../../support/compat_availability.ts";
import { type CorralProcess, startCorralProcess } from "../../support/corral_process.ts";
import { fourLetterWord } from "../../support/four_letter_word.ts";
import { freePort } from "../../support/free_port.ts";
import { log4jProperties, zooKeeperClasspath } from "../../support/real_zookeeper.ts";
import type { RuntimeName } from "../../support/runtime.ts";
import { type SpawnedProcess, spawnProcess } from "../../support/spawned_process.ts";
import { sleep } from "../../support/wait_for.ts";

export type MemberRole = "participant" | "observer";

export interface TwinMember {
  id: number;
  role: MemberRole;
  quorumPort: number;
  electionPort: number;
  clientPort: number;
  /** Whether its server.N line carries `;127.0.0.1:clientPort` (else zoo.cfg's clientPort is used). */
  clientInServerLine: boolean;
}

export interface TwinLayout {
  members: TwinMember[];
  tickTimeMs: number;
  initLimit: number;
  syncLimit: number;
  /** More zoo.cfg lines, the same for both servers. */
  extraLines: readonly string[];
}

export interface LayoutOptions {
  roles: readonly MemberRole[];
  /** Member ids; default 1..n. */
  ids?: readonly number[];
  tickTimeMs?: number;
  initLimit?: number;
  syncLimit?: number;
  /** Which members' server.N lines name their client address; default all. */
  clientInServerLine?: (index: number) => boolean;
  extraLines?: readonly string[];
}

/** Picks distinct free ports for every member (free a moment ago: callers retry a lost race). */
export async function layOutTwin(options: LayoutOptions): Promise<TwinLayout> {
  const taken = new Set<number>();
  const distinct = async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
    throw new Error("layOutTwin: 20 draws gave no new free port");
  };
  const members: TwinMember[] = [];
  for (const [index, role] of options.roles.entries()) {
    members.push({
      id: options.ids?.[index] ?? index + 1,
      role,
      quorumPort: await distinct(),
      electionPort: await distinct(),
      clientPort: await distinct(),
      clientInServerLine: options.clientInServerLine?.(index) ?? true,
    });
  }
  return {
    members,
    tickTimeMs: options.tickTimeMs ?? 2000,
    initLimit: options.initLimit ?? 10,
    syncLimit: options.syncLimit ?? 5,
    extraLines: options.extraLines ?? [],
  };
}

/** The server.N line of a member, as an operator writes it. */
export function serverLine(member: TwinMember): string {
  const client = member.clientInServerLine ? `;127.0.0.1:${member.clientPort}` : "";
  return `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}:${member.role}${client}`;
}

/** One member's zoo.cfg: identical for both servers and all members but for dataDir (and clientPort when not in its line). */
export function twinZooCfg(layout: TwinLayout, member: TwinMember, dataDir: string): string {
  const lines = [
    `tickTime=${layout.tickTimeMs}`,
    `initLimit=${layout.initLimit}`,
    `syncLimit=${layout.syncLimit}`,
    `dataDir=${dataDir}`,
    ...(member.clientInServerLine ? [] : [`clientPort=${member.clientPort}`, "clientPortAddress=127.0.0.1"]),
    "4lw.commands.whitelist=*",
    ...layout.extraLines,
    ...layout.members.map(serverLine),
  ];
  return lines.join("\n") + "\n";
}

export interface StartedTwin {
  kind: "zookeeper" | "corral";
  layout: TwinLayout;
  /** srvr's mode per member id, once formed ("leader", "follower", "observer"). */
  modes: Map<number, string>;
  connectString(ids?: readonly number[]): string;
  clientPortOf(id: number): number;
  /** The member ids whose mode is `mode`. */
  idsIn(mode: string): number[];
  /** Recent output of every member, for failure messages. */
  output(): string;
  stop(): Promise<void>;
  /** Stops one member (its data directory stays). */
  stopMember(id: number): Promise<void>;
  /** Starts a stopped member again on its data directory (does not wait for it to join). */
  startMember(id: number): Promise<void>;
}

export interface StartTwinOptions {
  /** Bound on formation; default 90 s (four JVMs on two loaded cores). */
  timeoutMs?: number;
  /** Runtime for `corral serve`; default the test's. */
  runtime?: RuntimeName;
  /** Java system properties for ZooKeeper members. */
  jvmProperties?: Record<string, string>;
  /** More `corral serve` arguments for Corral members. */
  corralArgs?: readonly string[];
}

const smallJvm = ["-Xms32m", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

/** Starts the layout as Apache ZooKeeper or Corral under `dir` (created; the caller removes it) and waits until it has formed. */
export async function startTwin(
  kind: "zookeeper" | "corral",
  layout: TwinLayout,
  dir: string,
  options: StartTwinOptions = {},
): Promise<StartedTwin> {
  mkdirSync(dir, { recursive: true });
  const running = new Map<number, RunningMember>();
  const stop = async () => {
    await Promise.allSettled([...running.values()].map((member) => member.stop()));
  };
  const output = () => [...running.values()].map((member) => member.output()).join("\n");
  const launch = async (member: TwinMember) => {
    if (running.has(member.id)) throw new Error(`member ${member.id} is running already`);
    const memberDir = join(dir, `${kind}${member.id}`);
    const dataDir = join(memberDir, "data");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "myid"), `${member.id}\n`);
    const configPath = join(memberDir, "zoo.cfg");
    writeFileSync(configPath, twinZooCfg(layout, member, dataDir));
    if (kind === "zookeeper") {
      const child = spawnZooKeeper(memberDir, configPath, options.jvmProperties ?? {});
      running.set(member.id, {
        stop: () => child.stop(5000),
        output: () => `--- zookeeper ${member.id} ---\n${child.output().slice(-1500)}\n${logTail(memberDir)}`,
        exited: () => child.exitStatus() === null ? null : `ZooKeeper member ${member.id} exited`,
      });
      return;
    }
    const started: Promise<CorralProcess> = startCorralProcess({
      ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
      args: [configPath, "--port", String(member.clientPort), "--log-level", "warn", ...(options.corralArgs ?? [])],
      startTimeoutMs: options.timeoutMs ?? 90_000,
    });
    let process: CorralProcess | null = null;
    running.set(member.id, {
      stop: async () => (process ?? await started.catch(() => null))?.stop(),
      output: () => `--- corral ${member.id} ---\n${process?.output().slice(-3000) ?? "(not started)"}`,
      exited: () => process !== null && process.exitStatus() !== null ? `Corral member ${member.id} exited` : null,
    });
    process = await started;
  };
  try {
    for (const member of layout.members) await launch(member);
    const exited = () => [...running.values()].map((member) => member.exited()).find((why) => why !== null) ?? null;
    const modes = await waitFormed(layout, options.timeoutMs ?? 90_000, exited);
    return {
      kind,
      layout,
      modes,
      connectString: (ids = layout.members.map((member) => member.id)) =>
        ids.map((id) => `127.0.0.1:${clientPortOf(layout, id)}`).join(","),
      clientPortOf: (id) => clientPortOf(layout, id),
      idsIn: (mode) => [...modes].filter(([, m]) => m === mode).map(([id]) => id),
      output,
      stop,
      stopMember: async (id) => {
        const member = running.get(id);
        if (member === undefined) throw new Error(`member ${id} is not running`);
        running.delete(id);
        await member.stop();
      },
      startMember: (id) => launch(memberOf(layout, id)),
    };
  } catch (error) {
    const text = output();
    await stop();
    throw new Error(`${kind} ensemble did not start: ${error instanceof Error ? error.message : String(error)}\n${text}`);
  }
}

interface RunningMember {
  stop(): Promise<unknown>;
  output(): string;
  /** Why the member is gone, or null while it runs. */
  exited(): string | null;
}

function memberOf(layout: TwinLayout, id: number): TwinMember {
  const member = layout.members.find((candidate) => candidate.id === id);
  if (member === undefined) throw new Error(`no member ${id} in the layout`);
  return member;
}

function clientPortOf(layout: TwinLayout, id: number): number {
  return memberOf(layout, id).clientPort;
}

function spawnZooKeeper(memberDir: string, configPath: string, jvmProperties: Record<string, string>): SpawnedProcess {
  const log4jPath = join(memberDir, "log4j.properties");
  writeFileSync(log4jPath, log4jProperties(join(memberDir, "zookeeper.log")));
  const properties: Record<string, string> = {
    "log4j.configuration": `file:${log4jPath}`,
    "zookeeper.log.dir": memberDir,
    "zookeeper.admin.enableServer": "false",
    "zookeeper.jmx.log4j.disable": "true",
    "java.awt.headless": "true",
    ...jvmProperties,
  };
  return spawnProcess(findOnPath("java") ?? "java", [
    ...smallJvm,
    ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
    "-cp",
    zooKeeperClasspath(),
    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
    configPath,
  ], { cwd: memberDir });
}

function logTail(memberDir: string): string {
  try {
    return readFileSync(join(memberDir, "zookeeper.log"), "utf8").slice(-2000);
  } catch {
    return "(no zookeeper.log)";
  }
}

/** Polls srvr on every member until one leads, the other participants follow and observers observe. */
async function waitFormed(layout: TwinLayout, timeoutMs: number, failure: () => string | null): Promise<Map<number, string>> {
  const deadline = Date.now() + timeoutMs;
  let modes = new Map<number, string>();
  while (Date.now() < deadline) {
    const gone = failure();
    if (gone !== null) throw new Error(gone);
    modes = new Map(
      await Promise.all(layout.members.map(async (member) => {
        const text = await fourLetterWord("127.0.0.1", member.clientPort, "srvr", 1000).catch(() => "");
        return [member.id, /^Mode: (\w+)/m.exec(text)?.[1] ?? "-"] as [number, string];
      })),
    );
    const leaders = [...modes.values()].filter((mode) => mode === "leader").length;
    const settled = layout.members.every((member) => {
      const mode = modes.get(member.id);
      return member.role === "observer" ? mode === "observer" : mode === "leader" || mode === "follower";
    });
    if (leaders === 1 && settled) return modes;
    await sleep(200);
  }
  throw new Error(`not formed within ${timeoutMs} ms: modes ${[...modes].map(([id, mode]) => `${id}=${mode}`).join(", ")}`);
}

/** Removes a directory tree, ignoring a missing one. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
