/** Transport over node:net (Node; Deno and Bun run it too through their Node compatibility). */
import { connect as netConnect, createServer, type Server as NetServer, type Socket as NetSocket } from "node:net";
import { CLOSE_LINGER_MS, unrefTimer } from "./close_policy.ts";
import type { ConnectOptions, Listener, ListenOptions, Socket, SocketHandler, Transport } from "./transport.ts";

/** A Transport on node:net sockets with TCP_NODELAY on. */
export function nodeTransport(): Transport {
  return { name: "node", listen: listenNode, connect: connectNode };
}

/** What a TLS socket's verified peer certificate tells (node_tls.ts); see Socket. */
export interface VerifiedCertificate {
  subject: string | undefined;
  checkHost(host: string): string | null;
}

/** A Socket on a node:net socket (or a node:tls one, which is a net.Socket too: node_tls.ts). */
export class NodeSocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly peerSubject?: string;
  readonly checkPeerHost?: (host: string) => string | null;
  readonly encrypted: boolean;
  readonly #socket: NetSocket;
  #closing = false;
  #error: Error | undefined = undefined;

  /**
   * `tls`: present for a TLS socket, with the peer's certificate if TLS verified one.
   * `remote`: the TCP peer, for a TLS socket layered over a stream that does not know it (a
   * unified port's, port_unification.ts), whose TCP socket then has TCP_NODELAY set already.
   */
  constructor(socket: NetSocket, tls?: { certificate: VerifiedCertificate | undefined }, remote?: { address: string; port: number }) {
    if (remote === undefined) socket.setNoDelay(true);
    this.#socket = socket;
    this.encrypted = tls !== undefined;
    const certificate = tls?.certificate;
    if (certificate?.subject !== undefined) this.peerSubject = certificate.subject;
    if (certificate !== undefined) this.checkPeerHost = certificate.checkHost;
    this.remoteAddress = remote?.address ?? socket.remoteAddress ?? "";
    this.remotePort = remote?.port ?? socket.remotePort ?? 0;
  }

  /** Starts delivering events to `handler`; 'close' fires exactly once per net.Socket. */
  attach(handler: SocketHandler): void {
    const socket = this.#socket;
    socket.on("data", (chunk: Uint8Array) => {
      if (!this.#closing) handler.onData(chunk);
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
    });
    // 'drain' comes after a write() that returned false, once node's queue is empty again.
    socket.on("drain", () => {
      if (!this.#closing) handler.onDrain?.();
    });
    socket.once("close", () => handler.onClose(this.#error));
  }

  write(bytes: Uint8Array): void {
    if (this.#closing || this.#socket.destroyed) return;
    this.#socket.write(bytes);
  }

  /** node's writableLength counts bytes until libuv reports them written to the kernel. */
  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  pauseReading(): void {
    if (!this.#closing) this.#socket.pause();
  }

  resumeReading(): void {
    if (!this.#closing) this.#socket.resume();
  }

  abort(): void {
    this.#closing = true;
    // destroy() frees node's write queue now; 'close' follows.
    this.#socket.destroy();
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.end();
    // end() waits for the queue to drain and for the peer's FIN; a peer that stops reading or never
    // closes would keep the socket forever, so destroy it after a grace period.
    const timer = unrefTimer(() => this.#socket.destroy(), CLOSE_LINGER_MS);
    this.#socket.once("close", () => clearTimeout(timer));
  }
}

function listenNode(options: ListenOptions, accept: (socket: Socket) => SocketHandler): Promise<Listener> {
  const server = createServer({ allowHalfOpen: false }, (raw) => {
    const socket = new NodeSocket(raw);
    socket.attach(accept(socket));
  });
  return listenOn(server, options);
}

/**
 * Starts `server` (a net.Server or a tls.Server) listening; its Listener's close stops accepting,
 * then runs `onClose` (to close what the server itself does not track).
 */
export function listenOn(server: NetServer, options: ListenOptions, onClose: () => void = () => {}): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onListenError = (error: Error) => {
      reject(new Error(`cannot listen on ${options.host}:${options.port}: ${error.message}`));
    };
    server.once("error", onListenError);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off("error", onListenError);
      // Accept errors (EMFILE...) must not crash the process; the server keeps accepting.
      server.on("error", () => {});
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : options.port;
      resolve({
        host: options.host,
        port,
        close: () => {
          // Stops accepting now; server.close's callback would wait for every open socket to end.
          server.close();
          onClose();
          return Promise.resolve();
        },
      });
    });
  });
}

function connectNode(options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    const raw = netConnect({ host: options.host, port: options.port, allowHalfOpen: false });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fail = (message: string) => {
      clearTimeout(timer);
      raw.destroy();
      reject(new Error(message));
    };
    const onError = (error: Error) => fail(`cannot connect to ${where}: ${error.message}`);
    raw.once("error", onError);
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => fail(`cannot connect to ${where}: no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    }
    raw.once("connect", () => {
      clearTimeout(timer);
      raw.off("error", onError);
      const socket = new NodeSocket(raw);
      socket.attach(handler);
      resolve(socket);
    });
  });
}
