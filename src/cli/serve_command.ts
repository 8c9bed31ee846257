/**
 * `corral serve`: a standalone server, or one member of an ensemble (zoo.cfg with two or more
 * server.N lines and dataDir/myid), from a zoo.cfg and/or flags, until SIGINT or SIGTERM.
 */
import { userInfo } from "node:os";
import { join as joinPath, resolve as resolvePath } from "node:path";
import type { QuorumConfig } from "../core/quorum_config.ts";
import type { SaslConfig } from "../core/sasl_exchange.ts";
import { defaultServerConfig, type ServerConfig } from "../core/server_io.ts";
import type { AdminBackup } from "../driver/admin/admin_server.ts";
import type { AdminEnsembleView } from "../driver/admin/admin_commands.ts";
import { ensembleView, replicaBackup, standaloneBackup } from "../driver/admin/backup_targets.ts";
import { type Operations, startOperations } from "../driver/admin/operations.ts";
import { AuditLogFile } from "../driver/audit_log.ts";
import { lockDataDirs } from "../driver/dir_lock.ts";
import { serveDurable } from "../driver/durable_server.ts";
import { consoleLogger, type Logger } from "../driver/logger.ts";
import { ServerMetrics } from "../driver/metrics/server_metrics.ts";
import type { OutputLimits } from "../driver/output_budget.ts";
import { RateLimitedLog } from "../driver/peer_handshake.ts";
import { serveReplica } from "../driver/replica_driver.ts";
import type { QuorumSaslOptions } from "../driver/peer_sasl.ts";
import { parseJaasConfig, saslConfigFromJaas } from "../driver/sasl/jaas_config.ts";
import { serve } from "../driver/server_driver.ts";
import { storageSizes } from "../driver/storage_sizes.ts";
import { NodeFileSystem } from "../storage/node_file_system.ts";
import { defaultTransport } from "../transport/auto.ts";
import { nodeTlsTransport, tlsServerSupport, type TlsTransport } from "../transport/node_tls.ts";
import type { Transport } from "../transport/transport.ts";
import type { ServeArgs } from "./args.ts";
import { watchCertFiles } from "./cert_reload.ts";
import { withDynamicConfig, writeDynamicConfig } from "./dynamic_config.ts";
import { EnsemblePlanError, type EnsemblePlan, MYID_FILE, planEnsemble } from "./ensemble_plan.ts";
import { loadQuorumTls, type QuorumTlsCfg } from "./quorum_tls_config.ts";
import { type QuorumSaslCfg, quorumSaslConflict, quorumSaslFromJaas } from "./quorum_sasl_config.ts";
import type { CliRuntime } from "./runtime.ts";
import { loadTlsServerOptions, type TlsCfg } from "./tls_config.ts";
import { parseZooCfg, type SaslCfg, type ZooCfg } from "./zoo_cfg.ts";

/** Default tickTime without a zoo.cfg (the sample zoo.cfg's value). */
const DEFAULT_TICK_TIME_MS = 2000;
/** How long shutdown may take before we exit anyway. */
const SHUTDOWN_DEADLINE_MS = 5000;

/** Everything serve needs, merged from zoo.cfg and flags (flags win). */
export interface ServePlan {
  /**
   * With reconfigEnabled, zoo.cfg (absolute path and text): each membership in force is written to
   * a dynamic file it then names (dynamic_config.ts). Null otherwise.
   */
  configFile?: { path: string; text: string } | null;
  host: string;
  port: number;
  config: ServerConfig;
  /** Where the audit log goes (`audit.enable`), or null when it is off. */
  auditLogFile: string | null;
  maxClientCnxns: number;
  maxFrameBytes: number;
  /** Output and auth bounds given as flags (unset ones keep the driver's defaults). */
  outputLimits: OutputLimits;
  fourLetterWhitelist: Set<string>;
  dataDir: string | null;
  dataLogDir: string | null;
  snapRetainCount: number;
  truncateCorruptLog: boolean;
  /** Null: standalone. */
  ensemble: EnsemblePlan | null;
  /** The Prometheus endpoint (metricsProvider.*) and the AdminServer (admin.*); null: off. */
  prometheus: { host: string; port: number } | null;
  admin: ZooCfg["admin"] | null;
  /** secureClientPort's TLS listener; `only`: no plaintext clientPort (port is then the TLS one). */
  secure: { host: string; port: number; tls: TlsCfg; only: boolean } | null;
  /** client.portUnification: clientPort takes TLS connections too, with these ssl.* settings. */
  unified: TlsCfg | null;
  /** sslQuorum and/or portUnification: TLS between this member and the others; null: plaintext (or standalone). */
  quorumTls: QuorumTlsCfg | null;
  /** quorum.auth.enableSasl: SASL between members (the JAAS file is read by runServe); null: off (or standalone). */
  quorumSasl: QuorumSaslCfg | null;
  /** The credentials from the JAAS file, once runServe read it. */
  quorumSaslOptions?: QuorumSaslOptions;
  /** zoo.cfg's server.N lines (client addresses for voting_view). */
  servers: ZooCfg["servers"];
  warnings: string[];
}

