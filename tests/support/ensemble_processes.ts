/**
 * An ensemble of real `corral serve zoo.cfg` processes on 127.0.0.1: one zoo.cfg with the server.N
 * lines, one --data-dir (holding myid) and one --port per member. For the multi-process tests
 * (tests/cli/ensemble*_test.ts) and the compat judges run against an ensemble.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CorralProcess, type ProcessExit, startCorralProcess } from "./corral_process.ts";
import { fourLetterWord } from "./four_letter_word.ts";
import { freePort } from "./free_port.ts";
import type { RuntimeName } from "./runtime.ts";
import { waitFor } from "./wait_for.ts";

export interface EnsembleMember {
  id: number;
  runtime: RuntimeName;
  clientPort: number;
  /** The first port of its server.N line: where members connect to it. */
  quorumPort: number;
  /** The second port of its server.N line. */
  electionPort: number;
  dataDir: string;
  process: CorralProcess | null;
}

export interface ProcessEnsembleOptions {
  /** zoo.cfg tickTime; default 100 ms so elections and session timeouts stay short. */
  tickMs?: number;
  /** Extra `corral serve` flags for every member (e.g. `["--log-level", "warn"]`). */
  extraArgs?: readonly string[];
  /** Bound of each wait for a leader; default 30 s. */
  stepMs?: number;
  /** More zoo.cfg lines for every member. */
  extraLines?: readonly string[];
  /** Lines for one member only: it then gets a zoo.cfg of its own (zoo-<id>.cfg) with them added. */
  memberLines?: (id: number) => readonly string[];
  /**
   * Which members' server.N lines member `id`'s zoo.cfg holds (default: every member's). With it
   * each member gets a zoo.cfg of its own (zoo-<id>.cfg) and the lines are written as a reconfig
   * names servers (serverLine: `:participant;127.0.0.1:<clientPort>`). For dynamic reconfiguration,
   * where a joiner's zoo.cfg lists members the ensemble does not have yet.
   */
  serversOf?: (id: number) => readonly number[];
}

/** A member's server.N line with its role and client address, as zoo.cfg or a reconfig's `joining` names it. */
export function serverLine(member: EnsembleMember, role: "participant" | "observer" = "participant"): string {
  return `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}:${role};127.0.0.1:${member.clientPort}`;
}

export class ProcessEnsemble {
  readonly members: EnsembleMember[];
  readonly #config: string;
  readonly #extraArgs: readonly string[];
  readonly #stepMs: number;
  readonly #memberConfigs: boolean;

  private constructor(members: EnsembleMember[], config: string, options: ProcessEnsembleOptions) {
    this.members = members;
    this.#config = config;
    this.#extraArgs = options.extraArgs ?? [];
    this.#stepMs = options.stepMs ?? 30_000;
    this.#memberConfigs = options.memberLines !== undefined || options.serversOf !== undefined;
  }

