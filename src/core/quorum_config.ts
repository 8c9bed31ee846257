/**
 * The text ZooKeeper 3.5+ keeps in /zookeeper/config: one `server.N=...` line per member and
 * `version=<hex>`, exactly as QuorumMaj.toString writes it, so that clients, zkCli `config` and
 * Curator's ensemble tracking read the same bytes from Corral as from ZooKeeper for one zoo.cfg.
 *
 * Two details decide the bytes beyond the members themselves:
 * - a member line is `host:quorumPort:electionPort:role`, then `;clientHost:clientPort` when its
 *   server.N line named a client address (`;port` alone means host 0.0.0.0). Hosts print as Java's
 *   InetSocketAddress.getHostString: a name as written, an IPv4 literal in dotted decimal, an IPv6
 *   literal in full uncompressed form, bracketed.
 * - lines come in the iteration order of the java.util.HashMap<Long, QuorumServer> ZooKeeper builds:
 *   by hash bucket (id mod the table size), and within a bucket in the order QuorumMaj met the ids,
 *   which is the iteration order of the java.util.Properties (a ConcurrentHashMap) zoo.cfg was
 *   loaded into. Both tables are emulated below; ids below the HashMap's size (16 for up to 12
 *   members) simply come out in ascending order.
 */
import type { Zxid } from "./zxid.ts";

export interface QuorumConfigMember {
  id: number;
  /** The host as the server.N line names it (an IPv6 literal without brackets). */
  host: string;
  quorumPort: number;
  electionPort: number;
  role: "participant" | "observer";
  /** The line's `;[clientHost:]clientPort` part; clientHost "0.0.0.0" when only a port was given. */
  client: { host: string; port: number } | null;
}

export interface QuorumConfig {
  /** Every member, in zoo.cfg order. */
  members: readonly QuorumConfigMember[];
  /** The configuration's version: `version=` in hex, and the node's mzxid. 0 for a static zoo.cfg. */
  version: Zxid;
  /**
   * Every key of zoo.cfg in order of first appearance (server.N included). Only the order of ids
   * that share a HashMap bucket depends on it. Default: the members' server.N keys alone.
   */
  keys?: readonly string[];
}

/** The bytes of /zookeeper/config, as UTF-8 text. */
export function quorumConfigText(config: QuorumConfig): string {
  let text = "";
  for (const member of javaMemberOrder(config)) text += `server.${member.id}=${memberText(member)}\n`;
  return `${text}version=${config.version.toString(16)}`;
}

function memberText(member: QuorumConfigMember): string {
  const client = member.client === null ? "" : `;${delimitedHost(member.client.host)}:${member.client.port}`;
  return `${delimitedHost(member.host)}:${member.quorumPort}:${member.electionPort}:${member.role}${client}`;
}

/** Java's getHostString, bracketed when it holds a colon (QuorumServer.delimitedHostString). */
export function delimitedHost(host: string): string {
  const printed = javaHostString(host);
  return printed.includes(":") ? `[${printed}]` : printed;
}

function javaHostString(host: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4 !== null && v4.slice(1).every((part) => Number(part) <= 255)) return v4.slice(1).map(Number).join(".");
  if (host.includes(":")) return expandIpv6(host) ?? host;
  return host;
}

