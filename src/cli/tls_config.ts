/**
 * TLS in ZooKeeper's configuration language: toward clients `secureClientPort`,
 * `secureClientPortAddress` and the `ssl.*` keys; between members the same store keys under
 * `ssl.quorum.*` (quorum_tls_config.ts); with or without the `zookeeper.` system-property prefix.
 * And turning them into the key, certificates and limits the TLS transport takes.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type ClientAuth,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_TLS_HANDSHAKES_PENDING_MAX,
  type TlsServerOptions,
  type TlsVersion,
} from "../transport/node_tls.ts";

export type StoreType = "PEM" | "PKCS12";

export interface StoreCfg {
  location: string | null;
  password: string | null;
  /** null: from the file's extension (.pem, .p12/.pfx), as ZooKeeper does. */
  type: string | null;
}

/** The keys ssl.* (toward clients) and ssl.quorum.* (between members) have alike. */
export interface TlsStoresCfg {
  /** "ssl." or "ssl.quorum.": how errors name the keys. */
  prefix: TlsPrefix;
  keyStore: StoreCfg;
  trustStore: StoreCfg;
  /** ZooKeeper's default is need. */
  clientAuth: ClientAuth;
  /** ssl.protocol; ZooKeeper 3.8's default is TLSv1.2 (X509Util.DEFAULT_PROTOCOL), and only it is enabled. */
  protocol: TlsVersion | null;
  /** ssl.enabledProtocols; default: ssl.protocol alone (as ZooKeeper). */
  enabledProtocols: TlsVersion[] | null;
  /** ssl.ciphersuites: IANA (Java) names; OpenSSL takes them as they are. */
  ciphersuites: string[] | null;
  /** ssl.handshakeDetectionTimeoutMillis: how long a TLS handshake may take. */
  handshakeTimeoutMs: number;
}

export type TlsPrefix = "ssl." | "ssl.quorum.";

export interface TlsCfg extends TlsStoresCfg {
  /** null: no TLS listener. */
  secureClientPort: number | null;
  /** null: clientPortAddress's (or all interfaces). */
  secureClientPortAddress: string | null;
  /** client.certReload (ZooKeeper 3.9): take new key and trust store files without a restart. */
  certReload: boolean;
  /** client.portUnification: clientPort takes TLS connections too, with these ssl.* settings. */
  portUnification: boolean;
  /** X509AuthenticationProvider.superUser: the client certificate subject that is also super. */
  x509SuperUser: string | null;
}

export function defaultTlsStoresCfg(prefix: TlsPrefix): TlsStoresCfg {
  return {
    prefix,
    keyStore: { location: null, password: null, type: null },
    trustStore: { location: null, password: null, type: null },
    clientAuth: "need",
    protocol: null,
    enabledProtocols: null,
    ciphersuites: null,
    handshakeTimeoutMs: DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  };
}

export function defaultTlsCfg(): TlsCfg {
  return {
    ...defaultTlsStoresCfg("ssl."),
    secureClientPort: null,
    secureClientPortAddress: null,
    certReload: false,
    portUnification: false,
    x509SuperUser: null,
  };
}

/** The store keys under a prefix (for "did you mean"). */
export function storeKeys(prefix: TlsPrefix): string[] {
  return [
    "keyStore.location", "keyStore.password", "keyStore.type", "trustStore.location", "trustStore.password", "trustStore.type",
    "clientAuth", "protocol", "enabledProtocols", "ciphersuites", "handshakeDetectionTimeoutMillis",
  ].map((key) => prefix + key);
}

/** The TLS keys toward clients zoo_cfg.ts knows (for "did you mean"). */
export const TLS_KEYS: readonly string[] = [
  "secureClientPort", "secureClientPortAddress", ...storeKeys("ssl."), "serverCnxnFactory", "client.certReload", "client.portUnification",
  "X509AuthenticationProvider.superUser",
];

