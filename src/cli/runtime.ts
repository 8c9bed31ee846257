/**
 * What the CLI needs from the runtime it runs on (arguments, signals, exit, environment, files),
 * behind one small interface so the rest of src/cli is runtime-neutral.
 */
import { readFile } from "node:fs/promises";
import { detectRuntime, type RuntimeName } from "../transport/auto.ts";

export type ShutdownSignal = "SIGINT" | "SIGTERM";

export interface CliRuntime {
  readonly name: RuntimeName;
  /** Command-line arguments after the script name. */
  args(): string[];
  /** Calls `handler` on SIGINT or SIGTERM; returns a function that removes the listeners. */
  onShutdownSignal(handler: (signal: ShutdownSignal) => void): () => void;
  exit(code: number): never;
  env(name: string): string | undefined;
  readTextFile(path: string): Promise<string>;
}

interface DenoCliApi {
  args: string[];
  addSignalListener(signal: ShutdownSignal, handler: () => void): void;
  removeSignalListener(signal: ShutdownSignal, handler: () => void): void;
  exit(code: number): never;
  env: { get(name: string): string | undefined };
}

interface NodeProcess {
  argv: string[];
  on(event: ShutdownSignal, handler: () => void): void;
  off(event: ShutdownSignal, handler: () => void): void;
  exit(code: number): never;
  env: Record<string, string | undefined>;
}

const SIGNALS: readonly ShutdownSignal[] = ["SIGINT", "SIGTERM"];

export function cliRuntime(): CliRuntime {
  const name = detectRuntime();
  const readTextFile = (path: string) => readFile(path, "utf8");
  if (name === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoCliApi }).Deno;
    return {
      name,
      args: () => [...deno.args],
      onShutdownSignal: (handler) => {
        const listeners = SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
        for (const [signal, listener] of listeners) deno.addSignalListener(signal, listener);
        return () => {
          for (const [signal, listener] of listeners) deno.removeSignalListener(signal, listener);
        };
      },
      exit: (code) => deno.exit(code),
      env: (key) => deno.env.get(key),
      readTextFile,
    };
  }
  // Node and Bun share the process object.
  const process = (globalThis as unknown as { process: NodeProcess }).process;
  return {
    name,
    args: () => process.argv.slice(2),
    onShutdownSignal: (handler) => {
      const listeners = SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
      for (const [signal, listener] of listeners) process.on(signal, listener);
      return () => {
        for (const [signal, listener] of listeners) process.off(signal, listener);
      };
    },
    exit: (code) => process.exit(code),
    env: (key) => process.env[key],
    readTextFile,
  };
}
