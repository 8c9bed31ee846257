/**
 * Sessions: ids, timeouts, the closing flag and bucketed expiry (SessionTrackerImpl). Ids are signed
 * 64-bit bigints with the server id in the top byte; the low bits start from a seed the driver passes
 * in (ZooKeeper uses the clock), then count up.
 */
import { ExpiryQueue } from "./expiry_queue.ts";
import { CONTAINER_OWNER } from "./txn.ts";

export interface Session {
  readonly id: bigint;
  timeoutMs: number;
  /** Set when a closeSession txn has been prepared: further requests get SESSIONEXPIRED. */
  closing: boolean;
}

export interface SessionTrackerOptions {
  serverId: number;
  seedMs: number;
  /**
   * The next id of the tracker this one replaces in the same process: ids continue from it when the
   * seed would start lower (the clock stood still or stepped back, or two resets came within one
   * millisecond). An id handed out twice lets a stale client of the first session into the second.
   */
  after?: bigint;
  tickTimeMs: number;
  nowMs: number;
  sessionsMax: number;
}

export class SessionTracker {
  #sessions = new Map<bigint, Session>();
  #expiry: ExpiryQueue<bigint>;
  #nextId: bigint;
  readonly #sessionsMax: number;
  readonly #tickTimeMs: number;

  constructor(options: SessionTrackerOptions) {
    if (options.serverId < 0 || options.serverId > 255) {
      throw new RangeError(`server id ${options.serverId} must fit in one byte`);
    }
    this.#expiry = new ExpiryQueue(options.tickTimeMs, options.nowMs);
    this.#tickTimeMs = options.tickTimeMs;
    this.#sessionsMax = options.sessionsMax;
    const low = (BigInt(Math.floor(options.seedMs)) & 0xff_ffff_ffffn) << 16n;
    this.#nextId = BigInt.asIntN(64, (BigInt(options.serverId) << 56n) | low);
    if (options.after !== undefined && options.after > this.#nextId) this.#nextId = options.after;
    if (this.#nextId === CONTAINER_OWNER) this.#nextId++;
  }

  /** The id nextSessionId would hand out next (for a tracker that replaces this one). */
  get nextId(): bigint {
    return this.#nextId;
  }

  /** A fresh id, or null when the tracker is full (the connection is then refused). */
  nextSessionId(): bigint | null {
    if (this.#sessions.size >= this.#sessionsMax) return null;
    const id = this.#nextId;
    this.#nextId = BigInt.asIntN(64, this.#nextId + 1n);
    return id;
  }

  add(id: bigint, timeoutMs: number, nowMs: number): Session {
    const session: Session = { id, timeoutMs, closing: false };
    this.#sessions.set(id, session);
    this.#expiry.touch(id, nowMs, timeoutMs);
    return session;
  }

  get(id: bigint): Session | undefined {
    return this.#sessions.get(id);
  }

  /** Refreshes a live session's deadline; false when it is unknown or closing. */
  touch(id: bigint, nowMs: number): boolean {
    const session = this.#sessions.get(id);
    if (!session || session.closing) return false;
    this.#expiry.touch(id, nowMs, session.timeoutMs);
    return true;
  }

  /**
   * A new role starts from the committed sessions only (ZooKeeper builds a new tracker from its
   * database on every leadership): sessions whose createSession was prepared but never committed are
   * gone, none is closing (a closeSession prepared by an ended role was lost with it; the session
   * lives on until it expires again), and each gets a full timeout from now. Ids keep counting.
   */
  restart(committed: ReadonlyMap<bigint, number>, nowMs: number): void {
    this.#sessions = new Map();
    this.#expiry = new ExpiryQueue(this.#tickTimeMs, nowMs);
    for (const [id, timeoutMs] of committed) this.add(id, timeoutMs, nowMs);
  }

  changeTimeout(id: bigint, timeoutMs: number, nowMs: number): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    session.timeoutMs = timeoutMs;
    this.#expiry.touch(id, nowMs, timeoutMs);
  }

  setClosing(id: bigint): void {
    const session = this.#sessions.get(id);
    if (session) session.closing = true;
    this.#expiry.remove(id);
  }

  remove(id: bigint): void {
    this.#sessions.delete(id);
    this.#expiry.remove(id);
  }

  /** Sessions whose deadline has passed; each is marked closing. */
  expire(nowMs: number): bigint[] {
    const expired = this.#expiry.expire(nowMs);
    for (const id of expired) {
      const session = this.#sessions.get(id);
      if (session) session.closing = true;
    }
    return expired;
  }

  get size(): number {
    return this.#sessions.size;
  }

  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** When the next session expires, if none touches it first; null without sessions. */
  get nextDeadlineMs(): number | null {
    return this.#expiry.nextDeadlineMs;
  }

  deadlineOf(id: bigint): number | undefined {
    return this.#expiry.deadlineOf(id);
  }
}