const VERSIONS: readonly TlsVersion[] = ["TLSv1.2", "TLSv1.3"];
/** Key and trust files are small; a bigger one is a mistake (or an attack on startup memory). */
const STORE_BYTES_MAX = 1024 * 1024;
const PEM_BLOCKS_MAX = 200;

/**
 * Reads one TLS key into `tls`; false for any other key. `fail` throws the caller's error (naming
 * file and line); `warn` records a warning.
 */
export function parseTlsKey(tls: TlsCfg, key: string, value: string, fail: (message: string) => never, warn: (message: string) => void): boolean {
  const name = withoutSystemPrefix(key);
  if (name.startsWith("ssl.quorum.")) return false;
  if (parseStoreKey(tls, key, value, fail)) return true;
  switch (name) {
    case "secureClientPort": {
      const port = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(port >= 0 && port <= 65535)) fail(`secureClientPort must be an integer in 0..65535, got ${JSON.stringify(value)}`);
      tls.secureClientPort = port;
      return true;
    }
    case "secureClientPortAddress":
      tls.secureClientPortAddress = nonEmpty(value, key, fail);
      return true;
    case "X509AuthenticationProvider.superUser":
      tls.x509SuperUser = nonEmpty(value, key, fail);
      return true;
    case "client.certReload":
    case "client.portUnification":
      if (value !== "true" && value !== "false") fail(`${key} must be true or false, got ${JSON.stringify(value)}`);
      if (name === "client.certReload") tls.certReload = value === "true";
      else tls.portUnification = value === "true";
      return true;
    case "serverCnxnFactory":
      // ZooKeeper needs its Netty factory for TLS; corral has one kind of connection handling.
      if (!value.endsWith("NettyServerCnxnFactory") && !value.endsWith("NIOServerCnxnFactory")) {
        warn(`serverCnxnFactory=${value} is not one of ZooKeeper's factories; ignored`);
      }
      return true;
    default:
      return false;
  }
}

/** `key` without ZooKeeper's system-property prefix `zookeeper.`. */
export function withoutSystemPrefix(key: string): string {
  return key.startsWith("zookeeper.") ? key.slice("zookeeper.".length) : key;
}

/** Reads one of the keys under `stores.prefix` (ssl.keyStore.location, ...); false for any other key. */
export function parseStoreKey(stores: TlsStoresCfg, key: string, value: string, fail: (message: string) => never): boolean {
  const full = withoutSystemPrefix(key);
  if (!full.startsWith(stores.prefix)) return false;
  const name = full.slice(stores.prefix.length);
  const store = name.startsWith("keyStore.") ? stores.keyStore : name.startsWith("trustStore.") ? stores.trustStore : null;
  if (store !== null) {
    const field = name.slice(name.indexOf(".") + 1);
    if (field === "location") store.location = nonEmpty(value, key, fail);
    else if (field === "password") store.password = value;
    else if (field === "type") store.type = nonEmpty(value, key, fail).toUpperCase();
    else return false;
    return true;
  }
  switch (name) {
    case "clientAuth": {
      const lower = value.toLowerCase();
      if (lower !== "none" && lower !== "want" && lower !== "need") fail(`${key} must be none, want or need, got ${JSON.stringify(value)}`);
      stores.clientAuth = lower as ClientAuth;
      return true;
    }
    case "protocol":
      stores.protocol = version(value, key, fail);
      return true;
    case "enabledProtocols":
      stores.enabledProtocols = list(value).map((item) => version(item, key, fail));
      if (stores.enabledProtocols.length === 0) fail(`${key} is empty; name TLSv1.2 and/or TLSv1.3`);
      return true;
    case "ciphersuites":
      stores.ciphersuites = list(value);
      if (stores.ciphersuites.some((suite) => !/^[A-Za-z0-9_-]{1,100}$/.test(suite))) fail(`${key} must be a comma-separated list of cipher suite names, got ${JSON.stringify(value)}`);
      return true;
    case "handshakeDetectionTimeoutMillis": {
      const ms = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(ms >= 1 && ms <= 600_000)) fail(`${key} must be milliseconds in 1..600000, got ${JSON.stringify(value)}`);
      stores.handshakeTimeoutMs = ms;
      return true;
    }
    default:
      return false;
  }
}

