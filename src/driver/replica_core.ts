/**
 * A Replica seen as the ServerCore the client driver (server_driver.ts) runs: client inputs and
 * storage completions go to the replica, its peer messages leave through `send` as they are drained
 * (in order with everything else), and four-letter words see the replica's mode.
 */
import type { PeerMessage, PeerState, Sid } from "../core/peer_messages.ts";
import type { ConnectRequest, Request, RequestHeader } from "../core/records.ts";
import type { Replica } from "../core/replica.ts";
import type { QuorumConfig, QuorumConfigMember } from "../core/quorum_config.ts";
import type {
  ConnectionId,
  ConnectionInfo,
  ConnectionStatus,
  ServerOutput,
  ServerStatus,
  SessionDump,
} from "../core/server_io.ts";
import type { ServerCore } from "./serve_options.ts";

export type ReplicaMode = "leader" | "follower" | "observer" | "looking";

export function replicaMode(state: PeerState): ReplicaMode {
  switch (state) {
    case "leading":
      return "leader";
    case "following":
      return "follower";
    case "observing":
      return "observer";
    case "looking":
      return "looking";
  }
}

export interface ReplicaCoreHooks {
  send(to: Sid, message: PeerMessage): void;
  /**
   * A reconfig named members (with the addresses its membership text gives): the peer network must
   * reach them. Called with every member of the committed and the newest seen configuration.
   */
  membersChanged?(members: readonly QuorumConfigMember[]): void;
  /** The membership in force changed (a reconfig committed, or the first epoch stamped its version). */
  committedConfigChanged?(config: QuorumConfig): void;
  /**
   * Storage failed: the replica cannot go on (a member must not vote or ack with a log it cannot
   * write). The driver stops it; a restart recovers from what is durable.
   */
  storageFailed(reason: string): void;
}

export class ReplicaCore implements ServerCore {
  readonly replica: Replica;
  readonly #hooks: ReplicaCoreHooks;
  readonly #observer: boolean;
  /** The configuration versions last reported to membersChanged. */
  #membersVersion = -1;
  /** Replica.membershipChanges when last looked at (-1: never, so the first call reports). */
  #membershipChanges = -1;
  #committedVersion = -1;

  constructor(replica: Replica, hooks: ReplicaCoreHooks, options: { observer: boolean }) {
    this.replica = replica;
    this.#hooks = hooks;
    this.#observer = options.observer;
  }

  tick(nowMs: number): void {
    this.replica.tick(nowMs);
  }

  nextWakeMs(): number {
    return this.replica.nextWakeMs();
  }

  /** Messages from a peer, in order. */
  receive(from: Sid, messages: readonly PeerMessage[]): void {
    for (const message of messages) this.replica.receive(from, message);
  }

  peerLost(sid: Sid): void {
    this.replica.peerLost(sid);
  }

  start(): void {
    this.replica.start();
  }

  open(connection: ConnectionId, info: ConnectionInfo): void {
    this.replica.open(connection, info);
  }

  connect(connection: ConnectionId, request: ConnectRequest): void {
    this.replica.connect(connection, request);
  }

  request(connection: ConnectionId, header: RequestHeader, request: Request | null): void {
    this.replica.request(connection, header, request);
  }

  closed(connection: ConnectionId): void {
    this.replica.closed(connection);
  }

  outstanding(connection: ConnectionId): number {
    return this.replica.server.outstanding(connection);
  }

  takeOutputs(): ServerOutput[] {
    const outputs = this.replica.takeOutputs();
    const rest: ServerOutput[] = [];
    for (const output of outputs) {
      if (output.kind === "send") this.#hooks.send(output.to, output.message);
      else rest.push(output);
    }
    this.#reportMembers();
    return rest;
  }

  /** Tells the hooks about members a reconfig named, once per configuration seen. */
  #reportMembers(): void {
    if (this.replica.membershipChanges === this.#membershipChanges) return;
    this.#membershipChanges = this.replica.membershipChanges;
    const { committed, lastSeen } = this.replica.configuration;
    const version = lastSeen.config.version;
    if (version === this.#membersVersion && committed.config.version === this.#committedVersion) return;
    const committedChanged = committed.config.version !== this.#committedVersion;
    this.#membersVersion = version;
    this.#committedVersion = committed.config.version;
    this.#hooks.membersChanged?.([...committed.config.members, ...lastSeen.config.members]);
    if (committedChanged) this.#hooks.committedConfigChanged?.(committed.config);
  }

  persisted(writeSeq: number): void {
    this.replica.persisted(writeSeq);
  }

  persistFailed(_writeSeq: number, reason: string): void {
    this.#hooks.storageFailed(reason);
  }

  storageRecovered(): void {
    // Never reached: a replica whose storage failed is stopped (see ReplicaCoreHooks.storageFailed).
  }

  get serving(): boolean {
    return this.replica.server.serving;
  }

  get readOnly(): boolean {
    return this.replica.server.readOnly;
  }

  status(): ServerStatus {
    const mode = replicaMode(this.replica.status().state);
    // While looking nothing is served and four-letter words say so; the configured role stands in.
    return { ...this.replica.server.status(), mode: mode === "looking" ? (this.#observer ? "observer" : "follower") : mode };
  }

  connections(): ConnectionStatus[] {
    return this.replica.server.connections();
  }

  sessions(): SessionDump[] {
    return this.replica.server.sessions();
  }

  dataWatches(): Map<string, bigint[]> {
    return this.replica.server.dataWatches();
  }
}
