/** Transport over Deno.listen / Deno.connect: one read loop and one write loop per socket. */
import { ByteQueue } from "./byte_queue.ts";
import {
  CLOSE_LINGER_MS,
  later,
  READ_BUFFER_BYTES,
  READ_BUFFER_BYTES_MIN,
  WRITE_COALESCE_BYTES_MAX,
} from "./close_policy.ts";
import { type DenoTcpConn, denoNetApi } from "./deno_api.ts";
import type { ConnectOptions, Listener, ListenOptions, Socket, SocketHandler, Transport } from "./transport.ts";

/** A Transport on Deno's TCP sockets (TCP_NODELAY on). Only usable under Deno. */
export function denoTransport(): Transport {
  return { name: "deno", listen: listenDeno, connect: connectDeno };
}

class DenoSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #conn: DenoTcpConn;
  #handler: SocketHandler | null = null;
  readonly #queue = new ByteQueue();
  #writing = false;
  #closing = false;
  #closed = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Set while reading is paused: the read loop waits on it before its next read. */
  #paused: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(conn: DenoTcpConn) {
    conn.setNoDelay(true);
    this.#conn = conn;
    this.remoteAddress = conn.remoteAddr.hostname;
    this.remotePort = conn.remoteAddr.port;
  }

  start(handler: SocketHandler): void {
    this.#handler = handler;
    void this.#readLoop();
  }

  write(bytes: Uint8Array): void {
    if (this.#closing || this.#closed) return;
    this.#queue.push(bytes);
    if (!this.#writing) void this.#writeLoop();
  }

  /** Bytes not yet accepted by conn.write (the OS). */
  get bufferedBytes(): number {
    return this.#queue.size;
  }

  pauseReading(): void {
    if (this.#paused !== null || this.#closing || this.#closed) return;
    let resolve = () => {};
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    this.#paused = { promise, resolve };
  }

  resumeReading(): void {
    const paused = this.#paused;
    this.#paused = null;
    paused?.resolve();
  }

  abort(): void {
    this.#finish(undefined);
  }

  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    if (!this.#writing) {
      this.#finish(undefined);
      return;
    }
    // The write loop closes once the queue is empty; a peer that stops reading gets cut off.
    this.#lingerTimer = setTimeout(() => this.#finish(undefined), CLOSE_LINGER_MS);
  }

  async #readLoop(): Promise<void> {
    // Idle sessions are the common case: start small and grow only for a connection whose reads fill
    // the buffer (10k idle sessions would otherwise pin 640 MB of read buffers).
    let buffer = new Uint8Array(READ_BUFFER_BYTES_MIN);
    try {
      for (;;) {
        // Paused (the owner has too much unsent output for this peer): read nothing until resumed.
        if (this.#paused !== null) await this.#paused.promise;
        if (this.#closed) return;
        const count = await this.#conn.read(buffer);
        if (this.#closed) return;
        if (count === null) break;
        if (count > 0 && !this.#closing) this.#handler!.onData(buffer.subarray(0, count));
        if (count === buffer.length && buffer.length < READ_BUFFER_BYTES) buffer = new Uint8Array(buffer.length * 4);
      }
    } catch (error) {
      if (!this.#closed) this.#finish(asError(error));
      return;
    }
    // EOF: the peer closed its side. Like node's allowHalfOpen=false, flush what we have and close.
    this.close();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      for (let bytes = this.#queue.peek(WRITE_COALESCE_BYTES_MAX); bytes !== null; bytes = this.#queue.peek(WRITE_COALESCE_BYTES_MAX)) {
        const written = await this.#conn.write(bytes);
        if (this.#closed) return;
        this.#queue.consume(written);
      }
    } catch (error) {
      if (!this.#closed) this.#finish(asError(error));
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#closing) this.#finish(undefined);
    else this.#handler?.onDrain?.();
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    clearTimeout(this.#lingerTimer);
    this.#queue.clear();
    this.resumeReading();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime after an error: nothing left to release.
    }
    const handler = this.#handler;
    // Deferred so that onClose never runs inside the caller's close() or write().
    if (handler !== null) later(() => handler.onClose(error));
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function listenDeno(options: ListenOptions, accept: (socket: Socket) => SocketHandler): Promise<Listener> {
  let listener;
  try {
    listener = denoNetApi().listen({ hostname: options.host, port: options.port, transport: "tcp" });
  } catch (error) {
    return Promise.reject(new Error(`cannot listen on ${options.host}:${options.port}: ${asError(error).message}`));
  }
  let closed = false;
  const acceptLoop = async () => {
    while (!closed) {
      let conn: DenoTcpConn;
      try {
        conn = await listener.accept();
      } catch {
        if (closed) return;
        // Out of file descriptors and the like: back off briefly instead of spinning.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const socket = new DenoSocket(conn);
      try {
        socket.start(accept(socket));
      } catch {
        // The owner refused the socket by throwing; do not let that stop the accept loop.
        conn.close();
      }
    }
  };
  void acceptLoop();
  return Promise.resolve({
    host: options.host,
    port: listener.addr.port,
    close: () => {
      if (!closed) {
        closed = true;
        listener.close();
      }
      return Promise.resolve();
    },
  });
}

async function connectDeno(options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
  const where = `${options.host}:${options.port}`;
  const abort = new AbortController();
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), options.timeoutMs);
  let conn: DenoTcpConn;
  try {
    conn = await denoNetApi().connect({ hostname: options.host, port: options.port, transport: "tcp", signal: abort.signal });
  } catch (error) {
    const reason = abort.signal.aborted ? `no answer within ${options.timeoutMs} ms` : asError(error).message;
    throw new Error(`cannot connect to ${where}: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
  const socket = new DenoSocket(conn);
  socket.start(handler);
  return socket;
}