/**
 * The TLS transport's server options from `tls`: reads the key store (PEM: key and certificate chain
 * in one file; PKCS#12) and the trust store (PEM), checks the protocol settings. Every error names
 * the key to fix.
 */
export async function loadTlsServerOptions(tls: TlsStoresCfg, onHandshakeError?: TlsServerOptions["onHandshakeError"]): Promise<TlsServerOptions> {
  const keyStore = tls.keyStore;
  const p = tls.prefix;
  if (keyStore.location === null) {
    const needs = p === "ssl." ? "secureClientPort or client.portUnification is set" : "sslQuorum or portUnification is true";
    throw new Error(`${needs} but ${p}keyStore.location is not: name the PEM file with this server's key and certificate`);
  }
  // As ZooKeeper 3.8: without ssl.enabledProtocols only ssl.protocol is enabled, TLSv1.2 by default
  // (its Java client speaks only that unless told otherwise).
  const versions = tls.enabledProtocols ?? [tls.protocol ?? "TLSv1.2"];
  const sorted = VERSIONS.filter((known) => versions.includes(known));
  const options: TlsServerOptions = {
    clientAuth: tls.clientAuth,
    minVersion: sorted[0]!,
    maxVersion: sorted[sorted.length - 1]!,
    handshakeTimeoutMs: tls.handshakeTimeoutMs,
    handshakesPendingMax: DEFAULT_TLS_HANDSHAKES_PENDING_MAX,
    ...(tls.ciphersuites === null ? {} : { ciphers: tls.ciphersuites.join(":") }),
    ...(onHandshakeError === undefined ? {} : { onHandshakeError }),
  };
  const keyBytes = await readStore(keyStore.location, `${p}keyStore.location`);
  const keyType = storeType(keyStore, `${p}keyStore`);
  if (keyStore.password !== null && keyStore.password !== "") options.passphrase = keyStore.password;
  if (keyType === "PKCS12") {
    options.pfx = keyBytes;
  } else {
    const blocks = pemBlocks(keyBytes, keyStore.location);
    const keys = blocks.filter((block) => block.label.endsWith("PRIVATE KEY"));
    const certs = blocks.filter((block) => block.label === "CERTIFICATE");
    if (keys.length !== 1) throw new Error(`${p}keyStore.location ${keyStore.location} must hold exactly one PEM private key, found ${keys.length}`);
    if (certs.length === 0) throw new Error(`${p}keyStore.location ${keyStore.location} holds no PEM certificate: append the server's certificate (and its chain) to the key`);
    if (keys[0]!.label === "ENCRYPTED PRIVATE KEY" && options.passphrase === undefined) {
      throw new Error(`${p}keyStore.location ${keyStore.location} holds an encrypted key: set ${p}keyStore.password`);
    }
    options.key = keys[0]!.text;
    checkKey(options.key, options.passphrase, keyStore.location, p);
    options.cert = certs.map((block) => block.text).join("\n");
  }
  const trustStore = tls.trustStore;
  if (trustStore.location !== null) {
    if (storeType(trustStore, `${p}trustStore`) !== "PEM") {
      throw new Error(`${p}trustStore.type ${trustStore.type ?? "PKCS12"} is not supported by corral yet: give the CA certificates as a PEM file (${p}trustStore.type=PEM)`);
    }
    const blocks = pemBlocks(await readStore(trustStore.location, `${p}trustStore.location`), trustStore.location);
    const cas = blocks.filter((block) => block.label === "CERTIFICATE");
    if (cas.length === 0) throw new Error(`${p}trustStore.location ${trustStore.location} holds no PEM certificate`);
    // A damaged block (a file caught half written) would otherwise trust nobody, silently.
    for (const [index, block] of cas.entries()) {
      try {
        new X509Certificate(block.text);
      } catch (error) {
        throw new Error(`${p}trustStore.location ${trustStore.location}: certificate ${index + 1} does not parse (${error instanceof Error ? error.message : String(error)})`);
      }
    }
    options.ca = cas.map((block) => block.text);
  } else if (tls.clientAuth !== "none") {
    throw new Error(`${p}clientAuth=${tls.clientAuth} (ZooKeeper's default is need) checks the other side's certificates against ${p}trustStore.location, which is not set: set it to the CA's PEM file, or set ${p}clientAuth=none`);
  }
  return options;
}

