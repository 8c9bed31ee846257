/**
 * One deterministic simulation run: a seed fixes everything (fault plan, latencies, crashes, client
 * operations). Phases, as in TigerBeetle's VOPR:
 * 1. fault phase: clients run their workload while the nemesis injects faults;
 * 2. liveness phase: faults stop, partitions heal, crashed members restart, clients go idle; the
 *    ensemble must converge within a bound (LIVENESS_MS_MAX): a serving leader, every member
 *    serving and synced with it, and a fresh client write acknowledged;
 * 3. session liveness: every client falls silent; every session must then be closed by the
 *    ensemble (a committed closeSession) and its ephemerals gone, within the longest session
 *    timeout plus a bound (SESSION_CLOSE_SLACK_MS), the members synced again;
 * 4. final checks of the whole history (see src/testing/checkers/).
 * The first violation ends the run; the result carries it with the command that replays it.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { Id, Request } from "../core/records.ts";
import type { DataTree } from "../core/data_tree.ts";
import { zxidHex } from "../core/zxid.ts";
import { CommitChecker } from "./checkers/commit_checker.ts";
import { checkHistory, isAcknowledgedWrite } from "./checkers/history_checker.ts";
import { checkAgainstModel, type ObservedNode } from "./checkers/model_checker.ts";
import { replayReference } from "./checkers/reference_replay.ts";
import { checkSessions } from "./checkers/session_checker.ts";
import { checkSessionsClosed, describeOpenSessions, SESSION_CLOSE_SLACK_MS } from "./checkers/liveness_checker.ts";
import type { Violation } from "./checkers/violation.ts";
import { checkWatches } from "./checkers/watch_checker.ts";
import { EventQueue } from "./event_queue.ts";
import { History, type OpRecord } from "./history.ts";
import { identitiesOfAuth } from "./model/model_acl.ts";
import { Nemesis, type NemesisStats } from "./nemesis.ts";
import { createPrng, type Prng } from "./prng.ts";
import { type RequestSource, SimClient } from "./sim_client.ts";
import { SimCluster } from "./sim_cluster.ts";
import { QUIET_NETWORK } from "./sim_network.ts";
import { DEFAULT_OPTIONS, defaultPlan, drawLocalSessions, type FaultPlan, FIXED_TICKS, type SimOptions, SUPER_DIGEST, swarmPlan, TICK_TIME_MS } from "./sim_options.ts";
import { MembershipChecker } from "./checkers/membership_checker.ts";
import { CONFIG_NODE } from "../core/data_tree.ts";
import { drawReconfig, isStaticMembership, simQuorumConfigBytes } from "./sim_reconfig.ts";
import { ReconfigSource } from "./sim_reconfig_source.ts";
import { simTreeDigest } from "./sim_digest.ts";
import { forkPrng } from "./sim_random.ts";
import { Workload } from "./sim_workload.ts";

export interface SimStats {
  events: number;
  virtualMs: number;
  /** Fault-phase length (virtual ms). */
  faultMs: number;
  /** Virtual ms the liveness phase took to converge. */
  convergeMs: number;
  /** Sessions the session-liveness phase waited for, and how long after the longest timeout the last closed. */
  sessionsDrained: number;
  sessionCloseLagMs: number;
  messagesSent: number;
  messagesDropped: number;
  connectionBreaks: number;
  faults: NemesisStats;
  /** Txns in the final committed history. */
  txns: number;
  epochs: number;
  ops: number;
  acknowledgedWrites: number;
  unknownOutcomes: number;
  watchEvents: number;
  snapshotsWritten: number;
  tornAppends: number;
  /** Crashes (or writes, by the disk's count) after which unsynced data survived anyway. */
  unsyncedKept: number;
  /** Bits flipped in durable data (the disk's count). */
  corruptions: number;
  /** Reconfig txns that changed the membership, in the final committed history. */
  reconfigs: number;
  /** Answered client requests by kind. */
  requestKinds: Record<string, number>;
}

