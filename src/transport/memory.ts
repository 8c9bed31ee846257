/**
 * An in-memory network for tests and simulations: transports of one MemoryNetwork can listen and
 * connect to each other by host name. Bytes are copied on write and delivered asynchronously, in
 * order, from one FIFO task queue per network (microtasks, yielding to timers every few hundred
 * deliveries so that endless ping-pong cannot starve them).
 */
import type { ConnectOptions, Listener, ListenOptions, Socket, SocketHandler, Transport } from "./transport.ts";

/**
 * Deliveries before the pump yields to the event loop (a timer turn), counted across microtask
 * bursts: code that awaits one delivery after another keeps the queue short, so a per-burst count
 * would never yield and timers (pings, read timeouts) would starve.
 */
const DELIVERIES_PER_BURST_MAX = 512;
const EPHEMERAL_PORT_FIRST = 40000;
const EPHEMERAL_PORT_LAST = 65535;
/** Host names that mean "this host" to a transport. */
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]);

type Accept = (socket: Socket) => SocketHandler;

export class MemoryNetwork {
  readonly #listeners = new Map<string, Accept>();
  readonly #portsInUse = new Set<string>();
  #tasks: (() => void)[] = [];
  #taskHead = 0;
  #pumpScheduled = false;
  /** Deliveries since the pump last ran from a timer. */
  #sinceYield = 0;
  /** Where each host's search for a free ephemeral port starts (the port after the last one given). */
  readonly #nextPort = new Map<string, number>();

  /** A Transport whose sockets appear to come from `hostName`. */
  transport(hostName: string): Transport {
    return {
      name: "memory",
      listen: (options, accept) => this.#listen(hostName, options, accept),
      connect: (options, handler) => this.#connect(hostName, options, handler),
    };
  }

  /** Runs `task` after every task queued before it (all socket events go through here). */
  schedule(task: () => void): void {
    this.#tasks.push(task);
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => this.#pump());
    }
  }

  #pump(fromTimer = false): void {
    if (fromTimer) this.#sinceYield = 0;
    let errors: unknown[] = [];
    for (; this.#sinceYield < DELIVERIES_PER_BURST_MAX && this.#taskHead < this.#tasks.length; this.#sinceYield++) {
      const task = this.#tasks[this.#taskHead]!;
      this.#tasks[this.#taskHead++] = NOOP;
      try {
        task();
      } catch (error) {
        errors.push(error);
      }
    }
    if (this.#taskHead === this.#tasks.length) {
      this.#tasks = [];
      this.#taskHead = 0;
      this.#pumpScheduled = false;
    } else {
      setTimeout(() => this.#pump(true), 0);
    }
    // A throwing handler is the owner's bug: report it like a runtime would, without stopping delivery.
    for (const error of errors) queueMicrotask(() => { throw error; });
    errors = [];
  }

  #allocatePort(hostName: string): number {
    const first = this.#nextPort.get(hostName) ?? EPHEMERAL_PORT_FIRST;
    const range = EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1;
    for (let i = 0; i < range; i++) {
      const port = EPHEMERAL_PORT_FIRST + (first - EPHEMERAL_PORT_FIRST + i) % range;
      if (this.#portsInUse.has(`${hostName}:${port}`)) continue;
      this.#nextPort.set(hostName, port === EPHEMERAL_PORT_LAST ? EPHEMERAL_PORT_FIRST : port + 1);
      return port;
    }
    throw new Error(`memory network: no free port left on ${hostName}`);
  }

  #listen(hostName: string, options: ListenOptions, accept: Accept): Promise<Listener> {
    const port = options.port === 0 ? this.#allocatePort(hostName) : options.port;
    const key = `${hostName}:${port}`;
    if (this.#portsInUse.has(key)) {
      return Promise.reject(new Error(`cannot listen on ${hostName}:${port}: address already in use (memory network)`));
    }
    this.#portsInUse.add(key);
    this.#listeners.set(key, accept);
    let open = true;
    return Promise.resolve({
      host: options.host,
      port,
      close: () => {
        if (open) {
          open = false;
          this.#listeners.delete(key);
          this.#portsInUse.delete(key);
        }
        return Promise.resolve();
      },
    });
  }

  #connect(hostName: string, options: ConnectOptions, handler: SocketHandler): Promise<Socket> {
    const targetHost = LOOPBACK_NAMES.has(options.host) ? hostName : options.host;
    const key = `${targetHost}:${options.port}`;
    return new Promise((resolve, reject) => {
      this.schedule(() => {
        const accept = this.#listeners.get(key);
        if (accept === undefined) {
          reject(new Error(`cannot connect to ${options.host}:${options.port}: connection refused (no listener on the memory network)`));
          return;
        }
        const localPort = this.#allocatePort(hostName);
        const client = new MemorySocket(this, targetHost, options.port);
        const server = new MemorySocket(this, hostName, localPort);
        client.peer = server;
        server.peer = client;
        client.handler = handler;
        this.#portsInUse.add(`${hostName}:${localPort}`);
        const release = () => this.#portsInUse.delete(`${hostName}:${localPort}`);
        client.onFinish = release;
        try {
          server.handler = accept(server);
        } catch (error) {
          server.handler = { onData: () => {}, onClose: () => {} };
          server.close();
          throw error;
        } finally {
          resolve(client);
        }
      });
    });
  }
}

function NOOP(): void {}

class MemorySocket implements Socket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #network: MemoryNetwork;
  peer: MemorySocket | null = null;
  handler: SocketHandler | null = null;
  onFinish: (() => void) | null = null;
  #inFlightBytes = 0;
  #closing = false;
  #closed = false;
  /** Set by abort(): writes still queued are dropped instead of delivered. */
  #dropping = false;
  /** Reading paused: chunks for this side wait here (still counted by the writer's bufferedBytes). */
  #paused = false;
  #held: Array<{ bytes: Uint8Array; from: MemorySocket }> = [];

  constructor(network: MemoryNetwork, remoteAddress: string, remotePort: number) {
    this.#network = network;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  write(bytes: Uint8Array): void {
    if (this.#closing || this.#closed || bytes.length === 0) return;
    const copy = bytes.slice();
    this.#inFlightBytes += copy.length;
    this.#network.schedule(() => this.peer!.#receive(copy, this));
  }

  /** Bytes written and not yet delivered to the peer (held by a paused peer included). */
  get bufferedBytes(): number {
    return this.#inFlightBytes;
  }

  pauseReading(): void {
    this.#paused = true;
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    // Delivered in order, behind anything already scheduled for this side.
    const held = this.#held;
    this.#held = [];
    for (const { bytes, from } of held) this.#network.schedule(() => this.#receive(bytes, from));
  }

  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    // Queued behind this side's earlier writes, so the peer receives them before it sees the close.
    this.#network.schedule(() => {
      this.#finish();
      this.peer!.#finish();
    });
  }

  abort(): void {
    if (this.#closed) return;
    this.#dropping = true;
    this.#inFlightBytes = 0;
    this.close();
  }

  #receive(bytes: Uint8Array, from: MemorySocket): void {
    if (from.#dropping) return;
    if (this.#paused && !this.#closed && !this.#closing) {
      this.#held.push({ bytes, from });
      return;
    }
    from.#delivered(bytes.length);
    if (!this.#closed && !this.#closing) this.handler?.onData(bytes);
  }

  #delivered(count: number): void {
    this.#inFlightBytes -= count;
    if (this.#inFlightBytes === 0 && !this.#closing && !this.#closed) this.handler?.onDrain?.();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.#held = [];
    this.onFinish?.();
    this.handler?.onClose();
  }
}
