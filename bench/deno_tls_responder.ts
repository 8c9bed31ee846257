/**
 * A bare TLS responder for bench/deno_tls_bench.ts, run under Deno: for every length-prefixed frame
 * it reads, it writes back one frame of `--reply-bytes`, as a server answering a 1 KiB read would.
 * Nothing else happens, so its CPU per frame is the cost of the TLS stack and the socket API alone.
 *
 *   deno run -A bench/deno_tls_responder.ts --mode deno|node --key K --cert C --reply-bytes 1024
 *
 * `deno`: Deno.listenTls and Deno.Conn reads and writes. `node`: node:tls createServer with socket
 * 'data' events, as src/transport/node_tls.ts serves under Deno. Prints "listening on <port>".
 */
import { readFileSync } from "node:fs";
import { createServer, type TLSSocket } from "node:tls";

interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoTlsListener extends AsyncIterable<DenoConn> {
  addr: { port: number };
}
/** The slice of the Deno namespace used here (declared so that tsc checks this file too). */
interface DenoTlsApi {
  listenTls(options: { hostname: string; port: number; key: string; cert: string }): DenoTlsListener;
  args: string[];
}
const deno = (globalThis as { Deno?: DenoTlsApi }).Deno;
if (deno === undefined) throw new Error("deno_tls_responder.ts runs under Deno only");
const args = deno.args;

function option(name: string): string {
  const index = args.indexOf(name);
  const value = index < 0 ? undefined : args[index + 1];
  if (value === undefined) throw new Error(`deno_tls_responder: ${name} is required`);
  return value;
}

const mode = option("--mode");
const key = readFileSync(option("--key"), "utf8");
const cert = readFileSync(option("--cert"), "utf8");
const replyBytes = Number(option("--reply-bytes"));
const reply = new Uint8Array(4 + replyBytes);
new DataView(reply.buffer).setUint32(0, replyBytes);

/** Counts whole frames in a stream of chunks (4-byte big-endian length, then the body). */
class FrameCounter {
  #need = 4;
  #inPrefix = true;
  #prefix = 0;
  #prefixFill = 0;

  /** How many frames `chunk` completes. */
  push(chunk: Uint8Array): number {
    let frames = 0;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#inPrefix) {
        this.#prefix = (this.#prefix << 8) | chunk[offset++]!;
        if (++this.#prefixFill === 4) {
          this.#inPrefix = false;
          this.#need = this.#prefix >>> 0;
          this.#prefix = 0;
          this.#prefixFill = 0;
        }
        continue;
      }
      const take = Math.min(this.#need, chunk.length - offset);
      offset += take;
      this.#need -= take;
      if (this.#need === 0) {
        frames++;
        this.#inPrefix = true;
      }
    }
    return frames;
  }
}

/** One buffer holding `count` replies, written at once (as a server batching its answers). */
function replies(count: number): Uint8Array {
  const out = new Uint8Array(reply.length * count);
  for (let i = 0; i < count; i++) out.set(reply, i * reply.length);
  return out;
}

if (mode === "deno") {
  const listener = deno.listenTls({ hostname: "127.0.0.1", port: 0, key, cert });
  console.log(`listening on ${listener.addr.port}`);
  for await (const conn of listener) {
    void (async () => {
      const counter = new FrameCounter();
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const read = await conn.read(buffer);
          if (read === null) break;
          const frames = counter.push(buffer.subarray(0, read));
          if (frames > 0) await conn.write(replies(frames));
        }
      } catch {
        // the client went away
      } finally {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    })();
  }
} else if (mode === "node") {
  const server = createServer({ key, cert }, (socket: TLSSocket) => {
    const counter = new FrameCounter();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      const frames = counter.push(chunk);
      if (frames > 0) socket.write(replies(frames));
    });
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(`listening on ${typeof address === "object" && address !== null ? address.port : 0}`);
  });
} else {
  throw new Error(`deno_tls_responder: --mode must be deno or node, got ${mode}`);
}