export interface SimResult {
  seed: number;
  options: SimOptions;
  plan: FaultPlan;
  failure: Violation | null;
  stats: SimStats;
  /** The command that replays this run. */
  replay: string;
  /** With a failure: the fault trace and the last replica log lines. */
  diagnostics?: { trace: readonly string[]; logs: readonly string[]; members: readonly string[] };
}

const CHECK_EVERY_MS = TICK_TIME_MS / 2;
const EVENTS_PER_SLICE = 256;
/** The address SimCluster gives every client connection (its `ip` identity). */
const SIM_CLIENT_ADDRESS = "10.0.0.1";
/** Reconfig requests of client 1 at most per run, and the simulated time between two. */
const RECONFIGS_MAX = 24;
const RECONFIG_GAP_MS_MIN = 300;
const RECONFIG_GAP_MS_MAX = 1_500;

/**
 * A server's tree as the model checker compares it. zoo.cfg's membership in /zookeeper/config
 * (written outside any txn, see sim_digest.ts) is shown as the model holds it once it is checked
 * to be exactly that membership.
 */
function* observedNodes(tree: DataTree, staticConfig: Uint8Array | undefined): Generator<ObservedNode> {
  for (const record of tree.snapshotNodes()) {
    const node = tree.get(record.path)!;
    const stat = tree.statOf(node);
    if (record.path === CONFIG_NODE && staticConfig !== undefined && isStaticMembership(node.data, stat.mzxid, staticConfig)) {
      yield { path: record.path, data: staticConfig, acl: node.acl, stat: { ...stat, mzxid: 0, mtime: 0, dataLength: staticConfig.length }, children: node.children };
      continue;
    }
    yield { path: record.path, data: node.data, acl: node.acl, stat, children: node.children };
  }
}

/** A connection's identities: its address, and what its (successful) auth requests added. */
function connectionIdentities(ops: readonly OpRecord[], connection: number, config: { superDigest: string | null }): Id[] {
  const identities: Id[] = [{ scheme: "ip", id: SIM_CLIENT_ADDRESS }];
  for (const op of ops) {
    if (op.connection !== connection || op.request.kind !== "auth") continue;
    if (op.reply !== null && op.reply.header.err !== 0) continue;
    identities.push(...(identitiesOfAuth(op.request.scheme, op.request.auth, SIM_CLIENT_ADDRESS, config) ?? []));
  }
  return identities;
}

/** The command line that replays a run with these options. */
export function replayCommand(options: Pick<SimOptions, "seed" | "voters" | "observers" | "ticks" | "clients" | "swarm" | "codec" | "reconfig">): string {
  const extra = [
    options.ticks === undefined ? "" : ` --ticks ${options.ticks}`,
    options.observers !== DEFAULT_OPTIONS.observers ? ` --observers ${options.observers}` : "",
    options.clients !== DEFAULT_OPTIONS.clients ? ` --clients ${options.clients}` : "",
    options.swarm ? "" : " --no-swarm",
    options.codec?.name === "cbor" ? " --cbor" : "",
    options.reconfig === undefined ? "" : ` --reconfig ${options.reconfig ? "on" : "off"}`,
  ].join("");
  return `SEED=${options.seed} deno task sim --servers ${options.voters}${extra}`;
}

export function runSimulation(partial: Partial<SimOptions> & { seed: number }): Promise<SimResult> {
  return new Simulation({ ...DEFAULT_OPTIONS, ...partial }).run();
}

