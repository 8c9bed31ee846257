/**
 * The session machine's request bookkeeping: requests waiting for a connection, requests in flight
 * (matched FIFO against replies, wire protocol §2.3), the credentials re-sent on every connection and
 * the auth packets awaiting their out-of-band reply (xid −4).
 *
 * Every per-request operation is O(1), however many requests are in flight: counts are kept, not
 * recounted, and abandoning finds its request through an index by id.
 */
import type { RequestKind } from "../core/records.ts";
import { Fifo } from "./fifo.ts";
import type { Call, Credential } from "./machine_io.ts";

export interface InFlight {
  xid: number;
  kind: RequestKind;
  /** null for the client's own requests (setWatches, closeSession). */
  call: Call | null;
  /** The caller gave up; the reply is matched and then ignored. */
  abandoned: boolean;
}

/** A user request waiting for a connection. */
interface Queued {
  call: Call;
  /** The caller gave up: skipped when the queue is sent (removing it from the middle would be O(n)). */
  abandoned: boolean;
}

export interface StoredCredential extends Credential {
  /** addAuth calls waiting for a server to accept this credential. */
  waiters: number[];
}

export interface AuthInFlight {
  credential: StoredCredential;
  ids: number[];
}

const XID_MAX = 0x7fffffff;

export class PendingRequests {
  readonly #queued = new Fifo<Queued>();
  readonly #inFlight = new Fifo<InFlight>();
  readonly #authInFlight = new Fifo<AuthInFlight>();
  readonly #credentials: StoredCredential[] = [];
  /** Queued and in-flight user requests by call id, for abandon(); answered ones leave it. */
  readonly #byId = new Map<number, Queued | InFlight>();
  /** Queued requests not abandoned. */
  #queuedCount = 0;
  /** In-flight user requests, abandoned ones included (they hold their slot until answered). */
  #inFlightCalls = 0;
  #xid = 0;

  /** Requests queued or in flight, the client's own excluded. */
  get outstanding(): number {
    return this.#queuedCount + this.#inFlightCalls;
  }

  get credentials(): readonly StoredCredential[] {
    return this.#credentials;
  }

  /** Xids restart at 1 on every connection, as in the C client, kazoo and node-zookeeper-client. */
  resetXid(): void {
    this.#xid = 0;
  }

  /** The next xid, wrapping from 2^31−1 to 1 like the Java client. */
  nextXid(): number {
    this.#xid = this.#xid >= XID_MAX ? 1 : this.#xid + 1;
    return this.#xid;
  }

  /** Gives back an xid that was taken but not sent, so the sequence stays gap-free. */
  returnXid(): void {
    this.#xid = this.#xid <= 1 ? 0 : this.#xid - 1;
  }

  queue(call: Call): void {
    const entry: Queued = { call, abandoned: false };
    this.#queued.push(entry);
    this.#byId.set(call.id, entry);
    this.#queuedCount++;
  }

  /** Empties the queue: the requests to send now, oldest first (each must then be sent() or settled). */
  takeQueued(): Call[] {
    const calls: Call[] = [];
    for (const entry of this.#queued.takeAll()) {
      if (entry.abandoned) continue;
      this.#byId.delete(entry.call.id);
      calls.push(entry.call);
    }
    this.#queuedCount = 0;
    return calls;
  }

  sent(xid: number, kind: RequestKind, call: Call | null): void {
    const entry: InFlight = { xid, kind, call, abandoned: false };
    this.#inFlight.push(entry);
    if (call === null) return;
    this.#byId.set(call.id, entry);
    this.#inFlightCalls++;
  }

  /**
   * The request a reply with `xid` answers, removed from the queue; or a description of the mismatch
   * (the connection must then be dropped: replies come in request order).
   */
  answer(xid: number): InFlight | string {
    const entry = this.#inFlight.peek();
    if (entry === undefined) return `xid out of order: no request in flight, got xid ${xid}`;
    if (entry.xid !== xid) return `xid out of order: expected xid ${entry.xid}, got xid ${xid}`;
    this.#inFlight.shift();
    if (entry.call !== null) {
      this.#inFlightCalls--;
      if (!entry.abandoned) this.#byId.delete(entry.call.id);
    }
    return entry;
  }

  /** Forgets request `id`: a queued one is dropped, an in-flight one marked abandoned. */
  abandon(id: number): void {
    const entry = this.#byId.get(id);
    if (entry !== undefined) {
      this.#byId.delete(id);
      entry.abandoned = true;
      if (!("xid" in entry)) this.#queuedCount--;
      return;
    }
    // Not a request: an addAuth waiting for its credential to be accepted.
    for (const credential of this.#credentials) removeId(credential.waiters, id);
    for (const auth of this.#authInFlight) removeId(auth.ids, id);
  }

  /** The stored credential equal to `credential`, added when new. */
  credential(credential: Credential): StoredCredential {
    const found = this.#credentials.find((c) =>
      c.scheme === credential.scheme && sameBytes(c.auth, credential.auth)
    );
    if (found !== undefined) return found;
    const stored = { scheme: credential.scheme, auth: credential.auth.slice(), waiters: [] };
    this.#credentials.push(stored);
    return stored;
  }

  authSent(credential: StoredCredential, ids: number[]): void {
    this.#authInFlight.push({ credential, ids });
  }

  /** Auth replies come in auth-request order, though they may overtake other replies. */
  authAnswered(): AuthInFlight | undefined {
    return this.#authInFlight.shift();
  }

  /**
   * The connection is gone: returns the ids of every live request queued or in flight (to be
   * failed) and whether the client's closeSession was among them. Auth waiters go back to their
   * credential, to be sent again on the next connection.
   */
  dropAll(): { ids: number[]; closeSessionPending: boolean } {
    const ids: number[] = [];
    let closeSessionPending = false;
    for (const entry of this.#inFlight.takeAll()) {
      if (entry.kind === "closeSession") closeSessionPending = true;
      if (entry.call !== null && !entry.abandoned) ids.push(entry.call.id);
    }
    for (const entry of this.#queued.takeAll()) if (!entry.abandoned) ids.push(entry.call.id);
    this.#byId.clear();
    this.#queuedCount = 0;
    this.#inFlightCalls = 0;
    for (const entry of this.#authInFlight.takeAll()) entry.credential.waiters.unshift(...entry.ids);
    return { ids, closeSessionPending };
  }

  /** Every addAuth waiter, removed (the client is ending). */
  takeAuthWaiters(): number[] {
    const ids: number[] = [];
    for (const credential of this.#credentials) ids.push(...credential.waiters.splice(0));
    return ids;
  }
}

function removeId(ids: number[], id: number): void {
  const index = ids.indexOf(id);
  if (index !== -1) ids.splice(index, 1);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
