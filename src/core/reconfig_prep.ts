/**
 * Preparing a `reconfig` request on the leader, with ZooKeeper's checks in its order
 * (PrepRequestProcessor): enabled, WRITE on /zookeeper/config, a leader, no reconfiguration under
 * way, the `-from` version, the new membership (incremental: the last seen one with `leaving`
 * removed and `joining` added or replaced; or `newMembers` whole), at least one voter (two with
 * standaloneEnabled), and a quorum of the new voters synced with this leader now. The txn sets
 * /zookeeper/config to the new membership's text, versioned with the txn's own zxid.
 */
import { checkAllowed } from "./acl.ts";
import { CONFIG_NODE } from "./data_tree.ts";
import { Code, KeeperCodeError } from "./errors.ts";
import { MemberSpecError, parseMemberSpec } from "./member_spec.ts";
import { type Configuration, configurationOf } from "./membership.ts";
import type { QuorumVerifier } from "./quorum.ts";
import { type QuorumConfig, type QuorumConfigMember, quorumConfigText } from "./quorum_config.ts";
import { Perms, type ReconfigRequest } from "./records.ts";
import type { Txn } from "./txn.ts";
import type { PrepContext } from "./prep.ts";

/** What prep needs from the ensemble to decide a reconfig (the leader's Zab role provides it). */
export interface ReconfigView {
  /** The configuration the leader knows committed, and the newest it has seen (proposed). */
  committed: Configuration;
  lastSeen: Configuration;
  /** Whether the voters of `verifier` that are synced with this leader (itself included) are a quorum. */
  isQuorumSynced(verifier: QuorumVerifier): boolean;
}

export interface ReconfigSettings {
  /** zoo.cfg reconfigEnabled. */
  enabled: boolean;
  /** zoo.cfg standaloneEnabled (default true): the new membership must keep two voters. */
  standaloneEnabled: boolean;
  /** The leader's view; null on a member that is not leading (or a standalone server). */
  view: ReconfigView | null;
}

/** More joining or leaving entries than this is not a membership (ids are 1..255). */
const SPECS_MAX = 256;

export function prepareReconfig(request: ReconfigRequest, context: PrepContext): Txn {
  const settings = context.reconfig;
  if (settings === undefined || !settings.enabled) throw new KeeperCodeError(Code.RECONFIGDISABLED);
  const configNode = context.pending.get(CONFIG_NODE);
  if (configNode !== null) checkAllowed(configNode.acl, Perms.WRITE, context.identities, CONFIG_NODE);
  const view = settings.view;
  if (view === null) throw new KeeperCodeError(Code.UNIMPLEMENTED, "reconfig needs an ensemble leader");
  if (view.lastSeen.config.version !== view.committed.config.version) throw new KeeperCodeError(Code.RECONFIGINPROGRESS);
  const from = request.curConfigId;
  if (from !== -1n && from !== BigInt(view.lastSeen.config.version)) {
    throw new KeeperCodeError(Code.BADVERSION, `reconfig from version ${from.toString(16)}: the last seen version is ${view.lastSeen.config.version.toString(16)}`);
  }
  const members = request.newMembers !== null
    ? parseMembers(request.newMembers.split(/[,\n]/))
    : incremental(view.lastSeen.config, request);
  const config: QuorumConfig = { members, version: context.zxid };
  let next: Configuration;
  try {
    next = configurationOf(config);
  } catch (error) {
    throw new KeeperCodeError(Code.BADARGUMENTS, error instanceof Error ? error.message : String(error));
  }
  const minVoters = settings.standaloneEnabled ? 2 : 1;
  if (next.verifier.voters.length < minVoters) {
    throw new KeeperCodeError(Code.BADARGUMENTS, `the new configuration must include at least ${minVoters} voter(s)`);
  }
  if (!view.isQuorumSynced(next.verifier)) throw new KeeperCodeError(Code.NEWCONFIGNOQUORUM);
  return { type: "reconfig", data: new TextEncoder().encode(quorumConfigText(config)) };
}

/** The last seen membership, `leaving` ids removed, then `joining` servers added or replaced. */
function incremental(current: QuorumConfig, request: ReconfigRequest): QuorumConfigMember[] {
  const next = new Map(current.members.map((member) => [member.id, member]));
  for (const text of commaList(request.leavingServers)) {
    if (!/^\d{1,10}$/.test(text)) throw new KeeperCodeError(Code.BADARGUMENTS, `leaving server ${JSON.stringify(text)} is not a server id`);
    next.delete(Number(text));
  }
  for (const joiner of parseMembers(commaList(request.joiningServers))) {
    if (joiner.client === null) {
      throw new KeeperCodeError(Code.BADARGUMENTS, "Wrong format of server string - each server should have 3 ports specified");
    }
    for (const other of next.values()) {
      if (other.id !== joiner.id) checkNoSharedAddress(joiner, other);
    }
    next.delete(joiner.id);
    next.set(joiner.id, joiner);
  }
  return [...next.values()];
}

function commaList(text: string | null): string[] {
  if (text === null) return [];
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length > SPECS_MAX) throw new KeeperCodeError(Code.BADARGUMENTS, `more than ${SPECS_MAX} servers in one reconfig`);
  return items;
}

/** `server.N=spec` entries; ids must be unique. */
function parseMembers(entries: readonly string[]): QuorumConfigMember[] {
  const members: QuorumConfigMember[] = [];
  const ids = new Set<number>();
  for (const entry of entries.map((item) => item.trim()).filter((item) => item !== "")) {
    if (members.length >= SPECS_MAX) throw new KeeperCodeError(Code.BADARGUMENTS, `more than ${SPECS_MAX} servers in one reconfig`);
    const equals = entry.indexOf("=");
    const key = equals < 0 ? entry : entry.slice(0, equals).trim();
    if (equals < 0 || !key.startsWith("server.")) {
      throw new KeeperCodeError(Code.BADARGUMENTS, `Wrong format of server string: ${JSON.stringify(entry)} (server.N=host:port:port[:role];[clientHost:]clientPort)`);
    }
    let member: QuorumConfigMember;
    try {
      member = parseMemberSpec(key.slice("server.".length), entry.slice(equals + 1));
    } catch (error) {
      if (error instanceof MemberSpecError) throw new KeeperCodeError(Code.BADARGUMENTS, error.message);
      throw error;
    }
    if (ids.has(member.id)) throw new KeeperCodeError(Code.BADARGUMENTS, `server.${member.id} is listed twice`);
    ids.add(member.id);
    members.push(member);
  }
  return members;
}

/** Two members may not share a quorum, election or client address (QuorumServer.checkAddressDuplicate). */
function checkNoSharedAddress(a: QuorumConfigMember, b: QuorumConfigMember): void {
  const addresses = (member: QuorumConfigMember) => [
    `${member.host}:${member.quorumPort}`,
    `${member.host}:${member.electionPort}`,
  ];
  const taken = new Set(addresses(b));
  for (const address of addresses(a)) {
    if (taken.has(address)) {
      throw new KeeperCodeError(Code.BADARGUMENTS, `server.${a.id} uses ${address}, which server.${b.id} already has`);
    }
  }
}
