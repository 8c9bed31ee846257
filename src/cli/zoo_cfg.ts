/**
 * ZooKeeper's zoo.cfg: a Java properties file (`key=value`, `key: value` or `key value`; `#` and `!`
 * comments; a trailing backslash continues a line). Known keys are checked and typed; unknown keys
 * are kept and warned about, as ZooKeeper passes them on as `zookeeper.<key>` system properties.
 */
import { MemberSpecError, parseMemberSpec } from "../core/member_spec.ts";
import { FOUR_LETTER_WORDS } from "../driver/four_letter_words.ts";
import { closestName } from "./closest_name.ts";
import { defaultQuorumTlsCfg, parseQuorumTlsKey, QUORUM_TLS_KEYS, type QuorumTlsCfg } from "./quorum_tls_config.ts";
import { defaultQuorumSaslCfg, parseQuorumSaslKey, QUORUM_SASL_KEYS, type QuorumSaslCfg } from "./quorum_sasl_config.ts";
import { defaultTlsCfg, parseTlsKey, TLS_KEYS, type TlsCfg } from "./tls_config.ts";

export interface ZooCfgServer {
  /** N of `server.N`. */
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: "participant" | "observer";
  /** From the optional `;[clientHost:]clientPort` suffix. */
  clientHost: string | null;
  clientPort: number | null;
}

export interface ZooCfg {
  /** null when absent (callers pick the default). */
  tickTimeMs: number | null;
  dataDir: string | null;
  /**
   * Only when zoo.cfg sets it; null means "wherever dataDir ends up" (ZooKeeper's default), which
   * is decided after `--data-dir`, so that flag moves the log too (see serve_command.ts).
   */
  dataLogDir: string | null;
  clientPort: number | null;
  clientPortAddress: string | null;
  maxClientCnxns: number;
  /** null: 2 × tickTime. */
  minSessionTimeoutMs: number | null;
  /** null: 20 × tickTime. */
  maxSessionTimeoutMs: number | null;
  fourLetterWhitelist: Set<string>;
  juteMaxBuffer: number;
  initLimit: number | null;
  syncLimit: number | null;
  /** `server.N` lines: two or more make an ensemble. */
  servers: ZooCfgServer[];
  /** `peerType`: this server's role; the server.N line's role wins if they disagree (as in ZooKeeper). */
  peerType: "participant" | "observer" | null;
  /** Bind the quorum port on all interfaces instead of this server's server.N host. */
  quorumListenOnAllIPs: boolean;
  autopurgeSnapRetainCount: number;
  autopurgePurgeIntervalHours: number;
  snapCount: number;
  /** snapSizeLimitInKb, in bytes (0 = no limit). */
  snapshotBytesMax: number;
  extendedTypesEnabled: boolean;
  /**
   * `readonlymode.enabled`: a member without a quorum serves reads to clients that allow read-only
   * (src/core/read_only_mode.ts). ZooKeeper takes it as a JVM system property; Corral from zoo.cfg.
   */
  readOnlyModeEnabled: boolean;
  /** `localSessionsEnabled` and `localSessionsUpgradingEnabled` (both default false, as ZooKeeper's). */
  localSessions: { enabled: boolean; upgrading: boolean };
  /** `reconfigEnabled` (default false, as ZooKeeper's): members accept the reconfig request. */
  reconfigEnabled: boolean;
  /**
   * `standaloneEnabled` (default true): one server.N line makes a standalone server. False makes it
   * an ensemble of one, which a reconfig can grow, and a reconfig must then keep one voter, not two.
   */
  standaloneEnabled: boolean;
  /** `dynamicConfigFile`: the server.N lines live there (dynamic_config.ts reads them); null: here. */
  dynamicConfigFile: string | null;
  /** The membership's version: a dynamic file's name suffix (set when it is read), else 0. */
  configVersion: number;
  /** `DigestAuthenticationProvider.superDigest`: "super:<base64 sha1>". */
  superDigest: string | null;
  /** `metricsProvider.*`: the Prometheus endpoint when className names ZooKeeper's Prometheus provider. */
  metricsProvider: MetricsProviderCfg;
  /** `admin.*`: ZooKeeper's AdminServer (off unless admin.enableServer=true; ZooKeeper's default is on). */
  admin: AdminCfg;
  /** `audit.enable`: the audit log (src/core/audit.ts), off by default as in ZooKeeper. */
  auditEnabled: boolean;
  /** `audit.logFile` (Corral's; ZooKeeper names the file in its logging setup): default dataDir/zookeeper_audit.log. */
  auditLogFile: string | null;
  /** SASL for clients (`java.security.auth.login.config`, `zookeeper.superUser`, ...). */
  sasl: SaslCfg;
  /** TLS toward clients (`secureClientPort`, `ssl.*`; tls_config.ts). */
  tls: TlsCfg;
  /** TLS between members (`sslQuorum`, `ssl.quorum.*`; quorum_tls_config.ts). */
  quorumTls: QuorumTlsCfg;
  /** SASL between members (`quorum.auth.*`; quorum_sasl_config.ts). */
  quorumSasl: QuorumSaslCfg;
  /** Keys Corral does not know, with their values. */
  unknown: Map<string, string>;
  /**
   * Every key in order of first appearance (server.N included): ZooKeeper's /zookeeper/config
   * lists members in an order that depends on it (src/core/quorum_config.ts).
   */
  keys: string[];
  /** Things worth telling the operator (unknown keys, ignored words, duplicates). */
  warnings: string[];
}

