/**
 * ZooKeeper's dynamic configuration files (reconfigEnabled): once a membership is in force, its
 * server.N lines go to `<zoo.cfg>.dynamic.<version in hex>` and zoo.cfg is rewritten to point at it
 * with `dynamicConfigFile=` (its own server.N lines removed), so a restart starts from the latest
 * membership. At start, a `dynamicConfigFile` key is read back; the version is the file name's
 * suffix (none: 0), and a `version=` line inside is refused, as ZooKeeper does.
 */
import type { QuorumConfig } from "../core/quorum_config.ts";
import { javaMemberOrder, quorumConfigText } from "../core/quorum_config.ts";
import type { FileSystem } from "../storage/file_system.ts";
import { parseZooCfg, type ZooCfg, type ZooCfgServer } from "./zoo_cfg.ts";

/** The server.N lines of a dynamic file and the version its name carries. */
export interface DynamicConfig {
  servers: ZooCfgServer[];
  version: number;
}

/** Keys a rewritten zoo.cfg no longer holds (ZooKeeper's QuorumPeerConfig.editStaticConfig). */
const MOVED_KEYS = /^(server\.|group\.|weight\.|peerType$|dynamicConfigFile$)/;

/**
 * Reads a dynamic file's text (`path` names it in messages and carries the version suffix).
 * @throws Error for anything but server.N lines, or a `version=` line.
 */
export function parseDynamicConfig(text: string, path: string): DynamicConfig {
  const cfg = parseZooCfg(text, { source: path });
  const other = cfg.keys.find((key) => !key.startsWith("server."));
  if (other === "version") throw new Error(`${path} has a version= line: a dynamic file's version is its name's .dynamic.<hex> suffix; remove the line`);
  if (other !== undefined) throw new Error(`${path} holds ${other}=; a dynamic configuration file holds server.N lines only`);
  if (cfg.servers.length === 0) throw new Error(`${path} names no server.N line`);
  const suffix = /\.dynamic\.([0-9a-fA-F]{1,16})$/.exec(path);
  const version = suffix === null ? 0 : Number.parseInt(suffix[1]!, 16);
  if (!Number.isSafeInteger(version)) throw new Error(`${path}: version ${suffix![1]} is larger than a zxid can be`);
  return { servers: cfg.servers, version };
}

/** Where the membership `version` goes, beside zoo.cfg. */
export function dynamicConfigPath(configPath: string, version: number): string {
  return `${configPath}.dynamic.${version.toString(16)}`;
}

/**
 * Writes `config`'s server.N lines to its dynamic file, then rewrites zoo.cfg (`configText`) to
 * name it: each write atomic, the dynamic file first, so zoo.cfg never names a missing file.
 * `myClientListed`: this member's own line carries its client address, so zoo.cfg's clientPort
 * and clientPortAddress go too (ZooKeeper drops them then).
 * @returns the new zoo.cfg text.
 */
export async function writeDynamicConfig(
  fs: FileSystem,
  configPath: string,
  configText: string,
  config: QuorumConfig,
  myClientListed: boolean,
): Promise<string> {
  const path = dynamicConfigPath(configPath, config.version);
  const lines = quorumConfigText({ ...config, members: javaMemberOrder(config) }).split("\n").filter((line) => line.startsWith("server."));
  await fs.writeFileAtomic(path, [new TextEncoder().encode(lines.sort().join("\n") + "\n")]);
  const kept = configText.split("\n").filter((line) => {
    const key = line.split("=")[0]!.trim();
    if (MOVED_KEYS.test(key)) return false;
    return !(myClientListed && (key === "clientPort" || key === "clientPortAddress"));
  });
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === "") kept.pop();
  const next = [...kept, `dynamicConfigFile=${path}`, ""].join("\n");
  await fs.writeFileAtomic(configPath, [new TextEncoder().encode(next)]);
  return next;
}

/**
 * zoo.cfg with its `dynamicConfigFile` read in: the file's server.N lines and version replace
 * zoo.cfg's (which must have none, so there is one place that says who the members are).
 */
export async function withDynamicConfig(cfg: ZooCfg, source: string, readTextFile: (path: string) => Promise<string>): Promise<ZooCfg> {
  const path = cfg.dynamicConfigFile;
  if (path === null) return cfg;
  if (cfg.servers.length > 0) {
    throw new Error(`${source} has server.N lines and dynamicConfigFile=${path}: keep the members in one place (the dynamic file)`);
  }
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw new Error(`${source} names dynamicConfigFile=${path}, which cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const dynamic = parseDynamicConfig(text, path);
  return { ...cfg, servers: dynamic.servers, configVersion: dynamic.version, keys: [...cfg.keys, ...dynamic.servers.map((server) => `server.${server.id}`)] };
}
