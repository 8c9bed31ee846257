import assert from "node:assert/strict";
import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { describe, test } from "node:test";
import type { Request, RequestHeader } from "../../src/core/records.ts";
import { Server } from "../../src/core/server.ts";
import { type ConnectionId, defaultServerConfig } from "../../src/core/server_io.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { serve, type ServeOptions, serveCore, type ServerHandle } from "../../src/driver/server_driver.ts";
import { defaultTransport } from "../../src/transport/auto.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { encodeConnectRequest, encodeRequest } from "../../src/wire/client_protocol.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { waitFor } from "../support/wait_for.ts";
import { OPEN_ACL, WireClient } from "./wire_client.ts";

const HOST = "127.0.0.1";

async function withServer(
  options: Partial<ServeOptions> & { transport?: Transport },
  body: (handle: ServerHandle<Server>, transport: Transport, logger: MemoryLogger) => Promise<void>,
): Promise<void> {
  const transport = options.transport ?? (await defaultTransport());
  const logger = new MemoryLogger();
  const handle = await serve({ host: HOST, port: 0, config: defaultServerConfig({ tickTimeMs: 200 }), logger, ...options, transport });
  try {
    await body(handle, transport, logger);
  } finally {
    await handle.close();
  }
}

/** A node:net socket that collects what it receives; `pause()` makes it stop reading. */
function rawConnect(port: number): Promise<{ socket: NetSocket; received: () => number; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let closed = false;
    const socket = netConnect({ host: HOST, port });
    socket.on("data", (chunk: Uint8Array) => {
      bytes += chunk.length;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
    });
    socket.once("connect", () => resolve({ socket, received: () => bytes, closed: () => closed }));
    socket.once("error", reject);
  });
}