/** ZooKeeper's Prometheus provider class: the only metricsProvider.className that serves HTTP. */
export const PROMETHEUS_PROVIDER_CLASS = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/** ZooKeeper's default provider: metrics in mntr only. */
export const DEFAULT_PROVIDER_CLASS = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

export interface MetricsProviderCfg {
  /** True when className is the Prometheus provider. */
  prometheus: boolean;
  httpHost: string;
  httpPort: number;
  /** Accepted for compatibility; Corral always exports its process metrics. */
  exportJvmInfo: boolean;
}

export interface AdminCfg {
  enableServer: boolean;
  serverAddress: string;
  serverPort: number;
  commandUrl: string;
  /** ZooKeeper 3.9's zookeeper.admin.snapshot.enabled / restore.enabled. */
  snapshotEnabled: boolean;
  restoreEnabled: boolean;
  /** zookeeper.admin.rateLimiterIntervalInMS: minimum time between snapshots (and between restores). */
  rateLimiterIntervalMs: number;
  /** Largest restore body (Corral's bound). */
  restoreBytesMax: number;
}

/** A line or value zoo.cfg cannot have; `line` is 1-based. */
export class ZooCfgError extends Error {
  readonly line: number;
  constructor(source: string, line: number, message: string) {
    super(`${source} line ${line}: ${message}`);
    this.name = "ZooCfgError";
    this.line = line;
  }
}

