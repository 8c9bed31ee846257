/**
 * A Deno HTTP app (Deno.serve) with a Corral server embedded in the same process. The app keeps its
 * keys in Corral through Corral's client; any ZooKeeper client can connect to the same server.
 *
 *   deno run -A examples/embedded_deno.ts            sends itself a few requests, then stops
 *   deno run -A examples/embedded_deno.ts --serve    keeps serving until Ctrl-C
 *
 * (`npx --yes deno run -A ...` without Deno installed.) From JSR, import from "jsr:@corral/corral"
 * instead of "../mod.ts".
 */
import { createClient, startServer } from "../mod.ts";
import { handleKvRequest, KeyValueStore, serveOrExercise } from "./kv_http.ts";

const serveUntilInterrupted = Deno.args.includes("--serve");

const corral = await startServer({ port: 0 });
const client = await createClient(`127.0.0.1:${corral.port}`);
const store = new KeyValueStore(client, "/apps/embedded-deno/keys");
await store.init();

const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
  const reply = await handleKvRequest(store, {
    method: request.method,
    path: new URL(request.url).pathname,
    body: await request.text(),
  });
  return new Response(reply.body === "" ? null : reply.body, {
    status: reply.status,
    headers: { "content-type": reply.contentType },
  });
});
const baseUrl = `http://127.0.0.1:${http.addr.port}`;
console.log(`embedded_deno: HTTP on ${baseUrl}, Corral on 127.0.0.1:${corral.port} (ZooKeeper protocol)`);

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort(new Error("interrupted (Ctrl-C)"));
Deno.addSignalListener("SIGINT", onInterrupt);
Deno.addSignalListener("SIGTERM", onInterrupt);
try {
  await serveOrExercise("embedded_deno", baseUrl, { serve: serveUntilInterrupted, interrupted: interrupted.signal });
} finally {
  await http.shutdown();
  await client.close();
  await corral.close();
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  Deno.removeSignalListener("SIGINT", onInterrupt);
  Deno.removeSignalListener("SIGTERM", onInterrupt);
}
console.log(`embedded_deno: stopped${interrupted.signal.aborted ? " (interrupted)" : ""}`);
