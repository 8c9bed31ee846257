/**
 * Who a process is, in a form another process can check later: its pid plus what makes a pid
 * unambiguous on Linux (the start time in /proc/<pid>/stat, and the boot id, since pids and start
 * times restart at every boot). The directory lock (dir_lock.ts) records this and asks `liveness`
 * whether a recorded holder still runs. Works alike on Deno, Node and Bun (node:fs, node:os and
 * node:process); where /proc is missing (macOS) or unreadable it falls back to signal 0.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import process from "node:process";

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); null where /proc cannot be read. */
  procStart: string | null;
  /** /proc/sys/kernel/random/boot_id; null where it cannot be read. */
  bootId: string | null;
  host: string;
}

/** "alive": it runs (or may: we cannot tell, so we act as if it did); "dead": it certainly does not. */
export type Liveness = "alive" | "dead" | "unknown";

interface ProcStat {
  state: string;
  start: string;
}

/** The fields we need from /proc/<pid>/stat; null if it cannot be read (no such process, no /proc). */
function readProcStat(pid: number | "self"): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ")": split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) return null;
  return { state, start };
}

function readBootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

let self: ProcessIdentity | null = null;

/** This process. */
export function currentProcess(): ProcessIdentity {
  self ??= { pid: process.pid, procStart: readProcStat("self")?.start ?? null, bootId: readBootId(), host: hostname() };
  return self;
}

/**
 * Whether the process `holder` describes still runs. "unknown" when it lived on another host or
 * nothing here can tell (callers treat that as alive: refusing is safe, sharing a log is not).
 */
export function liveness(holder: ProcessIdentity): Liveness {
  const me = currentProcess();
  if (holder.host !== me.host) return "unknown";
  if (holder.bootId !== null && me.bootId !== null && holder.bootId !== me.bootId) return "dead";
  if (me.procStart !== null) {
    // /proc works here, so its answer is authoritative.
    const stat = readProcStat(holder.pid);
    if (stat === null) return "dead";
    // A zombie (killed, not yet reaped by its parent) holds nothing.
    if (stat.state === "Z" || stat.state === "X" || stat.state === "x") return "dead";
    // The pid was reused by a later process.
    if (holder.procStart !== null && stat.start !== holder.procStart) return "dead";
    return "alive";
  }
  try {
    process.kill(holder.pid, 0);
    return "alive";
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ESRCH") return "dead";
    if (code === "EPERM") return "alive";
    return "unknown";
  }
}
