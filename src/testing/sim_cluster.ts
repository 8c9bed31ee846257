/**
 * The simulated world: every replica (with its disk and drifting clock), the network between them,
 * and the connections of simulated clients, all driven by one event queue. It plays the driver's
 * part for each replica where the driver talks to sockets — feeds inputs, carries out the outputs of
 * each input in order (sends, client traffic) — but a replica's storage is the real one: it boots
 * through the driver's boot sequence (src/driver/replica_boot.ts: TxnStore.open + recover + epochs)
 * and its writes go through the driver's Persister (group commit) into a TxnStore on a simulated
 * disk (sim_disk.ts). A crash is a power loss; a restart recovers from what the disk kept.
 *
 * Storage runs on promises, so a step of the simulation may leave continuations to run: `unsettled`
 * says so and `settle()` runs them all (one macrotask turn; nothing real is pending, so the order is
 * a pure function of the seed). The run loop settles after every event that touched storage.
 *
 * Besides the commit checker it checks one invariant of its own: a restarted member holds every
 * write the persister reported durable before the crash (its log reaches at least as far, its
 * epochs are at least as new), unless its disk was corrupted or lies about fsync. A member whose
 * recovery finds a damaged disk refuses to start ("detected"); once every other member is synced
 * with the leader its disk is replaced by an empty one and it rejoins (see #wipeWhenSafe).
 */
import type { PeerMessage, Sid } from "../core/peer_messages.ts";
import type { ConnectRequest, ConnectResponse, Reply, Request, RequestHeader, WatcherEvent } from "../core/records.ts";
import type { Replica, ReplicaConfig, ReplicaOutput } from "../core/replica.ts";
import { defaultServerConfig } from "../core/server_io.ts";
import type { TxnEntry } from "../core/txn.ts";
import { simTreeDigest } from "./sim_digest.ts";
import { zxidHex } from "../core/zxid.ts";
import type { Logger } from "../driver/logger.ts";
import { type DurableLog, Persister, type PersisterTimers } from "../driver/persister.ts";
import { type BootedReplica, bootReplica, openReplicaStore } from "../driver/replica_boot.ts";
import { errorCodeOf } from "../storage/file_system.ts";
import { StorageError, type TxnStore } from "../storage/txn_store.ts";
import type { CommitChecker } from "./checkers/commit_checker.ts";
import type { EventQueue } from "./event_queue.ts";
import type { FaultTarget } from "./nemesis.ts";
import type { Prng } from "./prng.ts";
import type { SimClient } from "./sim_client.ts";
import { DriftingClock } from "./sim_clock.ts";
import { describeDurable, type DiskStats, type IssuedWrite, type KeepUnsynced, SimDisk } from "./sim_disk.ts";
import { type PeerCodec, SimNetwork } from "./sim_network.ts";
import { type FaultPlan, TICK_TIME_MS } from "./sim_options.ts";
import { between, chance, forkPrng } from "./sim_random.ts";
import { describeClientOutput, describeMessage, describePersist } from "./sim_trace.ts";
import { type MemberSets, MembershipInForce, simQuorumConfig } from "./sim_reconfig.ts";

/** Wall-clock-like start of every replica clock (before its offset). */
const EPOCH_MS = 1_700_000_000_000;
const DRIVER_TICK_MS = TICK_TIME_MS / 2;
const LOG_LINES_KEPT = 400;
/** Where each member keeps its files on its simulated disk. */
const DATA_DIR = "/data";
/** A member stopped by a storage failure is started again by its supervisor after this long. */
const SUPERVISOR_RESTART_MS_MIN = 100;
const SUPERVISOR_RESTART_MS_MAX = 1_000;
/** How often a member refused for a damaged disk checks whether its disk may be replaced. */
const WIPE_CHECK_MS = 200;
/** Snapshot nodes per record (small trees: several records, so torn and bad records are possible). */
const SNAPSHOT_NODES_PER_RECORD = 16;

/** The address SimCluster gives every client connection (its `ip` identity). */
export const SIM_CLIENT_ADDRESS = "10.0.0.1";

type HostState = "down" | "booting" | "up" | "damaged";

interface Host {
  sid: Sid;
  disk: SimDisk;
  clock: DriftingClock;
  /** The running replica (booted and started); null unless `up`. */
  replica: Replica | null;
  persister: Persister | null;
  state: HostState;
  /** Bumped at every boot, crash and stop: events and continuations of an earlier life are ignored. */
  life: number;
  connections: Set<number>;
  /**
   * Snapshot zxid → the last zxid applied when the snapshot was complete: how far its fuzzy walk
   * may have seen. A recovery from it whose log ends earlier holds some later txns' effects too.
   */
  snapshotReach: Map<number, number>;
  /** Snapshots being written (their file may already be durable when the process dies). */
  snapshotsInFlight: Set<number>;
  /** The recovery now finishing replayed less than its fuzzy snapshot saw (see #observe). */
  inexactRecovery: boolean;
}