export function defaultZooCfg(): ZooCfg {
  return {
    tickTimeMs: null,
    dataDir: null,
    dataLogDir: null,
    clientPort: null,
    clientPortAddress: null,
    maxClientCnxns: 60,
    minSessionTimeoutMs: null,
    maxSessionTimeoutMs: null,
    fourLetterWhitelist: new Set(["srvr"]),
    juteMaxBuffer: 0xfffff,
    initLimit: null,
    syncLimit: null,
    servers: [],
    peerType: null,
    quorumListenOnAllIPs: false,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeIntervalHours: 0,
    snapCount: 100_000,
    snapshotBytesMax: 4 * 1024 * 1024 * 1024,
    extendedTypesEnabled: false,
    readOnlyModeEnabled: false,
    localSessions: { enabled: false, upgrading: false },
    reconfigEnabled: false,
    standaloneEnabled: true,
    dynamicConfigFile: null,
    configVersion: 0,
    auditEnabled: false,
    auditLogFile: null,
    superDigest: null,
    metricsProvider: { prometheus: false, httpHost: "0.0.0.0", httpPort: 7000, exportJvmInfo: true },
    admin: {
      enableServer: false,
      serverAddress: "0.0.0.0",
      serverPort: 8080,
      commandUrl: "/commands",
      snapshotEnabled: true,
      restoreEnabled: true,
      rateLimiterIntervalMs: 300_000,
      restoreBytesMax: 256 * 1024 * 1024,
    },
    sasl: {
      jaasConfigPath: null,
      serverSection: "Server",
      superUser: null,
      superPassword: null,
      enforceAuthEnabled: false,
      enforceAuthSchemes: [],
      sessionRequireClientSaslAuth: false,
    },
    tls: defaultTlsCfg(),
    quorumTls: defaultQuorumTlsCfg(),
    quorumSasl: defaultQuorumSaslCfg(),
    unknown: new Map(),
    keys: [],
    warnings: [],
  };
}

/** The keys parseZooCfg reads (besides server.N), for "did you mean" on an unknown one. */
export const KNOWN_KEYS: readonly string[] = [
  "tickTime", "dataDir", "dataLogDir", "clientPort", "clientPortAddress", "maxClientCnxns", "minSessionTimeout",
  "maxSessionTimeout", "4lw.commands.whitelist", "jute.maxbuffer", "initLimit", "syncLimit", "peerType",
  "quorumListenOnAllIPs", "autopurge.snapRetainCount", "autopurge.purgeInterval", "snapSizeLimitInKb", "snapCount",
  "extendedTypesEnabled", "readonlymode.enabled", "localSessionsEnabled", "localSessionsUpgradingEnabled", "reconfigEnabled", "standaloneEnabled", "dynamicConfigFile", "DigestAuthenticationProvider.superDigest",
  "metricsProvider.className", "metricsProvider.httpHost", "metricsProvider.httpPort", "metricsProvider.exportJvmInfo",
  "admin.enableServer", "admin.serverAddress", "admin.serverPort", "admin.commandURL", "admin.snapshot.enabled",
  "admin.restore.enabled", "admin.rateLimiterIntervalInMS", "admin.restore.maxBytes", "audit.enable", "audit.logFile",
  "java.security.auth.login.config", "sasl.serverconfig", "superUser", "SASLAuthenticationProvider.superPassword",
  "enforce.auth.enabled", "enforce.auth.schemes", "sessionRequireClientSASLAuth",
  "authProvider.1", ...TLS_KEYS, ...QUORUM_TLS_KEYS, ...QUORUM_SASL_KEYS,
];

interface Entry {
  key: string;
  value: string;
  line: number;
}

