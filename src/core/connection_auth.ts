/**
 * How a connection gains identities: `auth` packets (acl.ts's schemes), SASL tokens
 * (sasl_exchange.ts), and the enforce.auth rule on everything else. Each function decides on one
 * packet and says what to answer; the server (server.ts) sends the answer and closes when told.
 * Auth and SASL are answered at once, outside the request order, with zxid 0, as ZooKeeper does.
 */
import { authenticate } from "./acl.ts";
import type { Connection } from "./connection.ts";
import { Code } from "./errors.ts";
import type { Reply } from "./records.ts";
import { saslStep } from "./sasl_exchange.ts";
import { DEFAULT_AUTH_IDENTITIES_MAX, type ServerConfig } from "./server_io.ts";

/** What to do about one packet: the reply, and why to close the connection after it (or null). */
export interface AuthAnswer {
  reply: Reply;
  close: string | null;
  log?: { level: "info" | "warn"; message: string };
}

type AuthConfig = Pick<ServerConfig, "superDigest" | "authIdentitiesMax" | "sasl" | "enforceAuthSchemes">;

/** An `auth` packet: its identities are added, or AUTHFAILED and the connection closed. */
export function answerAuth(connection: Connection, xid: number, scheme: string, auth: Uint8Array | null, config: AuthConfig): AuthAnswer {
  const granted = authenticate(scheme, auth, { remoteAddress: connection.info.remoteAddress, superDigest: config.superDigest });
  const failed = (close: string): AuthAnswer => ({ reply: { header: { xid, zxid: 0, err: Code.AUTHFAILED }, body: null }, close });
  if (granted === null) return failed(`auth scheme ${JSON.stringify(scheme)} is not supported`);
  const max = config.authIdentitiesMax ?? DEFAULT_AUTH_IDENTITIES_MAX;
  if (connection.addIdentities(granted, max) === "full") return failed(`auth: more than ${max} identities on one connection (authIdentitiesMax)`);
  return { reply: { header: { xid, zxid: 0, err: Code.OK }, body: null }, close: null };
}

/** One SASL token: the next challenge, success with the sasl identity, or AUTHFAILED (null token) and close. */
export function answerSasl(connection: Connection, xid: number, token: Uint8Array | null, config: AuthConfig): AuthAnswer {
  const { state, outcome } = saslStep(connection.sasl, token ?? new Uint8Array(0), config.sasl, connection.info.saslNonce);
  connection.sasl = state;
  const from = connection.info.remoteAddress;
  let failure = outcome.kind === "failure" ? outcome.reason : null;
  let log: AuthAnswer["log"];
  if (outcome.kind === "success") {
    const max = config.authIdentitiesMax ?? DEFAULT_AUTH_IDENTITIES_MAX;
    if (connection.addIdentities(outcome.identities, max) === "full") failure = `more than ${max} identities on one connection (authIdentitiesMax)`;
    else log = { level: "info", message: `SASL: ${from} authenticated as sasl:${outcome.username}` };
  }
  if (failure !== null || outcome.kind === "failure") {
    return {
      reply: { header: { xid, zxid: 0, err: Code.AUTHFAILED }, body: { kind: "sasl", token: null } },
      close: `SASL authentication failed: ${failure}`,
      log: { level: "warn", message: `SASL authentication of ${from} failed: ${failure}; closing the connection` },
    };
  }
  return { reply: { header: { xid, zxid: 0, err: Code.OK }, body: { kind: "sasl", token: outcome.token } }, close: null, ...(log ? { log } : {}) };
}

/**
 * enforce.auth (ZooKeeper 3.8's AuthenticationHelper): null when the connection may go on (it holds
 * an identity of a required scheme, or nothing is enforced); otherwise SESSIONCLOSEDREQUIRESASLAUTH
 * and close (the session lives on until it expires: the client may come back authenticated).
 */
export function enforceAuth(connection: Connection, xid: number, config: AuthConfig): AuthAnswer | null {
  const schemes = config.enforceAuthSchemes;
  if (schemes === undefined || schemes.length === 0) return null;
  if (connection.identities.some((identity) => schemes.includes(identity.scheme))) return null;
  return {
    reply: { header: { xid, zxid: 0, err: Code.SESSIONCLOSEDREQUIRESASLAUTH }, body: null },
    close: `not authenticated with ${schemes.join(" or ")} (enforce.auth.schemes)`,
  };
}
