/**
 * Getting Apache ZooKeeper onto the machine for the comparison: when java or Debian's zookeeper
 * jars are missing and this process is root with apt-get on PATH, the bench runs
 * `apt-get install -y default-jre-headless zookeeper` (and, if the package lists know neither
 * package, `apt-get update` first and the install again), each bounded in time, and reports a
 * one-line summary. Otherwise the group is skipped with the line to run.
 */
import { findOnPath } from "../tests/support/compat_availability.ts";
import { spawnProcess } from "../tests/support/spawned_process.ts";
import { type ZooKeeperMissing, zooKeeperMissing } from "./vs_zookeeper_targets.ts";

export const INSTALL_PACKAGES = ["default-jre-headless", "zookeeper"] as const;
/** Per apt-get command; a JRE over a slow mirror takes a minute or two. */
const APT_TIMEOUT_MS = 300_000;

export type InstallDecision =
  | { kind: "ready" }
  | { kind: "install"; argv: string[] }
  | { kind: "skip"; reason: string };

/** What to do about what is missing, given whether we are root and have apt-get. Pure. */
export function installDecision(
  absent: ZooKeeperMissing | null,
  host: { root: boolean; aptGet: boolean },
): InstallDecision {
  if (absent === null) return { kind: "ready" };
  const line = `apt-get install -y ${INSTALL_PACKAGES.join(" ")}`;
  if (!host.root || !host.aptGet) {
    const why = !host.aptGet ? "there is no apt-get here" : "the bench is not running as root";
    return {
      kind: "skip",
      reason: `Skipped: Apache ZooKeeper 3.8 cannot run here (${absent.missing} not found) and ${why}, ` +
        `so the bench cannot install it. Install with \`${line}\` (as root) and run again.`,
    };
  }
  return { kind: "install", argv: ["apt-get", "install", "-y", ...INSTALL_PACKAGES] };
}

export interface InstallOutcome {
  /** Null when ZooKeeper can run now; else the skip message for RESULTS.md. */
  skipped: string | null;
  /** What the install did, when it ran (for the remarks). */
  summary: string | null;
}

/** Installs what is missing when allowed (see the module comment); resolves once ZooKeeper can run or cannot. */
export async function ensureZooKeeperInstalled(): Promise<InstallOutcome> {
  const decision = installDecision(zooKeeperMissing(), {
    root: typeof process.getuid === "function" && process.getuid() === 0,
    aptGet: findOnPath("apt-get") !== null,
  });
  if (decision.kind === "ready") return { skipped: null, summary: null };
  if (decision.kind === "skip") return { skipped: decision.reason, summary: null };
  console.error(`zookeeper bench: java or zookeeper missing; running \`${decision.argv.join(" ")}\`…`);
  const steps: string[] = [];
  let result = await runApt(decision.argv);
  steps.push(result.summary);
  if (!result.ok && /Unable to locate package|has no installation candidate/.test(result.output)) {
    const update = await runApt(["apt-get", "update"]);
    steps.push(update.summary);
    if (update.ok) {
      result = await runApt(decision.argv);
      steps.push(result.summary);
    }
  }
  const still = zooKeeperMissing();
  const summary = `${
    still === null ? "The bench installed" : "The bench tried to install"
  } Apache ZooKeeper: ${steps.join("; ")}.`;
  console.error(`zookeeper bench: ${summary}`);
  if (still === null) return { skipped: null, summary };
  return {
    skipped:
      `Skipped: Apache ZooKeeper 3.8 still cannot run (${still.missing} not found) after ${
        steps.join("; ")
      }. ` +
      `Install with \`${still.command}\` (as root) and run again.`,
    summary,
  };
}

interface AptResult {
  ok: boolean;
  output: string;
  /** "`apt-get install -y …` exited 0 after 41 s (12 packages set up)". */
  summary: string;
}

async function runApt(argv: string[]): Promise<AptResult> {
  const started = Date.now();
  const child = spawnProcess(argv[0]!, argv.slice(1), {
    env: { DEBIAN_FRONTEND: "noninteractive" },
    outputBytesMax: 256 * 1024,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), APT_TIMEOUT_MS);
  });
  const first = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (first === "timeout") await child.stop(10_000);
  const exit = await child.exited;
  const output = child.output();
  const seconds = Math.round((Date.now() - started) / 1000);
  const ok = first !== "timeout" && exit.code === 0;
  return {
    ok,
    output,
    summary: summariseApt({ argv, output, seconds, code: first === "timeout" ? "timeout" : exit.code }),
  };
}

/** One line about an apt-get run: how it ended, how long it took, what it set up or its last error. Pure. */
export function summariseApt(
  run: { argv: readonly string[]; output: string; seconds: number; code: number | null | "timeout" },
): string {
  const command = `\`${run.argv.join(" ")}\``;
  const ended = run.code === "timeout"
    ? `was stopped after ${run.seconds} s (time limit)`
    : `exited ${run.code ?? "on a signal"} after ${run.seconds} s`;
  const setUp = run.output.split("\n").filter((line) => line.startsWith("Setting up ")).length;
  const errors = run.output.split("\n").filter((line) => /^(E|W): /.test(line.trim()));
  const succeeded = setUp > 0 ? `${setUp} packages set up` : "ok";
  const detail = run.code === 0 ? succeeded : (errors.at(-1)?.trim() ?? "no error line").slice(0, 160);
  return `${command} ${ended} (${detail.replaceAll("|", "/")})`;
}
