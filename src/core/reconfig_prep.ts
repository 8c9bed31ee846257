/**
 * Preparing a `reconfig` request on the leader, with ZooKeeper's checks in its order
 * (PrepRequestProcessor): enabled, the session, a leader, no reconfiguration under way, the
 * `-from` version, the new membership (incremental: the last seen one with `leaving` removed and
 * `joining` added or replaced; or `newMembers` whole), at least one voter (two with
 * standaloneEnabled), a quorum of the new voters synced with this leader now, and only then WRITE
 * on /zookeeper/config (only a super user has it). The txn sets /zookeeper/config to the new
 * membership's text, versioned with the txn's own zxid. A refusal is an error txn, as any write's.
 */
import { checkAllowed } from "./acl.ts";
import { CONFIG_NODE } from "./data_tree.ts";
import { Code, KeeperCodeError } from "./errors.ts";
import { MemberSpecError, parseMemberSpec } from "./member_spec.ts";
import { type Configuration, configurationOf } from "./membership.ts";
import { checkSession, type PrepContext } from "./prep.ts";
import type { QuorumVerifier } from "./quorum.ts";
import { type QuorumConfig, type QuorumConfigMember, quorumConfigText } from "./quorum_config.ts";
import { Perms, type ReconfigRequest } from "./records.ts";
import type { Txn } from "./txn.ts";

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
  checkSession(context);
  const view = settings.view;
  if (view === null) throw new KeeperCodeError(Code.UNIMPLEMENTED, "reconfig needs an ensemble leader");
  if (view.lastSeen.config.version !== view.committed.config.version) throw new KeeperCodeError(Code.RECONFIGINPROGRESS);
  const from = request.curConfigId;
  if (from !== -1n && from !== BigInt(view.lastSeen.config.version)) {
    throw new KeeperCodeError(Code.BADVERSION, `reconfig from version ${from.toString(16)}: the last seen version is ${view.lastSeen.config.version.toString(16)}`);
  }
  const members = request.newMembers !== null ? wholeMembership(request.newMembers) : incremental(view.lastSeen.config, request);
  const voters = members.filter((member) => member.role === "participant").length;
  // A whole membership of observers only is ZooKeeper's IllegalArgumentException while it reads
  // newMembers (MARSHALLINGERROR); incrementally it is the voter count below.
  if (request.newMembers !== null && voters === 0 && members.length > 0) throw new KeeperCodeError(Code.MARSHALLINGERROR, "a membership of observers only");
  const minVoters = settings.standaloneEnabled ? 2 : 1;
  if (voters < minVoters) throw new KeeperCodeError(Code.BADARGUMENTS, `the new configuration must include at least ${minVoters} voter(s)`);
  const config: QuorumConfig = { members, version: context.zxid };
  let next: Configuration;
  try {
    next = configurationOf(config);
  } catch (error) {
    throw new KeeperCodeError(Code.BADARGUMENTS, error instanceof Error ? error.message : String(error));
  }
  if (!view.isQuorumSynced(next.verifier)) throw new KeeperCodeError(Code.NEWCONFIGNOQUORUM);
  const configNode = context.pending.get(CONFIG_NODE);
  if (configNode !== null) checkAllowed(configNode.acl, Perms.WRITE, context.identities, CONFIG_NODE);
  return { type: "reconfig", data: new TextEncoder().encode(quorumConfigText(config)) };
}

/** `newMembers`: `server.N=spec` lines (comma- or newline-separated), a `version=` line ignored. */
function wholeMembership(text: string): QuorumConfigMember[] {
  const entries = text.split(/[,\n]/).map((item) => item.trim()).filter((item) => item !== "");
  if (entries.length > SPECS_MAX) throw new KeeperCodeError(Code.BADARGUMENTS, `more than ${SPECS_MAX} servers in one reconfig`);
  // Read as Java properties are: a repeated server.N keeps its last line.
  const members = new Map<number, QuorumConfigMember>();
  for (const entry of entries) {
    const equals = entry.indexOf("=");
    const key = (equals < 0 ? entry : entry.slice(0, equals)).trim();
    if (key === "version") continue;
    if (!key.startsWith("server.")) throw new KeeperCodeError(Code.BADARGUMENTS, `${JSON.stringify(key)} is not a server.N line`);
    const member = memberOf(key.slice("server.".length), entry.slice(equals + 1));
    members.delete(member.id);
    members.set(member.id, member);
  }
  return [...members.values()];
}

