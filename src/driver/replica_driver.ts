/**
 * Runs one ensemble member: a core Replica (election, Zab and the server) behind the same client
 * driver as a standalone server, with a PeerNetwork to the other members and, given a data
 * directory, a TxnStore that it recovers from at start and makes every write durable in (group
 * commit, Zab truncations, epochs and snapshot installs in the order the core issued them).
 *
 * Start: recover (snapshot, log, epochs) → accept and dial peers → listen for clients → start the
 * election. Stop: peers first (no more input), then clients and storage. A storage failure stops the
 * member (it must not vote or ack with a log it cannot write); `stopped` reports it.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { QuorumConfig } from "../core/quorum_config.ts";
import type { Replica, ReplicaConfig, ReplicaStatus } from "../core/replica.ts";
import type { RecoveryResult, TxnStore } from "../storage/txn_store.ts";
import type { Transport } from "../transport/transport.ts";
import type { FourLetterWord } from "./four_letter_words.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { type PeerLinkStatus, PeerNetwork, type PeerNetworkOptions } from "./peer_network.ts";
import { bootReplica, openReplicaStore, type ReplicaStoreOptions } from "./replica_boot.ts";
import { ReplicaCore, type ReplicaMode, replicaMode } from "./replica_core.ts";
import { type ServeOptions, ServerDriver, systemClock } from "./server_driver.ts";

export type { ReplicaStoreOptions } from "./replica_boot.ts";

/** One member of the ensemble as every member knows it (zoo.cfg's server.N line). */
export interface ReplicaMember {
  id: Sid;
  /** Where the other members reach its quorum port. */
  host: string;
  quorumPort: number;
  /** Learns but does not vote. */
  observer?: boolean;
}

/** Peer connection tuning and checks (see PeerNetworkOptions). */
export type PeerTuning = Pick<
  PeerNetworkOptions,
  | "maxFrameBytes"
  | "handshakeBytesMax"
  | "handshakesMax"
  | "queueBytesMax"
  | "reconnectDelayMinMs"
  | "reconnectDelayMaxMs"
  | "connectTimeoutMs"
  | "heartbeatMs"
  | "idleTimeoutMs"
  | "requireCertificateForHost"
  | "plaintextPeersAllowed"
  | "sasl"
>;

export interface ServeReplicaOptions extends Omit<ServeOptions, "durableLog" | "serverId"> {
  /** This member's id; `config.serverId` is set to it. */
  myId: Sid;
  members: readonly ReplicaMember[];
  /** initLimit and syncLimit, in ticks. */
  initLimitTicks: number;
  syncLimitTicks: number;
  /** Where to accept peers; default: this member's host and quorumPort. */
  quorumListen?: { host: string; port: number };
  /** Transport between members; default `transport`. */
  peerTransport?: Transport;
  peers?: PeerTuning;
  /** Without one the member keeps everything in memory and forgets it when it stops. */
  store?: ReplicaStoreOptions;
  /** Committed txns kept in memory to DIFF learners; default 10000. */
  committedLogMax?: number;
  /** The membership for /zookeeper/config (zoo.cfg's server.N lines); without it the node stays empty. */
  quorumConfig?: QuorumConfig;
  /** Called with each membership put in force (dynamic reconfiguration), e.g. to write it to a file. */
  onCommittedConfig?(config: QuorumConfig): void;
  /** readonlymode.enabled: without a quorum for a while, serve reads to read-only clients. */
  readOnlyMode?: boolean;
}

export interface ReplicaDriverStatus extends ReplicaStatus {
  mode: ReplicaMode;
  peers: PeerLinkStatus[];
}

export interface ReplicaHandle {
  readonly myId: Sid;
  /** The client listener. */
  readonly host: string;
  readonly port: number;
  readonly quorumPort: number;
  readonly replica: Replica;
  /** What recovery found (all zero without a store). */
  readonly recovered: RecoveryResult;
  status(): ReplicaDriverStatus;
  /** The answer to a four-letter word, computed in process (no whitelist applies). */
  fourLetterWord(word: FourLetterWord): string;
  /** Stops the member: peers, clients, storage. Idempotent. */
  close(): Promise<void>;
  /** Settles when the member has stopped: null after close(), the error when it stopped on its own. */
  readonly stopped: Promise<Error | null>;
}

/** Recovers and starts one ensemble member; see the module comment. */
export async function serveReplica(options: ServeReplicaOptions): Promise<ReplicaHandle> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const me = checkMembers(options.myId, options.members);
  const config: ReplicaConfig = {
    server: { ...options.config, serverId: options.myId },
    voters: options.members.filter((member) => member.observer !== true).map((member) => member.id),
    observers: options.members.filter((member) => member.observer === true).map((member) => member.id),
    initLimitTicks: options.initLimitTicks,
    syncLimitTicks: options.syncLimitTicks,
    ...(options.committedLogMax === undefined ? {} : { committedLogMax: options.committedLogMax }),
    ...(options.quorumConfig === undefined ? {} : { quorumConfig: options.quorumConfig }),
    ...(options.readOnlyMode === undefined ? {} : { readOnlyMode: options.readOnlyMode }),
  };
  const store = options.store === undefined ? null : await openReplicaStore(options.store, logger);
  // The boot sequence the simulator runs too (replica_boot.ts): recover, then restore the epochs.
  const { replica, recovered } = await bootReplica({ config, nowMs: clock.now(), store, logger });
  const member = new RunningMember(options, replica, me, store, recovered);
  try {
    await member.start();
  } catch (error) {
    await member.close();
    throw error;
  }
  return member.handle();
}

