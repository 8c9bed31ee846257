/**
 * A Node HTTP app (node:http) with a Corral server embedded in the same process. The app keeps its
 * keys in Corral through Corral's client; any ZooKeeper client can connect to the same server.
 *
 *   node --import tsx examples/embedded_node.ts           sends itself a few requests, then stops
 *   node --import tsx examples/embedded_node.ts --serve   keeps serving until Ctrl-C
 *
 * In a project that installed the npm package, import from "corral" instead of "../mod.ts".
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import process from "node:process";
import { createClient, startServer } from "../mod.ts";
import { handleKvRequest, KeyValueStore, serveOrExercise } from "./kv_http.ts";

const serveUntilInterrupted = process.argv.includes("--serve");

const corral = await startServer({ port: 0 });
const client = await createClient(`127.0.0.1:${corral.port}`);
const store = new KeyValueStore(client, "/apps/embedded-node/keys");
await store.init();

const http = createServer((request, response) => {
  void answer(request, response);
});
await new Promise<void>((resolve, reject) => {
  http.once("error", reject);
  http.listen(0, "127.0.0.1", () => resolve());
});
const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
console.log(`embedded_node: HTTP on ${baseUrl}, Corral on 127.0.0.1:${corral.port} (ZooKeeper protocol)`);

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort(new Error("interrupted (Ctrl-C)"));
process.once("SIGINT", onInterrupt);
process.once("SIGTERM", onInterrupt);
try {
  await serveOrExercise("embedded_node", baseUrl, { serve: serveUntilInterrupted, interrupted: interrupted.signal });
} finally {
  // fetch keeps connections alive; close them, or close() would wait for their idle timeout.
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await client.close();
  await corral.close();
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  process.off("SIGINT", onInterrupt);
  process.off("SIGTERM", onInterrupt);
}
console.log(`embedded_node: stopped${interrupted.signal.aborted ? " (interrupted)" : ""}`);

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of request) chunks.push(chunk as Uint8Array);
  const body = new TextDecoder().decode(concat(chunks));
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const reply = await handleKvRequest(store, { method: request.method ?? "GET", path, body });
  response.writeHead(reply.status, { "content-type": reply.contentType });
  response.end(reply.body);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
