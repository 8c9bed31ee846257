/**
 * An app that embeds one member of a 3-member Corral ensemble and serves HTTP beside it: a tiny
 * key-value API whose data lives in the ensemble. Runs on Node, Deno and Bun alike (node:http).
 *
 *   node --import tsx examples/embedded_replica.ts --all         # all three members in this process: a short demo, then exit
 *   deno run -A examples/embedded_replica.ts --id 1 --serve      # member 1 until Ctrl-C; start 2 and 3 the same way
 *   bun examples/embedded_replica.ts --id 2 --serve
 *
 * With --all every port is a free one the system picks, and the data goes to a fresh temporary
 * directory (removed at exit). With --id the members must agree on ports: member N listens for
 * clients on 127.0.0.1:(base+N), for its peers on base+100+N and for HTTP on base+200+N, where base
 * is --base-port (default 21800; give all three the same); its data goes to --data-dir (default
 * <tmpdir>/corral-embedded-example/memberN, kept between runs).
 *   curl -X PUT --data hello http://127.0.0.1:22001/kv/greeting
 *   curl http://127.0.0.1:22002/kv/greeting        # read through another member
 *   curl http://127.0.0.1:22003/status
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createTcpServer } from "node:net";
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

const KV = "/kv";

const args = process.argv.slice(2).filter((arg) => arg !== "--");
const all = args.includes("--all");
const serveForever = args.includes("--serve");
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
};
const ids = all ? [1, 2, 3] : [Number(flag("--id") ?? NaN)];
const basePort = Number(flag("--base-port") ?? 21800);
if ((!all && !(ids[0]! >= 1 && ids[0]! <= 3)) || !(Number.isInteger(basePort) && basePort > 0 && basePort <= 65535 - 203)) {
  console.error("usage: embedded_replica.ts --all | --id <1|2|3> [--base-port <n>] [--data-dir <dir>]  [--serve]");
  process.exit(2);
}

/** A port that was free a moment ago (bind 127.0.0.1:0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

interface Ports {
  client: number;
  quorum: number;
  http: number;
}

async function pickPorts(id: number): Promise<Ports> {
  if (!all) return { client: basePort + id, quorum: basePort + 100 + id, http: basePort + 200 + id };
  return { client: await freePort(), quorum: await freePort(), http: await freePort() };
}

const PORTS = new Map<number, Ports>();
for (const id of [1, 2, 3]) PORTS.set(id, await pickPorts(id));
const SERVERS: ReplicaServer[] = [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", quorumPort: PORTS.get(id)!.quorum, clientPort: PORTS.get(id)!.client }));
const httpPort = (id: number) => PORTS.get(id)!.http;
const scratch = all ? mkdtempSync(join(tmpdir(), "corral-embedded-example-")) : null;
const dataDir = (id: number) =>
  scratch !== null ? join(scratch, `member${id}`) : flag("--data-dir") ?? join(tmpdir(), "corral-embedded-example", `member${id}`);

interface App {
  member: EmbeddedReplica;
  client: Client;
  http: HttpServer;
}

/** Starts member `id`, a client of the whole ensemble, and the HTTP server. */
async function startApp(id: number): Promise<App> {
  const member = await startReplica({
    myId: id,
    servers: SERVERS,
    dataDir: dataDir(id),
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
if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
console.log("stopped");
