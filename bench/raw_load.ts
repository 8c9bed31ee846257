/**
 * A raw pipelined load generator for ZooKeeper-protocol servers, run as its own process so that its
 * CPU is measured apart from the servers' and from the bench's: each connection keeps
 * `outstanding` getData/setData requests in flight, made from frames encoded once (only the xid
 * changes), and reads replies by their length prefix and header alone (xid and err; the body is
 * skipped). It writes once per reply (no batching), so it costs about 7.5-15 µs per operation here,
 * the kernel's socket work included: less than Corral's client, and it is the same for both servers.
 *
 * Replies on one connection come in request order (ZooKeeper's FIFO client order), so each
 * connection's send times are a queue. Every loop is bounded: requests by the deadline, the wait
 * for the last replies by DRAIN_MS, connecting by CONNECT_MS.
 *
 *   node --import tsx bench/raw_load.ts '<json RawLoadOptions>'   → prints one RawLoadResult as JSON
 */
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { encodeConnectRequest, encodeRequest } from "../src/wire/client_protocol.ts";
import { LatencyHistogram } from "./latency_histogram.ts";

export interface RawLoadOptions {
  /** "host:port" of each server; connection i goes to servers[i % servers.length]. */
  servers: string[];
  /** Existing znodes; connection i reads and writes paths[i % paths.length]. */
  paths: string[];
  connections: number;
  outstanding: number;
  /** Percentage of getData; the rest setData, spread evenly over each connection's requests. */
  readPercent: number;
  /** Bytes of each setData. */
  dataBytes: number;
  /** Load before the measured window (not counted). */
  warmupMs: number;
  durationMs: number;
}

export interface RawLoadResult {
  operations: number;
  errors: number;
  /** The measured window. */
  elapsedMs: number;
  /** This process's CPU (user + system) over the measured window. */
  cpuMicros: number;
  /** LatencyHistogram.toCounts() of the replies in the window. */
  latencyCounts: Array<[number, number]>;
  firstError: string | null;
}

const CONNECT_MS = 10_000;
const DRAIN_MS = 10_000;
const SESSION_TIMEOUT_MS = 30_000;
/** A reply header: xid, zxid, err. */
const REPLY_HEADER_BYTES = 16;
const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const WINDOW_OPENED = "window opened";
const WINDOW_CLOSED = "window closed";

/** Called when the child's measured window opens and closes: the moments to read the servers' CPU. */
export interface RawLoadWindow {
  opened(): void;
  closed(): void;
}

/** Runs the generator in a child Node process (the bench's own runtime may be another) and returns what it measured. */
export function runRawLoadProcess(options: RawLoadOptions, window: RawLoadWindow): Promise<RawLoadResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath.endsWith("node") ? process.execPath : "node", ["--import", "tsx", script, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let seen = 0;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      // The child prints WINDOW_OPENED and WINDOW_CLOSED lines as it measures; the result last.
      for (let newline = out.indexOf("\n", seen); newline >= 0; newline = out.indexOf("\n", seen)) {
        const line = out.slice(seen, newline).trim();
        seen = newline + 1;
        if (line === WINDOW_OPENED) window.opened();
        else if (line === WINDOW_CLOSED) window.closed();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => err = (err + chunk).slice(-4000));
    const limit = setTimeout(() => child.kill("SIGKILL"), options.warmupMs + options.durationMs + CONNECT_MS + DRAIN_MS + 30_000);
    child.once("error", (error) => {
      clearTimeout(limit);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(limit);
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) {
        reject(new Error(`the raw load generator exited with ${code}: ${err.trim().split("\n").slice(-3).join(" / ")}`));
        return;
      }
      resolve(JSON.parse(line) as RawLoadResult);
    });
  });
}

/** One connection: its socket, its encoded requests, and the send times of what is in flight. */
class RawConnection {
  readonly socket: Socket;
  readonly #get: Uint8Array;
  readonly #set: Uint8Array;
  readonly #pattern: boolean[];
  #next = 0;
  #xid = 1;
  /** Send times of the requests in flight, oldest first (a ring). */
  readonly #sent: Float64Array;
  #sentHead = 0;
  #sentCount = 0;
  #buffered: Uint8Array = new Uint8Array(0);
  #handshaken = false;

  constructor(socket: Socket, get: Uint8Array, set: Uint8Array, pattern: boolean[], outstanding: number, offset: number) {
    this.socket = socket;
    this.#get = get;
    this.#set = set;
    this.#pattern = pattern;
    this.#next = offset;
    this.#sent = new Float64Array(outstanding);
  }

  get inFlight(): number {
    return this.#sentCount;
  }

  /** Sends `count` requests in one write. */
  send(count: number, nowMs: number): void {
    if (count <= 0) return;
    const frames: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const template = this.#pattern[this.#next++ % this.#pattern.length] ? this.#get : this.#set;
      frames.push(template);
      bytes += template.length;
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const frame of frames) {
      out.set(frame, at);
      out.writeInt32BE(this.#xid++, at + 4); // the xid follows the 4-byte length prefix
      at += frame.length;
      this.#sent[(this.#sentHead + this.#sentCount) % this.#sent.length] = nowMs;
      this.#sentCount++;
    }
    this.socket.write(out);
  }

