/**
 * The model's own reading of membership text (the model takes no parser from src/core): a
 * reconfig's server strings `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]`
 * and /zookeeper/config's text (those lines and `version=<hex>`). Enough for what ZooKeeper
 * accepts from well-formed input; anything else is reported as not parsing.
 */

export interface ModelMember {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: "participant" | "observer";
  /** `;[clientHost:]clientPort`, clientHost 0.0.0.0 when only a port is given; null without it. */
  client: { host: string; port: number } | null;
}

export class MemberTextError extends Error {}

function port(text: string, what: string): number {
  const value = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(value >= 1 && value <= 65535)) throw new MemberTextError(`${what} ${JSON.stringify(text)} is not a port`);
  return value;
}

/** One member from the id text and the spec after `=`. */
export function parseMember(idText: string, spec: string): ModelMember {
  if (!/^\d{1,3}$/.test(idText.trim()) || Number(idText.trim()) > 255) throw new MemberTextError(`bad id ${JSON.stringify(idText)}`);
  const parts = spec.split(";").map((part) => part.trim());
  if (parts.length > 2 || parts[0] === "") throw new MemberTextError(`bad server string ${JSON.stringify(spec)}`);
  const fields = parts[0]!.split(":");
  if (fields.length < 3 || fields.length > 4) throw new MemberTextError(`bad server string ${JSON.stringify(spec)}`);
  const role = fields[3] ?? "participant";
  if (role !== "participant" && role !== "observer") throw new MemberTextError(`bad role ${JSON.stringify(role)}`);
  let client: ModelMember["client"] = null;
  const clientText = parts[1];
  if (clientText !== undefined && clientText !== "") {
    const colon = clientText.lastIndexOf(":");
    client = colon < 0 ? { host: "0.0.0.0", port: port(clientText, "client port") } : { host: clientText.slice(0, colon), port: port(clientText.slice(colon + 1), "client port") };
  }
  return { id: Number(idText.trim()), host: fields[0]!, quorumPort: port(fields[1]!, "quorum port"), electionPort: port(fields[2]!, "election port"), role, client };
}

/** /zookeeper/config's text. */
export function parseMembershipText(text: string): { version: number; members: ModelMember[] } {
  const members: ModelMember[] = [];
  let version = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const equals = line.indexOf("=");
    if (equals < 0) throw new MemberTextError(`unexpected line ${JSON.stringify(line)}`);
    const key = line.slice(0, equals).trim();
    const value = line.slice(equals + 1).trim();
    if (key === "version") {
      if (!/^[0-9a-f]{1,16}$/i.test(value)) throw new MemberTextError(`version=${value} is not hex`);
      version = Number.parseInt(value, 16);
    } else if (key.startsWith("server.")) {
      members.push(parseMember(key.slice("server.".length), value));
    } else {
      throw new MemberTextError(`unexpected line ${JSON.stringify(line)}`);
    }
  }
  return { version, members };
}

/** A membership as one comparable string (members by id). */
export function membersKey(members: readonly ModelMember[]): string {
  return JSON.stringify([...members].sort((a, b) => a.id - b.id).map((m) => [m.id, m.host, m.quorumPort, m.electionPort, m.role, m.client?.host ?? null, m.client?.port ?? null]));
}