/** Who else watches each replica (the membership checker): its start and its log lines. */
export interface ReplicaWatcher {
  created(sid: Sid): void;
  log(sid: Sid, message: string): void;
  /** Some member has a reconfiguration in progress (its outcome may change who must stay intact). */
  reconfigPending(): boolean;
  /** The newest membership a member took as committed (known before any leader serves it). */
  readonly newest: MemberSets;
}

/** Crash options (what the nemesis may choose). */
export interface CrashOptions {
  /** What the power loss keeps of each file's unsynced bytes (default: drawn from the disk faults). */
  keepUnsynced?: KeepUnsynced;
  /** Also flip a bit of its durable data (refused, returning false, unless it stays a minority). */
  corrupt?: boolean;
}

/**
 * The client end of a simulated client connection: a model SimClient, or the byte-level bridge of
 * SimTransport that lets the real Client (src/client/) talk to the replicas.
 */
export interface ClientEndpoint {
  readonly id: number;
  onConnectResponse(connection: number, response: ConnectResponse, serverZxid: number): void;
  onReply(connection: number, reply: Reply): void;
  onNotification(connection: number, zxid: number, event: WatcherEvent): void;
  onClosed(connection: number): void;
}

interface ClientConnection {
  id: number;
  client: ClientEndpoint;
  sid: Sid;
  life: number;
  /** The client closed its side, or the replica crashed: nothing more reaches the client. */
  clientGone: boolean;
  /** The replica closed it (or crashed): nothing more reaches the replica. */
  serverGone: boolean;
  toServerMs: number;
  toClientMs: number;
}

export class SimCluster {
  readonly queue: EventQueue;
  readonly voters: readonly Sid[];
  readonly observers: readonly Sid[];
  readonly members: readonly Sid[];
  readonly network: SimNetwork;
  readonly #plan: FaultPlan;
  readonly #prng: Prng;
  readonly #checker: CommitChecker;
  readonly #hosts = new Map<Sid, Host>();
  readonly #connections = new Map<number, ClientConnection>();
  #nextConnection = 1;
  readonly #logs: string[] = [];
  readonly #trace: string[] = [];
  readonly #violation: (invariant: string, message: string) => void;
  readonly #verbose: ((line: string) => void) | null;
  readonly #integerClocks: boolean;
  /** Storage continuations may be waiting to run (see settle()). */
  #unsettled = false;
  readonly #watcher: ReplicaWatcher | null;
  /** With dynamic reconfiguration on: the membership in force (else every member, always). */
  readonly #inForce: MembershipInForce | null;