describe("server driver over real TCP", () => {
  test("srvr answers by default; ruok is refused with the reference's sentence", async () => {
    await withServer({}, async (handle) => {
      const srvr = await fourLetterWord(HOST, handle.port, "srvr");
      assert.match(srvr, /^Zookeeper version: 3\.8\.0-corral-/);
      assert.match(srvr, /\nMode: standalone\n/);
      assert.match(srvr, /\nNode count: 5\n/);
      assert.equal(await fourLetterWord(HOST, handle.port, "ruok"), "ruok is not executed because it is not in the whitelist.\n");
    });
  });

  test("ruok answers imok when whitelisted; stat shows the asking connection", async () => {
    await withServer({ fourLetterWhitelist: new Set(["*"]) }, async (handle) => {
      assert.equal(await fourLetterWord(HOST, handle.port, "ruok"), "imok");
      const stat = await fourLetterWord(HOST, handle.port, "stat");
      assert.match(stat, /Clients:\n \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)\n\n/);
    });
  });

  test("handshake, create and getData round trip; cons shows the session", async () => {
    await withServer({ fourLetterWhitelist: new Set(["cons"]) }, async (handle, transport) => {
      const client = await WireClient.connect(transport, handle.port);
      const response = await client.handshake(30000);
      assert.ok(response.sessionId !== 0n);
      assert.equal(response.timeOut, 4000, "clamped to 20 × tickTime");
      const created = await client.call(1, { kind: "create", path: "/a", data: new Uint8Array([1, 2]), acl: OPEN_ACL, flags: 0, ttl: 0n });
      assert.equal(created.err, 0);
      const read = await client.call(2, { kind: "getData", path: "/a", watch: false });
      assert.equal(read.err, 0);
      const cons = await fourLetterWord(HOST, handle.port, "cons");
      assert.match(cons, new RegExp(`sid=0x${response.sessionId.toString(16)},lop=GETD,`));
      client.close();
    });
  });

  test("maxClientCnxns: the connection over the limit is closed at accept; others keep working", async () => {
    await withServer({ maxClientCnxns: 2 }, async (handle, transport, logger) => {
      const a = await WireClient.connect(transport, handle.port);
      const b = await WireClient.connect(transport, handle.port);
      await a.handshake();
      await b.handshake();
      const c = await WireClient.connect(transport, handle.port);
      await c.waitClosed("the third connection to be refused");
      assert.ok(logger.has("Too many connections from /127.0.0.1 - max is 2"));
      assert.equal((await a.call(1, { kind: "exists", path: "/", watch: false })).err, 0);
      a.close();
      await a.waitClosed("a to close");
      await waitFor(async () => {
        const d = await WireClient.connect(transport, handle.port);
        try {
          await d.handshake();
          return true;
        } finally {
          d.close();
        }
      }, { timeoutMs: 5000, what: "a new connection to be accepted once one closed" });
      b.close();
    });
  });

  test("an oversized frame closes only its connection", async () => {
    await withServer({ maxFrameBytes: 1024 }, async (handle, transport, logger) => {
      const good = await WireClient.connect(transport, handle.port);
      const bad = await WireClient.connect(transport, handle.port);
      await good.handshake();
      await bad.handshake();
      bad.send(encodeRequest(1, { kind: "setData", path: "/", data: new Uint8Array(4096), version: -1 }));
      await bad.waitClosed("the oversized frame's connection to close");
      assert.ok(logger.has("jute.maxbuffer"), "a clear log line names the limit");
      assert.equal((await good.call(1, { kind: "exists", path: "/", watch: false })).err, 0);
      good.close();
    });
  });

  test("garbage first bytes, a bad ConnectRequest and a short frame each close their connection", async () => {
    await withServer({}, async (handle, transport, logger) => {
      const garbage = await WireClient.connect(transport, handle.port);
      garbage.send(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
      await garbage.waitClosed("garbage to be closed");
      assert.equal(garbage.bytesReceived, 0);

      const badConnect = await WireClient.connect(transport, handle.port);
      badConnect.send(new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
      await badConnect.waitClosed("a 3-byte ConnectRequest to be closed");
      assert.ok(logger.has("malformed ConnectRequest"));

      const short = await WireClient.connect(transport, handle.port);
      await short.handshake();
      short.send(new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
      await short.waitClosed("a 3-byte request frame to be closed");
      assert.ok(logger.has("shorter than the 8-byte request header"));

      assert.match(await fourLetterWord(HOST, handle.port, "srvr"), /Mode: standalone/);
    });
  });

  test("a connection that sends nothing is closed after the sessionless timeout", async () => {
    await withServer({ sessionlessTimeoutMs: 300 }, async (handle, transport, logger) => {
      const idle = await WireClient.connect(transport, handle.port);
      await idle.waitClosed("the idle connection to be closed", 5000);
      assert.ok(logger.has("no session established within 300 ms"));
    });
  });

  test("a silent session expires and its connection is closed by the timer", async () => {
    await withServer({ config: defaultServerConfig({ tickTimeMs: 50 }) }, async (handle, transport) => {
      const client = await WireClient.connect(transport, handle.port);
      const response = await client.handshake(100);
      assert.equal(response.timeOut, 100);
      await client.waitClosed("the expired session's connection to close", 5000);
    });
  });

  test("a client that stops reading is closed past outputBufferBytesMax; others keep completing requests", async () => {
    await withServer({ outputBufferBytesMax: 1024 * 1024 }, async (handle, transport, logger) => {
      const writer = await WireClient.connect(transport, handle.port);
      await writer.handshake();
      const big = new Uint8Array(512 * 1024).fill(7);
      assert.equal((await writer.call(1, { kind: "create", path: "/big", data: big, acl: OPEN_ACL, flags: 0, ttl: 0n })).err, 0);

      const slow = await rawConnect(handle.port);
      slow.socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }));
      await waitFor(() => slow.received() > 0, { timeoutMs: 5000, what: "the slow client's ConnectResponse" });
      slow.socket.pause();
      for (let xid = 1; xid <= 200; xid++) slow.socket.write(encodeRequest(xid, { kind: "getData", path: "/big", watch: false }));

      let xid = 10;
      await waitFor(async () => {
        assert.equal((await writer.call(++xid, { kind: "exists", path: "/big", watch: false })).err, 0);
        return logger.has("the client is not reading");
      }, { timeoutMs: 20000, what: "the slow reader to be closed" });
      assert.equal((await writer.call(++xid, { kind: "getData", path: "/big", watch: false })).err, 0);
      await waitFor(() => /Connections: 1\n/.test(handle.fourLetterWord("srvr")), { timeoutMs: 10000, what: "the slow connection to be gone" });
      slow.socket.destroy();
      writer.close();
    });
  });

  test("an unexpected exception for one connection closes only that connection", async () => {
    class ExplodingServer extends Server {
      override request(connection: ConnectionId, header: RequestHeader, request: Request | null): void {
        if (header.xid === 666) throw new Error("boom");
        super.request(connection, header, request);
      }
    }
    const transport = await defaultTransport();
    const logger = new MemoryLogger();
    const config = defaultServerConfig();
    const handle = await serveCore(new ExplodingServer(config, Date.now()), { transport, host: HOST, port: 0, config, logger });
    try {
      const victim = await WireClient.connect(transport, handle.port);
      const bystander = await WireClient.connect(transport, handle.port);
      await victim.handshake();
      await bystander.handshake();
      victim.send(encodeRequest(666, { kind: "exists", path: "/", watch: false }));
      await victim.waitClosed("the connection whose request threw to close");
      assert.ok(logger.lines.some((line) => line.level === "error" && line.message.includes("boom")));
      assert.equal((await bystander.call(1, { kind: "exists", path: "/", watch: false })).err, 0);
      bystander.close();
    } finally {
      await handle.close();
    }
  });

  test("close() closes client connections and frees the port", async () => {
    const transport = await defaultTransport();
    const handle = await serve({ transport, host: HOST, port: 0, config: defaultServerConfig() });
    const client = await WireClient.connect(transport, handle.port);
    await client.handshake();
    await handle.close();
    await client.waitClosed("the client to see the shutdown");
    await assert.rejects(WireClient.connect(transport, handle.port));
    await handle.close(); // idempotent
  });
});

