/**
 * Dynamic reconfiguration in the simulator: the seed's switch (its own PRNG stream, so seeds that
 * draw it off keep their exact plans), the synthetic membership every replica starts with
 * (`server.N=10.0.0.N:2888:3888:<role>;2181`), and the membership the committed history holds now
 * (what the nemesis, the liveness phase and the final checks count as "the ensemble").
 *
 * The workload that sends reconfig requests is in sim_reconfig_source.ts; the invariant on each
 * member's committed membership is in checkers/membership_checker.ts.
 */
import type { Sid } from "../core/peer_messages.ts";
import { CONFIG_NODE, type DataTree } from "../core/data_tree.ts";
import { MemberSpecError, parseQuorumConfigText } from "../core/member_spec.ts";
import { type QuorumConfig, type QuorumConfigMember, quorumConfigText } from "../core/quorum_config.ts";
import { createPrng } from "./prng.ts";

/** About a third of the swarm seeds reconfigure (when no plan or switch is given). */
const RECONFIG_SHARE = 1 / 3;

/**
 * Whether a swarm seed enables dynamic reconfiguration. Drawn from its own stream of the seed (as
 * drawLocalSessions), so that adding it changed no other draw of any seed.
 */
export function drawReconfig(seed: number): boolean {
  return createPrng((seed ^ 0x2ec0f) >>> 0).next() < RECONFIG_SHARE;
}

export const QUORUM_PORT = 2888;
export const ELECTION_PORT = 3888;
export const CLIENT_PORT = 2181;

/** Member `sid`'s synthetic address (distinct per member, as checkNoSharedAddress requires). */
export function memberHost(sid: Sid): string {
  return `10.0.0.${sid}`;
}

export function simMember(sid: Sid, role: QuorumConfigMember["role"]): QuorumConfigMember {
  return { id: sid, host: memberHost(sid), quorumPort: QUORUM_PORT, electionPort: ELECTION_PORT, role, client: { host: "0.0.0.0", port: CLIENT_PORT } };
}

/** The zoo.cfg membership of the whole simulated ensemble (version 0: static). */
export function simQuorumConfig(voters: readonly Sid[], observers: readonly Sid[]): QuorumConfig {
  return {
    members: [...voters.map((sid) => simMember(sid, "participant")), ...observers.map((sid) => simMember(sid, "observer"))],
    version: 0,
  };
}

/** The /zookeeper/config text of the static membership (what every member starts with). */
export function simQuorumConfigBytes(voters: readonly Sid[], observers: readonly Sid[]): Uint8Array {
  return new TextEncoder().encode(quorumConfigText(simQuorumConfig(voters, observers)));
}

/** A reconfig's server string for a member: `server.N=10.0.0.N:2888:3888:<role>;2181`. */
export function memberSpecText(sid: Sid, role: QuorumConfigMember["role"]): string {
  return `server.${sid}=${memberHost(sid)}:${QUORUM_PORT}:${ELECTION_PORT}:${role};${CLIENT_PORT}`;
}

/** Voters and observers of a membership, by sid. */
export interface MemberSets {
  version: number;
  voters: Sid[];
  observers: Sid[];
}

/** The member sets of a /zookeeper/config text, or null when it holds none (or does not parse). */
export function memberSetsOf(bytes: Uint8Array | null | undefined): MemberSets | null {
  if (bytes === null || bytes === undefined || bytes.length === 0) return null;
  let config: QuorumConfig;
  try {
    config = parseQuorumConfigText(new TextDecoder().decode(bytes));
  } catch (error) {
    if (error instanceof MemberSpecError) return null;
    throw error;
  }
  const ids = (role: string) => config.members.filter((member) => member.role === role).map((member) => member.id).sort((a, b) => a - b);
  return { version: config.version, voters: ids("participant"), observers: ids("observer") };
}

/** The membership a serving member's tree holds (its /zookeeper/config), or null without one. */
export function treeMembership(tree: DataTree): MemberSets | null {
  return memberSetsOf(tree.get(CONFIG_NODE)?.data);
}

/** "voters 1,2,3; observers 4" */
export function describeSets(sets: Pick<MemberSets, "voters" | "observers">): string {
  return `voters ${sets.voters.join(",")}${sets.observers.length > 0 ? `; observers ${sets.observers.join(",")}` : ""}`;
}

/**
 * The membership in force, as the nemesis, the liveness phase and the final checks count the
 * ensemble: the serving leader's /zookeeper/config (its tree holds every committed reconfig), or
 * with no leader the last one seen.
 */
export class MembershipInForce {
  #last: MemberSets;
  #cached: { data: Uint8Array; sets: MemberSets | null } | null = null;

  constructor(initial: MemberSets) {
    this.#last = initial;
  }

  /** From the leader's tree now (null: no leader, keep the last). */
  update(leaderTree: DataTree | null): MemberSets {
    const data = leaderTree?.get(CONFIG_NODE)?.data;
    if (data === undefined || data === null) return this.#last;
    if (this.#cached?.data !== data) this.#cached = { data, sets: memberSetsOf(data) };
    if (this.#cached.sets !== null) this.#last = this.#cached.sets;
    return this.#last;
  }
}

const COUNTER_SPAN = 2 ** 32;

/** A zxid whose counter is 0: an epoch's start, the version a leader stamps zoo.cfg's membership with. */
export function isEpochStart(zxid: number): boolean {
  return zxid % COUNTER_SPAN === 0;
}

/**
 * zoo.cfg's membership as /zookeeper/config may show it outside any txn: with version 0, or (once
 * an epoch with reconfiguration enabled is established) stamped with that epoch's first zxid,
 * ZooKeeper's initConfigInZKDatabase. True when `data` at `mzxid` is exactly that.
 */
export function isStaticMembership(data: Uint8Array | null, mzxid: number, staticText: Uint8Array): boolean {
  if (!isEpochStart(mzxid)) return false;
  const shown = memberSetsOf(data);
  const initial = memberSetsOf(staticText);
  return shown !== null && initial !== null && shown.version === mzxid && describeSets(shown) === describeSets(initial);
}
