/**
 * `corral serve` as an operator runs it, for tests of what it prints: stdout and stderr merged in
 * the order they were written (a shell's `2>&1`, so "recovered" vs "serving on" order is real),
 * under any runtime, with bounded waits. tests/support/corral_process.ts is for tests that only need
 * a running server.
 */
import { join } from "node:path";
import { runtimeCommand } from "../../support/corral_process.ts";
import type { RuntimeName } from "../../support/runtime.ts";
import { repoRoot } from "../../support/runtime.ts";
import { type ProcessExit, type SpawnedProcess, spawnProcess } from "../../support/spawned_process.ts";
import { waitFor } from "../../support/wait_for.ts";

export interface CorralCli {
  readonly pid: number;
  readonly process: SpawnedProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs` or if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits (bounded) for the exit. */
  exit(timeoutMs?: number): Promise<ProcessExit>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<ProcessExit>;
  kill(): Promise<ProcessExit>;
}

/** Starts `corral <args>` (args usually begin with "serve") under `which`. */
export function startCorralCli(which: RuntimeName, args: readonly string[]): CorralCli {
  const main = join(repoRoot(), "src", "cli", "main.ts");
  const child = spawnProcess("/bin/sh", ["-c", 'exec "$0" "$@" 2>&1', ...runtimeCommand(which), main, ...args], { cwd: repoRoot() });
  const exit = async (timeoutMs = 30_000) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`corral ${args.join(" ")} under ${which} did not exit within ${timeoutMs} ms:\n${child.output()}`)), timeoutMs);
    });
    try {
      return await Promise.race([child.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    pid: child.pid,
    process: child,
    output: () => child.output(),
    waitForOutput: async (pattern, timeoutMs = 60_000) => {
      try {
        const found = await waitFor(() => pattern.exec(child.output()) ?? (child.exitStatus() === null ? null : "exited" as const), {
          timeoutMs,
          what: `${pattern} from corral under ${which}`,
          intervalMs: 50,
        });
        if (found === "exited") throw new Error(`corral under ${which} exited (${JSON.stringify(child.exitStatus())}) before printing ${pattern}`);
        return found;
      } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- output ---\n${child.output()}`);
      }
    },
    exit,
    stop: () => child.stop(5000),
    kill: async () => {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      return await exit(10_000);
    },
  };
}

/** Runs `corral <args>` to completion (bounded) and returns its exit code and merged output. */
export async function runCorralCli(which: RuntimeName, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const cli = startCorralCli(which, args);
  try {
    const status = await cli.exit(timeoutMs);
    return { code: status.code, output: cli.output() };
  } finally {
    await cli.stop();
  }
}

/** A runtime's reason to skip (binary missing), else false. */
export function runtimeUnavailable(which: RuntimeName): string | false {
  try {
    runtimeCommand(which);
    return false;
  } catch (error) {
    return `${which} is not available: ${error instanceof Error ? error.message : String(error)}`;
  }
}
