/** What the Zab roles (zab_leader.ts, zab_learner.ts) need from the replica that hosts them. */
import type { PeerMessage, Sid } from "./peer_messages.ts";
import type { PersistRequest } from "./persistence.ts";
import type { Membership } from "./membership.ts";
import type { Quorum } from "./quorum.ts";
import type { Server } from "./server.ts";
import type { TxnEntry } from "./txn.ts";

export interface ZabContext {
  readonly myId: Sid;
  /** What every quorum decision must satisfy now: it changes with a reconfiguration (membership.ts). */
  readonly quorum: Quorum;
  readonly membership: Membership;
  readonly server: Server;
  /** Ticks a leader may take to establish its epoch, and a learner to sync (initLimit). */
  readonly initLimitTicks: number;
  /** Ticks without hearing from the other side before giving up on it (syncLimit). */
  readonly syncLimitTicks: number;
  /** A txn was committed and applied here: remember it (bounded) to DIFF learners later. */
  committed(entry: TxnEntry): void;
  /** A snapshot replaced the state: the remembered history no longer leads up to it. */
  historyReset(): void;
  send(to: Sid, message: PeerMessage): void;
  /** Makes `request` durable; `durable` runs once it (and every write before it) is. */
  persist(request: PersistRequest, durable?: () => void): void;
  /** Leave this role and start a new election. */
  stepDown(reason: string): void;
  /**
   * Leader: the membership text NEWLEADER carries for `epoch` (null without reconfiguration). The
   * first epoch with reconfigEnabled stamps zoo.cfg's membership with version epoch<<32, as
   * ZooKeeper does.
   */
  leaderConfig(epoch: number): Uint8Array | null;
  /** Start or stop serving clients. */
  serving(on: boolean): void;
  log(level: "info" | "warn", message: string): void;
}
