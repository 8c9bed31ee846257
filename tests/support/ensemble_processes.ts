/**
 * An ensemble of real `corral serve zoo.cfg` processes on 127.0.0.1: one zoo.cfg with the server.N
 * lines, one --data-dir (holding myid) and one --port per member. For the multi-process tests
 * (tests/cli/ensemble*_test.ts) and the compat judges run against an ensemble.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CorralProcess, startCorralProcess } from "./corral_process.ts";
import { fourLetterWord } from "./four_letter_word.ts";
import { freePort } from "./free_port.ts";
import type { RuntimeName } from "./runtime.ts";
import { waitFor } from "./wait_for.ts";

export interface EnsembleMember {
  id: number;
  runtime: RuntimeName;
  clientPort: number;
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
}

export class ProcessEnsemble {
  readonly members: EnsembleMember[];
  readonly #config: string;
  readonly #extraArgs: readonly string[];
  readonly #stepMs: number;

  private constructor(members: EnsembleMember[], config: string, options: ProcessEnsembleOptions) {
    this.members = members;
    this.#config = config;
    this.#extraArgs = options.extraArgs ?? [];
    this.#stepMs = options.stepMs ?? 30_000;
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
    ];
    const members: EnsembleMember[] = [];
    for (const [index, which] of runtimes.entries()) {
      const id = index + 1;
      const dataDir = join(dir, `data${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, "myid"), `${id}\n`);
      lines.push(`server.${id}=127.0.0.1:${await freePort()}:${await freePort()}`);
      members.push({ id, runtime: which, clientPort: await freePort(), dataDir, process: null });
    }
    const config = join(dir, "zoo.cfg");
    writeFileSync(config, lines.join("\n") + "\n");
    return new ProcessEnsemble(members, config, options);
  }

  async start(member: EnsembleMember): Promise<void> {
    member.process = await startCorralProcess({
      runtime: member.runtime,
      args: [this.#config, "--data-dir", member.dataDir, "--port", String(member.clientPort), ...this.#extraArgs],
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
    process.kill(running.pid, "SIGKILL");
    member.process = null;
    return running.stop();
  }

  /** `srvr`'s Mode line of each running member ("leader", "follower", or "-" when not serving). */
  async modes(): Promise<Map<number, string>> {
    const modes = new Map<number, string>();
    await Promise.all(this.running().map(async (member) => {
      const text = await fourLetterWord("127.0.0.1", member.clientPort, "srvr").catch(() => "");
      modes.set(member.id, /Mode: (\w+)/.exec(text)?.[1] ?? "-");
    }));
    return modes;
  }

  /** The leader, once every running member serves and exactly one leads. */
  async stableLeader(): Promise<EnsembleMember | null> {
    const modes = await this.modes();
    const leaders = [...modes].filter(([, mode]) => mode === "leader");
    if (leaders.length !== 1 || [...modes.values()].some((mode) => mode !== "leader" && mode !== "follower")) return null;
    return this.members.find((member) => member.id === leaders[0]![0])!;
  }

  async waitForLeader(what: string): Promise<EnsembleMember> {
    return await waitFor(() => this.stableLeader(), { timeoutMs: this.#stepMs, what, intervalMs: 100 });
  }

  running(): EnsembleMember[] {
    return this.members.filter((member) => member.process !== null);
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
