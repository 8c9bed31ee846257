/**
 * The transport of the runtime we are running on. Adapters are imported dynamically, so importing
 * this module under Node never loads Deno or Bun code (and vice versa).
 */
import type { Transport } from "./transport.ts";

export type RuntimeName = "deno" | "bun" | "node";

/** "deno", "bun" or "node", by the globals the runtime defines. */
export function detectRuntime(): RuntimeName {
  const global = globalThis as { Deno?: unknown; Bun?: unknown };
  if (global.Deno !== undefined) return "deno";
  if (global.Bun !== undefined) return "bun";
  return "node";
}

/** The native transport of the current runtime: Deno.listen, Bun.listen or node:net. */
export async function defaultTransport(): Promise<Transport> {
  switch (detectRuntime()) {
    case "deno":
      return (await import("./deno.ts")).denoTransport();
    case "bun":
      return (await import("./bun.ts")).bunTransport();
    case "node":
      return (await import("./node.ts")).nodeTransport();
  }
}
