/**
 * Transport over Bun.listen / Bun.connect. Bun's socket.write hands bytes straight to the OS and
 * returns how many it took; the rest waits in our queue until the drain callback.
 */
import { ByteQueue } from "./byte_queue.ts";
import { CLOSE_LINGER_MS, later, WRITE_COALESCE_BYTES_MAX } from "./close_policy.ts";
import { bunNetApi, type BunSocketHandlers, type BunTcpSocket } from "./bun_api.ts";
import type { ConnectOptions, Listener, ListenOptions, Socket, SocketHandler, Transport } from "./transport.ts";

/** A Transport on Bun's TCP sockets (TCP_NODELAY on). Only usable under Bun. */
export function bunTransport(): Transport {
  return { name: "bun", listen: listenBun, connect: connectBun };
}

class BunSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #raw: BunTcpSocket;
  readonly #handler: SocketHandler;
  readonly #queue = new ByteQueue();
  #closing = false;
  #closed = false;
  #ended = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(raw: BunTcpSocket, handler: SocketHandler) {
    raw.setNoDelay?.(true);
    this.#raw = raw;
    this.#handler = handler;
    this.remoteAddress = raw.remoteAddress;
    this.remotePort = raw.remotePort ?? 0;
  }

  write(bytes: Uint8Array): void {
    if (this.#closing || this.#closed || bytes.length === 0) return;
    if (this.#queue.size > 0) {
      this.#queue.push(bytes);
      return;
    }
    const written = Math.max(0, this.#raw.write(bytes));
    if (written < bytes.length) this.#queue.push(bytes.subarray(written));
  }

  get bufferedBytes(): number {
    return this.#queue.size;
  }

  pauseReading(): void {
    if (!this.#closing && !this.#closed) this.#raw.pause?.();
  }

  resumeReading(): void {
    if (!this.#closing && !this.#closed) this.#raw.resume?.();
  }

  abort(): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#queue.clear();
    if (this.#raw.terminate !== undefined) this.#raw.terminate();
    else this.#end();
  }

  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    if (this.#queue.size === 0) {
      this.#end();
      return;
    }
    this.#lingerTimer = setTimeout(() => {
      this.#queue.clear();
      if (this.#raw.terminate !== undefined) this.#raw.terminate();
      else this.#end();
    }, CLOSE_LINGER_MS);
  }

  /** Bun: the socket is writable again. */
  onDrain(): void {
    if (this.#queue.size === 0 && !this.#closing) return;
    for (let bytes = this.#queue.peek(WRITE_COALESCE_BYTES_MAX); bytes !== null; bytes = this.#queue.peek(WRITE_COALESCE_BYTES_MAX)) {
      const written = Math.max(0, this.#raw.write(bytes));
      this.#queue.consume(written);
      if (written < bytes.length) return;
    }
    if (this.#closing) this.#end();
    else this.#handler.onDrain?.();
  }

  onData(chunk: Uint8Array): void {
    if (!this.#closing && !this.#closed) this.#handler.onData(chunk);
  }

  /** Bun: the peer half-closed. Like node's allowHalfOpen=false: flush, then close our side. */
  onEnd(): void {
    this.close();
  }

  onClose(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    clearTimeout(this.#lingerTimer);
    this.#queue.clear();
    // Deferred: Bun may call the close handler from inside end(), i.e. inside our caller's close().
    later(() => this.#handler.onClose(error));
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#raw.end();
  }
}

/** Handlers shared by every socket of one listener or connection; state lives in socket.data. */
function socketHandlers(onOpen: (raw: BunTcpSocket) => void): BunSocketHandlers {
  const of = (raw: BunTcpSocket) => raw.data as BunSocket | undefined;
  return {
    open: onOpen,
    data: (raw, chunk) => of(raw)?.onData(chunk),
    drain: (raw) => of(raw)?.onDrain(),
    end: (raw) => of(raw)?.onEnd(),
    close: (raw, error) => of(raw)?.onClose(error),
    error: (raw, error) => {
      of(raw)?.onClose(error);
      raw.terminate?.();
    },
  };
}

/** Why a listen failed, for the codes an operator meets (A, issue 10 item 10: the listen-error message). */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: "address already in use; another process listens on this port",
  EADDRNOTAVAIL: "address not available; no interface of this machine has it",
  EACCES: "permission denied; ports below 1024 need privileges",
};

function listenBun(options: ListenOptions, accept: (socket: Socket) => SocketHandler): Promise<Listener> {
  const handlers = socketHandlers((raw) => {
    let handler: SocketHandler;
    const pending: SocketHandler = {
      onData: (chunk) => handler.onData(chunk),
      onClose: (error) => handler.onClose(error),
      onDrain: () => handler.onDrain?.(),
    };
    const socket = new BunSocket(raw, pending);
    raw.data = socket;
    try {
      handler = accept(socket);
    } catch {
      // The owner refused the socket by throwing; close it rather than break the listener.
      handler = { onData: () => {}, onClose: () => {} };
      socket.close();
    }
  });
  let listener;
  try {
    listener = bunNetApi().listen({ hostname: options.host, port: options.port, socket: handlers });
  } catch (error) {
    // Bun's message ("Failed to listen at 127.0.0.1") leaves the reason in `code`: say it.
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    const reason = typeof code !== "string" ? "" : ` (${code}: ${LISTEN_ERRORS[code] ?? "see the system's error codes"})`;
    return Promise.reject(new Error(`cannot listen on ${options.host}:${options.port}: ${message}${reason}`));
  }
  let stopped = false;
  return Promise.resolve({
    host: options.host,
    port: listener.port,
    close: () => {
      if (!stopped) {
        stopped = true;
        listener.stop(false);
      }
      return Promise.resolve();
    },
  });
}

function connectBun(options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const handlers = socketHandlers((raw) => {
      raw.data = new BunSocket(raw, handler);
    });
    handlers.connectError = (_raw, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${where}: ${error.message}`));
    };
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new Error(`cannot connect to ${where}: no answer within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    }
    bunNetApi().connect({ hostname: options.host, port: options.port, socket: handlers }).then(
      (raw) => {
        clearTimeout(timer);
        const socket = raw.data as BunSocket;
        if (settled) {
          // Gave up already: drop the late connection without telling the handler anything.
          raw.data = undefined;
          raw.end();
          return;
        }
        settled = true;
        resolve(socket);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(new Error(`cannot connect to ${where}: ${error instanceof Error ? error.message : String(error)}`));
      },
    );
  });
}