/** Parses zoo.cfg text. Throws ZooCfgError naming `source` and the line for anything malformed. */
export function parseZooCfg(text: string, options: { source?: string } = {}): ZooCfg {
  const source = options.source ?? "zoo.cfg";
  const cfg = defaultZooCfg();
  const seen = new Map<string, number>();
  for (const entry of propertyEntries(text)) {
    const fail = (message: string): never => {
      throw new ZooCfgError(source, entry.line, message);
    };
    const previous = seen.get(entry.key);
    if (previous !== undefined) cfg.warnings.push(`${source} line ${entry.line}: ${entry.key} repeats line ${previous}; the later value wins`);
    seen.set(entry.key, entry.line);
    if (entry.key.startsWith("server.")) {
      const server = parseServerLine(entry, fail);
      cfg.servers = cfg.servers.filter((known) => known.id !== server.id);
      cfg.servers.push(server);
      continue;
    }
    const v = entry.value;
    switch (entry.key) {
      case "tickTime":
        cfg.tickTimeMs = integer(v, { min: 1 }, `tickTime (ms)`, fail);
        break;
      case "dataDir":
        cfg.dataDir = nonEmpty(v, "dataDir", fail);
        break;
      case "dataLogDir":
        cfg.dataLogDir = nonEmpty(v, "dataLogDir", fail);
        break;
      case "clientPort":
        cfg.clientPort = integer(v, { min: 0, max: 65535 }, "clientPort", fail);
        break;
      case "clientPortAddress":
        cfg.clientPortAddress = nonEmpty(v, "clientPortAddress", fail);
        break;
      case "maxClientCnxns":
        cfg.maxClientCnxns = integer(v, { min: 0 }, "maxClientCnxns (0 = unlimited)", fail);
        break;
      case "minSessionTimeout":
        cfg.minSessionTimeoutMs = optionalTimeout(v, "minSessionTimeout", fail);
        break;
      case "maxSessionTimeout":
        cfg.maxSessionTimeoutMs = optionalTimeout(v, "maxSessionTimeout", fail);
        break;
      case "4lw.commands.whitelist":
      case "zookeeper.4lw.commands.whitelist":
        cfg.fourLetterWhitelist = parseWhitelist(v, (warning) => cfg.warnings.push(`${source} line ${entry.line}: ${warning}`));
        break;
      case "jute.maxbuffer":
      case "zookeeper.jute.maxbuffer":
        cfg.juteMaxBuffer = integer(v, { min: 1024, max: 0x7fffffff }, "jute.maxbuffer (bytes)", fail);
        break;
      case "initLimit":
        cfg.initLimit = integer(v, { min: 1 }, "initLimit (ticks)", fail);
        break;
      case "syncLimit":
        cfg.syncLimit = integer(v, { min: 1 }, "syncLimit (ticks)", fail);
        break;
      case "peerType":
        if (v !== "participant" && v !== "observer") fail(`peerType must be participant or observer, got ${JSON.stringify(v)}`);
        cfg.peerType = v as "participant" | "observer";
        break;
      case "quorumListenOnAllIPs":
        cfg.quorumListenOnAllIPs = boolean(v, entry.key, fail);
        break;
      case "autopurge.snapRetainCount":
        cfg.autopurgeSnapRetainCount = Math.max(3, integer(v, { min: 0 }, "autopurge.snapRetainCount", fail));
        break;
      case "autopurge.purgeInterval":
        cfg.autopurgePurgeIntervalHours = integer(v, { min: 0 }, "autopurge.purgeInterval (hours)", fail);
        break;
      case "snapSizeLimitInKb":
      case "zookeeper.snapSizeLimitInKb": {
        const kib = integer(v, { min: -1 }, "snapSizeLimitInKb", fail);
        cfg.snapshotBytesMax = kib <= 0 ? 0 : kib * 1024;
        break;
      }
      case "snapCount":
      case "zookeeper.snapCount":
        cfg.snapCount = integer(v, { min: 2 }, "snapCount", fail);
        break;
      case "extendedTypesEnabled":
      case "zookeeper.extendedTypesEnabled":
        cfg.extendedTypesEnabled = boolean(v, entry.key, fail);
        break;
      case "readonlymode.enabled":
        cfg.readOnlyModeEnabled = boolean(v, entry.key, fail);
        break;
      case "localSessionsEnabled":
        cfg.localSessions.enabled = boolean(v, entry.key, fail);
        break;
      case "localSessionsUpgradingEnabled":
        cfg.localSessions.upgrading = boolean(v, entry.key, fail);
        break;
      case "reconfigEnabled":
        cfg.reconfigEnabled = boolean(v, entry.key, fail);
        break;
      case "standaloneEnabled":
        cfg.standaloneEnabled = boolean(v, entry.key, fail);
        break;
      case "dynamicConfigFile":
        if (v === "") fail("dynamicConfigFile is empty: name the file with the server.N lines, or remove the key");
        cfg.dynamicConfigFile = v;
        break;
      case "DigestAuthenticationProvider.superDigest":
      case "zookeeper.DigestAuthenticationProvider.superDigest":
        if (!/^super:[A-Za-z0-9+/=]+$/.test(v)) fail(`${entry.key} must look like super:<base64 sha1>, got ${JSON.stringify(v)}`);
        cfg.superDigest = v;
        break;
      default: {
        if (parseOperationsKey(cfg, entry, source, fail)) break;
        if (parseSaslKey(cfg, entry, source, fail)) break;
        if (parseQuorumTlsKey(cfg.quorumTls, entry.key, v, fail)) break;
        if (parseQuorumSaslKey(cfg.quorumSasl, entry.key, v, fail)) break;
        if (parseTlsKey(cfg.tls, entry.key, v, fail, (warning) => cfg.warnings.push(`${source} line ${entry.line}: ${warning}`))) break;
        cfg.unknown.set(entry.key, v);
        const near = closestName(entry.key, KNOWN_KEYS);
        const guess = near === null ? "" : `; did you mean ${near}?`;
        cfg.warnings.push(`${source} line ${entry.line}: unknown key ${entry.key} (kept, not used by corral)${guess}`);
      }
    }
  }
  const tick = cfg.tickTimeMs ?? 2000;
  const min = cfg.minSessionTimeoutMs ?? 2 * tick;
  const max = cfg.maxSessionTimeoutMs ?? 20 * tick;
  if (min > max) {
    throw new ZooCfgError(source, seen.get("minSessionTimeout") ?? seen.get("maxSessionTimeout") ?? 0,
      `minSessionTimeout (${min} ms) must not be larger than maxSessionTimeout (${max} ms)`);
  }
  cfg.keys = [...seen.keys()];
  return cfg;
}

