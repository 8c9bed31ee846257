/**
 * What snapshot/restore and the ensemble commands act on, for each kind of server. A download works
 * everywhere (a consistent snapshot of the member's applied tree). Restore replaces the state of a
 * standalone server without a dataDir; a server with one refuses live restore (its log would replay
 * newer txns over the restored tree at the next start), and an ensemble member refuses it (its peers
 * would not follow); the error says how to restore offline instead.
 */
import type { Replica } from "../../core/replica.ts";
import type { Server } from "../../core/server.ts";
import type { ReplicaDriverStatus } from "../replica_driver.ts";
import type { AdminEnsembleView, VotingMember } from "./admin_commands.ts";
import type { AdminBackup } from "./admin_server.ts";

const OFFLINE_RESTORE = "to restore offline: stop the server, move its dataDir (and dataLogDir) aside, put the " +
  "downloaded file in an empty dataDir as snapshot.<last_zxid as 16 hex digits>, and start it";

/** A standalone server: snapshot always; restore only when `durable` is false. */
export function standaloneBackup(server: Server, options: { durable: boolean }): AdminBackup {
  return {
    snapshotSource: () => server.snapshotSource(),
    rootAcl: () => server.tree.get("/")?.acl ?? [],
    tree: () => server.tree,
    superDigest: server.config.superDigest,
    restore: (snapshot) => {
      if (options.durable) throw new Error(`live restore is not supported on a server with a dataDir; ${OFFLINE_RESTORE}`);
      server.resetState();
      server.restoreSnapshot(snapshot.header);
      snapshot.forEachNode((node) => server.restoreNode(node));
      server.finishRecovery();
      server.setServing(true);
      return snapshot.header.zxid;
    },
  };
}

/** An ensemble member: snapshot of its applied tree; restore refused. */
export function replicaBackup(replica: Replica): AdminBackup {
  return {
    snapshotSource: () => replica.server.snapshotSource(),
    rootAcl: () => replica.server.tree.get("/")?.acl ?? [],
    tree: () => replica.server.tree,
    superDigest: replica.server.config.superDigest,
    restore: () => {
      throw new Error(`restore is not supported on an ensemble member (the other members would not follow); ${OFFLINE_RESTORE}, on every member`);
    },
  };
}

export interface EnsembleMemberAddress {
  id: number;
  host: string;
  quorumPort: number;
  clientHost?: string | null;
  clientPort?: number | null;
  observer?: boolean;
}

/** leader, voting_view and zabstate from a member's status. */
export function ensembleView(status: ReplicaDriverStatus, members: readonly EnsembleMemberAddress[]): AdminEnsembleView {
  const leader = members.find((member) => member.id === status.leader);
  const me = members.find((member) => member.id === status.myId);
  const address = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const votingMembers: VotingMember[] = members.map((member) => ({
    id: member.id,
    serverAddress: address(member.host, member.quorumPort),
    electionAddress: address(member.host, member.quorumPort),
    clientAddress: member.clientPort ? address(member.clientHost ?? member.host, member.clientPort) : "",
    observer: member.observer === true,
  }));
  return {
    isLeader: status.mode === "leader",
    leaderId: status.leader ?? -1,
    leaderAddress: leader === undefined ? "" : address(leader.host, leader.quorumPort),
    zabState: status.mode === "looking" ? "election" : status.serving ? "broadcast" : "synchronization",
    voting: me?.observer !== true,
    members: votingMembers,
  };
}
