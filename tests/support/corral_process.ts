/**
 * Starts `corral serve` (src/cli/main.ts) as a child process under Node, Deno or Bun and waits for
 * its "corral: serving on HOST:PORT (...)" line. For compatibility and multi-process tests.
 */
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { findOnPath } from "./compat_availability.ts";
import { repoRoot, runtime, type RuntimeName } from "./runtime.ts";
import { type ProcessExit, spawnProcess } from "./spawned_process.ts";

export type { ProcessExit };

export interface CorralProcessOptions {
  /** Which runtime runs the server; default: the one running the test. */
  runtime?: RuntimeName;
  /** Extra arguments after `serve --port 0 --host 127.0.0.1` (later flags override earlier ones). */
  args?: readonly string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the "serving on" line; default 30 s (Deno's first run type-checks). */
  startTimeoutMs?: number;
  /** The script to run; default src/cli/main.ts. */
  entry?: string;
  /** Runtime flags placed before the script, e.g. `["--cpu-prof", "--cpu-prof-dir=/tmp/p"]` under Node. */
  runtimeArgs?: readonly string[];
}

export interface CorralProcess {
  host: string;
  port: number;
  connectString: string;
  pid: number;
  runtime: RuntimeName;
  /** The process's recent stdout and stderr. */
  output(): string;
  /** Resolves once the process has exited, however it ended (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit status once it has exited, else null. */
  exitStatus(): ProcessExit | null;
  /** Whether stop() was called: an exit after that was asked for, any other one was the process's own. */
  stopRequested(): boolean;
  /** SIGTERM, SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

const servingLine = /corral: serving on (\S+):(\d+)(?:\s|$)/;

/** Starts the server and resolves once it has printed where it listens; rejects with its output otherwise. */
export async function startCorralProcess(options: CorralProcessOptions = {}): Promise<CorralProcess> {
  const which = options.runtime ?? runtime();
  const main = options.entry ?? join(repoRoot(), "src", "cli", "main.ts");
  if (!existsSync(main)) {
    throw new Error(`startCorralProcess: ${main} does not exist yet (the CLI is not written)`);
  }
  const serveArgs = ["serve", "--port", "0", "--host", "127.0.0.1", ...(options.args ?? [])];
  const [command, ...prefix] = runtimeCommand(which);
  let resolveAddress: (address: { host: string; port: number }) => void = () => {};
  const address = new Promise<{ host: string; port: number }>((resolve) => {
    resolveAddress = resolve;
  });
  let stdoutSoFar = "";
  const child = spawnProcess(command!, [...prefix, ...(options.runtimeArgs ?? []), main, ...serveArgs], {
    cwd: repoRoot(),
    env: options.env,
    onStdout: (text) => {
      stdoutSoFar += text;
      const match = servingLine.exec(stdoutSoFar);
      if (match !== null) resolveAddress({ host: match[1]!, port: Number(match[2]) });
      if (stdoutSoFar.length > 65536) stdoutSoFar = stdoutSoFar.slice(-4096);
    },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await child.stop(5000);
  };
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    address,
    child.exited.then((exit) => ({ exit })),
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === "timeout" || "exit" in outcome) {
    await stop();
    const why = outcome === "timeout"
      ? `printed no "corral: serving on HOST:PORT" line within ${timeoutMs} ms`
      : `exited (code ${outcome.exit.code}, signal ${outcome.exit.signal}) before serving`;
    throw new Error(
      `corral serve under ${which} ${why}.\ncommand: ${child.commandLine}\n--- output ---\n${child.output()}`,
    );
  }
  return {
    host: outcome.host,
    port: outcome.port,
    connectString: `${outcome.host}:${outcome.port}`,
    pid: child.pid,
    runtime: which,
    output: child.output,
    exited: child.exited,
    exitStatus: child.exitStatus,
    stopRequested: () => stopped,
    stop,
  };
}

const resolvedCommands = new Map<RuntimeName, string[]>();

/** The argv prefix that runs a TypeScript file under `which`, calling the runtime binary directly (not via npx) so signals reach it. */
export function runtimeCommand(which: RuntimeName): string[] {
  const cached = resolvedCommands.get(which);
  if (cached !== undefined) return cached;
  const current = runtime() === which ? process.execPath : null;
  let command: string[];
  if (which === "node") {
    command = [current ?? findOnPath("node") ?? "node", "--import", "tsx"];
  } else if (which === "deno") {
    command = [current ?? denoExecutable(), "run", "-A"];
  } else {
    command = [current ?? bunExecutable()];
  }
  resolvedCommands.set(which, command);
  return command;
}

function denoExecutable(): string {
  const onPath = findOnPath("deno");
  if (onPath !== null) return onPath;
  // `npx --yes deno` caches the binary; ask it where the binary is so the child is not an npx wrapper.
  const probe = spawnSync("npx", ["--yes", "deno", "eval", "console.log(Deno.execPath())"], {
    cwd: repoRoot(),
    encoding: "utf8",
    timeout: 120_000,
  });
  const path = (probe.stdout ?? "").trim().split("\n").pop() ?? "";
  if (probe.status !== 0 || !existsSync(path)) {
    throw new Error(`could not locate deno via npx (status ${probe.status}): ${probe.stderr}`);
  }
  return path;
}

function bunExecutable(): string {
  const local = join(repoRoot(), "node_modules", ".bin", "bun");
  if (existsSync(local)) return realpathSync(local);
  const onPath = findOnPath("bun");
  if (onPath !== null) return onPath;
  throw new Error("bun not found: run `npm ci` (bun is a devDependency) or put bun on PATH");
}