/** "::1" → "0:0:0:0:0:0:0:1" (Inet6Address.getHostAddress); null when it is not an IPv6 literal. */
function expandIpv6(text: string): string | null {
  const percent = text.indexOf("%");
  const scope = percent < 0 ? "" : text.slice(percent);
  let address = percent < 0 ? text : text.slice(0, percent);
  // A trailing IPv4 part (::ffff:1.2.3.4) becomes two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (tail !== null) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((part) => part > 255)) return null;
    address = address.slice(0, tail.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const rest = halves.length === 2 ? (halves[1] === "" ? [] : halves[1]!.split(":")) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return null;
  // An IPv4-mapped address prints as IPv4 in Java (Inet4Address); keep that case simple.
  const printed = groups.map((group) => parseInt(group, 16).toString(16)).join(":");
  if (printed.startsWith("0:0:0:0:0:ffff:")) {
    const high = parseInt(groups[6]!, 16);
    const low = parseInt(groups[7]!, 16);
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return printed + scope;
}

// ------------------------------------------------------------------------------------------------
// Java's iteration orders

/** The members in the order QuorumMaj.getAllMembers().values() yields them. */
export function javaMemberOrder(config: QuorumConfig): QuorumConfigMember[] {
  const byKey = new Map<string, QuorumConfigMember>();
  for (const member of config.members) byKey.set(`server.${member.id}`, member);
  const keys = config.keys ?? config.members.map((member) => `server.${member.id}`);
  // QuorumMaj meets the server.N keys as the Properties map iterates...
  const met: QuorumConfigMember[] = [];
  for (const key of concurrentHashMapOrder(keys)) {
    const member = byKey.get(key);
    if (member !== undefined) met.push(member);
  }
  // ... (members the keys did not list, if any, after them) ...
  for (const member of config.members) if (!met.includes(member)) met.push(member);
  // ... and puts them into a HashMap<Long, QuorumServer>, whose iteration order is returned.
  return hashMapOrder(met);
}

/** String.hashCode: s[0]·31^(n−1) + … + s[n−1], in 32-bit arithmetic. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

interface ChmNode {
  hash: number;
  key: string;
}

/**
 * Iteration order of a java.util.Properties (Java 9+: a ConcurrentHashMap of initial capacity 8,
 * so a 16-bin table resized at 3/4 full) after putting `keys` in order, one thread: bins in index
 * order, a bin's list in insertion order, except that a resize rebuilds each bin's list with the
 * nodes before its "last run" reversed (ConcurrentHashMap.transfer).
 */
export function concurrentHashMapOrder(keys: readonly string[]): string[] {
  let table: ChmNode[][] = Array.from({ length: 16 }, () => []);
  let count = 0;
  let resizeAt = 12;
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue; // a repeated key keeps its place (its value is replaced)
    seen.add(key);
    const h = javaStringHash(key);
    const hash = (h ^ (h >>> 16)) & 0x7fffffff;
    table[hash & (table.length - 1)]!.push({ hash, key });
    count++;
    while (count >= resizeAt && table.length < 1 << 30) {
      table = chmTransfer(table);
      resizeAt = table.length - (table.length >>> 2);
    }
  }
  return table.flatMap((bin) => bin.map((node) => node.key));
}

function chmTransfer(table: ChmNode[][]): ChmNode[][] {
  const n = table.length;
  const next: ChmNode[][] = Array.from({ length: 2 * n }, () => []);
  for (let i = n - 1; i >= 0; i--) {
    const bin = table[i]!;
    if (bin.length === 0) continue;
    let runBit = bin[0]!.hash & n;
    let lastRun = 0;
    for (let p = 1; p < bin.length; p++) {
      const bit = bin[p]!.hash & n;
      if (bit !== runBit) {
        runBit = bit;
        lastRun = p;
      }
    }
    const low: ChmNode[] = runBit === 0 ? bin.slice(lastRun) : [];
    const high: ChmNode[] = runBit === 0 ? [] : bin.slice(lastRun);
    for (let p = 0; p < lastRun; p++) {
      const node = bin[p]!;
      if ((node.hash & n) === 0) low.unshift(node);
      else high.unshift(node);
    }
    next[i] = low;
    next[i + n] = high;
  }
  return next;
}

/**
 * Iteration order of a java.util.HashMap<Long, V> (16 bins, doubled past 3/4 full) after putting
 * the members in order: by bin (the Long's spread hash modulo the table size), then insertion order
 * (HashMap's resize keeps each bin's order). Bins that would turn into trees (8+ ids in one bin of
 * a table of 64+) are not modelled: they need 49+ members with colliding ids.
 */
export function hashMapOrder<T extends { id: number }>(items: readonly T[]): T[] {
  let size = 16;
  while (items.length > size * 0.75) size *= 2;
  const bins: T[][] = Array.from({ length: size }, () => []);
  for (const item of items) bins[longBin(item.id, size)]!.push(item);
  return bins.flat();
}

function longBin(id: number, size: number): number {
  const value = BigInt.asUintN(64, BigInt(id));
  const h = Number(BigInt.asIntN(32, value ^ (value >> 32n)));
  return ((h ^ (h >>> 16)) & (size - 1)) >>> 0;
}
