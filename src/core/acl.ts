/**
 * ACL rules: which identities an `auth` packet grants, which ACL lists are valid (and how the `auth`
 * pseudo-scheme expands), and the permission check itself. Schemes are ZooKeeper's defaults: world,
 * auth, digest, ip, sasl (identities from the SASL exchange, sasl_exchange.ts), and the super identity
 * from a configured super digest or SASL super user.
 */
import { Code, KeeperCodeError } from "./errors.ts";
import type { ACL, Id } from "./records.ts";
import { Perms } from "./records.ts";
import { base64, sha1 } from "./sha1.ts";

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.ALL, id: { scheme: "world", id: "anyone" } },
]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([
  { perms: Perms.READ, id: { scheme: "world", id: "anyone" } },
]);

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** "user:password" → "user:base64(sha1(user:password))" (DigestAuthenticationProvider.generateDigest). */
export function digestOf(credentials: string): string {
  const colon = credentials.indexOf(":");
  const user = colon < 0 ? credentials : credentials.substring(0, colon);
  return user + ":" + base64(sha1(utf8.encode(credentials)));
}

/**
 * Identities granted by an `auth` packet, or null when the scheme is unknown (the server then answers
 * AUTHFAILED and closes the connection). Digest never fails, whatever the bytes.
 */
export function authenticate(
  scheme: string,
  auth: Uint8Array | null,
  context: { remoteAddress: string; superDigest: string | null },
): Id[] | null {
  if (scheme === "digest") {
    const digest = digestOf(utf8Decoder.decode(auth ?? new Uint8Array(0)));
    const granted: Id[] = [];
    if (context.superDigest !== null && digest === context.superDigest) granted.push({ scheme: "super", id: "" });
    granted.push({ scheme: "digest", id: digest });
    return granted;
  }
  if (scheme === "ip") return [{ scheme: "ip", id: context.remoteAddress }];
  return null;
}

/** Whether an identity of this scheme counts for the `auth` pseudo-scheme (isAuthenticated). */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === "digest" || scheme === "sasl" || scheme === "x509";
}

/** Java's String.split(":") part count: trailing empty parts are dropped. */
function javaSplitCount(text: string, separator: string): number {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.length;
}

function isValidId(scheme: string, id: string, saslEnabled: boolean, x509Enabled: boolean): boolean {
  if (scheme === "digest") return javaSplitCount(id, ":") === 2;
  if (scheme === "ip") return parseIpAcl(id) !== null;
  // A scheme without a provider is invalid, as ZooKeeper's: sasl has one only when SASL is configured,
  // x509 (any id: X509AuthenticationProvider.isValid) only when TLS clients present certificates.
  if (scheme === "sasl") return saslEnabled && isKerberosName(id);
  if (scheme === "x509") return x509Enabled;
  return false;
}

/**
 * Validates an ACL list for create/setACL and expands `auth` entries into the caller's identities
 * (PrepRequestProcessor.fixupACL). Throws INVALIDACL.
 */
export function fixupAcl(acl: readonly ACL[] | null, identities: readonly Id[], saslEnabled = false, x509Enabled = false): ACL[] {
  if (acl === null || acl.length === 0) throw new KeeperCodeError(Code.INVALIDACL, "empty ACL list");
  const unique: ACL[] = [];
  for (const entry of acl) {
    if (!unique.some((u) => sameAcl(u, entry))) unique.push(entry);
  }
  const fixed: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") {
      fixed.push(entry);
    } else if (scheme === "auth") {
      const authenticated = identities.filter((identity) => isAuthenticatedScheme(identity.scheme));
      if (authenticated.length === 0) {
        throw new KeeperCodeError(Code.INVALIDACL, "auth ACL but the connection has no authenticated identity");
      }
      for (const identity of authenticated) fixed.push({ perms: entry.perms, id: { ...identity } });
    } else if (isValidId(scheme, id, saslEnabled, x509Enabled)) {
      fixed.push(entry);
    } else {
      throw new KeeperCodeError(Code.INVALIDACL, `invalid ACL id ${scheme}:${id}`);
    }
  }
  return fixed;
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** ZooKeeper's permission check (ZooKeeperServer.checkACL) minus skipACL. */
/**
 * The user an identity names, as ZooKeeper's providers' getUserName: a digest id's user (before the
 * colon), nothing for super, the id itself otherwise. whoAmI and the audit log show it.
 */