/** Thrown for settings that cannot be served; the message is for the operator. */
export class ServePlanError extends Error {}

/**
 * Merges zoo.cfg and flags. With two or more server.N lines the plan is an ensemble member's, and
 * `myIdText` is the content of dataDir/myid (null: missing).
 */
export function planServe(args: ServeArgs, cfg: ZooCfg | null, nowMs: number, myIdText: string | null = null): ServePlan {
  const warnings = [...(cfg?.warnings ?? [])];
  const servers = cfg?.servers ?? [];
  const dataDir = args.dataDir ?? cfg?.dataDir ?? null;
  let ensemble: EnsemblePlan | null = null;
  // One server.N line is a standalone server unless standaloneEnabled=false (then an ensemble of one).
  if (cfg !== null && (servers.length > 1 || (servers.length === 1 && !cfg.standaloneEnabled))) {
    try {
      ensemble = planEnsemble(cfg, args.configPath ?? "zoo.cfg", dataDir, myIdText, warnings);
    } catch (error) {
      if (error instanceof EnsemblePlanError) throw new ServePlanError(error.message);
      throw error;
    }
  }
  const me = ensemble === null ? servers[0] : servers.find((server) => server.id === ensemble.myId);
  const securePort = cfg?.tls.secureClientPort ?? null;
  const port = args.port ?? cfg?.clientPort ?? me?.clientPort ?? securePort;
  if (port === null) throw new ServePlanError(`${args.configPath} sets no clientPort; add clientPort=2181 or pass --port <n>`);
  const host = args.host ?? cfg?.clientPortAddress ?? me?.clientHost ?? "0.0.0.0";
  const secure = cfg === null || securePort === null ? null : {
    host: cfg.tls.secureClientPortAddress ?? host,
    port: securePort,
    tls: cfg.tls,
    only: port === securePort && args.port === null && cfg.clientPort === null && me?.clientPort == null,
  };
  const tickTimeMs = args.tickTimeMs ?? cfg?.tickTimeMs ?? DEFAULT_TICK_TIME_MS;
  const config = defaultServerConfig({
    tickTimeMs,
    minSessionTimeoutMs: cfg?.minSessionTimeoutMs ?? 2 * tickTimeMs,
    maxSessionTimeoutMs: cfg?.maxSessionTimeoutMs ?? 20 * tickTimeMs,
    sessionIdSeedMs: nowMs,
    extendedTypesEnabled: cfg?.extendedTypesEnabled ?? false,
    snapshotTxnCount: cfg?.snapCount ?? 100_000,
    snapshotBytesMax: cfg?.snapshotBytesMax ?? 4 * 1024 * 1024 * 1024,
    superDigest: cfg?.superDigest ?? null,
    // Members only: ZooKeeper's standalone server has no local sessions either.
    ...(cfg?.localSessions.enabled === true && ensemble !== null ? { localSessions: { upgrading: cfg.localSessions.upgrading } } : {}),
    ...(cfg?.reconfigEnabled === true && ensemble !== null ? { reconfigEnabled: true, standaloneEnabled: cfg.standaloneEnabled } : {}),
    ...(args.authIdentitiesMax === null ? {} : { authIdentitiesMax: args.authIdentitiesMax }),
  });
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) {
    throw new ServePlanError(`minSessionTimeout (${config.minSessionTimeoutMs} ms) is larger than maxSessionTimeout (${config.maxSessionTimeoutMs} ms)`);
  }
  if (dataDir === null) warnings.push("no dataDir: the data lives in memory and is lost when corral exits");
  const auditLogFile = cfg?.auditEnabled === true ? cfg.auditLogFile ?? (dataDir === null ? null : joinPath(cfg.dataLogDir ?? dataDir, "zookeeper_audit.log")) : null;
  if (cfg?.auditEnabled === true && auditLogFile === null) {
    throw new ServePlanError("audit.enable=true needs a place for the audit log: set audit.logFile (or dataDir, where zookeeper_audit.log then goes)");
  }
  if (auditLogFile !== null) config.audit = true;
  const unified = cfg?.tls.portUnification === true && secure?.only !== true ? cfg.tls : null;
  if (cfg?.tls.portUnification === true && secure?.only === true) {
    warnings.push("client.portUnification ignored: there is no plaintext clientPort to take TLS on (only secureClientPort)");
  }
  const quorumTlsSet = cfg?.quorumTls.enabled === true || cfg?.quorumTls.portUnification === true;
  const quorumTls = quorumTlsSet && ensemble !== null ? cfg!.quorumTls : null;
  if (quorumTlsSet && ensemble === null) warnings.push("sslQuorum and portUnification ignored: a standalone server has no quorum port");
  const saslConflict = cfg === null ? null : quorumSaslConflict(cfg.quorumSasl);
  if (saslConflict !== null) throw new ServePlanError(saslConflict);
  const quorumSasl = cfg?.quorumSasl.enabled === true && ensemble !== null ? cfg.quorumSasl : null;
  if (cfg?.quorumSasl.enabled === true && ensemble === null) warnings.push("quorum.auth.enableSasl ignored: a standalone server has no quorum port");
  // Clients present certificates over TLS: the x509 scheme names them (ZooKeeper's default ssl.authProvider).
  const clientTls = secure?.tls ?? unified;
  if (clientTls != null && clientTls.clientAuth !== "none") {
    config.x509 = true;
    if (clientTls.x509SuperUser !== null) config.x509SuperUser = clientTls.x509SuperUser;
  }
  return {
    host: secure?.only === true ? secure.host : host,
    port,
    config,
    auditLogFile,
    maxClientCnxns: args.maxClientCnxns ?? cfg?.maxClientCnxns ?? 60,
    maxFrameBytes: cfg?.juteMaxBuffer ?? 0xfffff,
    outputLimits: {
      ...(args.outputBytesMaxPerConnection === null ? {} : { outputBytesMaxPerConnection: args.outputBytesMaxPerConnection }),
      ...(args.outputBufferBytesMax === null ? {} : { outputBufferBytesMax: args.outputBufferBytesMax }),
      ...(args.outputBytesMaxTotal === null ? {} : { outputBytesMaxTotal: args.outputBytesMaxTotal }),
    },
    fourLetterWhitelist: fourLetterWhitelist(args.fourLetterWhitelist ?? cfg?.fourLetterWhitelist ?? new Set(["srvr"]), cfg),
    dataDir,
    // Only an explicit dataLogDir separates the log; otherwise it lives in dataDir, wherever
    // --data-dir put it (several members sharing one zoo.cfg must not share its dataDir's log).
    dataLogDir: cfg?.dataLogDir ?? null,
    snapRetainCount: cfg?.autopurgeSnapRetainCount ?? 3,
    truncateCorruptLog: args.truncateCorruptLog,
    ensemble,
    prometheus: cfg?.metricsProvider.prometheus === true ? { host: cfg.metricsProvider.httpHost, port: cfg.metricsProvider.httpPort } : null,
    admin: cfg?.admin.enableServer === true ? cfg.admin : null,
    secure,
    unified,
    quorumTls,
    quorumSasl,
    servers,
    warnings,
  };
}

