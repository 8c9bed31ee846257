/**
 * A simulated ensemble for the real Client and the recipes (src/recipes/): the replicas, disks and
 * peer network of SimCluster, the fault injector, and SimClientNetwork carrying each client's bytes.
 * Clients run on virtual time (ClientOptions.timers), so one seed reproduces a run.
 *
 * The event queue is synchronous but clients and recipes are async, so `run` alternates: run one
 * event, then let every promise continuation it caused settle (a macrotask turn: nothing real is
 * pending, so the order stays deterministic), then the next event. Recipe code therefore runs at the
 * virtual instant of the event that woke it.
 */
import { Client } from "../client/client.ts";
import type { ClientOptions, Timers } from "../client/client_options.ts";
import type { Sid } from "../core/peer_messages.ts";
import { CommitChecker } from "./checkers/commit_checker.ts";
import type { Violation } from "./checkers/violation.ts";
import { EventQueue } from "./event_queue.ts";
import { Nemesis } from "./nemesis.ts";
import { createPrng, type Prng } from "./prng.ts";
import { SimCluster } from "./sim_cluster.ts";
import { QUIET_NETWORK } from "./sim_network.ts";
import { defaultPlan, type FaultPlan, swarmPlan } from "./sim_options.ts";
import { between, forkPrng, pick } from "./sim_random.ts";
import { connectStringOf, SimClientNetwork } from "./sim_transport.ts";
import { virtualTimers } from "./virtual_timers.ts";

export interface RecipeWorldOptions {
  seed: number;
  voters: number;
  /** Draw the fault plan from the seed (the simulator's swarm plans); default: every fault on. */
  swarm?: boolean;
  /** Replaces parts of the plan (e.g. `{ clockJumps: false }`). */
  plan?: Partial<FaultPlan>;
  /** Faults between clients and replicas: cut links, resets, isolating a client's server. Default true. */
  clientFaults?: boolean;
  /** Events a run may take before it is declared stuck. Default 3,000,000. */
  eventsMax?: number;
  /** Every peer message, persist and client frame, as it happens (debugging one seed). */
  verbose?: (line: string) => void;
}

export interface WorldClientOptions {
  /** Requested session timeout (the replicas allow 200 ms to 20 s). */
  sessionTimeoutMs: number;
  /** Other client options (not transport, timers, random: the world provides those). */
  client?: Omit<ClientOptions, "transport" | "timers" | "random" | "sessionTimeoutMs">;
}

export interface WorldStats {
  events: number;
  virtualMs: number;
  crashes: number;
  partitions: number;
  clientCuts: number;
  clientResets: number;
  serverIsolations: number;
  blackholedSockets: number;
}

/** The plan recipe runs use unless told otherwise: every fault on, but no clock jumps (see README of the tests). */
export function recipePlan(voters: number): FaultPlan {
  return { ...defaultPlan(voters), clockJumps: false, clientDrops: false };
}

export class RecipeWorld {
  readonly seed: number;
  readonly queue = new EventQueue(0);
  readonly plan: FaultPlan;
  readonly cluster: SimCluster;
  readonly clientNetwork: SimClientNetwork;
  readonly failures: Violation[] = [];
  /** Lines of what happened (faults and whatever the test logs), each with its virtual time. */
  readonly log: string[] = [];
  readonly #prng: Prng;
  readonly #testPrng: Prng;
  readonly #nemesis: Nemesis;
  readonly #clientFaults: boolean;
  readonly #eventsMax: number;
  readonly #clients: { id: number; client: Client }[] = [];
  #faultsUntilMs = 0;
  readonly stats = { clientCuts: 0, clientResets: 0, serverIsolations: 0 };