  /** Writes zoo.cfg and one data dir per member under `dir` (which the caller removes); starts nothing. */
  static async create(dir: string, runtimes: readonly RuntimeName[], options: ProcessEnsembleOptions = {}): Promise<ProcessEnsemble> {
    const lines = [
      `tickTime=${options.tickMs ?? 100}`,
      "initLimit=20",
      "syncLimit=10",
      "maxSessionTimeout=60000",
      "snapCount=100",
      "4lw.commands.whitelist=*",
      ...options.extraLines ?? [],
    ];
    const members: EnsembleMember[] = [];
    for (const [index, which] of runtimes.entries()) {
      const id = index + 1;
      const dataDir = join(dir, `data${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "myid"), `${id}\n`);
      const quorumPort = await freePort();
      const electionPort = await freePort();
      members.push({ id, runtime: which, clientPort: await freePort(), quorumPort, electionPort, dataDir, process: null });
    }
    const { memberLines, serversOf } = options;
    const servers = (listed: readonly EnsembleMember[]) =>
      listed.map((member) => serversOf === undefined ? `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}` : serverLine(member));
    const config = join(dir, "zoo.cfg");
    writeFileSync(config, [...lines, ...servers(members)].join("\n") + "\n");
    if (memberLines !== undefined || serversOf !== undefined) {
      for (const member of members) {
        const listed = serversOf === undefined ? members : members.filter((other) => serversOf(member.id).includes(other.id));
        writeFileSync(join(dir, `zoo-${member.id}.cfg`), [...lines, ...servers(listed), ...memberLines?.(member.id) ?? []].join("\n") + "\n");
      }
    }
    return new ProcessEnsemble(members, config, options);
  }

  /** The zoo.cfg `member` is started with. */
  configOf(member: EnsembleMember): string {
    return this.#memberConfigs ? this.#config.replace(/zoo\.cfg$/, `zoo-${member.id}.cfg`) : this.#config;
  }

  async start(member: EnsembleMember): Promise<void> {
    member.process = await startCorralProcess({
      runtime: member.runtime,
      args: [this.configOf(member), "--data-dir", member.dataDir, "--port", String(member.clientPort), ...this.#extraArgs],
      startTimeoutMs: 60_000,
    });
  }

  /** Starts every member and waits until one leads and the others follow. */
  async startAll(): Promise<EnsembleMember> {
    await Promise.all(this.members.map((member) => this.start(member)));
    return await this.waitForLeader("a first leader");
  }

  /** SIGKILL (no shutdown path runs), then reap the process. */
  kill(member: EnsembleMember): Promise<void> {
    const running = member.process!;
    member.process = null;
    if (running.exitStatus() === null) {
      try {
        process.kill(running.pid, "SIGKILL");
      } catch {
        // It exited between the check and the signal (ESRCH): stop() below reaps it all the same.
      }
    }
    return running.stop();
  }

  /**
   * For a test that expects `member` to stop itself (e.g. its storage fails): waits (bounded) for
   * the exit, takes the member out of the ensemble's running set and returns how it ended.
   */
  async expectExit(member: EnsembleMember, timeoutMs = this.#stepMs): Promise<ProcessExit> {
    const running = member.process;
    if (running === null) throw new Error(`member ${member.id} is not running`);
    const exit = await bounded(running.exited, timeoutMs, () => `member ${member.id} to exit\n${running.output().slice(-2000)}`);
    member.process = null;
    return exit;
  }

  /**
   * Members that exited although nobody stopped or killed them through this ensemble (nor through
   * their own stop()): a member that stopped itself ("storage failed, stopping this member") or was
   * killed from outside. Waiting for a leader cannot succeed as the test means it while one is gone
   * unnoticed, so the waits below fail at once naming it instead of reporting "no leader".
   */
  exitedOnTheirOwn(): EnsembleMember[] {
    return this.members.filter((member) => member.process !== null && member.process.exitStatus() !== null && !member.process.stopRequested());
  }

  /** Throws MemberExitedError for the first member that exited on its own, if any. */
  #checkExits(): void {
    const [member] = this.exitedOnTheirOwn();
    if (member !== undefined) throw new MemberExitedError(member);
  }

  /** `srvr`'s Mode line of each running member ("leader", "follower", or "-" when not serving). */
  async modes(): Promise<Map<number, string>> {
    this.#checkExits();
    const modes = new Map<number, string>();
    await Promise.all(this.running().map(async (member) => {
      const text = await fourLetterWord("127.0.0.1", member.clientPort, "srvr").catch(() => "");
      modes.set(member.id, /Mode: (\w+)/.exec(text)?.[1] ?? "-");
    }));
    return modes;
  }

  /**
   * The leader, once every running member serves and exactly one leads. Throws MemberExitedError
   * when a member exited on its own (see exitedOnTheirOwn).
   */
  async stableLeader(): Promise<EnsembleMember | null> {
    const modes = await this.modes();
    this.#checkExits(); // it may have gone while srvr was being asked
    const leaders = [...modes].filter(([, mode]) => mode === "leader");
    if (leaders.length !== 1 || [...modes.values()].some((mode) => mode !== "leader" && mode !== "follower")) return null;
    return this.members.find((member) => member.id === leaders[0]![0])!;
  }

  /**
   * For a member the others must keep out (a bad certificate, a wrong password): waits until the
   * others serve, one leading, then `settleMs` more, and returns every member's mode; the
   * outsider's should still be "-".
   */
  async servingWithout(outsider: number, what: string, settleMs: number): Promise<Map<number, string>> {
    const insiders = this.members.filter((member) => member.id !== outsider);
    await this.waitFor(async () => {
      const modes = await this.modes();
      const roles = insiders.map((member) => modes.get(member.id));
      return roles.filter((role) => role === "leader").length === 1 && roles.every((role) => role === "leader" || role === "follower") ? modes : null;
    }, what);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return await this.modes();
  }

  /** Waits (bounded) for a stable leader; fails at once when a member exits on its own meanwhile. */
  async waitForLeader(what: string): Promise<EnsembleMember> {
    return await this.waitFor(() => this.stableLeader(), what);
  }

  /**
   * waitFor (tests/support/wait_for.ts) bounded by this ensemble's step, that fails as soon as a
   * member exits on its own, with MemberExitedError, instead of retrying until the deadline.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, what: string, timeoutMs = this.#stepMs): Promise<NonNullable<T>> {
    const watched = this.running().map((member) => ({ member, process: member.process! }));
    let done = false;
    let stopWatching: (error: Error) => void = () => {};
    const exitedEarly = new Promise<never>((_, reject) => {
      stopWatching = reject;
    });
    for (const { member, process: child } of watched) {
      void child.exited.then(() => {
        if (!done && member.process === child && !child.stopRequested()) stopWatching(new MemberExitedError(member));
      });
    }
    // Once the race is decided the polling loop must end too (it would poll until its deadline and
    // keep the test process alive): it then gets a truthy stand-in and returns at its next poll.
    const polling = waitFor(() => done ? STOP_POLLING : predicate(), { timeoutMs, what, intervalMs: 100 });
    try {
      return await Promise.race([polling as Promise<NonNullable<T>>, exitedEarly]);
    } finally {
      done = true;
    }
  }

  /** Members whose process is up: neither killed or stopped through the ensemble, nor exited on its own. */
  running(): EnsembleMember[] {
    return this.members.filter((member) => member.process !== null && member.process.exitStatus() === null);
  }

  connectString(members: readonly EnsembleMember[] = this.members): string {
    return members.map((member) => `127.0.0.1:${member.clientPort}`).join(",");
  }

  output(): string {
    return this.members.map((member) => `--- member ${member.id} (${member.runtime}) ---\n${member.process?.output().slice(-3000) ?? "(not running)"}`).join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.process?.stop()));
  }
}

const STOP_POLLING = Symbol("stop polling");

/** A member's process ended although the test did not stop it: names it, how it ended, and its last output. */
export class MemberExitedError extends Error {
  readonly memberId: number;
  readonly exit: ProcessExit;
  /** Not worth retrying: a poll that hits this should give up at once. */
  readonly fatal = true;

  constructor(member: EnsembleMember) {
    const exit = member.process?.exitStatus() ?? { code: null, signal: null };
    const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
    super(`member ${member.id} exited on its own (${how}): ${lastLines(member.process?.output() ?? "", 12)}`);
    this.name = "MemberExitedError";
    this.memberId = member.id;
    this.exit = exit;
  }
}

/** The last `count` non-empty lines of `text` (bounded in characters), for error messages. */
function lastLines(text: string, count: number): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "").slice(-count);
  const joined = lines.join("\n");
  return lines.length === 0 ? "(no output)" : `\n${joined.length > 4000 ? joined.slice(-4000) : joined}`;
}

/** Rejects when `promise` has not settled within `ms`; `what` is read only then, so it can report progress. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
