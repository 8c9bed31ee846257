/**
 * One client connection as the core sees it: identities, the session it carries, and the FIFO of
 * requests whose replies must go out in arrival order (ZooKeeper's per-connection ordering rule).
 */
import type { ConnectResponse, Id, Reply, Request, RequestHeader } from "./records.ts";
import type { DigestMd5Server } from "./sasl_digest_md5.ts";
import type { ConnectionId, ConnectionInfo } from "./server_io.ts";
import type { Zxid } from "./zxid.ts";

/** A request waiting for its turn to reply. */
export type PendingEntry =
  /** The handshake of a new session: answered when its createSession txn is applied. */
  | { kind: "connect"; zxid: Zxid; response: ConnectResponse; ready: boolean }
  /**
   * A write: answered when its txn is applied (`reply` is then filled in). `audit`: the request and
   * the identities it came with, kept for the audit log when it is on (audit.ts).
   */
  | { kind: "write"; xid: number; zxid: Zxid; reply: Reply | null; closesSession: boolean; audit: AuditedRequest | null }
  /**
   * sync: answered once everything prepared before it is applied; on a learner, once the leader
   * answered (`remote` names the request, cleared when the answer came).
   */
  | { kind: "sync"; xid: number; path: string; zxid: Zxid; remote: number | null }
  /** A read: executed when it reaches the head, with the identities it arrived with. */
  | { kind: "read"; header: RequestHeader; request: Request; identities: readonly Id[] }
  /**
   * A reply known on arrival (a body that did not parse), still sent in order. With
   * `zxidAtSend` its header carries the last applied zxid when it is sent, as ZooKeeper's
   * FinalRequestProcessor stamps replies that have no txn (a session never sees zxids go back).
   */
  | { kind: "ready"; reply: Reply; thenClose: string | null; zxidAtSend?: true };

/** A write the audit log will record once it is answered. */
export interface AuditedRequest {
  request: Request;
  identities: readonly Id[];
}

export class Connection {
  readonly id: ConnectionId;
  readonly info: ConnectionInfo;
  /** Replaced, never mutated, so queued reads keep the identities they arrived with. */
  identities: readonly Id[];
  sessionId: bigint | null = null;
  sessionTimeoutMs = 0;
  /** Set once the connection is to be closed; nothing more is read from it. */
  closing = false;
  /** Requests that arrived before the handshake completed; fed in order once it has. */
  readonly held: Array<{ header: RequestHeader; request: Request | null }> = [];
  readonly #queue: PendingEntry[] = [];
  #head = 0;
  /** This connection's SASL exchange (sasl_exchange.ts), from its first SASL token on. */
  sasl: DigestMd5Server | null = null;
  lastOperation = "NA";
  lastCxid = 0;
  lastZxid = 0;
  /** scheme:id of every identity in `identities`. */
  readonly #identityKeys = new Set<string>();
  /** Identities granted by auth packets (the `ip` identity is not counted). */
  #authIdentities = 0;

  /** `x509SuperUser`: a certificate subject that also gets the super identity (X509AuthenticationProvider). */
  constructor(id: ConnectionId, info: ConnectionInfo, x509SuperUser?: string) {
    this.id = id;
    this.info = info;
    const ip = { scheme: "ip", id: info.remoteAddress };
    // ZooKeeper's X509AuthenticationProvider: a verified client certificate names the connection.
    const x509 = info.x509Subject === undefined ? [] : [{ scheme: "x509", id: info.x509Subject }];
    if (info.x509Subject !== undefined && info.x509Subject === x509SuperUser) x509.unshift({ scheme: "super", id: info.x509Subject });
    this.identities = Object.freeze([ip, ...x509]);
    for (const identity of this.identities) this.#identityKeys.add(identityKey(identity));
  }

  get outstanding(): number {
    return this.#queue.length - this.#head;
  }

  push(entry: PendingEntry): void {
    this.#queue.push(entry);
  }

  peek(): PendingEntry | undefined {
    return this.#queue[this.#head];
  }

  /** The first queued entry matching `predicate` (bounded by the outstanding-request limit). */
  find(predicate: (entry: PendingEntry) => boolean): PendingEntry | undefined {
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (predicate(this.#queue[i]!)) return this.#queue[i];
    }
    return undefined;
  }

  shift(): void {
    this.#queue[this.#head++] = undefined as unknown as PendingEntry;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /**
   * Adds the identities an `auth` packet granted, unless that would make more than `max`
   * identities from auth packets: "full" then, and nothing is added. Known identities are found in
   * a set, and the list is copied only when it grows (at most `max` times per connection), so an
   * auth flood costs constant time per packet instead of a scan and a copy of the whole list.
   */
  addIdentities(granted: readonly Id[], max: number): "added" | "full" {
    const fresh: Id[] = [];
    for (const identity of granted) {
      const key = identityKey(identity);
      if (!this.#identityKeys.has(key) && !fresh.some((other) => identityKey(other) === key)) fresh.push(identity);
    }
    if (fresh.length === 0) return "added";
    if (this.#authIdentities + fresh.length > max) return "full";
    for (const identity of fresh) this.#identityKeys.add(identityKey(identity));
    this.#authIdentities += fresh.length;
    this.identities = Object.freeze([...this.identities, ...fresh]);
    return "added";
  }
}

/** Schemes are a few fixed names without ":" (ip, digest, super), so this key is unambiguous. */
function identityKey(identity: Id): string {
  return `${identity.scheme}:${identity.id}`;
}