  /**
   * Takes bytes from the socket; calls `onReply(sentAtMs, err)` per reply to one of our requests and
   * `onHandshake` once the connect response is whole. Throws on a frame too large to be a reply.
   */
  receive(chunk: Uint8Array, onHandshake: () => void, onReply: (sentAtMs: number, err: number) => void): void {
    let bytes = this.#buffered.length === 0 ? chunk : concat(this.#buffered, chunk);
    let at = 0;
    while (bytes.length - at >= 4) {
      const length = readInt(bytes, at);
      if (length < 0 || length > FRAME_BYTES_MAX) throw new Error(`a reply frame claims ${length} bytes`);
      if (bytes.length - at - 4 < length) break;
      const payload = at + 4;
      at = payload + length;
      if (!this.#handshaken) {
        this.#handshaken = true;
        onHandshake();
        continue;
      }
      if (length < REPLY_HEADER_BYTES) throw new Error(`a reply of ${length} bytes is shorter than its header`);
      const xid = readInt(bytes, payload);
      if (xid <= 0) continue; // a ping or a watch event: not ours
      const sentAt = this.#sent[this.#sentHead]!;
      this.#sentHead = (this.#sentHead + 1) % this.#sent.length;
      this.#sentCount--;
      onReply(sentAt, readInt(bytes, payload + 12));
    }
    this.#buffered = at === bytes.length ? new Uint8Array(0) : bytes.slice(at);
  }
}

function readInt(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) | 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** 100 flags, `percent` of them true and spread evenly (50 → alternating). */
function readPattern(percent: number): boolean[] {
  const pattern: boolean[] = [];
  for (let k = 0; k < 100; k++) pattern.push(Math.floor(((k + 1) * percent) / 100) > Math.floor((k * percent) / 100));
  return pattern;
}

/** The generator itself (in the child process). */
export async function rawLoad(options: RawLoadOptions): Promise<RawLoadResult> {
  const pattern = readPattern(options.readPercent);
  const data = new Uint8Array(options.dataBytes).fill(0x62);
  const latencies = new LatencyHistogram();
  let operations = 0;
  let errors = 0;
  let firstError: string | null = null;
  let phase: "warmup" | "measure" | "drain" = "warmup";
  const connections: RawConnection[] = [];
  let handshakes = 0;
  let onAllHandshaken: () => void = () => {};
  let onDrained: () => void = () => {};
  const fail = (message: string) => {
    errors++;
    firstError ??= message;
  };
  const allHandshaken = new Promise<void>((resolve, reject) => {
    onAllHandshaken = resolve;
    setTimeout(() => reject(new Error(`not every connection was answered within ${CONNECT_MS} ms`)), CONNECT_MS).unref();
  });
  for (let i = 0; i < options.connections; i++) {
    const [host, port] = splitHostPort(options.servers[i % options.servers.length]!);
    const path = options.paths[i % options.paths.length]!;
    const get = Buffer.from(encodeRequest(1, { kind: "getData", path, watch: false }));
    const set = Buffer.from(encodeRequest(1, { kind: "setData", path, data, version: -1 }));
    const socket = connect({ host, port, noDelay: true });
    const connection = new RawConnection(socket, get, set, pattern, options.outstanding, i * 37);
    connections.push(connection);
    socket.on("error", (error) => fail(`connection ${i}: ${error.message}`));
    socket.on("data", (chunk: Buffer) => {
      try {
        connection.receive(chunk, () => {
          if (++handshakes === options.connections) onAllHandshaken();
        }, (sentAt, err) => {
          const now = performance.now();
          if (phase === "measure") {
            if (err === 0) {
              operations++;
              latencies.record(now - sentAt);
            } else fail(`error ${err} from the server`);
          }
          if (phase === "drain") {
            if (connections.every((c) => c.inFlight === 0)) onDrained();
            return;
          }
          connection.send(1, now);
        });
      } catch (error) {
        fail(String(error));
        socket.destroy();
      }
    });
    socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: SESSION_TIMEOUT_MS, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }));
  }
  try {
    await allHandshaken;
    const start = performance.now();
    for (const connection of connections) connection.send(options.outstanding, start);
    await sleep(options.warmupMs);
    phase = "measure";
    console.log(WINDOW_OPENED);
    const cpuBefore = process.cpuUsage();
    const measureStart = performance.now();
    await sleep(options.durationMs);
    phase = "drain";
    const elapsedMs = performance.now() - measureStart;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(WINDOW_CLOSED);
    await Promise.race([new Promise<void>((resolve) => onDrained = resolve), sleep(DRAIN_MS)]);
    return { operations, errors, elapsedMs, cpuMicros: cpu.user + cpu.system, latencyCounts: latencies.toCounts(), firstError };
  } finally {
    for (const connection of connections) connection.socket.destroy();
  }
}

function splitHostPort(server: string): [string, number] {
  const colon = server.lastIndexOf(":");
  return [server.slice(0, colon), Number(server.slice(colon + 1))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  rawLoad(JSON.parse(process.argv[2] ?? "{}") as RawLoadOptions).then(
    (result) => console.log(JSON.stringify(result)),
    (error) => {
      console.error(`raw load: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
