/**
 * A child process started by a test: output kept in a bounded buffer, an exit promise, and a stop()
 * that escalates SIGTERM → SIGKILL. Uses node:child_process, which Node, Deno and Bun all provide.
 * Every live child is also killed when the test process exits, so a crashed test leaves no server behind.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface SpawnedProcessOptions {
  cwd?: string;
  /** Added to (not replacing) the parent's environment. */
  env?: Record<string, string>;
  /** Bytes of combined stdout/stderr to keep (the tail); default 64 KiB. */
  outputBytesMax?: number;
  /** Called with each chunk of stdout text (e.g. to spot a "serving on" line). */
  onStdout?: (text: string) => void;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

export interface SpawnedProcess {
  readonly pid: number;
  /** The command line, for error messages. */
  readonly commandLine: string;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit status once it has exited, else null. */
  exitStatus(): ProcessExit | null;
  /** The last `outputBytesMax` characters of stdout and stderr, interleaved as they arrived. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when the process is gone. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `command args` with stdin closed and stdout/stderr captured. Throws if it cannot be spawned. */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnedProcessOptions = {},
): SpawnedProcess {
  installExitHook();
  const outputBytesMax = options.outputBytesMax ?? 64 * 1024;
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const commandLine = [command, ...args].join(" ");
  if (child.pid === undefined) {
    throw new Error(`could not start \`${commandLine}\`: no pid (is ${command} installed and on PATH?)`);
  }
  liveChildren.add(child);
  let output = "";
  const append = (text: string) => {
    output += text;
    if (output.length > outputBytesMax) output = output.slice(output.length - outputBytesMax);
  };
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (text: string) => {
    append(text);
    options.onStdout?.(text);
  });
  child.stderr?.on("data", append);
  let status: ProcessExit | null = null;
  const exited = new Promise<ProcessExit>((resolve) => {
    const finish = (exit: ProcessExit) => {
      if (status !== null) return;
      status = exit;
      liveChildren.delete(child);
      resolve(exit);
    };
    // 'close' comes after the output is drained; 'exit' may come first. A grandchild holding the
    // pipes open must not delay us long, so after 'exit' wait at most 500 ms for 'close'.
    let exitStatus: ProcessExit | null = null;
    child.once("exit", (code, signal) => {
      exitStatus = { code, signal };
      setTimeout(() => finish(exitStatus!), 500);
    });
    child.once("close", (code, signal) => finish(exitStatus ?? { code, signal }));
    child.once("error", (error) => {
      append(`\n[spawn error] ${error.message}\n`);
      finish({ code: null, signal: null });
    });
  });
  return {
    pid: child.pid,
    commandLine,
    exited,
    exitStatus: () => status,
    output: () => output,
    stop: (graceMs = 5000) => stopChild(child, exited, graceMs),
  };
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<ProcessExit>,
  graceMs: number,
): Promise<ProcessExit> {
  if (!liveChildren.has(child)) return exited;
  signalChild(child, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const first = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (first === "timeout") {
    signalChild(child, "SIGKILL");
    // SIGKILL cannot be ignored; the bound only guards against a zombie that is never reaped.
    const killBound = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 5000);
    });
    const second = await Promise.race([exited, killBound]);
    clearTimeout(timer);
    if (second === "timeout") throw new Error(`process ${child.pid} did not exit within 5 s of SIGKILL`);
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
  return exited;
}

/**
 * process.kill rather than child.kill: under Deno, child.kill("SIGTERM") makes the exit status read
 * `signal: "SIGTERM"` even when the child handles the signal and exits 0.
 */
function signalChild(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already exited (ESRCH): the exit event settles `exited`.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of liveChildren) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone: nothing to clean up.
      }
    }
  });
}
