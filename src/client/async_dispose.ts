/**
 * The key of `await using` disposal, in one place. Where the runtime defines Symbol.asyncDispose
 * (Deno, Bun, Node 20.4+) it is that; elsewhere it is `Symbol.for("Symbol.asyncDispose")`, the symbol
 * esbuild's and tsx's lowered `await using` look up, so the classes that define a disposal method load
 * on every runtime and `await using` works wherever the syntax is available or lowered.
 *
 * @example
 * import { createClient } from "../../mod.ts";
 * {
 *   await using client = await createClient("127.0.0.1:2181");
 *   await client.create("/hello", "world");
 * } // client.close() has run here
 *
 * @module
 */

/** Symbol.asyncDispose, or its registered stand-in on runtimes without one. */
export const asyncDispose: typeof Symbol.asyncDispose = ((Symbol as { asyncDispose?: symbol }).asyncDispose ??
  Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;