  constructor(options: RecipeWorldOptions) {
    this.seed = options.seed;
    this.#prng = createPrng(options.seed);
    const planPrng = forkPrng(this.#prng);
    const base = options.swarm === true ? swarmPlan(planPrng, options.voters) : recipePlan(options.voters);
    this.plan = { ...base, clientDrops: false, ...options.plan };
    this.#clientFaults = options.clientFaults ?? true;
    this.#eventsMax = options.eventsMax ?? 3_000_000;
    const report = (invariant: string, message: string) => this.fail(invariant, message);
    this.cluster = new SimCluster({
      queue: this.queue,
      prng: forkPrng(this.#prng),
      plan: this.plan,
      voters: options.voters,
      observers: 0,
      checker: new CommitChecker(report),
      violation: report,
      integerClocks: true,
      ...(options.verbose === undefined ? {} : { verbose: options.verbose }),
    });
    this.clientNetwork = new SimClientNetwork({
      scheduler: this.queue,
      prng: forkPrng(this.#prng),
      cluster: this.cluster,
      report: (message) => this.fail("client frames decode", message),
    });
    const cluster = this.cluster;
    this.#nemesis = new Nemesis({
      scheduler: this.queue,
      prng: forkPrng(this.#prng),
      plan: this.plan,
      target: cluster.faultTarget(() => [], (message) => this.note(message)),
    });
    this.#testPrng = forkPrng(this.#prng);
    cluster.start();
  }

  get nowMs(): number {
    return this.queue.nowMs;
  }

  /** A PRNG for the test's own choices (hold times, ...), independent of the world's draws. */
  get prng(): Prng {
    return this.#testPrng;
  }

  /** Every member, as a connect string (the client fails over between them). */
  get connectString(): string {
    return connectStringOf(this.cluster.members);
  }

  /** Records a violation; `run` stops at the first one. */
  fail(invariant: string, message: string): void {
    this.failures.push({ invariant, message, atMs: this.queue.nowMs });
    this.note(`VIOLATION ${invariant}: ${message}`);
  }

  /** Adds a line to the log, stamped with the virtual time. */
  note(message: string): void {
    this.log.push(`${this.queue.nowMs.toFixed(3)} ${message}`);
    this.cluster.trace(message);
  }

  /** Virtual-time timers for the test's own waits (and for clients, with drift). */
  timers(options: { rate?: number } = {}): Timers {
    return virtualTimers(this.queue, options);
  }

  /**
   * A new real Client on this world (not connected yet: call connect()). Its clock drifts within
   * the plan's clock drift; its first host and the recipes' uuids come from the seed.
   */
  newClient(options: WorldClientOptions): Client {
    const id = this.#clients.length + 1;
    const prng = forkPrng(this.#prng);
    const drift = this.plan.clockDrift;
    const client = new Client(this.connectString, {
      ...options.client,
      sessionTimeoutMs: options.sessionTimeoutMs,
      transport: this.clientNetwork.transport(id),
      timers: virtualTimers(this.queue, { rate: 1 + between(prng, -drift, drift), offsetMs: between(prng, 0, 1_000_000) }),
      random: () => prng.next(),
    });
    this.#clients.push({ id, client });
    return client;
  }

  /** A deterministic uuid source for the recipes' `random` option. */
  uuids(): () => string {
    const prng = forkPrng(this.#prng);
    return () => {
      const hex = Array.from(prng.bytes(16), (byte) => byte.toString(16).padStart(2, "0")).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    };
  }

  /** Resolves after `delayMs` of virtual time (rejects with the signal's reason if it aborts first). */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let done = false;
      const onAbort = () => {
        if (done) return;
        done = true;
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.after(delayMs, () => {
        if (done) return;
        done = true;
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** An AbortSignal that aborts after `delayMs` of virtual time. */
  timeoutSignal(delayMs: number): AbortSignal {
    const controller = new AbortController();
    this.queue.after(delayMs, () => controller.abort(new Error(`virtual timeout of ${delayMs} ms`)));
    return controller.signal;
  }

  /** Injects faults (the plan's, plus client-link ones) until `untilMs`. */
  startFaults(untilMs: number): void {
    this.#faultsUntilMs = untilMs;
    this.#nemesis.start(untilMs);
    if (this.#clientFaults) this.#scheduleClientFault();
  }

  /** Ends the fault phase: faults stop, links heal, crashed members restart. */
  heal(): void {
    this.#nemesis.stop();
    this.#faultsUntilMs = 0;
    const cluster = this.cluster;
    this.note("heal: stop faults, heal every link, restart every member");
    cluster.network.heal();
    cluster.network.clearSpikes();
    cluster.network.setFaults({ ...QUIET_NETWORK, delayMsMin: this.plan.network.delayMsMin, delayMsMax: this.plan.network.delayMsMax });
    for (const sid of cluster.members) {
      cluster.disk(sid).setSlowFactor(1);
      cluster.restart(sid);
    }
    this.clientNetwork.heal();
  }

  /**
   * Runs events until virtual time `untilMs`, or until `until()` holds, or a violation. After each
   * event every continuation it woke settles before the next event runs. Returns whether `until` held.
   */
  async run(untilMs: number, until?: () => boolean): Promise<boolean> {
    for (;;) {
      await settle();
      if (this.failures.length > 0) return false;
      if (until?.()) return true;
      if (this.queue.executed > this.#eventsMax) {
        this.fail("bounded run", `more than ${this.#eventsMax} events by ${this.queue.nowMs.toFixed(0)} ms: something loops`);
        return false;
      }
      let ran = 0;
      try {
        ran = this.queue.runUntil(untilMs, 1);
      } catch (error) {
        this.fail("no exception in an event", error instanceof Error ? `${error.stack ?? error.message}` : String(error));
        return false;
      }
      if (ran === 0) {
        await settle();
        return until?.() ?? false;
      }
    }
  }

  get worldStats(): WorldStats {
    const faults = this.#nemesis.stats;
    return {
      events: this.queue.executed,
      virtualMs: this.queue.nowMs,
      crashes: faults.crashes,
      partitions: faults.partitions,
      clientCuts: this.stats.clientCuts,
      clientResets: this.stats.clientResets,
      serverIsolations: this.stats.serverIsolations,
      blackholedSockets: this.clientNetwork.stats.blackholed,
    };
  }

  /**
   * The children of `path` on the leader (or the first live member), each with the session owning
   * it: for spotting a node nobody will delete.
   */
  childrenOf(path: string): string[] {
    const sid = this.cluster.leader() ?? this.cluster.members.find((member) => !this.cluster.isDown(member));
    const tree = sid === undefined ? undefined : this.cluster.replica(sid)?.server.tree;
    const node = tree?.get(path);
    if (tree === undefined || node === undefined) return [];
    return [...node.children].sort().map((name) => {
      const owner = tree.get(`${path}/${name}`)?.ephemeralOwner ?? 0n;
      return `${name} (owner 0x${BigInt.asUintN(64, owner).toString(16)})`;
    });
  }

  /** The failures (or "ok"), the fault log's tail and the members' states, for an assertion message. */
  describe(paths: readonly string[] = []): string {
    const diagnostics = this.cluster.diagnostics();
    return [
      ...paths.map((path) => `children of ${path}: ${this.childrenOf(path).join(", ") || "none"}`),
      `seed ${this.seed}: ${this.failures.length === 0 ? "ok" : this.failures.map((f) => `${f.invariant} at ${f.atMs?.toFixed(1)} ms: ${f.message}`).join("\n")}`,
      "members:",
      ...diagnostics.members.map((line) => `  ${line}`),
      "log (last 60):",
      ...this.log.slice(-60).map((line) => `  ${line}`),
    ].join("\n");
  }

  // ---------------------------------------------------------------------------------------------
  // Client-link faults

  #scheduleClientFault(): void {
    const plan = this.plan;
    this.queue.after(between(this.#prng, plan.actionMsMin, plan.actionMsMax), () => {
      if (this.#faultsUntilMs === 0 || this.queue.nowMs >= this.#faultsUntilMs) return;
      this.#clientFault();
      this.#scheduleClientFault();
    });
  }

  #clientFault(): void {
    const live = this.#clients.filter((entry) => this.clientNetwork.serversOf(entry.id).length > 0);
    if (live.length === 0) return;
    const { id } = pick(this.#prng, live);
    const sid = this.clientNetwork.serversOf(id)[0]!;
    const durationMs = between(this.#prng, this.plan.partitionMsMin, this.plan.partitionMsMax);
    const kind = this.#prng.int(3);
    if (kind === 0) {
      this.clientNetwork.cut(id, sid);
      this.stats.clientCuts++;
      this.note(`cut client ${id} from server ${sid} for ${durationMs.toFixed(0)} ms`);
      this.queue.after(durationMs, () => {
        this.clientNetwork.heal();
        this.note(`client links healed`);
      });
    } else if (kind === 1) {
      this.clientNetwork.dropConnections(id);
      this.stats.clientResets++;
      this.note(`reset client ${id}'s connection to server ${sid}`);
    } else {
      this.#isolateServer(sid, id, durationMs);
    }
  }

  /** Cuts a client's server off from the other members (the client can still reach it). */
  #isolateServer(sid: Sid, clientId: number, durationMs: number): void {
    this.cluster.network.isolate(sid);
    this.stats.serverIsolations++;
    this.note(`isolate server ${sid} (client ${clientId}'s) from the quorum for ${durationMs.toFixed(0)} ms`);
    this.queue.after(durationMs, () => {
      if (this.#faultsUntilMs === 0) return;
      this.cluster.network.heal();
      this.note("heal");
    });
  }
}

/** One macrotask turn: every microtask queued so far (and those they queue) runs first. */
function settle(): Promise<void> {
  return new Promise((resolve) => immediate(resolve));
}

const immediate: (callback: () => void) => void =
  (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate ??
    ((callback) => setTimeout(callback, 0));
