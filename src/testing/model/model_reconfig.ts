/**
 * What ZooKeeper may answer to a `reconfig` (PrepRequestProcessor's checks, in order): disabled →
 * RECONFIGDISABLED; then answers that depend on the ensemble, which no model of the tree can see —
 * not a leader (UNIMPLEMENTED), a reconfiguration still in progress (RECONFIGINPROGRESS); a
 * `curConfigId` other than -1 and the committed version → BADVERSION; a membership that is not one
 * (a bad server string, an id twice, a shared address, fewer than two voters with
 * standaloneEnabled) → BADARGUMENTS (observers only: MARSHALLINGERROR); too few new voters synced
 * with the leader → NEWCONFIGNOQUORUM (the ensemble again); only then WRITE on /zookeeper/config
 * (only a super user has it) → NOAUTH; else success. (Session-level refusals are the checker's.)
 *
 * Once no reconfiguration is in progress the leader's last seen membership is the committed one,
 * which is what /zookeeper/config holds at the txn's place in the history: so BADVERSION and
 * BADARGUMENTS are decided exactly here, and a success must carry exactly the membership computed
 * here, versioned with its own zxid. Member text is read by the model's own parser
 * (model_member_text.ts).
 */
import { Code, codeName } from "../../core/errors.ts";
import type { ReconfigRequest } from "../../core/records.ts";
import { MemberTextError, membersKey, type ModelMember, parseMember, parseMembershipText } from "./model_member_text.ts";

type QuorumConfigMember = ModelMember;

export interface ReconfigSettings {
  /** zoo.cfg reconfigEnabled (default false). */
  reconfigEnabled?: boolean;
  /** zoo.cfg standaloneEnabled (default true): a membership keeps two voters. */
  standaloneEnabled?: boolean;
}

/** What the committed txn says: an error, or the new /zookeeper/config text. */
export type CommittedReconfig = { err: number } | { data: Uint8Array };

export interface ReconfigVerdict {
  /** The answer the model holds for this txn (the committed one whenever that is legal). */
  err: number;
  /** A success that carries the wrong membership or version: what is wrong. */
  problem: string | null;
}

const ENSEMBLE_DEPENDENT = [Code.UNIMPLEMENTED, Code.RECONFIGINPROGRESS];
const SPECS_MAX = 256;

class BadArguments extends Error {
  constructor(message: string, readonly code: number = Code.BADARGUMENTS) {
    super(message);
  }
}

export function judgeReconfig(
  request: ReconfigRequest,
  state: { configText: Uint8Array | null; version: number; allowed: boolean; zxid: number },
  settings: ReconfigSettings,
  committed: CommittedReconfig,
): ReconfigVerdict {
  const got = "err" in committed ? committed.err : Code.OK;
  const legal = (codes: number[]): ReconfigVerdict => ({ err: codes.includes(got) ? got : codes[0]!, problem: null });
  if (settings.reconfigEnabled !== true) return legal([Code.RECONFIGDISABLED]);
  const from = request.curConfigId;
  // Before any reconfig the leader's version is zoo.cfg's membership stamped with the first zxid
  // of some established epoch (never 0), which the history does not say: a `from` of that shape
  // may or may not match it; any other `from` does not.
  let mayBeBadVersion: number[] = [];
  if (from !== -1n) {
    const span = 2n ** 32n;
    if (state.version % 2 ** 32 === 0) {
      if (!(from >= span && from % span === 0n && from <= BigInt(state.zxid))) return legal([Code.BADVERSION, ...ENSEMBLE_DEPENDENT]);
      mayBeBadVersion = [Code.BADVERSION];
    } else if (from !== BigInt(state.version)) {
      return legal([Code.BADVERSION, ...ENSEMBLE_DEPENDENT]);
    }
  }
  let members: QuorumConfigMember[];
  try {
    members = nextMembers(request, state.configText, settings.standaloneEnabled !== false);
  } catch (error) {
    if (error instanceof BadArguments) return legal([error.code, ...mayBeBadVersion, ...ENSEMBLE_DEPENDENT]);
    throw error;
  }
  const verdict = legal([state.allowed ? Code.OK : Code.NOAUTH, Code.NEWCONFIGNOQUORUM, ...mayBeBadVersion, ...ENSEMBLE_DEPENDENT]);
  if (verdict.err !== Code.OK || "err" in committed) return verdict;
  return { err: Code.OK, problem: checkData(committed.data, members, state.zxid) };
}

