/**
 * An app that embeds one member of a 3-member Corral ensemble and serves HTTP beside it: a tiny
 * key-value API whose data lives in the ensemble. Runs on Node, Deno and Bun alike (node:http).
 *
 *   node --import tsx examples/embedded_replica.ts --all         # all three members in this process: a short demo, then exit
 *   deno run -A examples/embedded_replica.ts --id 1 --serve      # member 1 until Ctrl-C; start 2 and 3 the same way
 *   bun examples/embedded_replica.ts --id 2 --serve
 *
 * Member N listens for clients on 127.0.0.1:(21810+N), for its peers on 28880+N and for HTTP on
 * 18080+N; its data goes to <tmpdir>/corral-embedded-example/memberN (kept between runs).
 *   curl -X PUT --data hello http://127.0.0.1:18081/kv/greeting
 *   curl http://127.0.0.1:18082/kv/greeting        # read through another member
 *   curl http://127.0.0.1:18083/status
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  type Client,
  createClient,
  type EmbeddedReplica,
  ensembleConnectString,
  KeeperError,
  type ReplicaServer,
  startReplica,
} from "../mod.ts";

const SERVERS: ReplicaServer[] = [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", quorumPort: 28880 + id, clientPort: 21810 + id }));
const httpPort = (id: number) => 18080 + id;
const KV = "/kv";

interface App {
  member: EmbeddedReplica;
  client: Client;
  http: HttpServer;
}

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const all = args.includes("--all");
const serveForever = args.includes("--serve");
const idArg = args.indexOf("--id");
const ids = all ? [1, 2, 3] : [Number(args[idArg + 1] ?? NaN)];
if (!all && !(ids[0]! >= 1 && ids[0]! <= 3)) {
  console.error("usage: embedded_replica.ts --all | --id <1|2|3>  [--serve]");
  process.exit(2);
}

/** Starts member `id`, a client of the whole ensemble, and the HTTP server. */
async function startApp(id: number): Promise<App> {
  const member = await startReplica({
    myId: id,
    servers: SERVERS,
    dataDir: join(tmpdir(), "corral-embedded-example", `member${id}`),
    tickTimeMs: 200,
  });
  console.log(`member ${id}: clients on ${member.connectString}, peers on port ${member.quorumPort}`);
  // The client knows every member: when this one has no leader (or stops), it uses another.
  const client = await createClient(ensembleConnectString(SERVERS), { sessionTimeoutMs: 10_000, initialConnectTimeoutMs: 60_000 });
  await client.create(KV, "").catch((error) => {
    if (!(error instanceof KeeperError && error.codeName === "NODEEXISTS")) throw error;
  });
  const http = createServer((request, response) => {
    handle(member, client, request, response).catch((error) => reply(response, 500, String(error)));
  });
  await new Promise<void>((resolve) => http.listen(httpPort(id), "127.0.0.1", resolve));
  console.log(`member ${id}: HTTP on http://127.0.0.1:${httpPort(id)}/ (GET /status, GET|PUT /kv/<key>)`);
  return { member, client, http };
}

async function handle(member: EmbeddedReplica, client: Client, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (url.pathname === "/status") {
    const { mode, leader, lastZxid, serving } = member.status();
    return reply(response, 200, JSON.stringify({ member: member.myId, mode, leader, serving, lastZxid: `0x${lastZxid.toString(16)}` }));
  }
  const key = /^\/kv\/([\w.-]+)$/.exec(url.pathname)?.[1];
  if (key === undefined) return reply(response, 404, "try /status or /kv/<key>");
  const path = `${KV}/${key}`;
  if (request.method === "PUT" || request.method === "POST") {
    const body = await readBody(request);
    const stat = await client.exists(path);
    if (stat === null) await client.create(path, body);
    else await client.setData(path, body);
    return reply(response, 200, "stored\n");
  }
  try {
    await client.sync(path); // read what the leader has committed, not just what this member applied
    const { data } = await client.getData(path);
    return reply(response, 200, new TextDecoder().decode(data));
  } catch (error) {
    if (error instanceof KeeperError && error.codeName === "NONODE") return reply(response, 404, `no key ${key}\n`);
    throw error;
  }
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of request) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (text.length > 1_000_000) throw new Error("value larger than 1 MB");
  }
  return text + decoder.decode();
}

async function stopApp(app: App): Promise<void> {
  await new Promise<void>((resolve) => app.http.close(() => resolve()));
  await app.client.close();
  await app.member.stop();
}

/** Waits (bounded) until some member leads and the ones in this process serve. */
async function ensembleReady(apps: App[]): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    if (apps.every((app) => app.member.status().serving)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no leader within 60 s: are the other members running?");
}

async function http(method: string, url: string, body?: string): Promise<string> {
  const response = await fetch(url, { method, ...(body === undefined ? {} : { body }) });
  return `${response.status} ${(await response.text()).trim()}`;
}

// Members start concurrently: each one's client waits until the ensemble has a leader.
const apps = await Promise.all(ids.map((id) => startApp(id)));
await ensembleReady(apps);

if (serveForever) {
  console.log("serving; Ctrl-C stops");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
} else {
  const first = ids[0]!;
  const other = ids[ids.length - 1]!;
  const stamp = new Date().toISOString();
  console.log(`PUT  member ${first} /kv/greeting → ${await http("PUT", `http://127.0.0.1:${httpPort(first)}/kv/greeting`, `hello at ${stamp}`)}`);
  console.log(`GET  member ${other} /kv/greeting → ${await http("GET", `http://127.0.0.1:${httpPort(other)}/kv/greeting`)}`);
  for (const id of ids) console.log(`GET  member ${id} /status → ${await http("GET", `http://127.0.0.1:${httpPort(id)}/status`)}`);
}
await Promise.all(apps.map((app) => stopApp(app)));
console.log("stopped");
