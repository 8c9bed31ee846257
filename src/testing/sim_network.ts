/**
 * The simulated network between ensemble members. Zab assumes FIFO, reliable links per connection
 * (TCP), so faults are modelled the way TCP shows them, never as silent reordering of a live
 * connection:
 * - each pair of members shares one connection (a generation number); each end has its own view of
 *   it and learns of a break (`lost`, the driver's peerLost) after a detection delay;
 * - loss, duplication and reordering break the connection: what was in flight is dropped, and a
 *   message may or may not have arrived before the break (the sender cannot tell);
 * - a cut link (partition, symmetric or one way) drops what is sent through it and breaks the
 *   connection, as a TCP timeout would; messages sent on a broken connection before its sender
 *   noticed are dropped too;
 * - delay is per directed link (base latency, jitter, spikes), FIFO within a connection;
 * - each directed link holds at most `capacity` messages in flight; more breaks the connection
 *   (the transport's bounded queue).
 * Every message round-trips through a codec, so members never share objects.
 */
import type { PeerMessage, Sid } from "../core/peer_messages.ts";
import type { Scheduler } from "./event_queue.ts";
import type { Prng } from "./prng.ts";
import { between, chance } from "./sim_random.ts";

/** How messages are copied between members: encode at send, decode at delivery. */
export interface PeerCodec {
  /** "cbor" for the real peer frames (the replay command then says --cbor). */
  readonly name?: string;
  encode(message: PeerMessage): unknown;
  decode(encoded: unknown): PeerMessage;
}

/** The default codec: a structured clone (no shared objects; bigint and Uint8Array survive). */
export const CLONE_CODEC: PeerCodec = {
  encode: (message) => structuredClone(message),
  decode: (encoded) => encoded as PeerMessage,
};

export interface NetworkFaults {
  /** One-way latency of every link: uniform in [min, max). */
  delayMsMin: number;
  delayMsMax: number;
  /** Per message: the connection breaks and this message is lost. */
  lossRate: number;
  /** Per message: it arrives, then the connection breaks (the sender may resend on a new one). */
  duplicateRate: number;
  /** Per message: the connection breaks, as a reordering would show on a live TCP stream. */
  reorderRate: number;
  /** How long an end takes to notice a break: uniform in [min, max). */
  detectMsMin: number;
  detectMsMax: number;
  /** Messages in flight per directed link before the connection breaks. */
  capacity: number;
}

export const QUIET_NETWORK: NetworkFaults = {
  delayMsMin: 1,
  delayMsMax: 5,
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  detectMsMin: 1,
  detectMsMax: 20,
  capacity: 10_000,
};

export interface NetworkCallbacks {
  /** A message arrives at `to` (the simulator checks `to` is up and feeds the replica). */
  deliver(to: Sid, from: Sid, message: PeerMessage): void;
  /** `at` noticed its connection to `peer` broke (the driver's peerLost). */
  lost(at: Sid, peer: Sid): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  breaks: number;
}

interface Connection {
  generation: number;
  /** Each end's view of the generation (it advances when that end learns of a break). */
  view: Map<Sid, number>;
}

interface Link {
  cut: boolean;
  lastDeliveryMs: number;
  inFlight: number;
  /** Added to every delay on this link until `spikeUntilMs`. */
  spikeMs: number;
  spikeUntilMs: number;
}

export class SimNetwork {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  readonly #codec: PeerCodec;
  readonly #callbacks: NetworkCallbacks;
  readonly #members: readonly Sid[];
  readonly #connections = new Map<string, Connection>();
  readonly #links = new Map<string, Link>();
  readonly #down = new Set<Sid>();
  #faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, breaks: 0 };