describe("server driver over the memory network", () => {
  test("handshake, pipelined requests and a four-letter word", async () => {
    const network = new MemoryNetwork();
    await withServer({ transport: network.transport("zk1"), fourLetterWhitelist: new Set(["*"]) }, async (handle) => {
      const client = await WireClient.connect(network.transport("app"), handle.port, "zk1");
      client.send(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 1000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: undefined }));
      client.send(encodeRequest(1, { kind: "create", path: "/p", data: null, acl: OPEN_ACL, flags: 0, ttl: 0n }));
      await client.nextFrame("the ConnectResponse");
      assert.equal((await client.call(2, { kind: "exists", path: "/p", watch: false })).err, 0);
      assert.equal(handle.fourLetterWord("ruok"), "imok");
      assert.match(handle.fourLetterWord("mntr"), /zk_num_alive_connections\t1\n/);
      client.close();
    });
  });

  test("a ConnectRequest and a request sent one byte at a time", async () => {
    const network = new MemoryNetwork();
    await withServer({ transport: network.transport("zk1") }, async (handle) => {
      const client = await WireClient.connect(network.transport("app"), handle.port, "zk1");
      const bytes = [
        ...encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 1000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }),
        ...encodeRequest(1, { kind: "exists", path: "/", watch: false }),
      ];
      for (const byte of bytes) client.send(new Uint8Array([byte]));
      await client.nextFrame("the ConnectResponse");
      assert.equal((await client.call(2, { kind: "exists", path: "/zookeeper", watch: false })).err, 0);
      client.close();
    });
  });

  test("four-letter words split across chunks, stmk with its argument, telnet close", async () => {
    const network = new MemoryNetwork();
    const app = network.transport("app");
    await withServer({ transport: network.transport("zk1"), fourLetterWhitelist: new Set(["*"]) }, async (handle) => {
      const ask = async (chunks: number[][]): Promise<string> => {
        const received: number[] = [];
        let closed = false;
        const socket = await app.connect({ host: "zk1", port: handle.port }, {
          onData: (chunk) => received.push(...chunk),
          onClose: () => {
            closed = true;
          },
        });
        for (const chunk of chunks) socket.write(new Uint8Array(chunk));
        await waitFor(() => closed, { timeoutMs: 2000, what: "the server to answer and close" });
        return new TextDecoder().decode(new Uint8Array(received));
      };
      const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
      assert.equal(await ask([ascii("ru"), ascii("ok")]), "imok");
      const mask = [0, 0, 0, 0, 0, 0, 1, 0];
      assert.equal(await ask([ascii("stmk"), mask.slice(0, 3), mask.slice(3)]), "256");
      assert.equal(handle.fourLetterWord("gtmk"), "256");
      assert.equal(await ask([[0xff, 0xf4, 0xff, 0xfd]]), "");
    });
  });
});
