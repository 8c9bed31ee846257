/**
 * zoo.cfg text for one member of a benchmark ensemble, Apache ZooKeeper's or Corral's, from one
 * description: both read the same timing (tickTime, initLimit, syncLimit), the same server.N lines
 * and the same limits, so the two ensembles differ only in the server program.
 */

/** One member's place in the ensemble: its id (myid), quorum and election ports on 127.0.0.1. */
export interface EnsembleMemberPorts {
  id: number;
  quorumPort: number;
  electionPort: number;
}

/** Timing both ensembles share: ZooKeeper's sample zoo.cfg values, which Corral also defaults to. */
export interface EnsembleTiming {
  tickTimeMs: number;
  initLimitTicks: number;
  syncLimitTicks: number;
}

export const ENSEMBLE_TIMING: EnsembleTiming = { tickTimeMs: 2000, initLimitTicks: 10, syncLimitTicks: 5 };

export interface MemberZooCfgInput {
  flavour: "zookeeper" | "corral";
  timing: EnsembleTiming;
  /** Every member of the ensemble, this one included. */
  members: readonly EnsembleMemberPorts[];
  dataDir: string;
  clientPort: number;
}

/**
 * The zoo.cfg of one member. Lines both servers read come first; ZooKeeper gets forceSync=yes spelt
 * out (its default: fsync every group commit, as Corral's --data-dir does) and no admin server.
 * Throws for an ensemble of fewer than two members or repeated ids or ports.
 */
export function memberZooCfg(input: MemberZooCfgInput): string {
  checkMembers(input.members);
  const lines = [
    `tickTime=${input.timing.tickTimeMs}`,
    `initLimit=${input.timing.initLimitTicks}`,
    `syncLimit=${input.timing.syncLimitTicks}`,
    `dataDir=${input.dataDir}`,
    `clientPort=${input.clientPort}`,
    "clientPortAddress=127.0.0.1",
    // The load generator's clients all come from 127.0.0.1; the default 60 is plenty, but say so.
    "maxClientCnxns=60",
    "4lw.commands.whitelist=*",
    ...input.members.map((member) =>
      `server.${member.id}=127.0.0.1:${member.quorumPort}:${member.electionPort}`
    ),
  ];
  if (input.flavour === "zookeeper") lines.push("forceSync=yes", "admin.enableServer=false");
  return lines.join("\n") + "\n";
}

function checkMembers(members: readonly EnsembleMemberPorts[]): void {
  if (members.length < 2) {
    throw new Error(`memberZooCfg: an ensemble needs at least 2 members, got ${members.length}`);
  }
  const ids = new Set(members.map((member) => member.id));
  if (ids.size !== members.length) throw new Error("memberZooCfg: member ids repeat");
  const ports = members.flatMap((member) => [member.quorumPort, member.electionPort]);
  if (new Set(ports).size !== ports.length) throw new Error("memberZooCfg: quorum/election ports repeat");
}