/** Decrypts the key once now, so a wrong password stops startup (Deno would fail each handshake instead). */
function checkKey(key: string, passphrase: string | undefined, path: string, p: TlsPrefix): void {
  try {
    createPrivateKey(passphrase === undefined ? { key, format: "pem" } : { key, format: "pem", passphrase });
  } catch (error) {
    const hint = passphrase === undefined ? "" : `; check ${p}keyStore.password`;
    throw new Error(`cannot read the private key in ${p}keyStore.location ${path}: ${error instanceof Error ? error.message : String(error)}${hint}`);
  }
}

function storeType(store: StoreCfg, prefix: string): StoreType {
  const declared = store.type;
  if (declared === "PEM" || declared === "PKCS12") return declared;
  if (declared !== null) throw new Error(`${prefix}.type=${declared} is not supported: use PEM (or PKCS12 for the key store)`);
  const location = (store.location ?? "").toLowerCase();
  if (location.endsWith(".pem") || location.endsWith(".crt") || location.endsWith(".key")) return "PEM";
  if (location.endsWith(".p12") || location.endsWith(".pfx")) return "PKCS12";
  throw new Error(`cannot tell the type of ${prefix}.location ${store.location} from its name: set ${prefix}.type=PEM (or PKCS12)`);
}

async function readStore(path: string, key: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${key} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (bytes.length > STORE_BYTES_MAX) throw new Error(`${key} ${path} is ${bytes.length} bytes; key and certificate files are far smaller (at most ${STORE_BYTES_MAX})`);
  return bytes;
}

interface PemBlock {
  label: string;
  text: string;
}

/** The PEM blocks of a file, in order (anything between them is ignored, as OpenSSL does). */
function pemBlocks(bytes: Uint8Array, path: string): PemBlock[] {
  const text = new TextDecoder().decode(bytes);
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]{1,40})-----[\s\S]*?-----END \1-----/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (blocks.length >= PEM_BLOCKS_MAX) throw new Error(`${path} holds more than ${PEM_BLOCKS_MAX} PEM blocks`);
    blocks.push({ label: match[1]!, text: `${match[0]}\n` });
  }
  if (blocks.length === 0) throw new Error(`${path} holds no PEM block (-----BEGIN ...-----); is it a PKCS#12 or JKS file? Set its type`);
  return blocks;
}

function version(value: string, key: string, fail: (message: string) => never): TlsVersion {
  const trimmed = value.trim();
  // ZooKeeper's "TLS" means the JVM's newest; here that is TLSv1.3.
  if (trimmed === "TLS") return "TLSv1.3";
  if (!(VERSIONS as readonly string[]).includes(trimmed)) fail(`${key}: ${JSON.stringify(trimmed)} is not supported; use TLSv1.2 and/or TLSv1.3`);
  return trimmed as TlsVersion;
}

function list(value: string): string[] {
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

function nonEmpty(value: string, key: string, fail: (message: string) => never): string {
  if (value === "") fail(`${key} is empty`);
  return value;
}