  constructor(options: {
    queue: EventQueue;
    prng: Prng;
    plan: FaultPlan;
    voters: number;
    observers: number;
    checker: CommitChecker;
    codec?: PeerCodec;
    violation: (invariant: string, message: string) => void;
    /** Every peer message, persist and connection loss, as it happens (debugging a seed). */
    verbose?: (line: string) => void;
    /**
     * Replica clocks read whole milliseconds, as a real server's wall clock does (znode ctime and
     * mtime then fit the wire's long; needed when replies are encoded for a real client). Default false.
     */
    integerClocks?: boolean;
    watcher?: ReplicaWatcher;
  }) {
    this.#verbose = options.verbose ?? null;
    this.#watcher = options.watcher ?? null;
    this.#integerClocks = options.integerClocks ?? false;
    this.queue = options.queue;
    this.#prng = options.prng;
    this.#plan = options.plan;
    this.#checker = options.checker;
    this.#violation = options.violation;
    this.voters = Array.from({ length: options.voters }, (_, i) => i + 1);
    this.observers = Array.from({ length: options.observers }, (_, i) => options.voters + i + 1);
    this.members = [...this.voters, ...this.observers];
    this.#inForce = this.#plan.server?.reconfigEnabled === true
      ? new MembershipInForce({ version: 0, voters: [...this.voters], observers: [...this.observers] })
      : null;
    this.network = new SimNetwork({
      scheduler: this.queue,
      prng: forkPrng(this.#prng),
      members: this.members,
      faults: this.#plan.network,
      ...(options.codec === undefined ? {} : { codec: options.codec }),
      callbacks: {
        deliver: (to, from, message) => this.#deliver(to, from, message),
        lost: (at, peer) => {
          this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${at}: lost connection to ${peer}`);
          this.#input(at, (replica) => replica.peerLost(peer));
        },
      },
    });
    for (const sid of this.members) {
      const drift = this.#plan.clockDrift;
      const host: Host = {
        sid,
        disk: new SimDisk({
          scheduler: this.queue,
          prng: forkPrng(this.#prng),
          faults: this.#plan.disk,
          onActivity: () => {
            this.#unsettled = true;
          },
        }),
        clock: new DriftingClock({ offsetMs: EPOCH_MS + between(this.#prng, -500, 500), rate: 1 + between(this.#prng, -drift, drift) }),
        replica: null,
        persister: null,
        state: "down",
        life: 0,
        connections: new Set(),
        snapshotReach: new Map(),
        snapshotsInFlight: new Set(),
        inexactRecovery: false,
      };
      this.#hosts.set(sid, host);
    }
  }

  /** Boots every member from its (empty) disk; each is up once its recovery ran (see settle()). */
  start(): void {
    // Unreachable until booted: peers see refused connections, not silently lost messages.
    for (const sid of this.members) this.network.crash(sid);
    for (const sid of this.members) this.#boot(this.#host(sid));
  }

  /** Whether storage continuations may be waiting: await settle() before the next event. */
  get unsettled(): boolean {
    return this.#unsettled;
  }

  /**
   * Runs every pending storage continuation (and those they start) to where each waits for the
   * disk again: one macrotask turn, since all of them are microtasks.
   */
  async settle(): Promise<void> {
    await new Promise<void>((resolve) => immediate(resolve));
    this.#unsettled = false;
  }

  // ------------------------------------------------------------------------------------------------
  // Members

  replica(sid: Sid): Replica | null {
    return this.#host(sid).replica;
  }

  /** What a Nemesis may act on: this cluster, with `clients` and `trace` given by its owner. */
  faultTarget(clients: () => readonly SimClient[], trace: (message: string) => void): FaultTarget {
    const votersInForce = () => this.votersInForce();
    return {
      members: this.members,
      // The voters of the membership in force (a reconfiguration changes them).
      get voters() {
        return votersInForce();
      },
      network: this.network,
      isDown: (sid) => this.isDown(sid),
      crash: (sid) => this.crash(sid),
      restart: (sid) => this.restart(sid),
      leader: () => this.leader(),
      disk: (sid) => this.disk(sid),
      clock: (sid) => this.clock(sid),
      clients,
      trace,
    };
  }

  /** Voters of the membership in force: zoo.cfg's unless a reconfiguration changed them. */
  votersInForce(): readonly Sid[] {
    if (this.#inForce === null) return this.voters;
    return this.#inForce.update(this.#leaderTree()).voters;
  }

  /** Voters and observers of the membership in force (a member a reconfig removed is not one). */
  membersInForce(): readonly Sid[] {
    if (this.#inForce === null) return this.members;
    const sets = this.#inForce.update(this.#leaderTree());
    return [...sets.voters, ...sets.observers];
  }

  #leaderTree() {
    const leader = this.leader();
    return leader === null ? null : this.#host(leader).replica?.server.tree ?? null;
  }

  /** Down: crashed, stopped, or refused to start (a damaged disk). A member booting is not down. */
  isDown(sid: Sid): boolean {
    const state = this.#host(sid).state;
    return state === "down" || state === "damaged";
  }

  /** Whether the member refused to start because recovery found its disk damaged. */
  isDamaged(sid: Sid): boolean {
    return this.#host(sid).state === "damaged";
  }

  disk(sid: Sid): SimDisk {
    return this.#host(sid).disk;
  }

  clock(sid: Sid): DriftingClock {
    return this.#host(sid).clock;
  }

  /** Every disk's counters, summed. */
  storageStats(): DiskStats {
    const total = { ...this.#host(this.members[0]!).disk.stats };
    for (const key of Object.keys(total) as Array<keyof DiskStats>) total[key] = 0;
    for (const host of this.#hosts.values()) {
      for (const key of Object.keys(total) as Array<keyof DiskStats>) total[key] += host.disk.stats[key];
    }
    return total;
  }

  /** The member leading an established epoch (the one with the highest epoch if several think so). */
  leader(): Sid | null {
    let best: { sid: Sid; epoch: number } | null = null;
    for (const host of this.#hosts.values()) {
      const epoch = host.replica?.leaderEpoch ?? null;
      if (epoch !== null && (best === null || epoch > best.epoch)) best = { sid: host.sid, epoch };
    }
    return best?.sid ?? null;
  }

  /** Power loss at one member (running or booting). */
  crash(sid: Sid, options: CrashOptions = {}): void {
    const host = this.#host(sid);
    if (host.state === "down" || host.state === "damaged") return;
    this.trace(`crash ${sid}`);
    this.#stop(host);
    const keep = options.keepUnsynced ?? (this.#plan.crashLosesUnsynced === true ? "none" : undefined);
    const lost = host.disk.crash(keep);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${sid} power loss: ${lost}`);
    const rate = host.disk.faults.corruptRate ?? 0;
    if (options.corrupt === true || (rate > 0 && chance(this.#prng, rate))) this.corruptSector(sid);
  }

  restart(sid: Sid): void {
    const host = this.#host(sid);
    if (host.state !== "down") return; // up, booting, or waiting for a new disk
    this.trace(`restart ${sid}`);
    this.#boot(host);
  }

  /**
   * A bad sector on a member's disk: one bit of its durable data flips. Refused (null) while
   * another member's disk is damaged, so that a majority always holds every acknowledged write.
   */
  corruptSector(sid: Sid, at?: { path: string; offset: number; bit?: number }): { path: string; offset: number; bit: number } | null {
    for (const host of this.#hosts.values()) {
      if (host.sid !== sid && (host.disk.corrupted || host.state === "damaged")) return null;
    }
    // With two voters in force (or a reconfiguration that may leave two) no voter's disk may be
    // lost: no quorum would remain to replace it, as with a real ensemble of two.
    if (this.#inForce !== null) {
      const voters = this.votersInForce();
      const newest = this.#watcher?.newest.voters ?? voters;
      const twoLeft = (list: readonly Sid[]) => list.includes(sid) && list.length <= 2;
      if (twoLeft(voters) || twoLeft(newest) || this.#watcher?.reconfigPending() === true) return null;
    }
    const where = this.#host(sid).disk.corruptSector(at);
    if (where !== null) this.trace(`disk ${sid}: bit ${where.bit} of ${where.path} at offset ${where.offset} flipped`);
    return where;
  }

  #boot(host: Host): void {
    const sid = host.sid;
    const life = ++host.life;
    host.state = "booting";
    this.#unsettled = true;
    const disk = host.disk;
    const fs = disk.open();
    const logger: Logger = { log: (level, message) => this.#replicaLog(sid, level, message) };
    const boot = async (): Promise<BootedReplica & { store: TxnStore }> => {
      const store = await openReplicaStore({ fs, dataDir: DATA_DIR, yieldToEventLoop: () => disk.yieldToEventLoop() }, logger);
      const nowMs = this.#localMs(host);
      const booted = await bootReplica({
        config: this.#replicaConfig(sid, nowMs),
        nowMs,
        store,
        logger,
        created: (replica) => this.#observe(host, replica),
      });
      return { ...booted, store };
    };
    boot().then(
      (booted) => {
        if (host.life === life) this.#guard(() => this.#up(host, life, booted));
      },
      (error: unknown) => {
        if (host.life === life) this.#guard(() => this.#bootFailed(host, error));
      },
    );
  }

  #replicaConfig(sid: Sid, nowMs: number): ReplicaConfig {
    return {
      server: defaultServerConfig({
        serverId: sid,
        tickTimeMs: TICK_TIME_MS,
        minSessionTimeoutMs: 2 * TICK_TIME_MS,
        maxSessionTimeoutMs: 200 * TICK_TIME_MS,
        sessionIdSeedMs: Math.floor(nowMs),
        snapshotTxnCount: this.#plan.snapshotTxnCount,
        snapshotBytesMax: 0,
        ...(this.#plan.server ?? {}),
      }),
      voters: this.voters,
      observers: this.observers,
      ...(this.#inForce === null ? {} : { quorumConfig: simQuorumConfig(this.voters, this.observers) }),
      initLimitTicks: 10,
      syncLimitTicks: 5,
      committedLogMax: this.#plan.committedLogMax,
    };
  }

  /** Recovery succeeded: check it kept what was durable, then start the replica. */
  #up(host: Host, life: number, booted: BootedReplica & { store: TxnStore }): void {
    const sid = host.sid;
    const replica = booted.replica;
    const status = replica.status();
    const found = { lastZxid: status.lastLoggedZxid, acceptedEpoch: status.acceptedEpoch, currentEpoch: status.currentEpoch };
    const bound = host.disk.durableLowerBound();
    if (bound !== null && (found.lastZxid < bound.lastZxid || found.acceptedEpoch < bound.acceptedEpoch || found.currentEpoch < bound.currentEpoch)) {
      this.#violation(
        "a restart keeps every durable write",
        `server ${sid} restarted with ${describeDurable(found)}, but before it went down its storage had reported ` +
          `writes durable up to ${describeDurable(bound)}: a write it acknowledged was lost or forgotten`,
      );
    }
    host.disk.recovered(found);
    // A fuzzy snapshot may hold effects of txns its log had not made durable when the power went
    // (a learner applies a commit before its own append is synced): such a tree is made exact by
    // the leader's DIFF, not by recovery, so it is not compared with the history here.
    const reach = booted.recovered.snapshotZxid === 0 ? undefined : host.snapshotReach.get(booted.recovered.snapshotZxid);
    host.inexactRecovery = reach !== undefined && reach > found.lastZxid;
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${sid} up: recovered ${describeDurable(found)}`);
    host.persister = new Persister(simDurableLog(booted.store, host.disk, (snapshotZxid, state) => {
      if (host.life !== life) return;
      if (state === "started") host.snapshotsInFlight.add(snapshotZxid);
      else host.snapshotsInFlight.delete(snapshotZxid);
      // Written, or failed after its file may have become durable: its walk saw at most this much.
      if (state !== "started") host.snapshotReach.set(snapshotZxid, replica.server.tree.lastZxid);
    }), {
      persisted: (writeSeq) => {
        if (host.life !== life) return;
        host.disk.completed(writeSeq);
        this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${sid} persisted #${writeSeq}`);
        this.#guard(() => this.#input(sid, (live) => live.persisted(writeSeq)));
      },
      failed: (_writeSeq, reason) => {
        if (host.life === life) this.#guard(() => this.#storageFailed(host, reason));
      },
      // A replica whose storage failed is stopped (ReplicaCore.persistFailed), never retried.
      retry: () => {},
      log: (level, message) => {
        if (host.life === life) this.#replicaLog(sid, level, message);
      },
    }, this.#timers(host, life));
    host.replica = replica;
    host.state = "up";
    this.network.restart(sid);
    replica.start();
    this.#drain(host);
    this.#scheduleTick(host, life);
  }

  #bootFailed(host: Host, error: unknown): void {
    const sid = host.sid;
    const message = error instanceof Error ? error.message : String(error);
    host.state = "down";
    const code = errorCodeOf(error);
    if (code === "EIO" || code === "ENOSPC") {
      // An I/O error during recovery: the process exits and its supervisor tries again.
      this.trace(`${sid} failed to start (${code}): ${firstLine(message)}`);
      host.disk.kill();
      this.#superviseRestart(host);
      return;
    }
    if (!(error instanceof StorageError)) {
      this.#violation("no exception", `server ${sid} failed to start: ${error instanceof Error ? error.stack ?? message : message}`);
      return;
    }
    if (host.disk.corrupted) {
      host.state = "damaged";
      host.disk.stats.corruptionsDetected++;
      this.trace(`${sid} refuses to start, its disk is damaged (detected): ${firstLine(message)}`);
      this.#wipeWhenSafe(host);
      return;
    }
    const lying = host.disk.faults.lyingFsync === true ? " (its fsync lies: synced writes were lost)" : "";
    this.#violation("a member recovers from its own disk", `server ${sid} refuses to start from a disk nothing corrupted${lying}: ${message}`);
  }

  /** A write or fsync failed: the member stops (it must not ack with a log it cannot write). */
  #storageFailed(host: Host, reason: string): void {
    this.trace(`${host.sid} stops: storage failed: ${firstLine(reason)}`);
    this.#stop(host);
    host.disk.kill();
    this.#superviseRestart(host);
  }

  #superviseRestart(host: Host): void {
    const life = host.life;
    this.queue.after(between(this.#prng, SUPERVISOR_RESTART_MS_MIN, SUPERVISOR_RESTART_MS_MAX), () => {
      if (host.life !== life || host.state !== "down") return;
      this.trace(`restart ${host.sid} (supervisor)`);
      this.#boot(host);
    });
  }

  /**
   * A member refused to start because its disk is damaged. Its data is replaced by an empty disk —
   * but only once every other member is up and synced with the leader: then each of them holds every
   * committed txn and the current epoch, so the emptied voter cannot help a quorum forget one.
   */
  #wipeWhenSafe(host: Host): void {
    const check = () => {
      if (host.state !== "damaged") return;
      if (!this.#othersSynced(host.sid)) {
        this.queue.after(WIPE_CHECK_MS, check);
        return;
      }
      this.trace(`${host.sid}: damaged disk replaced by an empty one; it rejoins as a new member`);
      host.disk.wipe();
      host.snapshotReach.clear();
      host.snapshotsInFlight.clear();
      host.state = "down";
      this.#boot(host);
    };
    this.queue.after(WIPE_CHECK_MS, check);
  }

