/**
 * A random walk over the interleavings of pure replicas: at each step one event, drawn from a seeded
 * PRNG, happens — the next message of one directed link arrives, one member's disk completes some of
 * its pending writes, one member's clock ticks (now and then with a stall, as a starved process
 * catches up), a connection breaks or a member notices a break, a member crashes or restarts, or a
 * client opens a session (a txn) on a serving member.
 *
 * Unlike the simulator (src/testing/), nothing is timed: any link may fall far behind the others and
 * a member may tick many times while its peers' messages wait, which is what a CPU-starved machine
 * does to real processes and what the simulator's latencies rarely produce. Links are FIFO per
 * connection, as TCP: a break drops what was in flight, each end hears of it (peerLost) at some later
 * step, and the first message of a new connection makes the receiver notice the old one broke.
 *
 * Checked at every write the core issues, in issue order, as the real log does (src/storage/
 * txn_log.ts): an append must continue the log (the next counter of the epoch, or a later epoch).
 */
import type { PeerMessage, Sid } from "../../../src/core/peer_messages.ts";
import type { PersistRequest, SnapshotHeader, SnapshotNode } from "../../../src/core/persistence.ts";
import { Replica } from "../../../src/core/replica.ts";
import { defaultServerConfig } from "../../../src/core/server_io.ts";
import type { TxnEntry } from "../../../src/core/txn.ts";
import { zxidEpoch, zxidHex } from "../../../src/core/zxid.ts";

export interface WalkOptions {
  seed: number;
  voters: number;
  steps: number;
  /** Chance per step that a random connection breaks; default 0.001. */
  breakRate?: number;
  /** Chance per step that a random member crashes (or, if down, restarts); default 0.0003. */
  crashRate?: number;
  /**
   * After the walk: stop this many voters for good (as a member whose storage failed stops itself),
   * restart the others, deliver everything fairly, and measure how long (virtual ms, ticks of 50 ms)
   * the rest take to have one serving leader followed by every live member. Default 0 (no phase).
   */
  stopAfter?: number;
  /** Bound on that phase, virtual ms; default 60000. */
  convergeMsMax?: number;
}

export interface WalkResult {
  /** The first broken rule, or null. */
  failure: string | null;
  /** The last events before it (or the end), for the failure message. */
  trace: string[];
  /** Sessions opened, epochs reached and the highest zxid logged: evidence the walk went somewhere. */
  sessions: number;
  maxZxid: number;
  /** With stopAfter: virtual ms until the rest converged (null if they did not within the bound). */
  convergedMs?: number | null;
}

interface Disk {
  log: TxnEntry[];
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: { header: SnapshotHeader; nodes: SnapshotNode[] } | null;
}

interface Host {
  sid: Sid;
  replica: Replica | null;
  nowMs: number;
  disk: Disk;
  /** Writes issued but not yet durable, in writeSeq order. */
  pending: Array<{ writeSeq: number; request: PersistRequest }>;
  /** Where the log ends counting every write issued so far (what the real writer checks against). */
  issuedLast: number | null;
}

const TRACE_KEPT = 300;
/** Steps a stalled member's clock jumps, now and then (a starved process catching up). */
const STALL_MS = 600;