/** The last seen membership, `leaving` ids removed, then `joining` servers added or replaced. */
function incremental(current: QuorumConfig, request: ReconfigRequest): QuorumConfigMember[] {
  const next = new Map(current.members.map((member) => [member.id, member]));
  for (const text of commaList(request.leavingServers)) {
    // Java's Long.parseLong: a failure there is ZooKeeper's MARSHALLINGERROR; an absent id is ignored.
    if (!/^[+-]?\d{1,18}$/.test(text)) throw new KeeperCodeError(Code.MARSHALLINGERROR, `leaving server ${JSON.stringify(text)} is not a server id`);
    next.delete(Number(text));
  }
  for (const joiner of commaList(request.joiningServers)) {
    const parts = joiner.split("=").map((part) => part.trim()).filter((part) => part !== "");
    if (parts.length !== 2) throw new KeeperCodeError(Code.BADARGUMENTS, `Wrong format of server string: ${JSON.stringify(joiner)} (server.N=host:port:port[:role];[clientHost:]clientPort)`);
    // The id is what follows the last "." ("server.4", "4" and "x.4" all name 4), as in ZooKeeper.
    const member = memberOf(parts[0]!.slice(parts[0]!.lastIndexOf(".") + 1), parts[1]!);
    if (member.client === null) {
      throw new KeeperCodeError(Code.BADARGUMENTS, "Wrong format of server string - each server should have 3 ports specified");
    }
    for (const other of next.values()) {
      if (other.id !== member.id) checkNoSharedAddress(member, other);
    }
    // A repeated id replaces the earlier entry, as in ZooKeeper (its map's put).
    next.delete(member.id);
    next.set(member.id, member);
  }
  return [...next.values()];
}

function commaList(text: string | null): string[] {
  if (text === null) return [];
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length > SPECS_MAX) throw new KeeperCodeError(Code.BADARGUMENTS, `more than ${SPECS_MAX} servers in one reconfig`);
  return items;
}

/** One member from `server.<idText>=<spec>`, with ZooKeeper's code for what is wrong with it. */
function memberOf(idText: string, spec: string): QuorumConfigMember {
  try {
    return parseMemberSpec(idText, spec);
  } catch (error) {
    if (!(error instanceof MemberSpecError)) throw error;
    // A number Java cannot parse (an id), or a port InetSocketAddress refuses, is its MARSHALLINGERROR.
    const marshalling = (error.field === "id" && error.reason === "notNumber") || (error.field === "port" && error.reason === "outOfRange");
    throw new KeeperCodeError(marshalling ? Code.MARSHALLINGERROR : Code.BADARGUMENTS, error.message);
  }
}

/**
 * Two members may not share a quorum or election address (QuorumServer.checkAddressDuplicate);
 * like ZooKeeper's, the check skips loopback and wildcard hosts (members on one machine).
 */
function checkNoSharedAddress(a: QuorumConfigMember, b: QuorumConfigMember): void {
  if (isLoopbackOrWildcard(a.host)) return;
  const addresses = (member: QuorumConfigMember) => [`${member.host}:${member.quorumPort}`, `${member.host}:${member.electionPort}`];
  const taken = new Set(addresses(b));
  for (const address of addresses(a)) {
    if (taken.has(address)) throw new KeeperCodeError(Code.BADARGUMENTS, `server.${a.id} uses ${address}, which server.${b.id} already has`);
  }
}

function isLoopbackOrWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "::1" || host === "localhost" || /^127\./.test(host) || /^0(:0){7}$/.test(host);
}