/** The new membership, or BadArguments. */
function nextMembers(request: ReconfigRequest, configText: Uint8Array | null, standalone: boolean): QuorumConfigMember[] {
  let members: QuorumConfigMember[];
  if (request.newMembers !== null) {
    members = parseEntries(request.newMembers.split(/[,\n]/));
  } else {
    const current = new Map<number, QuorumConfigMember>();
    if (configText !== null && configText.length > 0) {
      for (const member of parseMembershipText(new TextDecoder().decode(configText)).members) current.set(member.id, member);
    }
    for (const text of list(request.leavingServers)) {
      if (!/^\d{1,10}$/.test(text)) throw new BadArguments(`leaving ${text}`);
      current.delete(Number(text));
    }
    for (const joiner of parseEntries(list(request.joiningServers))) {
      if (joiner.client === null) throw new BadArguments(`server.${joiner.id} has no client port`);
      for (const other of current.values()) {
        if (other.id === joiner.id) continue;
        const theirs = new Set([`${other.host}:${other.quorumPort}`, `${other.host}:${other.electionPort}`]);
        if (theirs.has(`${joiner.host}:${joiner.quorumPort}`) || theirs.has(`${joiner.host}:${joiner.electionPort}`)) {
          throw new BadArguments(`server.${joiner.id} shares an address with server.${other.id}`);
        }
      }
      current.delete(joiner.id);
      current.set(joiner.id, joiner);
    }
    members = [...current.values()];
  }
  const voters = members.filter((member) => member.role === "participant").length;
  // A newMembers list of observers only: Java's IllegalArgumentException while reading it, a
  // MARSHALLINGERROR. Incrementally it is the voter count below (BADARGUMENTS).
  if (request.newMembers !== null && voters === 0 && members.length > 0) throw new BadArguments("observers only", Code.MARSHALLINGERROR);
  if (voters < (standalone ? 2 : 1)) throw new BadArguments(`${voters} voter(s)`);
  return members;
}

function list(text: string | null): string[] {
  if (text === null) return [];
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  if (items.length > SPECS_MAX) throw new BadArguments("too many servers");
  return items;
}

function parseEntries(entries: readonly string[]): QuorumConfigMember[] {
  const members: QuorumConfigMember[] = [];
  const ids = new Set<number>();
  for (const entry of entries.map((item) => item.trim()).filter((item) => item !== "")) {
    if (members.length >= SPECS_MAX) throw new BadArguments("too many servers");
    const equals = entry.indexOf("=");
    const key = equals < 0 ? entry : entry.slice(0, equals).trim();
    if (key === "version") continue;
    if (equals < 0 || !key.startsWith("server.")) throw new BadArguments(`not server.N=...: ${entry}`);
    let member: QuorumConfigMember;
    try {
      member = parseMember(key.slice("server.".length), entry.slice(equals + 1));
    } catch (error) {
      if (error instanceof MemberTextError) throw new BadArguments(error.message);
      throw error;
    }
    if (ids.has(member.id)) throw new BadArguments(`server.${member.id} twice`);
    ids.add(member.id);
    members.push(member);
  }
  return members;
}

/** A success's text: it parses, its version= is its own zxid, and it holds exactly `members`. */
function checkData(data: Uint8Array, members: readonly QuorumConfigMember[], zxid: number): string | null {
  let config: { version: number; members: ModelMember[] };
  try {
    config = parseMembershipText(new TextDecoder().decode(data));
  } catch (error) {
    if (error instanceof MemberTextError) return `its membership text does not parse: ${error.message}`;
    throw error;
  }
  if (config.version !== zxid) return `its membership says version=${config.version.toString(16)}, not its zxid ${zxid.toString(16)}`;
  if (membersKey(config.members) !== membersKey(members)) {
    return `its membership is ${membersKey(config.members)}, but the request makes ${membersKey(members)} of the committed one`;
  }
  return null;
}

/** For messages. */
export function describeCommitted(committed: CommittedReconfig): string {
  return "err" in committed ? codeName(committed.err) : "success";
}
