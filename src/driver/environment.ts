/**
 * The facts `envi` prints, read from the running process. ZooKeeper prints Java properties; we print
 * the same keys where they have a meaning here and the runtime's own (`corral.runtime*`) otherwise.
 */
import { arch, freemem, homedir, hostname, release, totalmem, type as osType, userInfo } from "node:os";
import process from "node:process";
import { detectRuntime } from "../transport/auto.ts";

/** `key=value` pairs for envi. Never throws: unknown facts print as `<NA>`. */
export function environmentFacts(version: string): [string, string][] {
  const facts: [string, string][] = [["zookeeper.version", version]];
  const add = (key: string, read: () => string) => {
    try {
      facts.push([key, read()]);
    } catch {
      facts.push([key, "<NA>"]);
    }
  };
  add("host.name", () => hostname());
  add("corral.runtime", () => detectRuntime());
  add("corral.runtime.version", () => runtimeVersion());
  add("os.name", () => osType());
  add("os.arch", () => arch());
  add("os.version", () => release());
  add("user.name", () => userInfo().username);
  add("user.home", () => homedir());
  add("user.dir", () => process.cwd());
  add("os.memory.free", () => `${Math.floor(freemem() / 1048576)}MB`);
  add("os.memory.total", () => `${Math.floor(totalmem() / 1048576)}MB`);
  add("process.memory.rss", () => `${Math.floor(process.memoryUsage().rss / 1048576)}MB`);
  return facts;
}

function runtimeVersion(): string {
  const global = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (global.Deno !== undefined) return global.Deno.version.deno;
  if (global.Bun !== undefined) return global.Bun.version;
  return process.version;
}
