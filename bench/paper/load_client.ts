/**
 * A benchmark client as in the ZooKeeper paper's throughput runs: one session on one server, up to
 * `window` requests outstanding, each a 1 KiB setData or a getData of one of a few znodes, reads
 * with probability `readRatio`. It encodes requests and decodes replies with the real jute codec;
 * that work happens outside every server meter (it is the client's).
 */
import type { Request, RequestKind } from "../../src/core/records.ts";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  decodeResponse,
  encodeConnectRequest,
  encodeRequest,
} from "../../src/wire/client_protocol.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";

/** The error text of the first few failed replies, kept for the report. */
const ERRORS_KEPT = 5;

export interface LoadClientOptions {
  connection: number;
  send: (connection: number, frames: Uint8Array[]) => void;
  seed: number;
  /** Requests kept outstanding (the paper: 100). */
  window: number;
}

export class LoadClient {
  readonly connection: number;
  readonly #send: (connection: number, frames: Uint8Array[]) => void;
  readonly #prng: Prng;
  readonly #window: number;
  #connected = false;
  #nextXid = 1;
  /** Outstanding requests, oldest first: replies come back in request order on one connection. */
  #pendingXids: number[] = [];
  #pendingKinds: RequestKind[] = [];
  #pendingHead = 0;
  /** Requests to send before the workload (setup), in order. */
  #script: Request[] = [];
  #workload: { readRatio: number; paths: readonly string[]; data: Uint8Array } | null = null;
  completed = 0;
  failed = 0;
  readonly errors: string[] = [];

  constructor(options: LoadClientOptions) {
    this.connection = options.connection;
    this.#send = options.send;
    this.#prng = createPrng(options.seed);
    this.#window = options.window;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get outstanding(): number {
    return this.#pendingXids.length - this.#pendingHead;
  }

  /** Sends the ConnectRequest (a fresh session, 30 s timeout). */
  connect(): void {
    const frame = encodeConnectRequest({
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut: 30_000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly: false,
    });
    this.#send(this.connection, [frame]);
  }

  /** Queues requests to send first (creating the znodes), as many at a time as the window allows. */
  runScript(requests: readonly Request[]): void {
    this.#script.push(...requests);
    this.#refill();
  }

  /** Starts (or with null stops) issuing the random workload. */
  setWorkload(workload: { readRatio: number; paths: readonly string[]; data: Uint8Array } | null): void {
    if (workload !== null && workload.paths.length === 0) throw new Error("a workload needs at least one znode path");
    this.#workload = workload;
    this.#refill();
  }

  /** Frames the server wrote to this connection. */
  onFrames(frames: Uint8Array[]): void {
    for (const frame of frames) this.#onFrame(frame.subarray(4));
    this.#refill();
  }

  #onFrame(payload: Uint8Array): void {
    if (!this.#connected) {
      const response = decodeConnectResponse(payload);
      if (response.timeOut <= 0) throw new Error(`client ${this.connection}: the server refused the session`);
      this.#connected = true;
      return;
    }
    const header = decodeReplyHeader(payload);
    if (header.xid === -1) return; // a watch notification: none are set
    if (this.#pendingHead >= this.#pendingXids.length) {
      throw new Error(`client ${this.connection}: a reply with xid ${header.xid} while nothing is outstanding`);
    }
    const xid = this.#pendingXids[this.#pendingHead]!;
    const kind = this.#pendingKinds[this.#pendingHead]!;
    this.#pendingHead++;
    if (header.xid !== xid) throw new Error(`client ${this.connection}: reply xid ${header.xid}, expected ${xid} (out of order)`);
    if (header.err !== 0) {
      this.failed++;
      if (this.errors.length < ERRORS_KEPT) this.errors.push(`${kind} xid ${xid}: error code ${header.err}`);
      return;
    }
    decodeResponse(kind, payload);
    this.completed++;
  }

  #refill(): void {
    if (!this.#connected) return;
    if (this.#pendingHead > 1024) {
      this.#pendingXids = this.#pendingXids.slice(this.#pendingHead);
      this.#pendingKinds = this.#pendingKinds.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
    const frames: Uint8Array[] = [];
    while (this.outstanding < this.#window) {
      const request = this.#script.shift() ?? this.#nextWorkloadRequest();
      if (request === null) break;
      const xid = this.#nextXid++;
      frames.push(encodeRequest(xid, request));
      this.#pendingXids.push(xid);
      this.#pendingKinds.push(request.kind);
    }
    if (frames.length > 0) this.#send(this.connection, frames);
  }

  #nextWorkloadRequest(): Request | null {
    const workload = this.#workload;
    if (workload === null) return null;
    const path = workload.paths[this.#prng.int(workload.paths.length)]!;
    if (this.#prng.next() < workload.readRatio) return { kind: "getData", path, watch: false };
    return { kind: "setData", path, data: workload.data, version: -1 };
  }
}
