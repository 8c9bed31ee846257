/**
 * Parsing ZooKeeper connect strings: "host1:port1,host2:port2/chroot/path" (the Java client's format).
 */
import { pathProblem } from "../core/path.ts";

/** One server address from a connect string. */
export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  /** In the order given; the client goes round-robin from a random start. */
  hosts: HostPort[];
  /** The chroot without a trailing slash, or "" for none ("/" also means none). */
  chroot: string;
}

/** ZooKeeper's default client port. */
export const DEFAULT_PORT = 2181;

/**
 * Splits a connect string into hosts and chroot. Hosts are IPv4 addresses or host names with an
 * optional `:port` (default 2181); whitespace around entries is ignored. Throws TypeError with the
 * offending part when the string cannot be used.
 *
 *   parseConnectString("zk1:2181,zk2/app") → { hosts: [zk1:2181, zk2:2181], chroot: "/app" }
 */
export function parseConnectString(connectString: string): ConnectString {
  const slash = connectString.indexOf("/");
  const hostPart = slash === -1 ? connectString : connectString.substring(0, slash);
  const chrootPart = slash === -1 ? "" : connectString.substring(slash);
  const hosts: HostPort[] = [];
  for (const entry of hostPart.split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    hosts.push(parseHostPort(trimmed, connectString));
  }
  if (hosts.length === 0) {
    throw new TypeError(
      `connect string ${
        JSON.stringify(connectString)
      } names no server; expected "host:port[,host:port...][/chroot]"`,
    );
  }
  return { hosts, chroot: parseChroot(chrootPart, connectString) };
}

function parseHostPort(entry: string, whole: string): HostPort {
  const colon = entry.lastIndexOf(":");
  if (colon === -1) return { host: checkHost(entry, whole), port: DEFAULT_PORT };
  const host = checkHost(entry.substring(0, colon), whole);
  const portText = entry.substring(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new TypeError(
      `connect string ${JSON.stringify(whole)}: bad port ${
        JSON.stringify(portText)
      } in "${entry}" (expected 1-65535)`,
    );
  }
  return { host, port };
}

function checkHost(host: string, whole: string): string {
  if (host === "" || /[\s/:\[\]]/.test(host)) {
    throw new TypeError(
      `connect string ${JSON.stringify(whole)}: bad host ${
        JSON.stringify(host)
      } (IPv4 addresses and host names are supported)`,
    );
  }
  return host;
}

function parseChroot(chroot: string, whole: string): string {
  if (chroot === "" || chroot === "/") return "";
  const problem = pathProblem(chroot);
  if (problem !== null) {
    throw new TypeError(
      `connect string ${JSON.stringify(whole)}: chroot ${
        JSON.stringify(chroot)
      } is not a valid path: ${problem}`,
    );
  }
  return chroot;
}
