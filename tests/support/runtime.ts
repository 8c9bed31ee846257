/** Which JavaScript runtime is running the tests, and where the repository lives. */
import { fileURLToPath } from "node:url";

export type RuntimeName = "node" | "deno" | "bun";

/** The runtime executing this code: "deno", "bun" or "node". */
export function runtime(): RuntimeName {
  const global = globalThis as { Deno?: unknown; Bun?: unknown };
  if (global.Deno !== undefined) return "deno";
  if (global.Bun !== undefined) return "bun";
  return "node";
}

/** Absolute path of the repository root (the directory holding package.json), without a trailing slash. */
export function repoRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
}