export function userNameOf(identity: Id): string {
  if (identity.scheme === "super") return "";
  if (identity.scheme !== "digest") return identity.id;
  const colon = identity.id.indexOf(":");
  return colon < 0 ? identity.id : identity.id.substring(0, colon);
}

/**
 * A connection's identities in the order ZooKeeper lists them (whoAmI, the audit log's user): it
 * keeps them in a ConcurrentHashMap-backed set, so the order is that of the hash table's bins —
 * Java's Id.hashCode spread over 16 bins (32 from 12 identities on, and so on) — and the order of
 * arrival within a bin. (Past a resize Java may reorder a bin; with that many identities the order
 * here is the arrival order within each bin.)
 */
export function inZooKeeperOrder(identities: readonly Id[]): Id[] {
  let bins = 16;
  while (identities.length >= bins * 0.75) bins *= 2;
  const binOf = (identity: Id) => {
    const hash = javaIdHash(identity);
    return ((hash ^ (hash >>> 16)) & 0x7fffffff) & (bins - 1);
  };
  return identities.map((identity, index) => ({ identity, index, bin: binOf(identity) }))
    .sort((a, b) => a.bin - b.bin || a.index - b.index)
    .map(({ identity }) => identity);
}

/** The jute-generated Id.hashCode: 37 × (37 × 17 + scheme.hashCode()) + id.hashCode(), in 32 bits. */
function javaIdHash(identity: Id): number {
  let hash = 17;
  hash = (Math.imul(37, hash) + javaStringHash(identity.scheme)) | 0;
  return (Math.imul(37, hash) + javaStringHash(identity.id)) | 0;
}

function javaStringHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

export function isAllowed(acl: readonly ACL[], perm: number, identities: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  for (const identity of identities) if (identity.scheme === "super") return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") return true;
    for (const identity of identities) {
      if (identity.scheme === scheme && identityMatches(scheme, identity.id, id)) return true;
    }
  }
  return false;
}

export function checkAllowed(acl: readonly ACL[], perm: number, identities: readonly Id[], path: string): void {
  if (!isAllowed(acl, perm, identities)) throw new KeeperCodeError(Code.NOAUTH, path);
}

function identityMatches(scheme: string, identity: string, aclId: string): boolean {
  if (scheme === "ip") return ipMatches(identity, aclId);
  // SASLAuthenticationProvider.matches: a SASL user named "super" matches every sasl entry.
  if (scheme === "sasl") return identity === "super" || identity === aclId;
  return identity === aclId;
}

/**
 * SASLAuthenticationProvider.isValid: the id must parse as a Kerberos principal
 * (`service[/host]@REALM`, or any name without "@").
 */
function isKerberosName(id: string): boolean {
  return !id.includes("@") || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id);
}

/** getACL without ADMIN shows digest ids as "user:x". */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => {
    if (entry.id.scheme !== "digest") return entry;
    const colon = entry.id.id.indexOf(":");
    const user = colon < 0 ? entry.id.id : entry.id.id.substring(0, colon);
    return { perms: entry.perms, id: { scheme: "digest", id: user + ":x" } };
  });
}

interface IpAcl {
  address: number;
  bits: number;
}

/** "a.b.c.d" or "a.b.c.d/bits" (IPv4 only, as ZooKeeper 3.8). */
function parseIpAcl(text: string): IpAcl | null {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.substring(0, slash);
  const address = parseIpv4(addressText);
  if (address === null) return null;
  let bits = 32;
  if (slash >= 0) {
    const bitsText = text.substring(slash + 1);
    if (!/^[0-9]{1,2}$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > 32) return null;
  }
  return { address, bits };
}

function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

function ipMatches(clientAddress: string, aclId: string): boolean {
  const acl = parseIpAcl(aclId);
  const client = parseIpv4(clientAddress.startsWith("::ffff:") ? clientAddress.substring(7) : clientAddress);
  if (acl === null || client === null) return false;
  if (acl.bits === 0) return true;
  const shift = 32 - acl.bits;
  return Math.floor(acl.address / 2 ** shift) === Math.floor(client / 2 ** shift);
}
