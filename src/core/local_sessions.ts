/**
 * Local sessions (ZooKeeper 3.5+'s localSessionsEnabled): sessions only the member that made them
 * knows. No createSession txn, so connecting costs no write to the ensemble; they expire at that
 * member with no txn either, and are gone when it stops serving (a new leader, say). Their writes go
 * to the leader as anyone's, marked local, and the leader lets them through though it does not know
 * the session (ZooKeeper's LeaderSessionTracker guesses that from the id's server byte). What a
 * local session may not do is own an ephemeral node (nobody else could expire it): with
 * localSessionsUpgradingEnabled its first ephemeral create first makes it a session of the ensemble
 * (a createSession txn), otherwise the create is refused with EPHEMERALONLOCALSESSION.
 *
 * Read-only mode keeps its clients' sessions the same way (read_only_mode.ts builds on this class).
 */
import { CreateFlags, type Request } from "./records.ts";
import { passwordMatches } from "./session_password.ts";
import { SessionTracker } from "./session_tracker.ts";

/** Local sessions a member keeps at most (the ensemble's tracker has the same bound). */
export const LOCAL_SESSIONS_MAX = 1_000_000;

/** `localSessionsEnabled`, with `localSessionsUpgradingEnabled` (ServerConfig.localSessions). */
export interface LocalSessionsConfig {
  /** An ephemeral create makes the session global first; false: EPHEMERALONLOCALSESSION. */
  upgrading: boolean;
}

/** Whether `request` creates an ephemeral node (ZooKeeper's checkUpgradeSession: create, create2, or a multi holding one). */
export function createsEphemeral(request: Request): boolean {
  const ephemeral = (op: { kind: string; flags?: number }) =>
    (op.kind === "create" || op.kind === "create2") && (op.flags === CreateFlags.EPHEMERAL || op.flags === CreateFlags.EPHEMERAL_SEQUENTIAL);
  if (request.kind === "multi") return request.ops.some(ephemeral);
  return ephemeral(request);
}

/** The local sessions of one serving (or read-only) period. */
export class LocalSessions {
  readonly #sessions: SessionTracker;
  readonly #sessionsMax: number;

  constructor(serverId: number, tickTimeMs: number, nowMs: number, sessionsMax = LOCAL_SESSIONS_MAX) {
    // Ids come from the server's own tracker, so they never collide with the ensemble's sessions
    // this member created: this tracker only keeps timeouts and deadlines.
    this.#sessions = new SessionTracker({ serverId, seedMs: 0, tickTimeMs, nowMs, sessionsMax });
    this.#sessionsMax = sessionsMax;
  }

  has(sessionId: bigint): boolean {
    return this.#sessions.get(sessionId) !== undefined;
  }

  /** Whether the session is here and `passwd` is its password. */
  resumable(sessionId: bigint, passwd: Uint8Array): boolean {
    return this.has(sessionId) && passwordMatches(sessionId, passwd);
  }

  timeoutOf(sessionId: bigint): number | undefined {
    return this.#sessions.get(sessionId)?.timeoutMs;
  }

  /** Records a new local session; false when `sessionsMax` are open already (the client is refused). */
  add(sessionId: bigint, timeoutMs: number, nowMs: number): boolean {
    if (this.#sessions.size >= this.#sessionsMax) return false;
    this.#sessions.add(sessionId, timeoutMs, nowMs);
    return true;
  }

  changeTimeout(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    this.#sessions.changeTimeout(sessionId, timeoutMs, nowMs);
  }

  touch(sessionId: bigint, nowMs: number): void {
    this.#sessions.touch(sessionId, nowMs);
  }

  remove(sessionId: bigint): void {
    this.#sessions.remove(sessionId);
  }

  /** Sessions whose deadline passed (their clients fell silent); each is forgotten. */
  expire(nowMs: number): bigint[] {
    const expired = this.#sessions.expire(nowMs);
    for (const sessionId of expired) this.#sessions.remove(sessionId);
    return expired;
  }

  get nextDeadlineMs(): number | null {
    return this.#sessions.nextDeadlineMs;
  }

  get size(): number {
    return this.#sessions.size;
  }
}