/** xorshift32: small, seedable, the same on every runtime. */
function prng(seed: number): () => number {
  let state = (seed * 7919 + 13) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

function followsDirectly(previous: number, next: number): boolean {
  return next === previous + 1 || (next > previous && zxidEpoch(next) > zxidEpoch(previous));
}

function lastOf(disk: Disk): number | null {
  const logged = disk.log.at(-1)?.header.zxid ?? null;
  const snapshot = disk.snapshot?.header.zxid ?? null;
  if (logged === null) return snapshot;
  return snapshot === null ? logged : Math.max(logged, snapshot);
}

function applyWrite(disk: Disk, request: PersistRequest): void {
  switch (request.kind) {
    case "append":
      for (const entry of request.entries) disk.log.push(structuredClone(entry));
      return;
    case "truncate":
      disk.log = disk.log.filter((entry) => entry.header.zxid <= request.zxid);
      return;
    case "epochs":
      if (request.acceptedEpoch !== undefined) disk.acceptedEpoch = request.acceptedEpoch;
      if (request.currentEpoch !== undefined) disk.currentEpoch = request.currentEpoch;
      return;
    case "installSnapshot":
      disk.snapshot = structuredClone({ header: request.header, nodes: request.nodes });
      disk.log = [];
      return;
  }
}

function describe(message: PeerMessage): string {
  switch (message.kind) {
    case "proposal":
    case "inform":
      return `${message.kind} ${zxidHex(message.entry.header.zxid)}`;
    case "diff":
    case "trunc":
      return `${message.kind}${message.kind === "trunc" ? ` ${zxidHex(message.zxid)}` : ""} [${message.entries.map((e) => zxidHex(e.header.zxid)).join(",")}]`;
    case "followerInfo":
      return `followerInfo attempt ${message.attempt} last ${zxidHex(message.lastZxid)}`;
    case "leaderInfo":
      return `leaderInfo epoch ${message.newEpoch} attempt ${message.attempt ?? "-"}`;
    case "ackEpoch":
      return `ackEpoch attempt ${message.attempt ?? "-"} last ${zxidHex(message.lastZxid)}`;
    case "commit":
    case "ack":
      return `${message.kind} ${zxidHex(message.zxid)}`;
    default:
      return message.kind;
  }
}

/** Runs one walk; see the module comment. Deterministic in its options. */
export function randomWalk(options: WalkOptions): WalkResult {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const breakRate = options.breakRate ?? 0.001;
  const crashRate = options.crashRate ?? 0.0003;
  const sids = Array.from({ length: options.voters }, (_, i) => i + 1);
  const hosts = new Map<Sid, Host>();
  const pairKey = (a: Sid, b: Sid) => (a < b ? `${a}-${b}` : `${b}-${a}`);
  /** Each pair's connection generation, each end's view of it, and each direction's messages in flight. */
  const generation = new Map<string, number>();
  const view = new Map<string, number>();
  const links = new Map<string, Array<{ generation: number; message: PeerMessage }>>();
  const notices: Array<{ at: Sid; peer: Sid; generation: number }> = [];
  const trace: string[] = [];
  let failure: string | null = null;
  let sessions = 0;
  let maxZxid = 0;
  let nextConnection = 1;
  const note = (line: string) => {
    trace.push(line);
    if (trace.length > TRACE_KEPT * 2) trace.splice(0, trace.length - TRACE_KEPT);
  };
  for (const a of sids) {
    for (const b of sids) {
      if (a === b) continue;
      links.set(`${a}>${b}`, []);
      view.set(`${a}|${b}`, 0);
      generation.set(pairKey(a, b), 0);
    }
  }

  const boot = (host: Host) => {
    const replica = new Replica({
      server: defaultServerConfig({
        serverId: host.sid,
        tickTimeMs: 100,
        sessionIdSeedMs: host.nowMs,
        minSessionTimeoutMs: 200,
        maxSessionTimeoutMs: 20_000,
        snapshotTxnCount: 1_000_000,
      }),
      voters: sids,
      observers: [],
      initLimitTicks: 10,
      syncLimitTicks: 5,
    }, host.nowMs);
    replica.restoreEpochs(host.disk);
    if (host.disk.snapshot !== null) {
      replica.restoreSnapshot(host.disk.snapshot.header);
      for (const node of host.disk.snapshot.nodes) replica.restoreNode(structuredClone(node));
    }
    for (const entry of host.disk.log) replica.replay(structuredClone(entry));
    host.issuedLast = lastOf(host.disk);
    host.replica = replica;
    replica.start();
    drain(host);
  };

  const issue = (host: Host, writeSeq: number, request: PersistRequest) => {
    if (request.kind === "append") {
      for (const entry of request.entries) {
        const zxid = entry.header.zxid;
        if (host.issuedLast !== null && !followsDirectly(host.issuedLast, zxid) && failure === null) {
          failure = `server ${host.sid}: append ${zxidHex(zxid)} does not follow ${zxidHex(host.issuedLast)} (write #${writeSeq})`;
        }
        host.issuedLast = zxid;
        maxZxid = Math.max(maxZxid, zxid);
      }
      note(`${host.sid} persist #${writeSeq} append ${request.entries.map((e) => zxidHex(e.header.zxid)).join(",")}`);
    } else if (request.kind === "truncate") {
      if (host.issuedLast !== null && host.issuedLast > request.zxid) host.issuedLast = request.zxid;
      note(`${host.sid} persist #${writeSeq} truncate after ${zxidHex(request.zxid)}`);
    } else if (request.kind === "installSnapshot") {
      host.issuedLast = request.header.zxid;
      note(`${host.sid} persist #${writeSeq} snapshot at ${zxidHex(request.header.zxid)}`);
    }
    host.pending.push({ writeSeq, request });
  };

  const drain = (host: Host) => {
    const replica = host.replica;
    if (replica === null) return;
    for (const output of replica.takeOutputs()) {
      if (output.kind === "send") send(host.sid, output.to, output.message);
      else if (output.kind === "persist") issue(host, output.writeSeq, output.request);
      else if (output.kind === "log") note(`${host.sid} ${output.level}: ${output.message}`);
    }
  };

  const send = (from: Sid, to: Sid, message: PeerMessage) => {
    const current = generation.get(pairKey(from, to))!;
    if (view.get(`${from}|${to}`) !== current) return; // written into a connection that is gone
    if (hosts.get(to)!.replica === null) {
      breakConnection(from, to);
      return;
    }
    links.get(`${from}>${to}`)!.push({ generation: current, message: structuredClone(message) });
    if (message.kind !== "vote" && message.kind !== "ping" && message.kind !== "heartbeat") note(`  ${from} -> ${to}: ${describe(message)}`);
  };

  const breakConnection = (a: Sid, b: Sid) => {
    const key = pairKey(a, b);
    const next = generation.get(key)! + 1;
    generation.set(key, next);
    links.set(`${a}>${b}`, []);
    links.set(`${b}>${a}`, []);
    notices.push({ at: a, peer: b, generation: next }, { at: b, peer: a, generation: next });
    note(`break ${a}-${b}`);
  };

  const notice = (at: Sid, peer: Sid, seen: number) => {
    if (view.get(`${at}|${peer}`)! >= seen) return;
    view.set(`${at}|${peer}`, seen);
    const host = hosts.get(at)!;
    if (host.replica === null) return;
    note(`${at} lost ${peer}`);
    host.replica.peerLost(peer);
    drain(host);
  };

  for (const sid of sids) {
    hosts.set(sid, {
      sid,
      replica: null,
      nowMs: 1_000_000,
      disk: { log: [], acceptedEpoch: 0, currentEpoch: 0, snapshot: null },
      pending: [],
      issuedLast: null,
    });
  }
  for (const host of hosts.values()) boot(host);

  for (let step = 0; step < options.steps && failure === null; step++) {
    const roll = random();
    if (roll < 0.45) {
      const busy = [...links.keys()].filter((key) => links.get(key)!.length > 0);
      if (busy.length === 0) continue;
      const key = pick(busy);
      const [from, to] = key.split(">").map(Number) as [Sid, Sid];
      const { generation: sent, message } = links.get(key)!.shift()!;
      const host = hosts.get(to)!;
      if (host.replica === null) continue;
      if (view.get(`${to}|${from}`)! < sent) notice(to, from, sent);
      if (host.replica === null) continue;
      if (message.kind !== "vote" && message.kind !== "ping" && message.kind !== "heartbeat") note(`  ${to} <- ${from}: ${describe(message)}`);
      host.replica.receive(from, message);
      drain(host);
    } else if (roll < 0.62) {
      const host = pick([...hosts.values()]);
      if (host.replica === null || host.pending.length === 0) continue;
      const done = host.pending.splice(0, 1 + Math.floor(random() * host.pending.length));
      for (const write of done) applyWrite(host.disk, write.request);
      host.replica.persisted(done.at(-1)!.writeSeq);
      drain(host);
    } else if (roll < 0.84) {
      const host = pick([...hosts.values()]);
      if (host.replica === null) continue;
      host.nowMs += 50 + (random() < 0.05 ? STALL_MS : 0);
      host.replica.tick(host.nowMs);
      drain(host);
    } else if (roll < 0.87) {
      if (notices.length === 0) continue;
      const { at, peer, generation: seen } = notices.splice(Math.floor(random() * notices.length), 1)[0]!;
      notice(at, peer, seen);
    } else if (roll < 0.87 + breakRate) {
      const a = pick(sids);
      breakConnection(a, pick(sids.filter((sid) => sid !== a)));
    } else if (roll < 0.87 + breakRate + crashRate) {
      const host = pick([...hosts.values()]);
      if (host.replica !== null) {
        note(`crash ${host.sid}`);
        host.replica = null;
        host.pending = []; // unreported writes are lost (the disk keeps what it reported durable)
        for (const peer of sids) if (peer !== host.sid) breakConnection(host.sid, peer);
      } else {
        note(`restart ${host.sid}`);
        for (const peer of sids) if (peer !== host.sid) view.set(`${host.sid}|${peer}`, generation.get(pairKey(host.sid, peer))!);
        boot(host);
      }
    } else {
      const serving = [...hosts.values()].filter((host) => host.replica?.server.serving === true);
      if (serving.length === 0) continue;
      const host = pick(serving);
      const connection = nextConnection++;
      host.replica!.open(connection, { remoteAddress: "127.0.0.1", remotePort: connection });
      host.replica!.connect(connection, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });
      sessions++;
      drain(host);
    }
  }
  let convergedMs: number | null | undefined;
  if (failure === null && (options.stopAfter ?? 0) > 0) {
    // The stopped members: their connections close at once (the process exits); the rest restart.
    for (const host of [...hosts.values()].slice(0, options.stopAfter)) {
      if (host.replica !== null) {
        note(`stop ${host.sid}`);
        host.replica = null;
        host.pending = [];
        for (const peer of sids) if (peer !== host.sid) breakConnection(host.sid, peer);
      }
    }
    const stopped = new Set([...hosts.values()].slice(0, options.stopAfter).map((host) => host.sid));
    for (const host of hosts.values()) {
      if (host.replica !== null || stopped.has(host.sid)) continue;
      for (const peer of sids) if (peer !== host.sid) view.set(`${host.sid}|${peer}`, generation.get(pairKey(host.sid, peer))!);
      boot(host);
    }
    for (const { at, peer, generation: seen } of notices.splice(0)) notice(at, peer, seen);
    convergedMs = null;
    const maxMs = options.convergeMsMax ?? 60_000;
    const live = () => [...hosts.values()].filter((host) => host.replica !== null);
    for (let elapsedMs = 0; elapsedMs <= maxMs && failure === null; elapsedMs += 50) {
      const leader = live().find((host) => host.replica!.leaderEpoch !== null);
      if (leader !== undefined && live().every((host) => host.replica!.status().serving && host.replica!.status().leader === leader.sid)) {
        convergedMs = elapsedMs;
        break;
      }
      for (const host of live()) {
        host.nowMs += 50;
        host.replica!.tick(host.nowMs);
        drain(host);
      }
      // Bounded: every message and write issued so far, then what those caused, a few rounds deep.
      for (let round = 0; round < 50; round++) {
        let moved = false;
        for (const host of live()) {
          if (host.pending.length === 0) continue;
          const done = host.pending.splice(0);
          for (const write of done) applyWrite(host.disk, write.request);
          host.replica!.persisted(done.at(-1)!.writeSeq);
          drain(host);
          moved = true;
        }
        for (const [key, queue] of links) {
          if (queue.length === 0) continue;
          const [from, to] = key.split(">").map(Number) as [Sid, Sid];
          for (const { generation: sent, message } of queue.splice(0)) {
            const host = hosts.get(to)!;
            if (host.replica === null || sent !== generation.get(pairKey(from, to))) continue;
            if (view.get(`${to}|${from}`)! < sent) notice(to, from, sent);
            host.replica?.receive(from, message);
            drain(host);
          }
          moved = true;
        }
        if (!moved) break;
      }
    }
  }
  return { failure, trace: trace.slice(-TRACE_KEPT), sessions, maxZxid, ...(convergedMs === undefined ? {} : { convergedMs }) };
}