/**
 * The metricsProvider.* and admin.* keys (with or without ZooKeeper's `zookeeper.` system-property
 * prefix); false for any other key.
 */
function parseOperationsKey(cfg: ZooCfg, entry: Entry, source: string, fail: (message: string) => never): boolean {
  const key = entry.key.startsWith("zookeeper.") ? entry.key.slice("zookeeper.".length) : entry.key;
  const v = entry.value;
  const metrics = cfg.metricsProvider;
  const admin = cfg.admin;
  switch (key) {
    case "metricsProvider.className":
      // ZooKeeper would fail to load another class; Corral serves on without an endpoint and says so.
      if (v !== PROMETHEUS_PROVIDER_CLASS && v !== DEFAULT_PROVIDER_CLASS) {
        cfg.warnings.push(`${source} line ${entry.line}: metricsProvider.className ${v} is not a provider corral has (it has ${PROMETHEUS_PROVIDER_CLASS}); no metrics endpoint`);
      }
      metrics.prometheus = v === PROMETHEUS_PROVIDER_CLASS;
      return true;
    case "metricsProvider.httpHost":
      metrics.httpHost = nonEmpty(v, key, fail);
      return true;
    case "metricsProvider.httpPort":
      metrics.httpPort = integer(v, { min: 0, max: 65535 }, key, fail);
      return true;
    case "metricsProvider.exportJvmInfo":
      metrics.exportJvmInfo = boolean(v, key, fail);
      return true;
    case "admin.enableServer":
      admin.enableServer = boolean(v, key, fail);
      return true;
    case "admin.serverAddress":
      admin.serverAddress = nonEmpty(v, key, fail);
      return true;
    case "admin.serverPort":
      admin.serverPort = integer(v, { min: 0, max: 65535 }, key, fail);
      return true;
    case "admin.commandURL":
      if (!v.startsWith("/") || v.length > 200) fail(`admin.commandURL must be a path starting with /, got ${JSON.stringify(v)}`);
      admin.commandUrl = v;
      return true;
    case "admin.snapshot.enabled":
      admin.snapshotEnabled = boolean(v, key, fail);
      return true;
    case "admin.restore.enabled":
      admin.restoreEnabled = boolean(v, key, fail);
      return true;
    case "admin.rateLimiterIntervalInMS":
      admin.rateLimiterIntervalMs = integer(v, { min: 0 }, `${key} (ms)`, fail);
      return true;
    case "admin.restore.maxBytes":
      admin.restoreBytesMax = integer(v, { min: 1 }, `${key} (bytes)`, fail);
      return true;
    case "audit.enable":
      cfg.auditEnabled = boolean(v, key, fail);
      return true;
    case "audit.logFile":
      cfg.auditLogFile = nonEmpty(v, key, fail);
      return true;
    default:
      return false;
  }
}