  #othersSynced(sid: Sid): boolean {
    const leader = this.leader();
    if (leader === null || leader === sid) return false;
    const lastZxid = this.#host(leader).replica!.status().lastZxid;
    const inForce = new Set(this.membersInForce());
    for (const host of this.#hosts.values()) {
      if (host.sid === sid || !inForce.has(host.sid)) continue;
      const status = host.replica?.status();
      if (status === undefined || !status.serving || status.leader !== leader || status.lastZxid !== lastZxid) return false;
    }
    return true;
  }

  /** The process ends (crash or stop): nothing of this life runs any more. */
  #stop(host: Host): void {
    // A snapshot cut short may still have reached the disk: its walk saw at most what was applied now.
    const applied = host.replica?.server.tree.lastZxid;
    for (const zxid of host.snapshotsInFlight) if (applied !== undefined) host.snapshotReach.set(zxid, applied);
    host.snapshotsInFlight.clear();
    host.replica = null;
    host.state = "down";
    host.life++;
    host.persister?.close().catch(() => {});
    host.persister = null;
    this.#unsettled = true;
    this.network.crash(host.sid);
    for (const id of host.connections) {
      const connection = this.#connections.get(id)!;
      connection.serverGone = true;
      if (connection.clientGone) continue;
      connection.clientGone = true;
      this.queue.after(this.#clientDelay(), () => connection.client.onClosed(id));
    }
    host.connections.clear();
  }

  /** The persister's timers on virtual time, dead with the life. */
  #timers(host: Host, life: number): PersisterTimers {
    return {
      now: () => this.queue.nowMs,
      setTimeout: (callback, delayMs) => {
        const timer = { cancelled: false };
        this.queue.after(delayMs, () => {
          if (!timer.cancelled && host.life === life) callback();
        });
        return timer;
      },
      clearTimeout: (timer) => {
        if (typeof timer === "object" && timer !== null) (timer as { cancelled: boolean }).cancelled = true;
      },
    };
  }

  /** Runs a step of the cluster from a storage continuation: an exception is a failure of the run. */
  #guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.#violation("no exception", error instanceof Error ? `${error.stack ?? error.message}` : String(error));
    }
  }

  #replicaLog(sid: Sid, level: string, message: string): void {
    this.#watcher?.log(sid, message);
    this.#log(`${sid} ${level}: ${message}`);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${sid} ${level}: ${message}`);
  }

  /** Reports applies, replays and recovered states to the checker, by wrapping the server's hooks. */
  #observe(host: Host, replica: Replica): void {
    const sid = host.sid;
    const server = replica.server;
    const checker = this.#checker;
    this.#watcher?.created(sid);
    const applyCommitted = server.applyCommitted.bind(server);
    server.applyCommitted = (entry: TxnEntry) => {
      const before = server.tree.lastZxid;
      const serving = server.serving;
      applyCommitted(entry);
      checker.applied(sid, entry, before, { kind: "commit", serving });
    };
    const replay = server.replay.bind(server);
    server.replay = (entry: TxnEntry) => {
      const before = server.tree.lastZxid;
      replay(entry);
      checker.applied(sid, entry, before, { kind: "replay", serving: false });
    };
    const finishRecovery = server.finishRecovery.bind(server);
    server.finishRecovery = () => {
      finishRecovery();
      const broken = server.tree.linkProblem();
      if (broken !== null) this.#violation("a recovered tree is well formed", `server ${sid} after recovery or SNAP: ${broken}`);
      if (host.inexactRecovery) {
        host.inexactRecovery = false;
        return;
      }
      checker.state(sid, server.tree.lastZxid, simTreeDigest(server.tree), "after recovery or SNAP");
    };
  }

  /** The replica's local time now. */
  #localMs(host: Host): number {
    const localMs = host.clock.localMs(this.queue.nowMs);
    return this.#integerClocks ? Math.floor(localMs) : localMs;
  }

  #scheduleTick(host: Host, life: number): void {
    const delayMs = host.clock.virtualDelayMs(DRIVER_TICK_MS) * between(this.#prng, 0.9, 1.1);
    this.queue.after(delayMs, () => {
      if (host.life !== life || host.replica === null) return;
      host.replica.tick(this.#localMs(host));
      this.#drain(host);
      this.#scheduleTick(host, life);
    });
  }

  #deliver(to: Sid, from: Sid, message: PeerMessage): void {
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${to} <- ${from}: ${describeMessage(message)}`);
    this.#input(to, (replica) => replica.receive(from, message));
  }

  /** Feeds one input to a live replica and carries out its outputs. */
  #input(sid: Sid, input: (replica: Replica) => void): void {
    const host = this.#host(sid);
    if (host.replica === null) return;
    input(host.replica);
    this.#drain(host);
  }

  /**
   * Carries out the replica's outputs in order, as ServerDriver does: sends, client traffic, and
   * writes and snapshots handed to the persister (writes through the disk's door, writeBatch).
   */
  #drain(host: Host): void {
    const replica = host.replica;
    if (replica === null) return;
    const outputs = replica.takeOutputs();
    const writes: IssuedWrite[] = [];
    for (const output of outputs) {
      switch (output.kind) {
        case "send":
          this.network.send(host.sid, output.to, output.message);
          break;
        case "persist":
          if (output.request.kind === "append") {
            for (const entry of output.request.entries) this.#checker.seen(host.sid, entry, "logged");
          }
          writes.push({ writeSeq: output.writeSeq, request: output.request });
          this.#verbose?.(`${this.queue.nowMs.toFixed(1)} ${host.sid} persist #${output.writeSeq} ${describePersist(output.request)}`);
          break;
        case "snapshot":
          // Outputs are carried out in order: the writes before the snapshot go to the persister first.
          this.#write(host, writes.splice(0));
          host.persister?.snapshot(output.source);
          this.#unsettled = true;
          break;
        case "log":
          this.#replicaLog(host.sid, output.level, output.message);
          break;
        default:
          this.#toClient(host, output);
      }
    }
    this.#write(host, writes);
    const epoch = replica.leaderEpoch;
    if (epoch !== null) this.#checker.leading(host.sid, epoch);
  }

  #write(host: Host, writes: IssuedWrite[]): void {
    if (writes.length === 0) return;
    const persister = host.persister;
    if (persister === null) return;
    this.#unsettled = true;
    host.disk.writeBatch(writes, (issued) => {
      for (const write of issued) persister.write(write.writeSeq, write.request);
    });
  }

  // ------------------------------------------------------------------------------------------------
  // Client connections (FIFO both ways, with a small delay)

  #clientDelay(): number {
    return between(this.#prng, 0.2, 3);
  }

  connectClient(client: ClientEndpoint, sid: Sid, request: ConnectRequest): number {
    const host = this.#host(sid);
    const id = this.#nextConnection++;
    const connection: ClientConnection = {
      id,
      client,
      sid,
      life: host.life,
      clientGone: false,
      serverGone: host.replica === null,
      toServerMs: 0,
      toClientMs: 0,
    };
    this.#connections.set(id, connection);
    if (connection.serverGone) {
      connection.clientGone = true;
      this.queue.after(this.#clientDelay(), () => client.onClosed(id)); // connection refused
      return id;
    }
    host.connections.add(id);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${client.id} c${id} -> ${sid}: connect session 0x${BigInt.asUintN(64, request.sessionId).toString(16)} lastZxidSeen ${zxidHex(request.lastZxidSeen)}`);
    const copy = structuredClone(request);
    this.#toServer(connection, (replica) => {
      replica.open(id, { remoteAddress: SIM_CLIENT_ADDRESS, remotePort: id });
      replica.connect(id, copy);
    });
    return id;
  }

  sendClient(id: number, header: RequestHeader, request: Request): void {
    const connection = this.#connections.get(id);
    if (!connection || connection.clientGone) return;
    const copy = structuredClone(request);
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${connection.client.id} c${id} -> ${connection.sid}: xid ${header.xid} ${request.kind}${"path" in request ? ` ${request.path}` : ""}`);
    this.#toServer(connection, (replica) => replica.request(id, { ...header }, copy));
  }

  closeClient(id: number): void {
    const connection = this.#connections.get(id);
    if (!connection || connection.clientGone) return;
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${connection.client.id} c${id} closes`);
    connection.clientGone = true;
    this.#toServer(connection, (replica) => replica.closed(id));
    connection.serverGone = true;
    this.#host(connection.sid).connections.delete(id);
  }

  #toServer(connection: ClientConnection, input: (replica: Replica) => void): void {
    if (connection.serverGone) return;
    const host = this.#host(connection.sid);
    const atMs = Math.max(this.queue.nowMs + this.#clientDelay(), connection.toServerMs);
    connection.toServerMs = atMs;
    const life = connection.life;
    this.queue.at(atMs, () => {
      if (host.life !== life || host.replica === null) return;
      this.#input(host.sid, input);
    });
  }

  #toClient(host: Host, output: ReplicaOutput): void {
    if (output.kind !== "reply" && output.kind !== "notification" && output.kind !== "close" && output.kind !== "connectResponse") return;
    const connection = this.#connections.get(output.connection);
    if (!connection || connection.clientGone) return;
    const atMs = Math.max(this.queue.nowMs + this.#clientDelay(), connection.toClientMs);
    connection.toClientMs = atMs;
    const client = connection.client;
    const id = connection.id;
    this.#verbose?.(`${this.queue.nowMs.toFixed(1)} client ${client.id} c${id} <- ${host.sid}: ${describeClientOutput(output)}`);
    switch (output.kind) {
      case "close": {
        connection.serverGone = true;
        connection.clientGone = true;
        host.connections.delete(id);
        const life = host.life;
        this.queue.after(0, () => {
          if (host.life === life) this.#input(host.sid, (replica) => replica.closed(id));
        });
        this.queue.at(atMs, () => client.onClosed(id));
        return;
      }
      case "reply": {
        const reply = structuredClone(output.reply);
        this.queue.at(atMs, () => client.onReply(id, reply));
        return;
      }
      case "notification": {
        const event = structuredClone(output.event);
        const zxid = output.zxid;
        this.queue.at(atMs, () => client.onNotification(id, zxid, event));
        return;
      }
      case "connectResponse": {
        const response = structuredClone(output.response);
        const serverZxid = host.replica?.server.tree.lastZxid ?? 0;
        this.queue.at(atMs, () => client.onConnectResponse(id, response, serverZxid));
        return;
      }
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Diagnostics

  trace(message: string): void {
    this.#trace.push(`${this.queue.nowMs.toFixed(1)} ${message}`);
  }

  #log(line: string): void {
    this.#logs.push(`${this.queue.nowMs.toFixed(1)} ${line}`);
    if (this.#logs.length > LOG_LINES_KEPT * 2) this.#logs.splice(0, this.#logs.length - LOG_LINES_KEPT);
  }

  /** The fault trace, the last replica log lines and each member's state now. */
  diagnostics(): { trace: readonly string[]; logs: readonly string[]; members: readonly string[] } {
    const members = this.members.map((sid) => {
      const status = this.#host(sid).replica?.status();
      if (status === undefined) return `${sid}: ${this.#host(sid).state}`;
      return `${sid}: ${status.state}, leader ${status.leader}, serving ${status.serving}, applied ${zxidHex(status.lastZxid)}, logged ${zxidHex(status.lastLoggedZxid)}, epochs ${status.acceptedEpoch}/${status.currentEpoch}`;
    });
    return { trace: this.#trace, logs: this.#logs.slice(-LOG_LINES_KEPT), members };
  }

  #host(sid: Sid): Host {
    const host = this.#hosts.get(sid);
    if (!host) throw new Error(`no member ${sid} in this simulation`);
    return host;
  }
}

