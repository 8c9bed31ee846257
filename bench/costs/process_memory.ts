/**
 * Resident memory of a process from the OS (Linux /proc/<pid>/status, VmRSS): what the server
 * really holds, heap and runtime alike, so Corral and a JVM are weighed the same way.
 */
import { readFileSync } from "node:fs";

/** VmRSS of `pid` in bytes, or NaN when the process is gone or /proc is missing. */
export function processRssBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return Number.NaN;
  }
  return rssBytesOfStatus(text);
}

/** The VmRSS line of a /proc/<pid>/status text in bytes ("VmRSS:  1234 kB" → 1263616); NaN without one. */
export function rssBytesOfStatus(statusText: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}
