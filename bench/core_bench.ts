/**
 * The pure server core alone (src/core/server.ts): no codec, no sockets, one connection. Requests go
 * in through Server.request and replies come out of takeOutputs, as the driver does it.
 */
import { memoryUsage } from "node:process";
import { Server } from "../src/core/server.ts";
import { defaultServerConfig, type ServerOutput } from "../src/core/server_io.ts";
import type { ACL, Reply, Request } from "../src/core/records.ts";
import { CreateFlags, OpCode } from "../src/core/records.ts";
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";
import { findGc } from "./runtime_info.ts";
import { type BenchTiming, MICRO_COLUMNS, runBatched } from "./tinybench_rows.ts";

/** Operations per tinybench call (see tinybench_rows.ts). */
const BATCH = 100;
const START_MS = 1_700_000_000_000;
const SETTLE_ROUNDS_MAX = 16;

/**
 * One connection with a session, driven synchronously. Writes are acknowledged as durable as soon as
 * the core asks (persist → persisted), as the driver does when it has no durable log.
 */
class CoreSession {
  readonly server: Server;
  readonly #connection = 1;
  #xid = 1;

  constructor(server: Server) {
    this.server = server;
    server.open(this.#connection, { remoteAddress: "127.0.0.1", remotePort: 40001 });
    server.connect(this.#connection, {
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut: 30_000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly: false,
    });
    const outputs = this.#settle();
    if (outputs[0]?.kind !== "connectResponse" || outputs[0].response.timeOut <= 0) {
      throw new Error(`core bench: no session (outputs: ${JSON.stringify(outputs.map((o) => o.kind))})`);
    }
  }

  /** Sends one request and returns its reply; throws unless it is the only output and succeeded. */
  call(type: number, request: Request): Reply {
    this.server.request(this.#connection, { xid: this.#xid++, type }, request);
    const outputs = this.#settle();
    const output = outputs[0];
    if (outputs.length !== 1 || output?.kind !== "reply" || output.reply.header.err !== 0) {
      throw new Error(
        `core bench: ${request.kind} did not get exactly one OK reply: ${JSON.stringify(outputs, bigints)}`,
      );
    }
    return output.reply;
  }

  /** Takes outputs until the core has nothing more to say; returns those meant for the connection. */
  #settle(): ServerOutput[] {
    const forConnection: ServerOutput[] = [];
    // Bounded: each round is released by the previous round's persisted() call.
    for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
      const outputs = this.server.takeOutputs();
      if (outputs.length === 0) return forConnection;
      let persistedUpTo = 0;
      for (const output of outputs) {
        if (output.kind === "persist") persistedUpTo = output.writeSeq;
        else if (output.kind !== "snapshot" && output.kind !== "log") forConnection.push(output);
      }
      if (persistedUpTo > 0) this.server.persisted(persistedUpTo);
    }
    throw new Error(`core bench: the core still had outputs after ${SETTLE_ROUNDS_MAX} rounds`);
  }
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** A fresh ACL list per request, as the wire decoder would produce. */
function openAcl(): ACL[] {
  return [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
}

function createRequest(path: string, data: Uint8Array, flags: number): Request {
  return { kind: "create", path, data, acl: openAcl(), flags, ttl: 0n };
}

function newServer(): Server {
  return new Server(defaultServerConfig({ sessionIdSeedMs: START_MS }), START_MS);
}

export async function coreSpeedTable(timing: BenchTiming): Promise<Table> {
  const session = new CoreSession(newServer());
  const kibibyte = new Uint8Array(1024).fill(0x61);
  session.call(OpCode.create, createRequest("/bench", new Uint8Array(0), CreateFlags.PERSISTENT));
  session.call(OpCode.create, createRequest("/bench/node", kibibyte, CreateFlags.PERSISTENT));
  const rows = await runBatched([
    {
      name: "getData (1 KiB node)",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          session.call(OpCode.getData, { kind: "getData", path: "/bench/node", watch: false });
        }
      },
    },
    {
      name: "setData (1 KiB)",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          session.call(OpCode.setData, { kind: "setData", path: "/bench/node", data: kibibyte, version: -1 });
        }
      },
    },
    {
      name: "create sequential + delete it (op = the pair)",
      operationsPerCall: BATCH,
      run: () => {
        for (let i = 0; i < BATCH; i++) {
          const body = session.call(
            OpCode.create,
            createRequest("/bench/seq-", kibibyte, CreateFlags.PERSISTENT_SEQUENTIAL),
          ).body;
          if (body?.kind !== "create") throw new Error(`core bench: create replied ${body?.kind}`);
          session.call(OpCode.delete, { kind: "delete", path: body.path, version: -1 });
        }
      },
    },
  ], timing);
  return {
    title: "Core only (Server.request + takeOutputs, one connection, no codec, no sockets)",
    note:
      "Writes are acknowledged as durable at once (persist → persisted), as the driver does without a durable log.",
    columns: MICRO_COLUMNS,
    rows,
  };
}

export interface ZnodeMemory {
  count: number;
  dataBytes: number;
  heapBytes: number;
  externalBytes: number;
  /** Whether a full GC ran before each reading (else the figures include garbage). */
  gc: boolean;
}

/**
 * Heap growth of a fresh Server after creating `count` znodes of `dataBytes` each, one connection.
 * Data buffers of more than 64 bytes live outside V8's heap, so `external` is read as well.
 */
export function measureZnodeMemory(count: number, dataBytes: number): ZnodeMemory {
  const gc = findGc();
  const collect = () => {
    gc?.();
    gc?.();
  };
  const session = new CoreSession(newServer());
  session.call(OpCode.create, createRequest("/mem", new Uint8Array(0), CreateFlags.PERSISTENT));
  collect();
  const before = memoryUsage();
  for (let i = 0; i < count; i++) {
    session.call(
      OpCode.create,
      createRequest(`/mem/node-${i}`, new Uint8Array(dataBytes).fill(i & 0xff), CreateFlags.PERSISTENT),
    );
  }
  collect();
  const after = memoryUsage();
  // Also keeps the server (and its tree) reachable until after the second reading.
  const nodes = session.server.status().nodeCount;
  if (nodes < count) {
    throw new Error(`core bench: expected at least ${count} znodes, the server has ${nodes}`);
  }
  return {
    count,
    dataBytes,
    heapBytes: after.heapUsed - before.heapUsed,
    externalBytes: after.external - before.external,
    gc: gc !== null,
  };
}

export function znodeMemoryTable(memory: ZnodeMemory): Table {
  const perNode = (bytes: number) => formatFigure(bytes / memory.count);
  return {
    title: "Memory per znode (fresh Server, core only)",
    note: `${formatCount(memory.count)} persistent znodes of ${memory.dataBytes} bytes under one parent. ` +
      (memory.gc ? "A full GC ran before each reading." : "No GC available: figures include garbage.") +
      " external = ArrayBuffer storage outside the JS heap.",
    columns: ["znodes", "heap Δ (bytes/znode)", "external Δ (bytes/znode)", "total (bytes/znode)"],
    rows: [[
      formatCount(memory.count),
      perNode(memory.heapBytes),
      perNode(memory.externalBytes),
      perNode(memory.heapBytes + memory.externalBytes),
    ]],
  };
}
