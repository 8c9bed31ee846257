/**
 * What a benchmark figure depends on besides our code: the runtime, the machine and the commit. Also
 * the two process probes the benchmarks need on every runtime: a forced GC and CPU time.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { cpuUsage, versions } from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export type RuntimeName = "deno" | "node" | "bun";

export interface RuntimeInfo {
  name: RuntimeName;
  /** "Node 20.20.2", "Deno 2.9.6", "Bun 1.4.5". */
  label: string;
}

interface RuntimeGlobals {
  Deno?: { version: { deno: string } };
  Bun?: { version: string; gc(force: boolean): void };
  gc?: () => void;
}

const runtimeGlobals = globalThis as unknown as RuntimeGlobals;

export function runtimeInfo(): RuntimeInfo {
  if (runtimeGlobals.Deno !== undefined) {
    return { name: "deno", label: `Deno ${runtimeGlobals.Deno.version.deno}` };
  }
  if (runtimeGlobals.Bun !== undefined) return { name: "bun", label: `Bun ${runtimeGlobals.Bun.version}` };
  return { name: "node", label: `Node ${versions.node}` };
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  /** Short commit hash, or a sentence saying why there is none. */
  commit: string;
  /** ISO date and time (UTC) of the run. */
  date: string;
}

export function machineInfo(repositoryDirectory: string): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    cores: processors.length,
    commit: gitCommit(repositoryDirectory),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

function gitCommit(directory: string): string {
  try {
    const output = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: directory,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    });
    return output.trim() || "unknown (git printed nothing)";
  } catch {
    return "unknown (git rev-parse failed)";
  }
}

/**
 * A function that runs a full garbage collection, or null. Uses `globalThis.gc` (node --expose-gc,
 * deno --v8-flags=--expose-gc) or `Bun.gc`, else turns V8's flag on at run time and fetches `gc` from
 * a fresh context (works on Node and Deno: both are V8).
 */
export function findGc(): (() => void) | null {
  const bun = runtimeGlobals.Bun;
  if (bun !== undefined) return () => bun.gc(true);
  const exposed = runtimeGlobals.gc;
  if (typeof exposed === "function") return () => exposed();
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc === "function") return () => gc();
  } catch {
    // Not V8, or the flag could not be set: the caller falls back to a plain heap difference.
  }
  return null;
}

/** Process CPU time (user + system) in microseconds. */
export function cpuMicros(): number {
  const usage = cpuUsage();
  return usage.user + usage.system;
}
