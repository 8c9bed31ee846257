/**
 * The requests of a client that reconfigures (client 1, a super user, when the seed enables
 * reconfiguration): its ordinary workload, and now and then — at most one per gap of simulated
 * time, a bounded number in all — a `reconfig`: remove a voter (maybe the leader), try to leave a
 * single voter (BADARGUMENTS), demote a voter, promote or remove an observer, add back a member
 * removed earlier with its original address and role, or a whole new membership (`newMembers`),
 * sometimes a big swap of voters and observers. Its `curConfigId` is the version it last read
 * (a getData of /zookeeper/config or a reconfig's reply), -1, or a stale one (BADVERSION).
 * What it believes the membership is comes only from its own replies, as a real client's would.
 *
 * A client that is not a super user may use it too, for a couple of requests: NOAUTH.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { ReconfigRequest, Request } from "../core/records.ts";
import { CONFIG_NODE } from "../core/data_tree.ts";
import type { History } from "./history.ts";
import type { Prng } from "./prng.ts";
import type { RequestSource } from "./sim_client.ts";
import { type MemberSets, memberSetsOf, memberSpecText } from "./sim_reconfig.ts";
import { between, chance, pick, sample } from "./sim_random.ts";

export interface ReconfigSourceOptions {
  /** The client's ordinary workload (everything that is not a reconfig). */
  base: RequestSource;
  prng: Prng;
  nowMs: () => number;
  history: History;
  client: number;
  /** The membership every member starts with (zoo.cfg's). */
  initial: MemberSets;
  /** Reconfig requests at most. */
  requestsMax: number;
  /** Simulated time between two reconfig requests: uniform in [min, max). */
  gapMsMin: number;
  gapMsMax: number;
}

type Role = "participant" | "observer";

export class ReconfigSource implements RequestSource {
  readonly #options: ReconfigSourceOptions;
  readonly #prng: Prng;
  /** Every member ever configured, with its zoo.cfg role (what a re-add restores). */
  readonly #original = new Map<Sid, Role>();
  #believed: MemberSets;
  /** Versions this client has read, oldest first (stale ones make BADVERSION). */
  readonly #versions: number[] = [];
  #sent = 0;
  #dueMs: number;

  constructor(options: ReconfigSourceOptions) {
    this.#options = options;
    this.#prng = options.prng;
    this.#believed = options.initial;
    this.#versions.push(options.initial.version);
    for (const sid of options.initial.voters) this.#original.set(sid, "participant");
    for (const sid of options.initial.observers) this.#original.set(sid, "observer");
    this.#dueMs = options.nowMs() + between(this.#prng, options.gapMsMin, options.gapMsMax);
  }

  /** Reconfig requests sent so far. */
  get sent(): number {
    return this.#sent;
  }

  onConnect(): Request[] {
    return this.#options.base.onConnect?.() ?? [];
  }

  next(): Request[] {
    const options = this.#options;
    const now = options.nowMs();
    if (now < this.#dueMs || this.#sent >= options.requestsMax) return options.base.next();
    this.#dueMs = now + between(this.#prng, options.gapMsMin, options.gapMsMax);
    this.#sent++;
    this.#learn();
    const requests: Request[] = [];
    if (chance(this.#prng, 0.4)) requests.push({ kind: "getData", path: CONFIG_NODE, watch: chance(this.#prng, 0.3) });
    requests.push(this.#reconfig());
    return requests;
  }

  /** What this client's own replies say the membership is (the newest version wins). */
  #learn(): void {
    const options = this.#options;
    for (const op of options.history.ops) {
      if (op.client !== options.client || op.reply === null || op.reply.header.err !== 0 || op.reply.body?.kind !== "getData") continue;
      const fromConfig = op.request.kind === "reconfig" || (op.request.kind === "getData" && op.request.path === CONFIG_NODE);
      if (!fromConfig) continue;
      const sets = memberSetsOf(op.reply.body.data);
      if (sets === null) continue;
      if (!this.#versions.includes(sets.version)) this.#versions.push(sets.version);
      if (sets.version > this.#believed.version) this.#believed = sets;
    }
  }

  #reconfig(): ReconfigRequest {
    const prng = this.#prng;
    const { voters, observers } = this.#believed;
    const inConfig = new Set([...voters, ...observers]);
    const removed = [...this.#original.keys()].filter((sid) => !inConfig.has(sid));
    const incremental = (leaving: Sid[], joining: Array<[Sid, Role]>): Pick<ReconfigRequest, "leavingServers" | "joiningServers" | "newMembers"> => ({
      leavingServers: leaving.length === 0 ? null : leaving.join(","),
      joiningServers: joining.length === 0 ? null : joining.map(([sid, role]) => memberSpecText(sid, role)).join(","),
      newMembers: null,
    });
    const choices: Array<() => ReturnType<typeof incremental>> = [];
    if (voters.length > 2) {
      choices.push(() => incremental([pick(prng, voters)], []));
      choices.push(() => incremental([], [[pick(prng, voters), "observer"]]));
    }
    // Leaving a single voter (or none): BADARGUMENTS with standaloneEnabled.
    if (voters.length >= 1) choices.push(() => incremental(sample(prng, voters, voters.length - 1), []));
    if (observers.length > 0) {
      choices.push(() => incremental([], [[pick(prng, observers), "participant"]]));
      choices.push(() => incremental([pick(prng, observers)], []));
    }
    if (removed.length > 0) {
      const readd = () => {
        const sid = pick(prng, removed);
        return incremental([], [[sid, this.#original.get(sid)!]]);
      };
      choices.push(readd, readd, readd);
    }
    choices.push(() => this.#wholeMembership(removed));
    const body = pick(prng, choices)();
    return { kind: "reconfig", ...body, curConfigId: this.#fromVersion() };
  }

  /**
   * A whole membership (`newMembers`): the current one as is, with removed members back, or a big
   * swap (every observer and removed member a voter, about half the voters observers), which
   * makes the old and new quorums overlap least.
   */
  #wholeMembership(removed: readonly Sid[]): Pick<ReconfigRequest, "leavingServers" | "joiningServers" | "newMembers"> {
    const prng = this.#prng;
    const roles = new Map<Sid, Role>();
    for (const sid of this.#believed.voters) roles.set(sid, "participant");
    for (const sid of this.#believed.observers) roles.set(sid, "observer");
    const roll = prng.int(3);
    if (roll === 1) for (const sid of removed) roles.set(sid, this.#original.get(sid)!);
    if (roll === 2) {
      const voters = this.#believed.voters;
      for (const sid of [...this.#believed.observers, ...removed]) roles.set(sid, "participant");
      for (const sid of sample(prng, voters, Math.floor(voters.length / 2))) roles.set(sid, "observer");
    }
    const specs = [...roles].map(([sid, role]) => memberSpecText(sid, role));
    return { leavingServers: null, joiningServers: null, newMembers: specs.join(",") };
  }

  /** The version last read, -1, or a stale one. */
  #fromVersion(): bigint {
    const roll = this.#prng.next();
    if (roll < 0.5) return BigInt(this.#believed.version);
    if (roll < 0.75) return -1n;
    const older = this.#versions.filter((version) => version < this.#believed.version);
    return BigInt(older.length > 0 ? pick(this.#prng, older) : this.#believed.version + 1);
  }
}
