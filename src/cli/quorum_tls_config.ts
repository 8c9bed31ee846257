/**
 * TLS between ensemble members in ZooKeeper's configuration language: `sslQuorum=true` with the
 * `ssl.quorum.*` store keys (the same as the client-facing `ssl.*` ones, tls_config.ts) and
 * `ssl.quorum.hostnameVerification`. Every member both accepts and dials, so its one key store is
 * its server and its client certificate, and its trust store checks the other side either way.
 */
import { DEFAULT_TLS_HANDSHAKES_PENDING_MAX, type TlsClientOptions, type TlsServerOptions } from "../transport/node_tls.ts";
import { defaultTlsStoresCfg, loadTlsServerOptions, parseStoreKey, storeKeys, type TlsStoresCfg, withoutSystemPrefix } from "./tls_config.ts";

export interface QuorumTlsCfg {
  /** sslQuorum: members talk TLS to each other (and nothing else). */
  enabled: boolean;
  stores: TlsStoresCfg;
  /**
   * ssl.quorum.hostnameVerification (default true): a member's certificate must name the host its
   * server.N line gives, whichever side dialed.
   */
  hostnameVerification: boolean;
  /**
   * portUnification: the quorum port takes plaintext and TLS connections, whatever sslQuorum says
   * (which decides how this member dials): the middle steps of ZooKeeper's rolling upgrade to TLS.
   */
  portUnification: boolean;
  /** sslQuorumReloadCertFiles: take new ssl.quorum.* key and trust store files without a restart. */
  reloadCertFiles: boolean;
}

export function defaultQuorumTlsCfg(): QuorumTlsCfg {
  return { enabled: false, stores: defaultTlsStoresCfg("ssl.quorum."), hostnameVerification: true, portUnification: false, reloadCertFiles: false };
}

/** The quorum TLS keys zoo_cfg.ts knows (for "did you mean"). */
export const QUORUM_TLS_KEYS: readonly string[] = ["sslQuorum", "portUnification", "sslQuorumReloadCertFiles", ...storeKeys("ssl.quorum."), "ssl.quorum.hostnameVerification"];

/** Reads one quorum TLS key into `quorum`; false for any other key. */
export function parseQuorumTlsKey(quorum: QuorumTlsCfg, key: string, value: string, fail: (message: string) => never): boolean {
  const flags = new Map<string, (on: boolean) => void>([
    ["sslQuorum", (on) => quorum.enabled = on],
    ["portUnification", (on) => quorum.portUnification = on],
    ["sslQuorumReloadCertFiles", (on) => quorum.reloadCertFiles = on],
    ["ssl.quorum.hostnameVerification", (on) => quorum.hostnameVerification = on],
  ]);
  const set = flags.get(withoutSystemPrefix(key));
  if (set === undefined) return parseStoreKey(quorum.stores, key, value, fail);
  if (value !== "true" && value !== "false") fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
  set(value === "true");
  return true;
}

/** What the TLS transport between members takes: the listener's options and the dialer's. */
export interface QuorumTlsOptions {
  server: TlsServerOptions;
  client: TlsClientOptions;
  hostnameVerification: boolean;
}

/**
 * Reads the quorum key and trust stores. A member must be able to check the others' certificates,
 * so the trust store is required and ssl.quorum.clientAuth must stay need: a member that let a
 * connection in without a certificate would let anyone speak for a member.
 */
export async function loadQuorumTls(quorum: QuorumTlsCfg, onHandshakeError?: TlsServerOptions["onHandshakeError"]): Promise<QuorumTlsOptions> {
  if (quorum.stores.clientAuth !== "need") {
    throw new Error(`ssl.quorum.clientAuth=${quorum.stores.clientAuth}: with sslQuorum every member must present a certificate the others check; remove the key (need is the default)`);
  }
  if (quorum.stores.trustStore.location === null) {
    throw new Error("sslQuorum or portUnification is true but ssl.quorum.trustStore.location is not set: name the PEM file with the CA that signed the members' certificates");
  }
  const server = await loadTlsServerOptions(quorum.stores, onHandshakeError);
  // Few connections are legitimate here (one per other member): a small bound on half-open handshakes.
  server.handshakesPendingMax = Math.min(server.handshakesPendingMax, QUORUM_HANDSHAKES_PENDING_MAX);
  const client: TlsClientOptions = {
    ...(server.ca === undefined ? {} : { ca: server.ca }),
    ...(server.key === undefined ? {} : { key: server.key }),
    ...(server.cert === undefined ? {} : { cert: server.cert }),
    ...(server.pfx === undefined ? {} : { pfx: server.pfx }),
    ...(server.passphrase === undefined ? {} : { passphrase: server.passphrase }),
    ...(server.ciphers === undefined ? {} : { ciphers: server.ciphers }),
    minVersion: server.minVersion,
    maxVersion: server.maxVersion,
    hostnameVerification: quorum.hostnameVerification,
  };
  return { server, client, hostnameVerification: quorum.hostnameVerification };
}

const QUORUM_HANDSHAKES_PENDING_MAX = Math.min(64, DEFAULT_TLS_HANDSHAKES_PENDING_MAX);