/** Java-properties lines as key/value entries with the line each one starts on. */
function propertyEntries(text: string): Entry[] {
  const lines = text.split(/\r\n|\n|\r/);
  const entries: Entry[] = [];
  for (let index = 0; index < lines.length; index++) {
    const startLine = index + 1;
    let logical = lines[index]!.replace(/^[ \t\f]+/, "");
    if (logical === "" || logical.startsWith("#") || logical.startsWith("!")) continue;
    // An odd number of trailing backslashes continues the line (bounded by the file's length).
    while (trailingBackslashes(logical) % 2 === 1 && index + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++index]!.replace(/^[ \t\f]+/, "");
    }
    if (trailingBackslashes(logical) % 2 === 1) logical = logical.slice(0, -1);
    const match = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(logical);
    if (match === null) continue;
    entries.push({ key: match[1]!, value: match[2]!.trim(), line: startLine });
  }
  return entries;
}

function trailingBackslashes(text: string): number {
  let count = 0;
  while (count < text.length && text[text.length - 1 - count] === "\\") count++;
  return count;
}

function integer(value: string, range: { min?: number; max?: number }, what: string, fail: (message: string) => never): number {
  const parsed = /^[+-]?\d+$/.test(value) ? Number(value) : /^0x[0-9a-f]+$/i.test(value) ? Number.parseInt(value.slice(2), 16) : NaN;
  const bounds = `${range.min ?? "-∞"}..${range.max ?? "∞"}`;
  if (!Number.isSafeInteger(parsed)) fail(`${what} must be an integer in ${bounds}, got ${JSON.stringify(value)}`);
  if ((range.min !== undefined && parsed < range.min) || (range.max !== undefined && parsed > range.max)) {
    fail(`${what} must be in ${bounds}, got ${parsed}`);
  }
  return parsed;
}

/** -1 (ZooKeeper's "use the default") → null. */
function optionalTimeout(value: string, what: string, fail: (message: string) => never): number | null {
  const parsed = integer(value, { min: -1 }, `${what} (ms, -1 = default)`, fail);
  return parsed === -1 ? null : parsed;
}

function boolean(value: string, what: string, fail: (message: string) => never): boolean {
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  return fail(`${what} must be true or false, got ${JSON.stringify(value)}`);
}

function nonEmpty(value: string, what: string, fail: (message: string) => never): string {
  if (value === "") fail(`${what} is empty`);
  return value;
}

function parseWhitelist(value: string, warn: (message: string) => void): Set<string> {
  const words = new Set<string>();
  const known = new Set<string>(FOUR_LETTER_WORDS);
  for (const raw of value.split(",")) {
    const word = raw.trim();
    if (word === "") continue;
    if (word === "*" || known.has(word)) words.add(word);
    else warn(`4lw.commands.whitelist: unknown four-letter word ${JSON.stringify(word)} ignored`);
  }
  return words;
}

