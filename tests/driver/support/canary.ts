/**
 * A well-behaved client that keeps doing round trips (setData, getData, create, delete) on its own
 * node while a test abuses the server through other connections. It checks every reply (error code
 * and the data read back) and bounds the latency of every request; the first failure stops it and
 * is kept for the test to report.
 */
import type { Transport } from "../../../src/transport/transport.ts";
import { decodeResponse } from "../../../src/wire/client_protocol.ts";
import { OPEN_ACL, type ReplyFrame, SessionClient } from "./session_client.ts";

export interface CanaryOptions {
  transport: Transport;
  port: number;
  /** The canary's own node (created at start, must not exist); nobody else may touch it. */
  path: string;
  /** Every request must be answered within this, or the canary fails. */
  requestTimeoutMs: number;
  /** Pause between iterations so the canary does not monopolise a shared CPU; default 1 ms. */
  pauseMs?: number;
  /** Hard bound on iterations (4 requests each); default 100000. */
  maxIterations?: number;
}

export interface CanaryReport {
  completed: number;
  maxLatencyMs: number;
  failure: string | null;
  violations: string[];
}

const EPHEMERAL_SEQUENTIAL = 3;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Canary {
  readonly client: SessionClient;
  readonly #options: CanaryOptions;
  #completed = 0;
  #maxLatencyMs = 0;
  #failure: string | null = null;
  #stopping = false;
  #lastWritten: string;
  #loop: Promise<void> = Promise.resolve();

  private constructor(client: SessionClient, options: CanaryOptions, initial: string) {
    this.client = client;
    this.#options = options;
    this.#lastWritten = initial;
  }

  /** Opens a session, creates the canary's node and starts the loop. */
  static async start(options: CanaryOptions): Promise<Canary> {
    const client = await SessionClient.open(options.transport, options.port, { timeOut: 30000 });
    const initial = "canary-initial";
    const created = await client.request({
      kind: "create",
      path: options.path,
      data: encoder.encode(initial),
      acl: OPEN_ACL,
      flags: 0,
      ttl: 0n,
    });
    if (created.err !== 0) {
      client.close();
      throw new Error(`the canary could not create ${options.path}: err ${created.err}`);
    }
    const canary = new Canary(client, options, initial);
    canary.#loop = canary.#run();
    return canary;
  }

  /** Requests completed correctly so far. */
  get completed(): number {
    return this.#completed;
  }

  get maxLatencyMs(): number {
    return this.#maxLatencyMs;
  }

  get failure(): string | null {
    return this.#failure;
  }

  /** Stops the loop after the current iteration and reports. The session stays open. */
  async stop(): Promise<CanaryReport> {
    this.#stopping = true;
    await this.#loop;
    return {
      completed: this.#completed,
      maxLatencyMs: this.#maxLatencyMs,
      failure: this.#failure,
      violations: [...this.client.violations],
    };
  }

  /** After stop(): the node holds exactly what the canary wrote last. Throws otherwise. */
  async verifyData(): Promise<void> {
    const read = await this.client.request(
      { kind: "getData", path: this.#options.path, watch: false },
      this.#options.requestTimeoutMs,
    );
    const data = this.#dataOf(read);
    if (data !== this.#lastWritten) {
      throw new Error(
        `the canary's node ${this.#options.path} holds ${JSON.stringify(data)}, expected ${
          JSON.stringify(this.#lastWritten)
        }`,
      );
    }
  }

  close(): void {
    this.#stopping = true;
    this.client.close();
  }

  async #run(): Promise<void> {
    const maxIterations = this.#options.maxIterations ?? 100_000;
    const pauseMs = this.#options.pauseMs ?? 1;
    try {
      for (let i = 0; i < maxIterations && !this.#stopping; i++) {
        await this.#iteration(i);
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } catch (error) {
      this.#failure = error instanceof Error ? error.message : String(error);
    }
  }

  async #iteration(i: number): Promise<void> {
    const path = this.#options.path;
    const value = `canary-${i}`;
    const set = await this.#call({ kind: "setData", path, data: encoder.encode(value), version: -1 });
    this.#lastWritten = value;
    this.#expectOk(set, `setData ${path}`);
    const read = await this.#call({ kind: "getData", path, watch: false });
    const data = this.#dataOf(read);
    if (data !== value) {
      throw new Error(
        `getData ${path} returned ${JSON.stringify(data)} right after setData ${JSON.stringify(value)}`,
      );
    }
    const created = await this.#call({
      kind: "create",
      path: `${path}/n-`,
      data: null,
      acl: OPEN_ACL,
      flags: EPHEMERAL_SEQUENTIAL,
      ttl: 0n,
    });
    this.#expectOk(created, `create ${path}/n-`);
    const response = decodeResponse("create", created.frame);
    if (response?.kind !== "create") throw new Error(`create ${path}/n- returned no path`);
    const deleted = await this.#call({ kind: "delete", path: response.path, version: -1 });
    this.#expectOk(deleted, `delete ${response.path}`);
  }

  async #call(request: Parameters<SessionClient["request"]>[0]): Promise<ReplyFrame> {
    const reply = await this.client.request(request, this.#options.requestTimeoutMs);
    this.#completed++;
    if (reply.latencyMs > this.#maxLatencyMs) this.#maxLatencyMs = reply.latencyMs;
    return reply;
  }

  #expectOk(reply: ReplyFrame, what: string): void {
    if (reply.err !== 0) throw new Error(`${what} failed with err ${reply.err}`);
  }

  #dataOf(reply: ReplyFrame): string {
    this.#expectOk(reply, `getData ${this.#options.path}`);
    const response = decodeResponse("getData", reply.frame);
    if (response?.kind !== "getData") throw new Error(`getData ${this.#options.path} returned no body`);
    return response.data === null ? "<null>" : decoder.decode(response.data);
  }
}