class Simulation {
  readonly #options: SimOptions;
  readonly #plan: FaultPlan;
  readonly #prng: Prng;
  readonly #queue = new EventQueue(0);
  readonly #history = new History();
  readonly #checker: CommitChecker;
  readonly #cluster: SimCluster;
  readonly #nemesis: Nemesis;
  readonly #clients: SimClient[] = [];
  #failure: Violation | null = null;
  #convergeMs = 0;
  #sessionsDrained = 0;
  #sessionCloseLagMs = 0;
  readonly #faultMs: number;
  /** Clients fell silent here (the session-liveness phase), or null. */
  #silentFromMs: number | null = null;
  /** Txns in the final committed history (known once the final checks ran). */
  #txns = 0;
  #reconfigs = 0;
  /** With dynamic reconfiguration on: each member's committed membership (else null). */
  readonly #membership: MembershipChecker | null;
  /** zoo.cfg's membership text (reconfiguration on), as /zookeeper/config starts. */
  readonly #quorumConfigText: Uint8Array | undefined;

  constructor(options: SimOptions) {
    if (!(options.voters >= 1 && options.voters <= 13)) throw new RangeError(`voters must be 1 to 13, got ${options.voters}`);
    this.#options = options;
    this.#prng = createPrng(options.seed);
    const planPrng = forkPrng(this.#prng);
    const plan = { ...(options.swarm ? swarmPlan(planPrng, options.voters) : defaultPlan(options.voters)), ...options.plan };
    const localSessions = options.localSessions === undefined
      ? (options.swarm && options.plan === undefined ? drawLocalSessions(options.seed) : undefined)
      : options.localSessions ?? undefined;
    if (localSessions !== undefined) plan.server = { ...plan.server, localSessions };
    const reconfig = options.reconfig ?? (options.swarm && options.plan === undefined ? drawReconfig(options.seed) : false);
    if (reconfig) {
      // Only a super user may reconfigure: client 1 is one (the workload's superUser).
      plan.server = { ...plan.server, reconfigEnabled: true, superDigest: SUPER_DIGEST };
      plan.workload = { ...plan.workload, features: { ...plan.workload.features, superUser: true } };
    }
    if (options.workloadFeatures !== undefined) {
      plan.workload = { ...plan.workload, features: { ...plan.workload.features, ...options.workloadFeatures } };
    }
    this.#plan = plan;
    this.#faultMs = (options.ticks ?? (options.swarm ? this.#plan.faultTicks : FIXED_TICKS)) * TICK_TIME_MS;
    const report = (invariant: string, message: string) => this.#report(invariant, message);
    this.#checker = new CommitChecker(report);
    const voterIds = Array.from({ length: options.voters }, (_, i) => i + 1);
    const observerIds = Array.from({ length: options.observers }, (_, i) => options.voters + i + 1);
    this.#quorumConfigText = reconfig ? simQuorumConfigBytes(voterIds, observerIds) : undefined;
    this.#membership = reconfig
      ? new MembershipChecker({ report, entries: this.#checker.entries, leaders: this.#checker.leaders, initial: { version: 0, voters: voterIds, observers: observerIds } })
      : null;
    const membership = this.#membership;
    this.#cluster = new SimCluster({
      // The membership checker, and the nemesis's crash aimed right after a reconfig proposal.
      ...(membership === null ? {} : {
        watcher: {
          created: (sid) => membership.created(sid),
          reconfigPending: () => membership.reconfigPending(),
          get newest() {
            return membership.newest;
          },
          log: (sid, message) => {
            membership.log(sid, message);
            if (message.endsWith(" jointly") && this.#cluster.leader() === sid) this.#nemesis.reconfigProposed(sid);
          },
        },
      }),
      queue: this.#queue,
      prng: forkPrng(this.#prng),
      plan: this.#plan,
      voters: options.voters,
      observers: options.observers,
      checker: this.#checker,
      violation: report,
      ...(options.codec === undefined ? {} : { codec: options.codec }),
      ...(options.verbose === undefined ? {} : { verbose: options.verbose }),
    });
    const cluster = this.#cluster;
    const clients = this.#clients;
    this.#nemesis = new Nemesis({
      scheduler: this.#queue,
      prng: forkPrng(this.#prng),
      plan: this.#plan,
      target: cluster.faultTarget(() => clients, (message) => cluster.trace(message)),
    });
  }

  #report(invariant: string, message: string): void {
    if (this.#failure === null) this.#failure = { invariant, message, atMs: this.#queue.nowMs };
  }

  async run(): Promise<SimResult> {
    try {
      this.#cluster.start();
      for (let i = 0; i < this.#options.clients; i++) this.#clients.push(this.#newClient(i + 1, null));
      for (const client of this.#clients) client.start();
      const faultEndMs = this.#faultMs;
      this.#nemesis.start(faultEndMs);
      await this.#runUntil(faultEndMs);
      if (this.#failure === null) await this.#liveness();
      if (this.#failure === null && this.#options.sessionLiveness) await this.#sessionLiveness();
      if (this.#failure === null) this.#finalChecks();
    } catch (error) {
      this.#report("no exception", error instanceof Error ? `${error.stack ?? error.message}` : String(error));
    }
    return this.#result();
  }

  #newClient(id: number, source: { next(): Request[] } | null): SimClient {
    const cluster = this.#cluster;
    const prng = forkPrng(this.#prng);
    return new SimClient({
      id,
      scheduler: this.#queue,
      prng,
      history: this.#history,
      client: this.#plan.client,
      source: source ?? this.#workload(id, forkPrng(prng)),
      wire: {
        replicas: () => cluster.members,
        connect: (client, sid, request) => cluster.connectClient(client, sid, request),
        send: (connection, header, request) => cluster.sendClient(connection, header, request),
        close: (connection) => cluster.closeClient(connection),
      },
    });
  }

  /** A client's workload; with reconfiguration on, clients 1 (super user) and 2 (not) reconfigure too. */
  #workload(id: number, prng: Prng): RequestSource {
    const workload = new Workload(prng, { client: id, workload: this.#plan.workload });
    if (this.#membership === null || id > 2) return workload;
    const cluster = this.#cluster;
    return new ReconfigSource({
      base: workload,
      prng: createPrng((this.#options.seed ^ (0x5ec0f1 * id)) >>> 0),
      nowMs: () => this.#queue.nowMs,
      history: this.#history,
      client: id,
      initial: { version: 0, voters: [...cluster.voters], observers: [...cluster.observers] },
      requestsMax: id === 1 ? RECONFIGS_MAX : 2,
      gapMsMin: RECONFIG_GAP_MS_MIN,
      gapMsMax: id === 1 ? RECONFIG_GAP_MS_MAX : 20 * RECONFIG_GAP_MS_MAX,
    });
  }

  /** Every serving member's committed membership is at least its state's (membership_checker.ts). */
  #checkMembership(): void {
    const membership = this.#membership;
    if (membership === null) return;
    const cluster = this.#cluster;
    for (const sid of cluster.members) {
      const replica = cluster.replica(sid);
      if (replica === null || !replica.server.serving) continue;
      const tree = replica.server.tree;
      membership.serving(sid, tree.get(CONFIG_NODE)?.mzxid ?? 0, tree.lastZxid);
    }
  }

  /**
   * Runs events until `untilMs`, stopping early on a failure or when `done` says so. Storage runs
   * on promises: after an event that touched it, its continuations run (cluster.settle()) before
   * the next event.
   */
  async #runUntil(untilMs: number, done?: () => boolean): Promise<boolean> {
    const cluster = this.#cluster;
    for (let sliceEnd = this.#queue.nowMs; sliceEnd < untilMs;) {
      sliceEnd = Math.min(untilMs, sliceEnd + CHECK_EVERY_MS);
      for (;;) {
        let ran = 0;
        while (ran < EVENTS_PER_SLICE) {
          if (cluster.unsettled) await cluster.settle();
          if (this.#queue.runUntil(sliceEnd, 1) === 0) break;
          ran++;
        }
        if (cluster.unsettled) await cluster.settle();
        if (this.#failure !== null) return false;
        if (this.#queue.executed > this.#options.eventsMax) {
          this.#report("bounded run", `more than ${this.#options.eventsMax} events by ${this.#queue.nowMs.toFixed(0)} ms: something loops`);
          return false;
        }
        if (ran < EVENTS_PER_SLICE) break;
      }
      this.#checkMembership();
      if (this.#failure !== null) return false;
      if (done?.()) return true;
    }
    return false;
  }

  /** Heal everything, stop faults and wait for the ensemble to serve again. */
  async #liveness(): Promise<void> {
    const cluster = this.#cluster;
    const startMs = this.#queue.nowMs;
    this.#nemesis.stop();
    cluster.trace("liveness phase: heal, restart everyone, stop faults");
    cluster.network.heal();
    cluster.network.clearSpikes();
    cluster.network.setFaults({ ...QUIET_NETWORK, delayMsMin: this.#plan.network.delayMsMin, delayMsMax: this.#plan.network.delayMsMax });
    for (const sid of cluster.members) {
      cluster.disk(sid).setSlowFactor(1);
      cluster.disk(sid).diskFull(null);
      cluster.disk(sid).failNextFsync(0);
      cluster.restart(sid);
    }
    for (const client of this.#clients) client.setActive(false);
    let probeWrites = 0;
    let acknowledged = false;
    const probe = this.#newClient(this.#clients.length + 1, {
      next: () => [{ kind: "create", path: `/probe-${++probeWrites}`, data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: 0n }],
    });
    probe.start();
    const firstProbeOp = this.#history.ops.length;
    const converged = () => {
      if (!acknowledged) {
        acknowledged = this.#history.ops.slice(firstProbeOp).some((op) => op.client === probe.id && op.reply?.header.err === 0);
        if (acknowledged) probe.setActive(false);
      }
      return acknowledged && this.#synced() !== null;
    };
    this.#clients.push(probe);
    if (await this.#runUntil(startMs + this.#options.livenessMsMax, converged)) {
      this.#convergeMs = this.#queue.nowMs - startMs;
      if (!this.#options.sessionLiveness) for (const client of this.#clients) client.stop();
      return;
    }
    if (this.#failure !== null) return;
    const states = cluster.members.map((sid) => {
      const status = cluster.replica(sid)?.status();
      return status === undefined ? `${sid}: down` : `${sid}: ${status.state} leader ${status.leader} serving ${status.serving} zxid ${zxidHex(status.lastZxid)} epochs ${status.acceptedEpoch}/${status.currentEpoch}`;
    });
    this.#report(
      "liveness",
      `the ensemble did not converge within ${this.#options.livenessMsMax} ms after faults stopped (probe write ${acknowledged ? "acknowledged" : "never acknowledged"}):\n  ${states.join("\n  ")}`,
    );
  }

  /**
   * Every client falls silent (no requests, no pings); the ensemble must expire and close every
   * session and delete its ephemerals within the longest session timeout plus a bound. Catches
   * sessions that expire but are never closed (ephemerals orphaned forever).
   */
  async #sessionLiveness(): Promise<void> {
    const cluster = this.#cluster;
    for (const client of this.#clients) client.stop();
    const startMs = this.#queue.nowMs;
    this.#silentFromMs = startMs;
    const leader = cluster.leader();
    const tracked = leader === null ? [] : cluster.replica(leader)!.server.sessions();
    // Local sessions (localSessionsEnabled) live at their members alone, with the clients' timeout.
    const local = () => cluster.members.reduce((sum, sid) => sum + (cluster.replica(sid)?.server.status().localSessionCount ?? 0), 0);
    const localTimeoutMs = local() > 0 ? this.#plan.client.sessionTimeoutMs : 0;
    const timeoutMaxMs = tracked.reduce((max, session) => Math.max(max, session.timeoutMs), localTimeoutMs);
    this.#sessionsDrained = tracked.length + local();
    cluster.trace(`session liveness: clients silent; ${tracked.length} session(s) and ${local()} local, longest timeout ${timeoutMaxMs} ms`);
    const drained = () => {
      const now = this.#synced();
      if (now === null) return false;
      const server = cluster.replica(now)!.server;
      return server.sessions().length === 0 && server.tree.ephemeralCount === 0 && local() === 0;
    };
    const boundMs = timeoutMaxMs + SESSION_CLOSE_SLACK_MS;
    if (await this.#runUntil(startMs + boundMs, drained)) {
      this.#sessionCloseLagMs = Math.max(0, this.#queue.nowMs - startMs - timeoutMaxMs);
      return;
    }
    if (this.#failure !== null) return;
    const now = cluster.leader();
    this.#report(
      "every expired session is closed",
      `${boundMs.toFixed(0)} ms after every client fell silent (longest session timeout ${timeoutMaxMs} ms), ` +
        (now === null
          ? "there is no leader"
          : this.#synced() === null
          ? "the members are not synced"
          : local() > 0
          ? `the members still have ${local()} local session(s)`
          : `the leader ${now} still has ${describeOpenSessions(cluster.replica(now)!.server)}`),
    );
  }

  /** The leader if every member serves under it at the same last zxid, else null. */
  #synced(): Sid | null {
    const cluster = this.#cluster;
    const leader = cluster.leader();
    if (leader === null) return null;
    const lastZxid = cluster.replica(leader)!.status().lastZxid;
    // A member a reconfiguration removed is not expected to serve.
    for (const sid of cluster.membersInForce()) {
      const status = cluster.replica(sid)?.status();
      if (!status || !status.serving || status.leader !== leader || status.lastZxid !== lastZxid) return null;
    }
    return leader;
  }

  #finalChecks(): void {
    const report = (invariant: string, message: string) => this.#report(invariant, message);
    for (const problem of this.#history.online) report("per-client FIFO order", problem);
    const cluster = this.#cluster;
    const leader = this.#synced();
    if (leader === null) {
      report("liveness", "the ensemble stopped being converged before the final checks");
      return;
    }
    const leaderReplica = cluster.replica(leader)!;
    const lastZxid = leaderReplica.server.tree.lastZxid;
    const chain = this.#checker.historyTo(lastZxid);
    if ("broken" in chain) {
      report("committed history is complete", chain.broken);
      return;
    }
    const entries = chain.entries;
    const inHistory = new Set(entries.map((entry) => entry.header.zxid));
    for (const [zxid, sid] of this.#checker.servingCommits) {
      if (!inHistory.has(zxid)) {
        report("committed txns are never lost", `server ${sid} applied ${zxidHex(zxid)} while serving, but it is not in the final history (ending at ${zxidHex(lastZxid)})`);
      }
    }
    checkHistory(entries, this.#history.ops, report, this.#history.connections.values());
    // The independent model (src/testing/model/): replies, reads and the final tree against
    // ZooKeeper's semantics; its watch triggers, not the production tree's, judge the events.
    const config = leaderReplica.server.config;
    const triggers = checkAgainstModel({
      entries,
      ops: this.#history.ops,
      config: {
        extendedTypesEnabled: config.extendedTypesEnabled,
        superDigest: config.superDigest,
        localSessions: config.localSessions !== undefined,
        reconfigEnabled: config.reconfigEnabled === true,
        ...(this.#quorumConfigText === undefined ? {} : { quorumConfigText: this.#quorumConfigText }),
      },
      clientAddress: SIM_CLIENT_ADDRESS,
      report,
      finalTree: observedNodes(leaderReplica.server.tree, this.#quorumConfigText),
    });
    const digestAt = new Set([...this.#checker.states.keys()].filter((zxid) => inHistory.has(zxid) || zxid === 0));
    digestAt.add(lastZxid);
    // The model checker above checks every read (against its own state); the reference replay is
    // kept for the digests, the ephemerals and the sessions.
    const reference = replayReference(entries, {
      ops: [],
      digestAt,
      report,
      ...(this.#quorumConfigText === undefined ? {} : { quorumConfigText: this.#quorumConfigText }),
    });
    for (const zxid of digestAt) {
      const observed = this.#checker.states.get(zxid);
      if (observed !== undefined && observed.digest !== reference.digests.get(zxid)) {
        report("equal trees at equal zxids", `server ${observed.sid} (${observed.where}) held a tree at ${zxidHex(zxid)} that differs from the committed history's`);
      }
    }
    const expected = reference.digests.get(lastZxid);
    for (const sid of cluster.membersInForce()) {
      const replica = cluster.replica(sid)!;
      if (simTreeDigest(replica.server.tree) !== expected) {
        report("equal trees at equal zxids", `server ${sid}'s final tree at ${zxidHex(replica.server.tree.lastZxid)} differs from the committed history's`);
      }
    }
    const modelConfig = { extendedTypesEnabled: config.extendedTypesEnabled, superDigest: config.superDigest };
    checkWatches(this.#history.connections.values(), this.#history.ops, triggers, report, {
      changeAcls: triggers.changeAcls,
      identities: (connection) => connectionIdentities(this.#history.ops, connection.connection, modelConfig),
    });
    checkSessions(reference, {
      leaderSessions: new Set(leaderReplica.server.sessions().map((session) => session.sessionId)),
      connections: this.#history.connections.values(),
      report,
    });
    if (this.#silentFromMs !== null) checkSessionsClosed(reference, report);
    this.#membership?.final(inHistory, lastZxid);
    this.#txns = entries.length;
    this.#reconfigs = entries.filter((entry) => entry.txn.type === "reconfig").length;
  }

  #result(): SimResult {
    const ops = this.#history.ops;
    const disks = this.#cluster.members.map((sid) => this.#cluster.disk(sid).stats);
    const network = this.#cluster.network.stats;
    const stats: SimStats = {
      events: this.#queue.executed,
      virtualMs: this.#queue.nowMs,
      faultMs: this.#faultMs,
      convergeMs: this.#convergeMs,
      sessionsDrained: this.#sessionsDrained,
      sessionCloseLagMs: this.#sessionCloseLagMs,
      messagesSent: network.sent,
      messagesDropped: network.dropped,
      connectionBreaks: network.breaks,
      faults: this.#nemesis.stats,
      txns: this.#txns,
      epochs: this.#checker.leaders.size,
      ops: ops.length,
      acknowledgedWrites: ops.filter(isAcknowledgedWrite).length,
      unknownOutcomes: ops.filter((op) => op.reply === null).length,
      watchEvents: [...this.#history.connections.values()].reduce((sum, c) => sum + c.items.filter((item) => item.kind === "event").length, 0),
      snapshotsWritten: disks.reduce((sum, disk) => sum + disk.snapshotsWritten, 0),
      tornAppends: disks.reduce((sum, disk) => sum + disk.tornAppends, 0),
      unsyncedKept: disks.reduce((sum, disk) => sum + disk.unreportedKept, 0),
      corruptions: disks.reduce((sum, disk) => sum + (disk.corruptions ?? 0), 0),
      reconfigs: this.#reconfigs,
      requestKinds: {},
    };
    for (const op of ops) if (op.reply !== null) stats.requestKinds[op.request.kind] = (stats.requestKinds[op.request.kind] ?? 0) + 1;
    return {
      seed: this.#options.seed,
      options: this.#options,
      plan: this.#plan,
      failure: this.#failure,
      stats,
      replay: replayCommand(this.#options),
      ...(this.#failure === null ? {} : { diagnostics: this.#cluster.diagnostics() }),
    };
  }
}