/** The persister's view of a member's TxnStore; snapshots walk the tree in small steps (fuzzy). */
function simDurableLog(
  store: TxnStore,
  disk: SimDisk,
  snapshots: (snapshotZxid: number, state: "started" | "written" | "failed") => void,
): DurableLog {
  return {
    append: (entries) => store.append(entries),
    sync: () => store.sync(),
    discardUnsynced: () => store.discardUnsynced(),
    writeSnapshot: async (source) => {
      snapshots(source.header.zxid, "started");
      try {
        const written = await store.writeSnapshot(source, {
          nodesPerRecord: SNAPSHOT_NODES_PER_RECORD,
          yieldEvery: Math.max(1, disk.faults.snapshotNodesPerStep),
        });
        disk.stats.snapshotsWritten++;
        snapshots(source.header.zxid, "written");
        return written;
      } catch (error) {
        snapshots(source.header.zxid, "failed");
        disk.stats.snapshotsAbandoned++;
        throw error;
      }
    },
    truncateAfter: (zxid) => store.truncateAfter(zxid),
    writeEpochs: (epochs) => store.writeEpochs(epochs),
    installSnapshot: (header, nodes) => store.installSnapshot(header, nodes),
  };
}

function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return end < 0 ? text : text.slice(0, end);
}

const immediate: (callback: () => void) => void =
  (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate ??
    ((callback) => setTimeout(callback, 0));
