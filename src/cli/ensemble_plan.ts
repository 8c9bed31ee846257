/**
 * What `corral serve` needs to run as an ensemble member, from zoo.cfg's server.N lines and the
 * myid file in dataDir (ZooKeeper's rules: two or more server.N lines make an ensemble; myid holds
 * this server's N). One port per member carries election and Zab: the quorum port (the second
 * field); the election port (the third) is read but not used.
 */
import type { QuorumConfig } from "../core/quorum_config.ts";
import type { ReplicaMember } from "../driver/replica_driver.ts";
import type { ZooCfg } from "./zoo_cfg.ts";

export interface EnsemblePlan {
  myId: number;
  members: ReplicaMember[];
  /** Where this member accepts its peers. */
  quorumListen: { host: string; port: number };
  initLimitTicks: number;
  syncLimitTicks: number;
  observer: boolean;
  /** The membership as ZooKeeper shows it in /zookeeper/config. */
  quorumConfig: QuorumConfig;
  /** readonlymode.enabled (src/core/read_only_mode.ts). */
  readOnlyMode: boolean;
}

/** ZooKeeper has no defaults for these; the sample zoo.cfg's values. */
const DEFAULT_INIT_LIMIT = 10;
const DEFAULT_SYNC_LIMIT = 5;

/** The myid file's name in dataDir. */
export const MYID_FILE = "myid";

/** Thrown for an ensemble that cannot be served; the message is for the operator. */
export class EnsemblePlanError extends Error {}

/**
 * Plans this member. `myIdText` is the content of dataDir/myid (null when it is missing);
 * `warnings` collects what the operator should hear.
 */
export function planEnsemble(cfg: ZooCfg, source: string, dataDir: string | null, myIdText: string | null, warnings: string[]): EnsemblePlan {
  if (dataDir === null) {
    throw new EnsemblePlanError(`${source} lists ${cfg.servers.length} servers (an ensemble) but no dataDir: set dataDir (it holds myid and the log)`);
  }
  if (myIdText === null) {
    throw new EnsemblePlanError(
      `${source} lists ${cfg.servers.length} servers (an ensemble) but ${dataDir}/${MYID_FILE} does not exist: ` +
        `write this server's id into it (the N of its server.N line, e.g. \`echo 1 > ${dataDir}/${MYID_FILE}\`)`,
    );
  }
  const text = myIdText.trim();
  const myId = /^\d+$/.test(text) ? Number(text) : NaN;
  const me = cfg.servers.find((server) => server.id === myId);
  if (me === undefined) {
    throw new EnsemblePlanError(
      `${dataDir}/${MYID_FILE} says ${JSON.stringify(text.slice(0, 20))}, which is not the id of a server.N line in ${source} ` +
        `(${cfg.servers.map((server) => server.id).join(", ")})`,
    );
  }
  if (!cfg.servers.some((server) => server.role === "participant")) {
    throw new EnsemblePlanError(`${source}: every server.N line is an observer; an ensemble needs voting members`);
  }
  if (cfg.peerType !== null && cfg.peerType !== me.role) {
    warnings.push(`peerType=${cfg.peerType} disagrees with server.${myId}'s role (${me.role}); using the server.${myId} line`);
  }
  if (cfg.initLimit === null) warnings.push(`initLimit is not set; using ${DEFAULT_INIT_LIMIT} ticks`);
  if (cfg.syncLimit === null) warnings.push(`syncLimit is not set; using ${DEFAULT_SYNC_LIMIT} ticks`);
  return {
    myId,
    members: cfg.servers.map((server) => ({
      id: server.id,
      host: server.host,
      quorumPort: server.quorumPort,
      observer: server.role === "observer",
    })),
    quorumListen: { host: cfg.quorumListenOnAllIPs ? "0.0.0.0" : me.host, port: me.quorumPort },
    initLimitTicks: cfg.initLimit ?? DEFAULT_INIT_LIMIT,
    syncLimitTicks: cfg.syncLimit ?? DEFAULT_SYNC_LIMIT,
    observer: me.role === "observer",
    readOnlyMode: cfg.readOnlyModeEnabled,
    quorumConfig: {
      // A static zoo.cfg is configuration version 0; a dynamic file's name carries its version.
      version: cfg.configVersion,
      keys: cfg.keys,
      members: cfg.servers.map((server) => ({
        id: server.id,
        host: server.host,
        quorumPort: server.quorumPort,
        electionPort: server.electionPort,
        role: server.role,
        client: server.clientPort === null ? null : { host: server.clientHost ?? "0.0.0.0", port: server.clientPort },
      })),
    },
  };
}
