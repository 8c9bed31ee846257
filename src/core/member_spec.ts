/**
 * Reading membership text back: a member's `host:quorumPort:electionPort[:role][;[clientHost:]clientPort]`
 * (zoo.cfg's server.N value, a reconfig's joining server) and the whole /zookeeper/config text
 * (quorum_config.ts writes it). A reconfig txn carries that text, so every member derives the new
 * membership from the same bytes.
 */
import { SID_MAX, SID_MIN } from "./quorum.ts";
import type { QuorumConfig, QuorumConfigMember } from "./quorum_config.ts";
import type { Zxid } from "./zxid.ts";

/** The shape of a member spec, for error messages. */
export const MEMBER_SPEC_SHAPE = "host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]";

/**
 * Bad membership text: `message` says which part and what was expected; `field` and `reason` let
 * a reconfig answer with ZooKeeper's code (a number that does not parse is its MARSHALLINGERROR).
 */
export class MemberSpecError extends Error {
  constructor(message: string, readonly field: "id" | "port" | "shape" = "shape", readonly reason: "notNumber" | "outOfRange" | "shape" = "shape") {
    super(message);
  }
}

/**
 * One member from `server.<id>=<spec>`.
 * @throws MemberSpecError for a bad id, a missing port, a port out of range or an unknown role.
 */
export function parseMemberSpec(idText: string, spec: string): QuorumConfigMember {
  const key = `server.${idText}`;
  const id = integerIn(idText.trim(), SID_MIN, SID_MAX, `the N of ${key} (server id)`, "id");
  const [addressPart, clientPart, extra] = spec.split(";").map((part) => part.trim());
  if (extra !== undefined || addressPart === undefined || addressPart === "") {
    throw new MemberSpecError(`${key} must be server.N=${MEMBER_SPEC_SHAPE}, got ${JSON.stringify(spec)}`);
  }
  const [host, rest] = splitHost(addressPart, key);
  const fields = rest.split(":");
  if (fields.length < 2 || fields.length > 3) {
    throw new MemberSpecError(`${key} must be server.N=${MEMBER_SPEC_SHAPE}, got ${JSON.stringify(spec)}`);
  }
  const quorumPort = integerIn(fields[0]!, 1, 65535, `${key} quorum port`, "port");
  const electionPort = integerIn(fields[1]!, 1, 65535, `${key} election port`, "port");
  if (quorumPort === electionPort) throw new MemberSpecError(`${key}: the quorum and election ports must differ (both ${quorumPort})`);
  const role = (fields[2] ?? "participant").trim().toLowerCase();
  if (role !== "participant" && role !== "observer") {
    throw new MemberSpecError(`${key} role must be participant or observer, got ${JSON.stringify(fields[2])}`);
  }
  let client: QuorumConfigMember["client"] = null;
  if (clientPart !== undefined && clientPart !== "") {
    const colon = clientPart.lastIndexOf(":");
    client = colon >= 0
      ? { host: clientPart.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: integerIn(clientPart.slice(colon + 1), 1, 65535, `${key} client port`, "port") }
      : { host: "0.0.0.0", port: integerIn(clientPart, 1, 65535, `${key} client port`, "port") };
  }
  return { id, host, quorumPort, electionPort, role, client };
}

/**
 * /zookeeper/config's text back into a config: `server.N=spec` lines and `version=<hex>`.
 * @throws MemberSpecError for any other line or a bad member.
 */
export function parseQuorumConfigText(text: string): QuorumConfig {
  const members: QuorumConfigMember[] = [];
  let version: Zxid = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const equals = line.indexOf("=");
    const key = equals < 0 ? line : line.slice(0, equals).trim();
    const value = equals < 0 ? "" : line.slice(equals + 1);
    if (key === "version") {
      if (!/^[0-9a-fA-F]{1,16}$/.test(value.trim())) throw new MemberSpecError(`version=${value} is not a hex zxid`);
      version = Number.parseInt(value.trim(), 16);
      // Zxids here are exact JavaScript numbers; a larger version would compare wrongly forever.
      if (!Number.isSafeInteger(version)) throw new MemberSpecError(`version=${value} is larger than a zxid can be (${Number.MAX_SAFE_INTEGER.toString(16)})`);
    } else if (key.startsWith("server.")) {
      members.push(parseMemberSpec(key.slice("server.".length), value));
    } else {
      throw new MemberSpecError(`unexpected line ${JSON.stringify(line)} in a membership (server.N=... and version=... only)`);
    }
  }
  return { members, version };
}

function splitHost(text: string, key: string): [string, string] {
  if (text.startsWith("[")) {
    const close = text.indexOf("]:");
    if (close < 0) throw new MemberSpecError(`${key}: unterminated [ipv6] address in ${JSON.stringify(text)}`);
    return [text.slice(1, close), text.slice(close + 2)];
  }
  const colon = text.indexOf(":");
  if (colon <= 0) throw new MemberSpecError(`${key} must start with host:, got ${JSON.stringify(text)}`);
  return [text.slice(0, colon), text.slice(colon + 1)];
}

function integerIn(text: string, min: number, max: number, what: string, field: "id" | "port"): number {
  if (!/^\d{1,16}$/.test(text.trim())) throw new MemberSpecError(`${what} must be a number, got ${JSON.stringify(text)}`, field, "notNumber");
  const value = Number(text.trim());
  if (value < min || value > max) throw new MemberSpecError(`${what} must be in [${min}, ${max}], got ${value}`, field, "outOfRange");
  return value;
}
