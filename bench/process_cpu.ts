/**
 * CPU time of another process, from the OS's own accounting (Linux /proc/<pid>/stat): user + system
 * time of every thread the process has or had (JIT and GC threads included), so a server written in
 * Java and one written in TypeScript are charged alike.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

let clockTicksPerSecond: number | null = null;

/** sysconf(_SC_CLK_TCK) via getconf; 100 (Linux's value on every common architecture) if that fails. */
function clockTicks(): number {
  if (clockTicksPerSecond !== null) return clockTicksPerSecond;
  let ticks = 100;
  try {
    const text = execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5000 }).trim();
    if (/^\d+$/.test(text) && Number(text) > 0) ticks = Number(text);
  } catch {
    // No getconf: keep 100.
  }
  clockTicksPerSecond = ticks;
  return ticks;
}

/** Whether this OS exposes /proc/<pid>/stat (Linux); elsewhere the CPU columns read n/a. */
export function processCpuAvailable(): boolean {
  return existsSync("/proc/self/stat");
}

/**
 * utime + stime of `pid` in microseconds (resolution: one clock tick, 10 ms on Linux), or NaN if the
 * process is gone or /proc is missing.
 */
export function processCpuMicros(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return Number.NaN;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}
