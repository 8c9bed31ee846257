/**
 * While the client is connected to a read-only server, it keeps asking the other servers whether
 * they serve the ensemble again (the `isro` four-letter word answers "rw"), and moves to the first
 * that does, as ZooKeeper's Java client does (ClientCnxn.pingRwServer): the first probe 100 ms
 * after connecting read-only, then each wait twice the last, up to 60 s; one probe at a time, each
 * to the next host in turn, each bounded by a second. Pure: the session machine asks when the next
 * probe is due and which host it goes to; the shell opens the socket.
 */
import type { HostPort } from "./connect_string.ts";

const FIRST_WAIT_MS = 100;
const LONGEST_WAIT_MS = 60_000;
/** Bound on one probe (connect, ask, read the answer), as the Java client's socket timeout. */
export const PROBE_TIMEOUT_MS = 1000;

export interface Probe {
  id: number;
  host: HostPort;
}

export class ReadWriteProbe {
  readonly #hosts: readonly HostPort[];
  #nextHost = 0;
  #waitMs = FIRST_WAIT_MS;
  #dueAt = Infinity;
  #inFlight: Probe | null = null;
  #lastId = 0;

  constructor(hosts: readonly HostPort[]) {
    this.#hosts = hosts;
  }

  /**
   * Connected to a read-only server: probing begins (again), from host `fromHost` on (the Java
   * client's next host after the one it is connected to).
   */
  start(nowMs: number, fromHost: number): void {
    this.#dueAt = nowMs + this.#waitMs;
    this.#inFlight = null;
    this.#nextHost = fromHost % this.#hosts.length;
  }

  /** Connected elsewhere, or not at all: no probing, and answers still out are ignored. */
  stop(): void {
    this.#dueAt = Infinity;
    this.#inFlight = null;
  }

  /** When the next probe is due (Infinity while stopped or while one is out). */
  get dueAt(): number {
    return this.#inFlight === null ? this.#dueAt : Infinity;
  }

  /** The probe to send now, if one is due; the wait before the next one doubles. */
  take(nowMs: number): Probe | null {
    if (this.#inFlight !== null || nowMs < this.#dueAt) return null;
    const host = this.#hosts[this.#nextHost]!;
    this.#nextHost = (this.#nextHost + 1) % this.#hosts.length;
    this.#waitMs = Math.min(2 * this.#waitMs, LONGEST_WAIT_MS);
    this.#inFlight = { id: ++this.#lastId, host };
    return this.#inFlight;
  }

  /**
   * Probe `id` finished with the server's answer (null: no answer). Returns the host to move to
   * when it serves the ensemble; otherwise the next probe waits its turn.
   */
  answered(id: number, answer: string | null, nowMs: number): HostPort | null {
    if (this.#inFlight?.id !== id) return null;
    const { host } = this.#inFlight;
    this.#inFlight = null;
    if (answer?.trim() === "rw") {
      this.#waitMs = FIRST_WAIT_MS;
      this.#dueAt = Infinity;
      return host;
    }
    this.#dueAt = nowMs + this.#waitMs;
    return null;
  }
}
