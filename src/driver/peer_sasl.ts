/**
 * SASL between ensemble members, ZooKeeper's quorum.auth.* (DIGEST-MD5): the member that dials
 * (ZooKeeper's "learner" side of a connection) proves itself with the QuorumLearner section's
 * username and password; the member that accepts (the "server" side) checks them against its
 * QuorumServer section's `user_<name>` options and proves it knows the password too (rspauth).
 *
 * The rules are ZooKeeper's (SaslQuorumAuthLearner, SaslQuorumAuthServer):
 * - a dialing member authenticates only with quorum.auth.learnerRequireSasl, and then drops the
 *   connection unless the exchange succeeds;
 * - an accepting member with quorum.auth.serverRequireSasl refuses a member that does not
 *   authenticate; without it, it lets such a member in (the middle of a rolling upgrade).
 * One difference: ZooKeeper's accepting side, when not required, keeps a connection whose exchange
 * failed; here it is closed, which changes nothing since the dialing side, which asked for the
 * exchange, requires it to succeed and closes the connection itself.
 *
 * The tokens travel in linkSasl frames between the hellos and the first message, read within the
 * handshake's small byte budget and deadline (src/driver/peer_handshake.ts); the link comes up only
 * once the exchange succeeded, so a member that fails it never displaces the real one's connection.
 */
import { DigestMd5Client, type SaslCredentials } from "../client/sasl_digest_client.ts";
import { DigestMd5Server } from "../core/sasl_digest_md5.ts";
import type { PeerSasl } from "../wire/peer_codec.ts";
import { saslNonce } from "./sasl/sasl_nonce.ts";

/** ZooKeeper's QuorumAuth.QUORUM_SERVER_SASL_DIGEST: the server name, and so the realm, between members. */
export const QUORUM_SASL_REALM = "zk-quorum-sasl-md5";
/** ZooKeeper's QuorumAuth.QUORUM_SERVER_PROTOCOL_NAME "/" the server name: the digest-uri members send. */
export const QUORUM_SASL_DIGEST_URI = `zookeeper-quorum/${QUORUM_SASL_REALM}`;

/** What quorum.auth.enableSasl=true turns on (without it there is no SASL between members). */
export interface QuorumSaslOptions {
  /**
   * With quorum.auth.learnerRequireSasl: the QuorumLearner credentials this member proves itself
   * with when it dials. Null: it does not authenticate (ZooKeeper's learner skips SASL unless required).
   */
  learner: SaslCredentials | null;
  /** Who may authenticate to this member: the QuorumServer section's users and passwords. */
  users: ReadonlyMap<string, string>;
  /** quorum.auth.serverRequireSasl: a dialing member that does not authenticate is refused. */
  serverRequired: boolean;
}

/** What to do after a linkSasl frame arrived. */
export type SaslTurn =
  /** Send `frame` and wait for the next one. */
  | { kind: "continue"; frame: PeerSasl }
  /** Authenticated: send `frame` (when there is one), then the connection is the member's. */
  | { kind: "authenticated"; frame: PeerSasl | null; username: string }
  /** Send `frame` (when there is one), then close: `reason` is for the log. */
  | { kind: "failed"; frame: PeerSasl | null; reason: string };

const ERROR_FRAME: PeerSasl = { kind: "linkSasl", status: "error", token: new Uint8Array(0) };

/** The accepting member's side of one connection's exchange. */
export class QuorumSaslAcceptor {
  readonly #server: DigestMd5Server;

  /** `nonce`: fresh randomness, drawn per connection. */
  constructor(users: ReadonlyMap<string, string>, nonce: string = saslNonce()) {
    this.#server = new DigestMd5Server({
      passwordOf: (name) => users.get(name) ?? null,
      nonce,
      realm: QUORUM_SASL_REALM,
      digestUri: QUORUM_SASL_DIGEST_URI,
    });
  }

  /** The dialing member's next token. DIGEST-MD5 takes two; a third is a failure. */
  receive(frame: PeerSasl): SaslTurn {
    if (frame.status !== "inProgress") {
      return { kind: "failed", frame: ERROR_FRAME, reason: `the dialing member sent SASL status ${frame.status}, which only the accepting member sends` };
    }
    const step = this.#server.step(frame.token);
    if (step.kind === "failure") return { kind: "failed", frame: ERROR_FRAME, reason: `SASL authentication failed: ${step.reason}` };
    if (step.kind === "challenge") return { kind: "continue", frame: { kind: "linkSasl", status: "inProgress", token: step.token } };
    return { kind: "authenticated", frame: { kind: "linkSasl", status: "success", token: step.token }, username: step.username };
  }
}

/** The dialing member's side of one connection's exchange. */
export class QuorumSaslDialer {
  readonly #client: DigestMd5Client;
  readonly #username: string;

  /** `cnonce`: fresh randomness, drawn per connection. */
  constructor(credentials: SaslCredentials, cnonce: string = saslNonce()) {
    this.#client = new DigestMd5Client(credentials, cnonce, QUORUM_SASL_DIGEST_URI);
    this.#username = credentials.username;
  }

  /** The first frame, sent right after the hello. */
  start(): PeerSasl {
    return { kind: "linkSasl", status: "inProgress", token: this.#client.start() };
  }

  /** The accepting member's next frame: a challenge, then its proof, or an error. */
  receive(frame: PeerSasl): SaslTurn {
    if (frame.status === "error") {
      return {
        kind: "failed",
        frame: null,
        reason: `the member refused our SASL authentication as user ${JSON.stringify(this.#username)} (its log says why): ` +
          "check the QuorumLearner section's username and password against its QuorumServer section",
      };
    }
    const step = this.#client.step(frame.token);
    if (step.kind === "failure") return { kind: "failed", frame: null, reason: `SASL authentication failed: ${step.reason}` };
    if (step.kind === "send") {
      if (frame.status === "success") {
        return { kind: "failed", frame: null, reason: "SASL authentication failed: the member claimed success before it checked our response" };
      }
      return { kind: "continue", frame: { kind: "linkSasl", status: "inProgress", token: step.token } };
    }
    // Authenticated: the member proved it knows our password. It must also have said so.
    if (frame.status !== "success") {
      return { kind: "failed", frame: null, reason: "SASL authentication failed: the member sent its proof but not its verdict" };
    }
    return { kind: "authenticated", frame: null, username: this.#username };
  }
}