  constructor(options: {
    scheduler: Scheduler;
    prng: Prng;
    members: readonly Sid[];
    faults: NetworkFaults;
    callbacks: NetworkCallbacks;
    codec?: PeerCodec;
  }) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#members = options.members;
    this.#faults = options.faults;
    this.#callbacks = options.callbacks;
    this.#codec = options.codec ?? CLONE_CODEC;
    for (const a of this.#members) {
      for (const b of this.#members) {
        if (a === b) continue;
        this.#links.set(linkKey(a, b), { cut: false, lastDeliveryMs: 0, inFlight: 0, spikeMs: 0, spikeUntilMs: 0 });
        if (a < b) this.#connections.set(pairKey(a, b), { generation: 0, view: new Map([[a, 0], [b, 0]]) });
      }
    }
  }

  get faults(): NetworkFaults {
    return this.#faults;
  }

  setFaults(faults: NetworkFaults): void {
    this.#faults = faults;
  }

  /** A member sends; whatever happens to the message is decided here and now. */
  send(from: Sid, to: Sid, message: PeerMessage): void {
    this.stats.sent++;
    const connection = this.#connection(from, to);
    const link = this.#link(from, to);
    const generation = connection.view.get(from)!;
    if (this.#down.has(from) || generation !== connection.generation) {
      this.stats.dropped++; // written into a connection that is already gone
      return;
    }
    const faults = this.#faults;
    if (this.#down.has(to) || link.cut || link.inFlight >= faults.capacity) {
      this.stats.dropped++;
      this.breakConnection(from, to);
      return;
    }
    const breakBefore = chance(this.#prng, faults.lossRate + faults.reorderRate);
    const breakAfter = !breakBefore && chance(this.#prng, faults.duplicateRate);
    if (breakBefore) {
      this.stats.dropped++;
      this.breakConnection(from, to);
      return;
    }
    const encoded = this.#codec.encode(message);
    const nowMs = this.#scheduler.nowMs;
    const spikeMs = nowMs < link.spikeUntilMs ? link.spikeMs : 0;
    const atMs = Math.max(nowMs + between(this.#prng, faults.delayMsMin, faults.delayMsMax) + spikeMs, link.lastDeliveryMs);
    link.lastDeliveryMs = atMs;
    link.inFlight++;
    this.#scheduler.at(atMs, () => {
      link.inFlight--;
      this.#arrive(from, to, generation, encoded);
    });
    if (breakAfter) this.#scheduler.at(atMs, () => this.breakConnection(from, to));
  }

  #arrive(from: Sid, to: Sid, generation: number, encoded: unknown): void {
    const connection = this.#connection(from, to);
    if (this.#down.has(to) || generation !== connection.generation) {
      this.stats.dropped++;
      return;
    }
    if (connection.view.get(to)! < generation) {
      // The first message on a new connection: the receiver drops the old one first.
      connection.view.set(to, generation);
      this.#callbacks.lost(to, from);
      if (this.#down.has(to) || generation !== connection.generation) return;
    }
    this.stats.delivered++;
    this.#callbacks.deliver(to, from, this.#codec.decode(encoded));
  }

  /** Breaks the connection between `a` and `b`; each live end notices after its detection delay. */
  breakConnection(a: Sid, b: Sid): void {
    const connection = this.#connection(a, b);
    connection.generation++;
    this.stats.breaks++;
    const faults = this.#faults;
    for (const [end, peer] of [[a, b], [b, a]] as const) {
      if (this.#down.has(end)) continue;
      const delayMs = between(this.#prng, faults.detectMsMin, faults.detectMsMax);
      this.#scheduler.after(delayMs, () => this.#notice(end, peer));
    }
  }

  #notice(end: Sid, peer: Sid): void {
    const connection = this.#connection(end, peer);
    if (this.#down.has(end) || connection.view.get(end)! >= connection.generation) return;
    connection.view.set(end, connection.generation);
    this.#callbacks.lost(end, peer);
  }

  /** A member crashed: its connections break (peers notice), and nothing reaches it until restart. */
  crash(sid: Sid): void {
    this.#down.add(sid);
    for (const peer of this.#members) if (peer !== sid) this.breakConnection(sid, peer);
  }

  /** A member restarted: a new process has no old connections. */
  restart(sid: Sid): void {
    this.#down.delete(sid);
    for (const peer of this.#members) {
      if (peer === sid) continue;
      const connection = this.#connection(sid, peer);
      connection.view.set(sid, connection.generation);
    }
  }

  isDown(sid: Sid): boolean {
    return this.#down.has(sid);
  }

  /** Cuts the directed link from → to (one way: an asymmetric partition). */
  cut(from: Sid, to: Sid): void {
    this.#link(from, to).cut = true;
  }

  /** Splits the members into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly Sid[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut(x, y);
      }
    }
  }

  /** Cuts `sid` off from everyone, both ways. */
  isolate(sid: Sid): void {
    for (const peer of this.#members) {
      if (peer === sid) continue;
      this.cut(sid, peer);
      this.cut(peer, sid);
    }
  }

  /** Every link works again (connections broken meanwhile stay broken; new ones form). */
  heal(): void {
    for (const link of this.#links.values()) link.cut = false;
  }

  isCut(from: Sid, to: Sid): boolean {
    return this.#link(from, to).cut;
  }

  /** Links whose messages wait `extraMs` longer until `untilMs` (a clogged or slow path). */
  spike(from: Sid, to: Sid, extraMs: number, untilMs: number): void {
    const link = this.#link(from, to);
    link.spikeMs = extraMs;
    link.spikeUntilMs = untilMs;
  }

  clearSpikes(): void {
    for (const link of this.#links.values()) link.spikeUntilMs = 0;
  }

  #connection(a: Sid, b: Sid): Connection {
    const connection = this.#connections.get(pairKey(a, b));
    if (!connection) throw new Error(`no connection between ${a} and ${b}: not members of this network`);
    return connection;
  }

  #link(from: Sid, to: Sid): Link {
    const link = this.#links.get(linkKey(from, to));
    if (!link) throw new Error(`no link from ${from} to ${to}: not members of this network`);
    return link;
  }
}

function pairKey(a: Sid, b: Sid): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

function linkKey(from: Sid, to: Sid): string {
  return `${from}>${to}`;
}
