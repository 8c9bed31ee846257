/**
 * One member's side of the connection with another member (PeerLink), and the sockets that may
 * become it (PeerConnection, dialed or accepted, through its handshake: hello, then SASL). The
 * rules that move them live in peer_network.ts; these hold the state, and what a socket proves.
 */
import type { Sid } from "../core/peer_messages.ts";
import type { Socket } from "../transport/transport.ts";
import type { PeerFrameDecoder, PeerHello } from "../wire/peer_codec.ts";
import { HandshakeReader } from "./peer_handshake.ts";
import type { QuorumSaslAcceptor, QuorumSaslDialer } from "./peer_sasl.ts";

/** Where a member accepts peer connections. */
export interface PeerEndpoint {
  id: Sid;
  host: string;
  port: number;
}

/** One accepted or dialed socket, before and after its hello. */
export class PeerConnection {
  readonly socket: Socket;
  /** The member we dialed; null for an accepted connection. */
  readonly dialed: Sid | null;
  /** Reads the handshake's frames within its budget; null once the connection is up (or closed). */
  handshake: HandshakeReader | null;
  /** The other side's hello, once it checked out (while a SASL exchange follows it). */
  hello: PeerHello | null = null;
  /** This connection's SASL exchange, while it runs. */
  sasl: QuorumSaslAcceptor | QuorumSaslDialer | null = null;
  /** The other side proved who it is: a SASL exchange succeeded, or TLS verified its certificate for the member's host. */
  proven = false;
  /** Splits the stream after the handshake, with the full frame limit; null before it and once closed. */
  decoder: PeerFrameDecoder | null = null;
  readonly openedAtMs: number;
  /** The member on the other side, once its hello checked out. */
  peer: Sid | null = null;
  lastHeardMs: number;
  closed = false;
  /** Frames sent since the last flush (written together at the next turn: nextTurn). */
  unflushed: Uint8Array[] = [];

  constructor(socket: Socket, dialed: Sid | null, handshakeBytesMax: number, nowMs: number) {
    this.socket = socket;
    this.dialed = dialed;
    this.handshake = new HandshakeReader(handshakeBytesMax);
    this.openedAtMs = nowMs;
    this.lastHeardMs = nowMs;
  }

  /** Drops what the connection buffered (a closed connection may stay referenced for a while). */
  release(): void {
    this.closed = true;
    this.handshake = null;
    this.sasl = null;
    this.decoder = null;
    this.unflushed = [];
  }
}

/** This member's side of the pair with one other member. */
export class PeerLink {
  /** Where the member listens; a reconfig may move it (PeerNetwork.addPeers). */
  endpoint: PeerEndpoint;
  /** Whether we dial (our id is higher). */
  readonly dials: boolean;
  state: "up" | "down" | "dropping" = "down";
  connection: PeerConnection | null = null;
  /** A dial or a hello in progress (dialer side). */
  attempt: PeerConnection | null = null;
  dialing = false;
  queue: Uint8Array[] = [];
  queuedBytes = 0;
  delayMs: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  connects = 0;
  failures = 0;

  constructor(endpoint: PeerEndpoint, dials: boolean, delayMs: number) {
    this.endpoint = endpoint;
    this.dials = dials;
    this.delayMs = delayMs;
  }

  get id(): Sid {
    return this.endpoint.id;
  }
}

/** Why `socket`'s peer may not speak for `member` under sslQuorum, or null when it may. */
export function certificateRefusal(socket: Socket, member: PeerEndpoint, plaintextAllowed: boolean): string | null {
  if (socket.checkPeerHost === undefined) {
    // Known plaintext, not merely "no certificate": a TLS connection without one is never let in.
    if (plaintextAllowed && socket.encrypted !== true) return null;
    return `server ${member.id} connected ${socket.encrypted === true ? "over TLS " : ""}without a verified TLS certificate; with sslQuorum every member must present one`;
  }
  const mismatch = socket.checkPeerHost(member.host);
  return mismatch === null ? null : `the certificate of the connection claiming to be server ${member.id} does not name its host ${member.host}: ${mismatch}`;
}