/** `server.N=host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]` (member_spec.ts). */
function parseServerLine(entry: Entry, fail: (message: string) => never): ZooCfgServer {
  try {
    const member = parseMemberSpec(entry.key.slice("server.".length), entry.value);
    // clientHost stays null for `;port` alone: the listener then takes clientPortAddress or 0.0.0.0.
    const clientHost = member.client !== null && entry.value.split(";")[1]!.includes(":") ? member.client.host : null;
    const { id, host, quorumPort, electionPort, role } = member;
    return { id, host, quorumPort, electionPort, role, clientHost, clientPort: member.client?.port ?? null };
  } catch (error) {
    if (error instanceof MemberSpecError) fail(error.message);
    throw error;
  }
}

/** zoo.cfg's SASL settings (ZooKeeper reads them as Java system properties; both spellings work here). */
export interface SaslCfg {
  /** `java.security.auth.login.config`: the JAAS file with the `Server` section's users; null: SASL off. */
  jaasConfigPath: string | null;
  /** `zookeeper.sasl.serverconfig`: the JAAS section to read (default "Server"). */
  serverSection: string;
  /** `zookeeper.superUser`: the SASL user who also gets the super identity. */
  superUser: string | null;
  /** `zookeeper.SASLAuthenticationProvider.superPassword`: the password of SASL user "super". */
  superPassword: string | null;
  /** `enforce.auth.enabled` (ZooKeeper 3.8): requests need an identity of an `enforceAuthSchemes` scheme. */
  enforceAuthEnabled: boolean;
  /** `enforce.auth.schemes`, comma-separated. */
  enforceAuthSchemes: string[];
  /** `sessionRequireClientSASLAuth=true`, ZooKeeper's older switch: enforce the sasl scheme (wins over the two above). */
  sessionRequireClientSaslAuth: boolean;
}

/** The class ZooKeeper's `authProvider.N` names for the sasl scheme. */
const SASL_PROVIDER_CLASS = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
/** The class for the x509 scheme (ZooKeeper's unified clientPort needs it named; corral has it built in). */
const X509_PROVIDER_CLASS = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

/** The SASL keys, with or without the `zookeeper.` prefix; false for any other key. */
function parseSaslKey(cfg: ZooCfg, entry: Entry, source: string, fail: (message: string) => never): boolean {
  const v = entry.value;
  if (entry.key === "java.security.auth.login.config") {
    cfg.sasl.jaasConfigPath = nonEmpty(v, entry.key, fail);
    return true;
  }
  const key = entry.key.startsWith("zookeeper.") ? entry.key.slice("zookeeper.".length) : entry.key;
  if (key === "sasl.serverconfig") {
    cfg.sasl.serverSection = nonEmpty(v, entry.key, fail);
    return true;
  }
  if (key === "superUser") {
    cfg.sasl.superUser = nonEmpty(v, entry.key, fail);
    return true;
  }
  if (key === "SASLAuthenticationProvider.superPassword") {
    cfg.sasl.superPassword = v;
    return true;
  }
  if (key === "enforce.auth.enabled") {
    cfg.sasl.enforceAuthEnabled = boolean(v, entry.key, fail);
    return true;
  }
  if (key === "enforce.auth.schemes") {
    cfg.sasl.enforceAuthSchemes = v.split(",").map((scheme) => scheme.trim()).filter((scheme) => scheme !== "");
    return true;
  }
  if (key === "sessionRequireClientSASLAuth") {
    cfg.sasl.sessionRequireClientSaslAuth = boolean(v, entry.key, fail);
    return true;
  }
  if (/^authProvider\.[^.]+$/.test(key)) {
    // The sasl scheme is on whenever a JAAS file gives users, x509 whenever clients show
    // certificates; other provider classes cannot be loaded.
    if (v !== SASL_PROVIDER_CLASS && v !== X509_PROVIDER_CLASS) {
      cfg.warnings.push(`${source} line ${entry.line}: ${entry.key}=${v} is not a provider corral has (it has ${SASL_PROVIDER_CLASS} and ${X509_PROVIDER_CLASS}); ignored`);
    }
    return true;
  }
  return false;
}