function checkMembers(myId: Sid, members: readonly ReplicaMember[]): ReplicaMember {
  const ids = new Set<Sid>();
  for (const member of members) {
    if (!Number.isInteger(member.id) || member.id < 0) throw new RangeError(`server id ${member.id} is not a non-negative integer`);
    if (ids.has(member.id)) throw new RangeError(`server id ${member.id} is listed twice`);
    ids.add(member.id);
  }
  const me = members.find((member) => member.id === myId);
  if (me === undefined) throw new RangeError(`myid ${myId} is not among the members (${[...ids].join(", ")})`);
  if (!members.some((member) => member.observer !== true)) throw new RangeError("an ensemble needs at least one voting member");
  return me;
}

/** A member between start and stop. */
class RunningMember {
  readonly #options: ServeReplicaOptions;
  readonly #replica: Replica;
  readonly #me: ReplicaMember;
  readonly #store: TxnStore | null;
  readonly #recovered: RecoveryResult;
  readonly #logger: Logger;
  readonly #core: ReplicaCore;
  readonly #driver: ServerDriver<ReplicaCore>;
  #network: PeerNetwork | null = null;
  #started = false;
  #closing: Promise<void> | null = null;
  #failure: Error | null = null;
  #resolveStopped: (error: Error | null) => void = () => {};
  readonly stopped: Promise<Error | null>;

  constructor(options: ServeReplicaOptions, replica: Replica, me: ReplicaMember, store: TxnStore | null, recovered: RecoveryResult) {
    this.#options = options;
    this.#replica = replica;
    this.#me = me;
    this.#store = store;
    this.#recovered = recovered;
    this.#logger = options.logger ?? silentLogger;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    const core = this.#core = new ReplicaCore(replica, {
      send: (to, message) => this.#network?.send(to, message),
      ...(options.onCommittedConfig === undefined ? {} : { committedConfigChanged: options.onCommittedConfig }),
      membersChanged: (members) => this.#network?.addPeers(members.map((member) => ({ id: member.id, host: member.host, port: member.quorumPort }))),
      storageFailed: (reason) => this.#fail(new Error(`server ${options.myId}: storage failed, stopping this member: ${reason}`)),
    }, { observer: me.observer === true });
    this.#driver = new ServerDriver(core, {
      ...options,
      config: { ...options.config, serverId: options.myId },
      serverId: options.myId,
      ...(store === null ? {} : { durableLog: store }),
    });
  }

  async start(): Promise<void> {
    const listen = this.#options.quorumListen ?? { host: this.#me.host, port: this.#me.quorumPort };
    this.#network = await PeerNetwork.start({
      ...this.#options.peers,
      myId: this.#options.myId,
      transport: this.#options.peerTransport ?? this.#options.transport,
      listen,
      peers: this.#options.members.map((member) => ({ id: member.id, host: member.host, port: member.quorumPort })),
      // Before the election starts the replica ignores peers (and must not be ticked yet).
      onMessages: (from, messages) => {
        if (this.#started) this.#driver.input("receive", () => this.#core.receive(from, messages));
      },
      onPeerLost: (sid) => {
        if (this.#started) this.#driver.input("peerLost", () => this.#core.peerLost(sid));
      },
      logger: this.#logger,
    });
    // Members of a membership recovered from the log (a reconfig since zoo.cfg) are peers too.
    const { committed, lastSeen } = this.#replica.configuration;
    this.#network.addPeers([...committed.config.members, ...lastSeen.config.members].map((member) => ({ id: member.id, host: member.host, port: member.quorumPort })));
    await this.#driver.start();
    const role = this.#me.observer === true ? "observer" : "voter";
    this.#logger.log(
      "info",
      `server ${this.#options.myId} (${role} of ${this.#options.members.length}): recovered to zxid 0x${this.#recovered.lastZxid.toString(16)}, ` +
        `epochs accepted ${this.#recovered.acceptedEpoch} / current ${this.#recovered.currentEpoch}; looking for a leader`,
    );
    this.#started = true;
    this.#driver.input("start", () => this.#core.start());
  }

  #fail(error: Error): void {
    if (this.#failure !== null || this.#closing !== null) return;
    this.#failure = error;
    this.#logger.log("error", error.message);
    void this.close();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      await this.#network?.close();
      await this.#driver.close();
      await this.#store?.close();
    } finally {
      this.#resolveStopped(this.#failure);
    }
  }

  handle(): ReplicaHandle {
    const driver = this.#driver;
    const replica = this.#replica;
    const network = this.#network;
    return {
      myId: this.#options.myId,
      host: driver.host,
      port: driver.port,
      quorumPort: network?.port ?? this.#me.quorumPort,
      replica,
      recovered: this.#recovered,
      status: () => {
        const status = replica.status();
        return { ...status, mode: replicaMode(status.state), peers: network?.links() ?? [] };
      },
      fourLetterWord: (word) => driver.fourLetterWord(word),
      close: () => this.close(),
      stopped: this.stopped,
    };
  }
}
