/**
 * A TCP proxy between clients and a server that can lose connections at chosen moments:
 * - dropReplyTo(predicate): the next request matching the predicate reaches the server, but its reply
 *   does not come back — the proxy cuts the connection instead, so the client sees CONNECTIONLOSS for
 *   a request the server did apply (the case protected names exist for);
 * - cutAll(): drops every connection now (the session survives; the client reconnects);
 * - block(true): refuses new connections until block(false).
 * It frames the client protocol (4-byte length prefix; each connection's first frame is the
 * ConnectRequest/ConnectResponse) and reads request headers (xid, opcode) and create paths.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface RequestInfo {
  xid: number;
  opcode: number;
  /** The request's first string field (the path, for path requests), or null. */
  path: string | null;
}

export interface FaultProxy {
  readonly port: number;
  readonly connectString: string;
  dropReplyTo(predicate: (request: RequestInfo) => boolean): Promise<RequestInfo>;
  cutAll(): void;
  block(blocked: boolean): void;
  close(): Promise<void>;
}

const decoder = new TextDecoder();

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pairs = new Set<{ client: Socket; server: Socket }>();
  let blocked = false;
  let dropRule:
    | { predicate: (request: RequestInfo) => boolean; resolve: (info: RequestInfo) => void }
    | null = null;

  const proxy: Server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const server = connect({ host: target.host, port: target.port });
    const pair = { client, server };
    pairs.add(pair);
    let droppedXid: number | null = null;
    const cut = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("error", cut);
    server.on("error", cut);
    client.on("close", cut);
    server.on("close", cut);
    client.on(
      "data",
      framer((frame, index) => {
        if (index > 0 && dropRule !== null && droppedXid === null) {
          const info = requestInfo(frame);
          if (dropRule.predicate(info)) {
            droppedXid = info.xid;
            dropRule.resolve(info);
            dropRule = null;
          }
        }
        server.write(frame);
      }),
    );
    server.on(
      "data",
      framer((frame, index) => {
        if (index > 0 && droppedXid !== null && frame.length >= 8) {
          const xid = new DataView(frame.buffer, frame.byteOffset).getInt32(4);
          // The server applied the request and answered; the client never hears of it.
          if (xid === droppedXid) return cut();
        }
        client.write(frame);
      }),
    );
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const cutAll = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.destroy();
      pair.server.destroy();
    }
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    dropReplyTo(predicate) {
      return new Promise((resolve) => {
        dropRule = { predicate, resolve };
      });
    },
    cutAll,
    block(value) {
      blocked = value;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

/** Splits a byte stream into length-prefixed frames (prefix included), numbering them per stream. */
function framer(onFrame: (frame: Uint8Array, index: number) => void): (chunk: Uint8Array) => void {
  let buffered = new Uint8Array(0);
  let index = 0;
  return (chunk) => {
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    let offset = 0;
    while (joined.length - offset >= 4) {
      const length = new DataView(joined.buffer, joined.byteOffset + offset).getInt32(0);
      if (joined.length - offset < 4 + length) break;
      onFrame(joined.slice(offset, offset + 4 + length), index++);
      offset += 4 + length;
    }
    buffered = joined.slice(offset);
  };
}

/** The header (and first string field) of a request frame. */
function requestInfo(frame: Uint8Array): RequestInfo {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const xid = frame.length >= 12 ? view.getInt32(4) : 0;
  const opcode = frame.length >= 12 ? view.getInt32(8) : 0;
  let path: string | null = null;
  if (frame.length >= 16) {
    const length = view.getInt32(12);
    if (length >= 0 && 16 + length <= frame.length) path = decoder.decode(frame.subarray(16, 16 + length));
  }
  return { xid, opcode, path };
}
