/**
 * SASL for clients (opcode 102) as ZooKeeper's server runs it: one DIGEST-MD5 server per connection,
 * its tokens carried in GetSASLRequest/SetSASLResponse, the identity `sasl:<user>` on success.
 *
 * Why here, in the pure core, and not in the driver's connection layer: the core already owns what
 * SASL touches (the handshake that SASL must wait behind, the connection's identities, the reply
 * order, the close), so the driver needs no second copy of those rules, and replicas and the
 * simulator get SASL unchanged. The one impure ingredient, the nonce, comes in as an input
 * (ConnectionInfo.saslNonce, drawn by the driver when the connection opens), so the core stays a
 * function of its inputs.
 */
import type { Id } from "./records.ts";
import { DigestMd5Server } from "./sasl_digest_md5.ts";

/** ZooKeeper's SASL server name for DIGEST-MD5 (SecurityUtils), used as the realm. */
export const SASL_DIGEST_REALM = "zk-sasl-md5";
/** "<protocol>/<server name>": the digest-uri every ZooKeeper DIGEST-MD5 client sends. */
export const SASL_DIGEST_URI = "zookeeper/zk-sasl-md5";

export interface SaslConfig {
  /** DIGEST-MD5 users and passwords: the JAAS `Server` section's `user_<name>="<password>"` options. */
  users: ReadonlyMap<string, string>;
  /** `zookeeper.superUser`: a SASL user who also gets the `super` identity. */
  superUser?: string | null;
  /** `zookeeper.SASLAuthenticationProvider.superPassword`: the password of user "super" (wins over the file). */
  superPassword?: string | null;
}

export type SaslOutcome =
  | { kind: "continue"; token: Uint8Array }
  | { kind: "success"; token: Uint8Array; identities: Id[]; username: string }
  | { kind: "failure"; reason: string };

/**
 * One step of a connection's exchange. `state` is the connection's DIGEST-MD5 server, created on the
 * first token (null before); the caller keeps the returned one.
 */
export function saslStep(
  state: DigestMd5Server | null,
  token: Uint8Array,
  config: SaslConfig | undefined,
  nonce: string | undefined,
): { state: DigestMd5Server | null; outcome: SaslOutcome } {
  if (config === undefined) {
    return { state, outcome: { kind: "failure", reason: "SASL is not configured on this server (no JAAS Server section with users)" } };
  }
  if (state === null) {
    if (nonce === undefined) {
      return { state, outcome: { kind: "failure", reason: "SASL is configured but the driver gave this connection no nonce" } };
    }
    state = new DigestMd5Server({
      passwordOf: (name) => passwordOf(config, name),
      nonce,
      realm: SASL_DIGEST_REALM,
      digestUri: SASL_DIGEST_URI,
    });
  }
  const step = state.step(token);
  if (step.kind === "failure") return { state, outcome: step };
  if (step.kind === "challenge") return { state, outcome: { kind: "continue", token: step.token } };
  // ZooKeeper's callback handler authorizes the authentication id (not a requested authzid) and
  // maps it through Kerberos short-name rules, which leave a plain user name as it is.
  const identities: Id[] = [{ scheme: "sasl", id: step.username }];
  if (config.superUser != null && step.username === config.superUser) identities.push({ scheme: "super", id: "" });
  return { state, outcome: { kind: "success", token: step.token, identities, username: step.username } };
}

function passwordOf(config: SaslConfig, name: string): string | null {
  if (name === "super" && config.superPassword != null) return config.superPassword;
  return config.users.get(name) ?? null;
}
