/**
 * Messages between ensemble members: fast leader election votes and Zab (discovery, sync,
 * broadcast). Plain data, encoded with cbor-x by src/wire; a replica never shares objects with
 * another (the simulator round-trips every message through the codec).
 */
import type { SnapshotHeader, SnapshotNode } from "./persistence.ts";
import type { Id, Request } from "./records.ts";
import type { TxnEntry } from "./txn.ts";
import type { Zxid } from "./zxid.ts";

/** A server id (myid). */
export type Sid = number;

export type PeerState = "looking" | "following" | "leading" | "observing";

/** Fast leader election notification (FastLeaderElection.Notification). */
export interface VoteMessage {
  kind: "vote";
  /** The proposed leader. */
  leader: Sid;
  /** The proposed leader's last zxid. */
  zxid: Zxid;
  /** The sender's logical clock (election round). */
  electionEpoch: number;
  /** The proposed leader's epoch (currentEpoch). */
  peerEpoch: number;
  /** The sender's state. */
  state: PeerState;
  /**
   * The membership the sender knows committed, as /zookeeper/config's text, once a reconfig has
   * committed (absent before): a member that missed it takes it from here (ZooKeeper's
   * notifications carry the config the same way).
   */
  config?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------------
// Zab discovery and synchronisation (learner ↔ leader)

/** Learner → leader, first message: what it has accepted so far. */
export interface FollowerInfoMessage {
  kind: "followerInfo";
  acceptedEpoch: number;
  lastZxid: Zxid;
  observer: boolean;
  /**
   * Which role of the learner sent it (counts up per role): a resend of the same attempt is a
   * duplicate, a new attempt replaces the leader's state for this learner.
   */
  attempt: number;
}

/** Leader → learner: the proposed new epoch. */
export interface LeaderInfoMessage {
  kind: "leaderInfo";
  newEpoch: number;
  /**
   * The followerInfo attempt this answers. The leader answers every (re)sent followerInfo, so
   * answers meant for an earlier role of the learner can still be in flight when a new role starts
   * on the same connection; only the one naming its own attempt marks where its stream begins.
   */
  attempt: number;
}

/** Learner → leader: accepted the new epoch; its current epoch and last zxid. */
export interface AckEpochMessage {
  kind: "ackEpoch";
  currentEpoch: number;
  /** The last zxid in its log. */
  lastZxid: Zxid;
  /** The last zxid applied to its tree (≤ lastZxid): what it cannot roll back without a snapshot. */
  appliedZxid: Zxid;
  /** The attempt of the role that sends it (see LeaderInfoMessage.attempt). */
  attempt: number;
  /**
   * The epoch acknowledged: the leaderInfo's newEpoch the learner saved as its acceptedEpoch. Two
   * roles of one leader can both answer a starting learner's followerInfo; the ack names which.
   */
  epoch: number;
}

/** Leader → learner: how to catch up, followed by the txns to apply (committed history). */
export type SyncMessage =
  /** Apply these committed txns after the learner's last zxid. */
  | { kind: "diff"; entries: TxnEntry[] }
  /** Drop every txn after `zxid` (the learner has uncommitted history the leader does not). */
  | { kind: "trunc"; zxid: Zxid; entries: TxnEntry[] }
  /** Replace the whole state with this snapshot (sent in chunks: `done` on the last). */
  | { kind: "snap"; header: SnapshotHeader; nodes: SnapshotNode[]; done: boolean };

/** Leader → learner: sync is over; ack once everything received is durable. */
export interface NewLeaderMessage {
  kind: "newLeader";
  epoch: number;
  zxid: Zxid;
  /**
   * With dynamic reconfiguration, the leader's newest membership text (ZooKeeper's NEWLEADER
   * carries its last seen config): in force for the learner once the epoch is established.
   */
  config?: Uint8Array;
}

/** Leader → learner: a quorum acked NEWLEADER; start serving. */
export interface UpToDateMessage {
  kind: "upToDate";
}

// ---------------------------------------------------------------------------------------------------
// Zab broadcast

export interface ProposalMessage {
  kind: "proposal";
  entry: TxnEntry;
}

/** Learner → leader: this zxid (and everything before it) is durable here. */
export interface AckMessage {
  kind: "ack";
  /** Cumulative: every proposal up to this zxid is durable at the learner (its log is FIFO). */
  zxid: Zxid;
}

export interface CommitMessage {
  kind: "commit";
  /** Cumulative: every proposal up to this zxid is committed (the leader commits in zxid order). */
  zxid: Zxid;
}

/** Leader → observer: a committed txn (proposal and commit in one). */
export interface InformMessage {
  kind: "inform";
  entry: TxnEntry;
}

// ---------------------------------------------------------------------------------------------------
// Client work through the leader

/** Learner → leader: a client write (or session create/close) to prepare. */
export interface ForwardedRequestMessage {
  kind: "request";
  sessionId: bigint;
  cxid: number;
  /**
   * A client request; the creation of a session the learner made for a new connection; or
   * moveSession: a client reconnected here, so requests for the session from elsewhere are stale.
   */
  request: Request | { kind: "createSession"; timeoutMs: number } | { kind: "moveSession" };
  /** The client connection's identities at arrival (ACL checks happen at the leader). */
  identities: Id[];
  /**
   * The session is the learner's local one (local_sessions.ts): the leader, which does not know it,
   * lets it through all the same. ZooKeeper guesses this from the session id's server byte; saying
   * it keeps a write of an expired session of the ensemble from passing as a local one.
   */
  localSession?: true;
}

/** Leader → learner, every tick (and at once when a sync needs a new round): the leader is alive. */
export interface HeartbeatMessage {
  kind: "heartbeat";
  /**
   * The leader's latest round of confirming that it still leads (its read index for sync): the
   * learner echoes it in a ping. Absent or 0: none yet.
   */
  round?: number;
}

/** Learner → leader: sessions that showed activity, and their timeouts (session touches). */
export interface PingMessage {
  kind: "ping";
  sessions: Array<{ sessionId: bigint; timeoutMs: number }>;
  /** The latest heartbeat round the learner saw (HeartbeatMessage.round); absent: none. */
  round?: number;
}

/** Learner → leader: a client asked for sync; answer when everything before is committed. */
export interface SyncRequestMessage {
  kind: "sync";
  requestId: number;
}

/** Leader → learner: sync done; every commit before this message has been sent. */
export interface SyncReplyMessage {
  kind: "syncReply";
  requestId: number;
}

export type PeerMessage =
  | VoteMessage
  | FollowerInfoMessage
  | LeaderInfoMessage
  | AckEpochMessage
  | SyncMessage
  | NewLeaderMessage
  | UpToDateMessage
  | ProposalMessage
  | AckMessage
  | CommitMessage
  | InformMessage
  | ForwardedRequestMessage
  | HeartbeatMessage
  | PingMessage
  | SyncRequestMessage
  | SyncReplyMessage;

export type PeerMessageKind = PeerMessage["kind"];
