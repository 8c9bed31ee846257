/**
 * What examples/embedded_{deno,bun,node}.ts share: a tiny key-value HTTP API whose keys live in
 * Corral (one znode per key under a root path), written without any runtime's HTTP types so that
 * each example only adapts its own server to it, plus the requests each example sends itself.
 *
 *   GET    /keys          → 200, JSON array of the keys
 *   GET    /keys/NAME     → 200 with the value, or 404
 *   PUT    /keys/NAME     → 201 (created) or 200 (updated); the body is the value
 *   DELETE /keys/NAME     → 204, or 404
 */
import { type Client, CreateMode, KeeperError } from "../mod.ts";
import { ensurePath } from "../src/recipes/mod.ts";

/** The runtime-neutral parts of an HTTP request and response. */
export interface KvRequest {
  method: string;
  /** The URL's pathname, e.g. "/keys/greeting". */
  path: string;
  /** The body as text ("" when there is none). */
  body: string;
}

export interface KvResponse {
  status: number;
  body: string;
  contentType: string;
}

/** Keys as znodes `<root>/<key>` with the value as the znode's data. */
export class KeyValueStore {
  readonly root: string;
  readonly #client: Client;

  constructor(client: Client, root: string) {
    this.root = root;
    this.#client = client;
  }

  /** Creates the root znode (and its parents) if it does not exist yet. */
  async init(): Promise<void> {
    // Persistent, not ensurePath's default container: a container vanishes once its last key does.
    await ensurePath(this.#client, this.root, { mode: CreateMode.PERSISTENT });
  }

  /** The value, or null when the key does not exist. */
  async get(key: string): Promise<string | null> {
    try {
      const { data } = await this.#client.getData(this.#path(key));
      return new TextDecoder().decode(data);
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) return null;
      throw error;
    }
  }

  /** Creates or replaces the value; resolves "created" or "updated". */
  async put(key: string, value: string): Promise<"created" | "updated"> {
    // Bounded: each round loses only to a concurrent create or delete of the same key.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.#client.setData(this.#path(key), value);
        return "updated";
      } catch (error) {
        if (!KeeperError.is(error, "NONODE")) throw error;
      }
      try {
        await this.#client.create(this.#path(key), value);
        return "created";
      } catch (error) {
        if (!KeeperError.is(error, "NODEEXISTS")) throw error;
      }
    }
    throw new Error(`put ${key}: the key kept being created and deleted by others; try again`);
  }

  /** Deletes the key; resolves false when it did not exist. */
  async delete(key: string): Promise<boolean> {
    try {
      await this.#client.delete(this.#path(key));
      return true;
    } catch (error) {
      if (KeeperError.is(error, "NONODE")) return false;
      throw error;
    }
  }

  async keys(): Promise<string[]> {
    return (await this.#client.getChildren(this.root)).sort();
  }

  #path(key: string): string {
    return `${this.root}/${key}`;
  }
}

const KEY_PATH = /^\/keys\/([A-Za-z0-9._-]{1,200})$/;

/** Routes one request to the store. Errors from Corral become 503 with the error code's name. */
export async function handleKvRequest(store: KeyValueStore, request: KvRequest): Promise<KvResponse> {
  try {
    if (request.path === "/keys" && request.method === "GET") {
      return json(200, await store.keys());
    }
    const key = KEY_PATH.exec(request.path)?.[1];
    if (key === undefined) return text(404, `no route for ${request.method} ${request.path}\n`);
    switch (request.method) {
      case "GET": {
        const value = await store.get(key);
        return value === null ? text(404, `no key ${key}\n`) : text(200, value);
      }
      case "PUT": {
        const outcome = await store.put(key, request.body);
        return text(outcome === "created" ? 201 : 200, `${outcome}\n`);
      }
      case "DELETE":
        return (await store.delete(key)) ? text(204, "") : text(404, `no key ${key}\n`);
      default:
        return text(405, `${request.method} is not allowed on ${request.path}\n`);
    }
  } catch (error) {
    const name = KeeperError.is(error) ? error.codeName : "unexpected error";
    return text(503, `corral: ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

function text(status: number, body: string): KvResponse {
  return { status, body, contentType: "text/plain; charset=utf-8" };
}

function json(status: number, value: unknown): KvResponse {
  return { status, body: JSON.stringify(value), contentType: "application/json" };
}

/**
 * The requests every embedded example sends to itself, printed as they go. Throws if an answer is
 * not the expected one; resolves with the number of requests sent.
 */
export async function exerciseKvApi(
  baseUrl: string,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const steps: Array<{ method: string; path: string; body?: string; status: number; expect?: string }> = [
    { method: "PUT", path: "/keys/greeting", body: "hello", status: 201 },
    { method: "GET", path: "/keys/greeting", status: 200, expect: "hello" },
    { method: "PUT", path: "/keys/greeting", body: "hello again", status: 200 },
    { method: "PUT", path: "/keys/answer", body: "42", status: 201 },
    { method: "GET", path: "/keys", status: 200, expect: '["answer","greeting"]' },
    { method: "GET", path: "/keys/greeting", status: 200, expect: "hello again" },
    { method: "DELETE", path: "/keys/answer", status: 204 },
    { method: "GET", path: "/keys/answer", status: 404 },
  ];
  for (const step of steps) {
    const response = await fetch(`${baseUrl}${step.path}`, {
      method: step.method,
      body: step.body,
      signal: options.signal,
    });
    const body = await response.text();
    const sent = step.body === undefined ? "" : ` "${step.body}"`;
    console.log(`${step.method} ${step.path}${sent} → ${response.status} ${body.trim()}`.trimEnd());
    if (response.status !== step.status || (step.expect !== undefined && body !== step.expect)) {
      throw new Error(
        `${step.method} ${step.path}: expected ${step.status} ${
          step.expect ?? ""
        }, got ${response.status} ${body}`,
      );
    }
  }
  return steps.length;
}

/**
 * The examples' main part: with --serve, answer HTTP until interrupted; otherwise send the self-test
 * requests and report. An interruption ends either quietly.
 */
export async function serveOrExercise(
  name: string,
  baseUrl: string,
  options: { serve: boolean; interrupted: AbortSignal },
): Promise<void> {
  const { interrupted } = options;
  try {
    if (options.serve) {
      console.log(`${name}: try  curl -X PUT -d hi ${baseUrl}/keys/greeting ; Ctrl-C stops`);
      await new Promise((resolve) => interrupted.addEventListener("abort", resolve, { once: true }));
    } else {
      const count = await exerciseKvApi(baseUrl, { signal: interrupted });
      console.log(`${name}: ${count} requests answered`);
    }
  } catch (error) {
    if (!interrupted.aborted) throw error;
  }
}
