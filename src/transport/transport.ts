/**
 * Bytes only: the one small interface every runtime adapter (deno.ts, bun.ts, node.ts) and the
 * in-memory network (memory.ts) implement. Nothing here knows about ZooKeeper.
 */

/** What the owner of a socket is told. Callbacks are invoked one at a time, never re-entrantly. */
export interface SocketHandler {
  /** Bytes arrived. The chunk may be reused by the adapter after the call returns: copy to keep it. */
  onData(chunk: Uint8Array): void;
  /** The socket is closed (by the peer, by an error, or by close()); called exactly once. */
  onClose(error?: Error): void;
  /**
   * Everything queued was handed to the OS (bufferedBytes fell to 0). Always called when a write
   * had to wait; adapters may also call it after writes that did not. The moment to write more, or
   * to read again from a socket paused for its unsent output.
   */
  onDrain?(): void;
}

/** One open TCP (or in-memory) stream. */
export interface Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * The subject of the client certificate a TLS listener verified, as RFC 2253 writes it (Java's
   * X500Principal.getName(): "CN=client,O=org"); absent without one.
   */
  readonly peerSubject?: string;
  /**
   * For a socket whose peer presented a certificate TLS verified: null when that certificate names
   * `host` (its subjectAltName IPs and DNS names, as TLS hostname verification checks), otherwise
   * why not. Absent on sockets without a verified peer certificate (plaintext ones).
   */
  checkPeerHost?(host: string): string | null;
  /** True on a TLS socket, whether or not its peer showed a certificate; absent or false on plaintext. */
  readonly encrypted?: boolean;
  /** Queue bytes for sending; never blocks. Data written after close() is dropped. */
  write(bytes: Uint8Array): void;
  /** Bytes queued but not yet handed to the OS: the driver closes slow readers past a bound. */
  readonly bufferedBytes: number;
  /** Close after flushing what is queued (best effort); onClose follows. */
  close(): void;
  /**
   * Stop delivering onData until resumeReading(): the OS's receive buffer fills and TCP pushes back
   * on the peer (ZooKeeper's disableRecv). A chunk already on its way may still arrive. Optional
   * only for test doubles; every adapter here implements it.
   */
  pauseReading?(): void;
  resumeReading?(): void;
  /** Close at once, dropping unsent bytes (for a peer that does not read them); onClose follows. */
  abort?(): void;
}

export interface ListenOptions {
  /** "127.0.0.1" in tests; "0.0.0.0" (all interfaces) is ZooKeeper's default. */
  host: string;
  /** 0 picks a free port; read the actual one from Listener.port. */
  port: number;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Stop accepting; already open sockets stay open (the driver closes them). */
  close(): Promise<void>;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Give up connecting after this long. */
  timeoutMs?: number;
}

export interface Transport {
  readonly name: string;
  /** Accept connections; `accept` returns the handler for each new socket. */
  listen(options: ListenOptions, accept: (socket: Socket) => SocketHandler): Promise<Listener>;
  /** Open a connection; rejects with a clear Error when it cannot. */
  connect(options: ConnectOptions, handler: SocketHandler): Promise<Socket>;
}
