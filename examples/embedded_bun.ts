/**
 * A Bun HTTP app (Bun.serve) with a Corral server embedded in the same process. The app keeps its
 * keys in Corral through Corral's client; any ZooKeeper client can connect to the same server.
 *
 *   bun examples/embedded_bun.ts            sends itself a few requests, then stops
 *   bun examples/embedded_bun.ts --serve    keeps serving until Ctrl-C
 *
 * (`npx bun ...` after `npm ci`.) In a project that installed the npm package, import from "corral"
 * instead of "../mod.ts".
 */
import process from "node:process";
import { createClient, startServer } from "../mod.ts";
import { handleKvRequest, KeyValueStore, serveOrExercise } from "./kv_http.ts";

/** The slice of Bun's API this example uses (declared here so Deno and tsc can check this file; a Bun
 * project would use @types/bun instead). */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request): Response | Promise<Response>;
  }): { readonly port: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
};

const serveUntilInterrupted = process.argv.includes("--serve");

const corral = await startServer({ port: 0 });
const client = await createClient(`127.0.0.1:${corral.port}`);
const store = new KeyValueStore(client, "/apps/embedded-bun/keys");
await store.init();

const http = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const reply = await handleKvRequest(store, {
      method: request.method,
      path: new URL(request.url).pathname,
      body: await request.text(),
    });
    return new Response(reply.body === "" ? null : reply.body, {
      status: reply.status,
      headers: { "content-type": reply.contentType },
    });
  },
});
const baseUrl = `http://127.0.0.1:${http.port}`;
console.log(`embedded_bun: HTTP on ${baseUrl}, Corral on 127.0.0.1:${corral.port} (ZooKeeper protocol)`);

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort(new Error("interrupted (Ctrl-C)"));
process.once("SIGINT", onInterrupt);
process.once("SIGTERM", onInterrupt);
try {
  await serveOrExercise("embedded_bun", baseUrl, { serve: serveUntilInterrupted, interrupted: interrupted.signal });
} finally {
  await http.stop(true);
  await client.close();
  await corral.close();
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  process.off("SIGINT", onInterrupt);
  process.off("SIGTERM", onInterrupt);
}
console.log(`embedded_bun: stopped${interrupted.signal.aborted ? " (interrupted)" : ""}`);
