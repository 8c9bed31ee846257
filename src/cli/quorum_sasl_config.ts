/**
 * SASL between ensemble members in ZooKeeper's configuration language:
 *
 *   quorum.auth.enableSasl=true
 *   quorum.auth.learnerRequireSasl=true
 *   quorum.auth.serverRequireSasl=true
 *   quorum.auth.learner.saslLoginContext=QuorumLearner    (the default)
 *   quorum.auth.server.saslLoginContext=QuorumServer      (the default)
 *
 * with the credentials in the JAAS file (java.security.auth.login.config, or --jaas-config):
 *
 *   QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_test="test"; };
 *   QuorumLearner { org.apache.zookeeper.server.auth.DigestLoginModule required username="test" password="test"; };
 *
 * The rules between the three switches are ZooKeeper's (QuorumPeerConfig), and so is the rolling
 * upgrade they allow: enableSasl on every member, then learnerRequireSasl, then serverRequireSasl.
 */
import { parseJaasConfig, saslCredentialsOf, saslUsersOf } from "../driver/sasl/jaas_config.ts";
import type { QuorumSaslOptions } from "../driver/peer_sasl.ts";
import { withoutSystemPrefix } from "./tls_config.ts";

export interface QuorumSaslCfg {
  /** quorum.auth.enableSasl: members may authenticate to each other. */
  enabled: boolean;
  /** quorum.auth.learnerRequireSasl: this member authenticates when it dials, and needs that to succeed. */
  learnerRequired: boolean;
  /** quorum.auth.serverRequireSasl: members that dial this one must authenticate. */
  serverRequired: boolean;
  /** quorum.auth.learner.saslLoginContext: the JAAS section with this member's username and password. */
  learnerSection: string;
  /** quorum.auth.server.saslLoginContext: the JAAS section with the members' users. */
  serverSection: string;
}

export function defaultQuorumSaslCfg(): QuorumSaslCfg {
  return { enabled: false, learnerRequired: false, serverRequired: false, learnerSection: "QuorumLearner", serverSection: "QuorumServer" };
}

const FLAGS: ReadonlyMap<string, keyof QuorumSaslCfg> = new Map([
  ["quorum.auth.enableSasl", "enabled"],
  ["quorum.auth.learnerRequireSasl", "learnerRequired"],
  ["quorum.auth.serverRequireSasl", "serverRequired"],
] as const);
const SECTIONS: ReadonlyMap<string, keyof QuorumSaslCfg> = new Map([
  ["quorum.auth.learner.saslLoginContext", "learnerSection"],
  ["quorum.auth.server.saslLoginContext", "serverSection"],
] as const);
/** Kerberos only (the principal's host part); accepted and unused, since members use DIGEST-MD5. */
const KERBEROS_KEYS = ["quorum.auth.kerberos.servicePrincipal"];

/** The quorum SASL keys zoo_cfg.ts knows (for "did you mean"). */
export const QUORUM_SASL_KEYS: readonly string[] = [...FLAGS.keys(), ...SECTIONS.keys(), ...KERBEROS_KEYS];

/** Reads one quorum SASL key into `cfg`; false for any other key. */
export function parseQuorumSaslKey(cfg: QuorumSaslCfg, key: string, value: string, fail: (message: string) => never): boolean {
  const name = withoutSystemPrefix(key);
  const flag = FLAGS.get(name);
  if (flag !== undefined) {
    // Java's Boolean.parseBoolean, as ZooKeeper reads them, ignores case.
    const lower = value.trim().toLowerCase();
    if (lower !== "true" && lower !== "false") fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
    (cfg[flag] as boolean) = lower === "true";
    return true;
  }
  const section = SECTIONS.get(name);
  if (section !== undefined) {
    if (value.trim() === "") fail(`${key} must name a JAAS section`);
    (cfg[section] as string) = value.trim();
    return true;
  }
  return KERBEROS_KEYS.includes(name);
}

/** Why the switches contradict each other (ZooKeeper refuses to start on the same), or null. */
export function quorumSaslConflict(cfg: QuorumSaslCfg): string | null {
  if (!cfg.enabled && cfg.serverRequired) return "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl";
  if (!cfg.enabled && cfg.learnerRequired) return "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl";
  if (!cfg.learnerRequired && cfg.serverRequired) {
    return "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl " +
      "(this member could not join members that require it)";
  }
  return null;
}

/**
 * What the peer network takes, from the JAAS file's text. Both sections must be there whatever is
 * required (ZooKeeper loads both login contexts once enableSasl is true).
 */
export function quorumSaslFromJaas(cfg: QuorumSaslCfg, text: string, source: string): QuorumSaslOptions {
  const jaas = parseJaasConfig(text, source);
  const users = saslUsersOf(jaas, source, cfg.serverSection);
  if (users.size === 0) {
    throw new Error(`${source}: section ${cfg.serverSection} names no members' users (user_<name>="<password>" options of org.apache.zookeeper.server.auth.DigestLoginModule; Kerberos is not supported)`);
  }
  const credentials = saslCredentialsOf(jaas, source, cfg.learnerSection);
  return { learner: cfg.learnerRequired ? credentials : null, users, serverRequired: cfg.serverRequired };
}