/** Runs the server until a shutdown signal; returns the process exit code. */
export async function runServe(args: ServeArgs, runtime: CliRuntime): Promise<number> {
  let plan: ServePlan;
  let cfg: ZooCfg | null = null;
  let configText = "";
  try {
    configText = args.configPath === null ? "" : await readConfig(args.configPath, runtime);
    cfg = args.configPath === null ? null : parseZooCfg(configText, { source: args.configPath });
    if (cfg !== null) cfg = await withDynamicConfig(cfg, args.configPath!, (path) => runtime.readTextFile(path));
    const dataDir = args.dataDir ?? cfg?.dataDir ?? null;
    const member = cfg !== null && (cfg.servers.length > 1 || (cfg.servers.length === 1 && !cfg.standaloneEnabled));
    const myIdText = member && dataDir !== null ? await readMyId(dataDir, runtime) : null;
    plan = planServe(args, cfg, Date.now(), myIdText);
    if (cfg?.reconfigEnabled === true && plan.ensemble !== null) plan.configFile = { path: resolvePath(args.configPath!), text: configText };
    const jaas = await readJaas(args, cfg, runtime);
    const sasl = loadSasl(jaas, cfg, plan.quorumSasl !== null);
    if (sasl !== null) plan.config = { ...plan.config, sasl };
    if (plan.quorumSasl !== null) {
      if (jaas === null) {
        throw new ServePlanError("quorum.auth.enableSasl=true needs a JAAS file with QuorumServer and QuorumLearner sections: set java.security.auth.login.config (or --jaas-config)");
      }
      plan.quorumSaslOptions = quorumSaslFromJaas(plan.quorumSasl, jaas.text, jaas.path);
    }
    const saslOffBecause = jaas === null ? undefined : `the JAAS file ${jaas.path} has no '${cfg?.sasl.serverSection ?? "Server"}' section with client users`;
    const enforced = cfg === null ? [] : enforcedAuthSchemes(cfg.sasl, sasl !== null, saslOffBecause);
    if (enforced.length > 0) plan.config = { ...plan.config, enforceAuthSchemes: enforced };
  } catch (error) {
    // zoo.cfg's warnings first: an unknown key is often why a setting is missing ("did you mean clientPort?").
    for (const warning of cfg?.warnings ?? []) console.error(`corral: warning: ${warning}`);
    console.error(`corral: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  for (const warning of plan.warnings) console.error(`corral: warning: ${warning}`);
  let running: RunningServer;
  try {
    const audit = plan.auditLogFile === null ? null : new AuditLogFile(new NodeFileSystem(), plan.auditLogFile, consoleLogger(args.logLevel));
    running = await withOperations(plan, configText, withAudit(audit, await startPlanned(plan, args, runtime, audit)));
  } catch (error) {
    console.error(`corral: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const code = await serveUntilStopped(running, plan, runtime);
  // The last line, so whoever watches the output knows the process is done and how.
  console.error(`corral: stopped (exit code ${code})`);
  return code;
}

interface RunningServer {
  port: number;
  /** The TLS listener's port beside `port`, when the handle knows it. */
  securePort?: number | null;
  role: string;
  /** What the operator endpoints read and act on. */
  metrics: ServerMetrics;
  backup: AdminBackup;
  ensemble?: () => AdminEnsembleView | null;
  close(): Promise<void>;
  /** Settles when the server stops on its own (an ensemble member whose storage failed). */
  stopped?: Promise<Error | null>;
}

/** What the directory lock says to the next process on the same directories. */
const DIR_LOCK = {
  program: "corral serve",
  advice: { dataDir: "choose another --data-dir", dataLogDir: "choose another dataLogDir" },
} as const;

/** Starts the standalone server or ensemble member `plan` describes. */
async function startPlanned(plan: ServePlan, args: ServeArgs, runtime: CliRuntime, audit: AuditLogFile | null): Promise<RunningServer> {
  const logger = consoleLogger(args.logLevel);
  const clientTls = await planClientTls(plan, logger);
  const peerTls = await planQuorumTransport(plan, logger);
  const tlsCfg = plan.secure?.tls ?? plan.unified;
  const stopWatching = tlsCfg?.certReload === true
    ? [clientTls.secure, clientTls.unified].flatMap((transport) => transport === null ? [] : [watchCertFiles(tlsCfg, transport, logger)])
    : [];
  if (peerTls !== null && plan.quorumTls?.reloadCertFiles === true) stopWatching.push(watchCertFiles(plan.quorumTls.stores, peerTls.tls, logger));
  const started = await startServing(plan, args, runtime, audit, logger, clientTls, peerTls);
  if (stopWatching.length === 0) return started;
  return {
    ...started,
    close: async () => {
      for (const stop of stopWatching) stop();
      await started.close();
    },
  };
}

async function startServing(
  plan: ServePlan,
  args: ServeArgs,
  runtime: CliRuntime,
  audit: AuditLogFile | null,
  logger: ReturnType<typeof consoleLogger>,
  clientTls: ClientTls,
  peerTls: PeerTls | null,
): Promise<RunningServer> {
  const secureTransport = clientTls.secure;
  const plaintext = await defaultTransport();
  const transport = clientTls.unified ?? plaintext;
  const dataDirs = plan.dataDir === null ? {} : {
    dataDir: plan.dataDir,
    ...(plan.dataLogDir === null ? {} : { dataLogDir: plan.dataLogDir }),
  };
  const metrics = new ServerMetrics();
  const options = {
    transport: plan.secure?.only === true && secureTransport !== null ? secureTransport : transport,
    ...(plan.secure === null || plan.secure.only || secureTransport === null ? {} : {
      secureListen: { transport: secureTransport, host: plan.secure.host, port: plan.secure.port },
    }),
    metrics,
    host: plan.host,
    port: plan.port,
    config: plan.config,
    maxClientCnxns: plan.maxClientCnxns,
    maxFrameBytes: plan.maxFrameBytes,
    ...plan.outputLimits,
    fourLetterWhitelist: plan.fourLetterWhitelist,
    logger,
    ...(audit === null ? {} : { audit }),
    ...dataDirs,
  };
  if (plan.dataDir === null) {
    const handle = await serve(options);
    return { ...handle, role: "standalone", metrics, backup: standaloneBackup(handle.server, { durable: false }) };
  }
  const store = {
    fs: new NodeFileSystem(),
    dataDir: plan.dataDir,
    ...dataDirs,
    snapRetainCount: plan.snapRetainCount,
    truncateCorruptLog: plan.truncateCorruptLog,
  };
  const storageSizesOption = { storageSizes: () => storageSizes(store.dataDir, plan.dataLogDir ?? undefined) };
  const ensemble = plan.ensemble;
  if (ensemble === null) {
    const handle = await serveDurable({ ...options, ...store, ...storageSizesOption, dirLock: DIR_LOCK });
    return { ...handle, role: "standalone", metrics, backup: standaloneBackup(handle.server, { durable: true }) };
  }
  // Before the store opens anything: members sharing a directory would write one log.
  const lock = await lockDataDirs(store.dataDir, plan.dataLogDir ?? undefined, DIR_LOCK);
  try {
    const handle = await serveReplica({
      ...options,
      ...ensemble,
      store,
      ...storageSizesOption,
      // Never the clients' transport: members speak TLS to each other only by ssl.quorum.* settings.
      peerTransport: peerTls?.transport(plaintext) ?? plaintext,
      peers: { ...peerTls?.peers, ...(plan.quorumSaslOptions === undefined ? {} : { sasl: plan.quorumSaslOptions }) },
      ...(plan.configFile == null ? {} : { onCommittedConfig: dynamicConfigWriter(plan.configFile, ensemble.myId, ensemble.quorumConfig.version, store.fs, consoleLogger(args.logLevel)) }),
    });
    void handle.stopped.then(() => lock.release());
    const planned = ensemble.members.map((member) => {
      const server = plan.servers.find((known) => known.id === member.id);
      return { ...member, clientHost: server?.clientHost ?? null, clientPort: server?.clientPort ?? null };
    });
    // zoo.cfg's members until a reconfig puts another membership in force.
    const members = () => {
      const config = handle.replica.configuration.committed.config;
      if (config.version === ensemble.quorumConfig.version || config.members.length === 0) return planned;
      return config.members.map((member) => ({
        id: member.id,
        host: member.host,
        quorumPort: member.quorumPort,
        observer: member.role === "observer",
        clientHost: member.client?.host ?? null,
        clientPort: member.client?.port ?? null,
      }));
    };
    metrics.setEnsemble(() => ({ quorumSize: members().filter((member) => member.observer !== true).length }));
    return {
      port: handle.port,
      metrics,
      backup: replicaBackup(handle.replica),
      ensemble: () => ensembleView(handle.status(), members()),
      role: `${ensemble.observer ? "observer" : "member"} ${ensemble.myId} of an ensemble of ${ensemble.members.length}, ` +
        `quorum port ${ensemble.quorumListen.port}`,
      stopped: handle.stopped,
      close: async () => {
        await handle.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * The audit log's serverStart now and serverStop ("invoked": logged before the stop completes) when
 * `running` closes, as ZooKeeper's; the file is closed after the server.
 */
function withAudit(audit: AuditLogFile | null, running: RunningServer): RunningServer {
  if (audit === null) return running;
  const user = serverUser();
  audit.record({ user, operation: "serverStart", result: "success" });
  return {
    ...running,
    close: async () => {
      audit.record({ user, operation: "serverStop", result: "invoked" });
      await running.close();
      await audit.close();
    },
  };
}

/** Who the server runs as, for its own audit events (ZooKeeper: its login user). */
function serverUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "corral";
  }
}

/** Starts the Prometheus endpoint and the AdminServer the plan asks for, beside `running`. */
async function withOperations(plan: ServePlan, configText: string, running: RunningServer): Promise<RunningServer> {
  if (plan.prometheus === null && plan.admin === null) return running;
  let operations: Operations;
  try {
    operations = await startOperations({
      metrics: running.metrics,
      ...(plan.prometheus === null ? {} : { prometheus: plan.prometheus }),
      ...(plan.admin === null ? {} : {
        admin: {
          host: plan.admin.serverAddress,
          port: plan.admin.serverPort,
          commandUrl: plan.admin.commandUrl,
          snapshotEnabled: plan.admin.snapshotEnabled,
          restoreEnabled: plan.admin.restoreEnabled,
          rateLimitIntervalMs: plan.admin.rateLimiterIntervalMs,
          restoreBytesMax: plan.admin.restoreBytesMax,
          initialConfiguration: configText,
          backup: running.backup,
          ...(running.ensemble === undefined ? {} : { ensemble: running.ensemble }),
        },
      }),
    });
  } catch (error) {
    await running.close();
    throw error;
  }
  if (operations.prometheus !== null) console.log(`corral: Prometheus metrics on ${operations.prometheus.url}`);
  if (operations.admin !== null) console.log(`corral: AdminServer on ${operations.admin.url}`);
  return {
    ...running,
    close: async () => {
      await operations.close();
      await running.close();
    },
  };
}

/** Prints "serving on", waits for a shutdown signal (or a failure), closes; returns the exit code. */
async function serveUntilStopped(running: RunningServer, plan: ServePlan, runtime: CliRuntime): Promise<number> {
  const reason = await new Promise<string>((resolve) => {
    const remove = runtime.onShutdownSignal((received) => {
      remove();
      resolve(`${received} received`);
    });
    // An ensemble member stops on its own when its storage fails.
    void running.stopped?.then((error) => {
      if (error === null) return;
      remove();
      resolve(`stopped: ${error.message}`);
    });
    const secure = plan.secure;
    if (secure !== null && !secure.only) console.log(`corral: serving TLS on ${formatHost(secure.host)}:${running.securePort ?? secure.port}`);
    const tls = secure?.only === true ? "TLS only, " : plan.unified !== null ? "plaintext and TLS, " : "";
    console.log(`corral: serving on ${formatHost(plan.host)}:${running.port} (${tls}${runtime.name}, ${running.role})`);
  });
  const failed = reason.startsWith("stopped");
  console.error(`corral: ${reason}, shutting down`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), SHUTDOWN_DEADLINE_MS);
  });
  const outcome = await Promise.race([running.close().then(() => "done" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "late") {
    console.error(`corral: shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
    return 1;
  }
  return failed ? 1 : 0;
}

/** The TLS transports toward clients: secureClientPort's and a unified clientPort's (null: none). */
interface ClientTls {
  secure: TlsTransport | null;
  unified: TlsTransport | null;
}

/** The transports `plan` serves clients TLS with, key and certificates read now. */
async function planClientTls(plan: ServePlan, logger: ReturnType<typeof consoleLogger>): Promise<ClientTls> {
  const tls = plan.secure?.tls ?? plan.unified;
  if (tls === null) return { secure: null, unified: null };
  const server = await loadTlsServerOptions(tls, (message, address) => logger.log("info", `${message} (client /${address})`));
  // maxClientCnxns 0 is ZooKeeper's "no limit".
  const perAddress = plan.maxClientCnxns > 0 ? { handshakesPendingPerAddressMax: plan.maxClientCnxns } : {};
  return {
    secure: plan.secure === null ? null : nodeTlsTransport({ server }),
    unified: plan.unified === null ? null : nodeTlsTransport({ server: { ...server, ...perAddress }, unified: true }),
  };
}

/** The quorum port's TLS (sslQuorum, portUnification), and what the peer network checks of certificates. */
interface PeerTls {
  /** The transport between members; `plaintext` dials when portUnification is on without sslQuorum. */
  transport(plaintext: Transport): Transport;
  /** Its TLS side, for sslQuorumReloadCertFiles. */
  tls: TlsTransport;
  peers: { requireCertificateForHost: boolean; plaintextPeersAllowed: boolean };
}

/**
 * sslQuorum's TLS transport (key and certificates read now), or null without TLS between members.
 * portUnification is the middle of ZooKeeper's rolling upgrade: the quorum port takes plaintext and
 * TLS members alike, and this member dials TLS only once sslQuorum is true too.
 */
async function planQuorumTransport(plan: ServePlan, logger: ReturnType<typeof consoleLogger>): Promise<PeerTls | null> {
  const quorum = plan.quorumTls;
  if (quorum === null) return null;
  if (tlsServerSupport({ clientAuth: "need" }) !== null) {
    throw new ServePlanError(
      `${quorum.enabled ? "sslQuorum" : "portUnification"}: members verify each other's certificates, which Deno's node:tls server cannot do ` +
        "(it never asks for them); run this member under Node or Bun",
    );
  }
  // Anyone can reach the quorum port: a flood of bad handshakes must not flood the log.
  const rejections = new RateLimitedLog(logger, { what: "failed quorum TLS handshakes" });
  const tls = await loadQuorumTls(quorum, (message, address) => rejections.log("warn", `quorum TLS: ${message} (peer /${address})`));
  const secure = nodeTlsTransport({ server: tls.server, client: tls.client, unified: quorum.portUnification });
  return {
    transport: (plaintext) => quorum.enabled ? secure : {
      name: `${secure.name}, dialing plaintext`,
      listen: (options, accept) => secure.listen(options, accept),
      connect: (options, handler) => plaintext.connect(options, handler),
    },
    tls: secure,
    peers: { requireCertificateForHost: tls.hostnameVerification, plaintextPeersAllowed: quorum.portUnification },
  };
}

/** dataDir/myid's text, or null when it does not exist. */
async function readMyId(dataDir: string, runtime: CliRuntime): Promise<string | null> {
  try {
    return await runtime.readTextFile(`${dataDir.replace(/\/+$/, "")}/${MYID_FILE}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw new Error(`cannot read ${dataDir}/${MYID_FILE}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The JAAS file `--jaas-config` or zoo.cfg's java.security.auth.login.config names; null when neither does. */
async function readJaas(args: ServeArgs, cfg: ZooCfg | null, runtime: CliRuntime): Promise<{ path: string; text: string } | null> {
  const path = args.jaasConfigPath ?? cfg?.sasl.jaasConfigPath ?? null;
  if (path === null) return null;
  try {
    return { path, text: await runtime.readTextFile(path) };
  } catch (error) {
    throw new Error(`cannot read the JAAS file ${path} (java.security.auth.login.config / --jaas-config): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * SASL users for clients from the JAAS file; null without one (SASL off). A malformed file throws
 * an error naming the file and line. A file for quorum SASL alone may leave out the clients'
 * section (as ZooKeeper allows); otherwise a missing one is an error, most likely a misspelling.
 */
function loadSasl(jaas: { path: string; text: string } | null, cfg: ZooCfg | null, quorumSasl: boolean): SaslConfig | null {
  if (jaas === null) return null;
  const { path, text } = jaas;
  const section = cfg?.sasl.serverSection ?? "Server";
  if (quorumSasl && !parseJaasConfig(text, path).has(section)) return null;
  return saslConfigFromJaas(text, path, {
    section,
    superUser: cfg?.sasl.superUser ?? null,
    superPassword: cfg?.sasl.superPassword ?? null,
  });
}

/**
 * The schemes enforce.auth requires, by ZooKeeper 3.8's rules (AuthenticationHelper): none unless
 * enabled; sessionRequireClientSASLAuth means sasl. Enabled with no scheme, or with a scheme this
 * server cannot grant, is refused at start, as ZooKeeper refuses it.
 */
export function enforcedAuthSchemes(cfg: SaslCfg, saslConfigured: boolean, saslOffBecause = "configure SASL: java.security.auth.login.config or --jaas-config"): string[] {
  if (cfg.sessionRequireClientSaslAuth) return checkSchemes(["sasl"], saslConfigured, saslOffBecause);
  if (!cfg.enforceAuthEnabled) return [];
  if (cfg.enforceAuthSchemes.length === 0) {
    throw new ServePlanError("enforce.auth.enabled is true but enforce.auth.schemes is empty: name the schemes clients must authenticate with (e.g. sasl)");
  }
  return checkSchemes(cfg.enforceAuthSchemes, saslConfigured, saslOffBecause);
}

function checkSchemes(schemes: string[], saslConfigured: boolean, saslOffBecause: string): string[] {
  const available = saslConfigured ? ["ip", "digest", "sasl"] : ["ip", "digest"];
  for (const scheme of schemes) {
    if (!available.includes(scheme)) {
      const hint = scheme === "sasl" ? ` (${saslOffBecause})` : "";
      throw new ServePlanError(`authentication scheme ${scheme} (enforce.auth.schemes) is not available: this server has ${available.join(", ")}${hint}`);
    }
  }
  return schemes;
}

async function readConfig(path: string, runtime: CliRuntime): Promise<string> {
  try {
    return await runtime.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * ZooKeeper enables isro whatever the whitelist says when read-only mode is on: clients probe
 * read-only servers with it to find a read-write one (kazoo, the Java client).
 */
function fourLetterWhitelist(configured: Set<string>, cfg: ZooCfg | null): Set<string> {
  if (cfg?.readOnlyModeEnabled !== true || configured.has("*")) return configured;
  return new Set([...configured, "isro"]);
}

/**
 * Writes each membership put in force to its dynamic file and points zoo.cfg at it, one at a time
 * and in order (a later one waits for the write before it). A failure is logged: the membership is
 * in the log anyway, and members that know it tell a restarted one.
 */
function dynamicConfigWriter(file: { path: string; text: string }, myId: number, startVersion: number, fs: NodeFileSystem, logger: Logger): (config: QuorumConfig) => void {
  let text = file.text;
  let writing = Promise.resolve();
  // What zoo.cfg (or the dynamic file it names) already says.
  let written = startVersion;
  return (config) => {
    writing = writing.then(async () => {
      if (config.version <= written || config.members.length === 0) return;
      const mine = config.members.find((member) => member.id === myId);
      try {
        text = await writeDynamicConfig(fs, file.path, text, config, mine?.client != null);
        written = config.version;
        logger.log("info", `server ${myId}: membership 0x${config.version.toString(16)} written to ${file.path}.dynamic.${config.version.toString(16)}`);
      } catch (error) {
        logger.log("warn", `server ${myId}: cannot write membership 0x${config.version.toString(16)} next to ${file.path}: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  };
}
