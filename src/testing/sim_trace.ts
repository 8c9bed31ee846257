/** One-line descriptions of peer messages, persists and client traffic, for verbose traces. */
import type { PeerMessage } from "../core/peer_messages.ts";
import type { ReplicaOutput } from "../core/replica.ts";
import { zxidHex } from "../core/zxid.ts";

/** One line per peer message, for verbose traces. */
export function describeMessage(message: PeerMessage): string {
  switch (message.kind) {
    case "vote":
      return `vote leader ${message.leader} zxid ${zxidHex(message.zxid)} round ${message.electionEpoch} peerEpoch ${message.peerEpoch} ${message.state}`;
    case "proposal":
    case "inform":
      return `${message.kind} ${zxidHex(message.entry.header.zxid)} ${message.entry.txn.type}`;
    case "diff":
    case "trunc":
      return `${message.kind}${message.kind === "trunc" ? ` to ${zxidHex(message.zxid)}` : ""} [${message.entries.map((e) => zxidHex(e.header.zxid)).join(" ")}]`;
    case "snap":
      return `snap at ${zxidHex(message.header.zxid)} (${message.nodes.length} nodes${message.done ? ", done" : ""})`;
    case "ack":
    case "commit":
      return `${message.kind} ${zxidHex(message.zxid)}`;
    case "ping":
      return `ping (${message.sessions.length} sessions)`;
    case "request":
      return `request ${message.request.kind} session 0x${BigInt.asUintN(64, message.sessionId).toString(16)} cxid ${message.cxid}`;
    default:
      return JSON.stringify(message, (_key, value) => typeof value === "bigint" ? `${value}n` : value);
  }
}

export function describePersist(request: Extract<ReplicaOutput, { kind: "persist" }>["request"]): string {
  switch (request.kind) {
    case "append":
      return `append [${request.entries.map((e) => zxidHex(e.header.zxid)).join(" ")}]`;
    case "truncate":
      return `truncate after ${zxidHex(request.zxid)}`;
    case "epochs":
      return `epochs accepted ${request.acceptedEpoch ?? "-"} current ${request.currentEpoch ?? "-"}`;
    case "installSnapshot":
      return `installSnapshot at ${zxidHex(request.header.zxid)} (${request.nodes.length} nodes)`;
  }
}

export function describeClientOutput(output: ReplicaOutput): string {
  switch (output.kind) {
    case "reply":
      return `reply xid ${output.reply.header.xid} zxid ${zxidHex(output.reply.header.zxid)} err ${output.reply.header.err}`;
    case "notification":
      return `event ${output.event.type} ${output.event.path} zxid ${zxidHex(output.zxid)}`;
    case "connectResponse":
      return `connected session 0x${BigInt.asUintN(64, output.response.sessionId).toString(16)}`;
    case "close":
      return `close (${output.reason})`;
    default:
      return output.kind;
  }
}
