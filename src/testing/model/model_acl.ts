/**
 * ACLs and identities as the protocol reference describes them (§8): which identity an `auth` packet
 * grants, the fix-up of a create/setACL list, and the permission check. The model's own copy, written
 * from the reference, not from src/core/acl.ts.
 */
import type { ACL, Id } from "../../core/records.ts";
import { base64, sha1 } from "./model_sha1.ts";

export const READ = 1;
export const WRITE = 2;
export const CREATE = 4;
export const DELETE = 8;
export const ADMIN = 16;

export const WORLD_ANYONE: Id = { scheme: "world", id: "anyone" };

/** What the model needs from the server's configuration for ACLs. */
export interface AclConfig {
  /** `zookeeper.DigestAuthenticationProvider.superDigest` ("super:<base64 sha1>"), or null. */
  superDigest: string | null;
}

/** `user:base64(sha1("user:password"))` for digest auth data `user:password` (§8.2). */
export function digestId(auth: string): string {
  const colon = auth.indexOf(":");
  const user = colon < 0 ? auth : auth.slice(0, colon);
  return `${user}:${base64(sha1(new TextEncoder().encode(auth)))}`;
}

/**
 * The identities a successful `auth` packet adds to a connection, or null when the packet fails
 * (unknown scheme). Digest never fails; an `ip` packet adds the connection's own address again.
 */
export function identitiesOfAuth(
  scheme: string,
  auth: Uint8Array | null,
  address: string,
  config: AclConfig,
): Id[] | null {
  if (scheme === "digest") {
    const id = digestId(new TextDecoder().decode(auth ?? new Uint8Array(0)));
    const identities: Id[] = [{ scheme: "digest", id }];
    if (config.superDigest !== null && id === config.superDigest) {
      identities.push({ scheme: "super", id: "" });
    }
    return identities;
  }
  if (scheme === "ip") return [{ scheme: "ip", id: address }];
  return null;
}

/** Schemes whose identities the `auth` ACL pseudo-scheme expands to (not ip, not super). */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === "digest" || scheme === "x509" || scheme === "sasl";
}

/**
 * The ACL list a create/setACL stores (§8.3), or null for INVALIDACL: duplicates dropped (first
 * kept), `auth` expanded into the requester's authenticated identities, every id valid for its
 * scheme.
 */
export function fixupAcl(acl: readonly ACL[] | null, identities: readonly Id[]): ACL[] | null {
  if (acl === null) return null;
  const unique: ACL[] = [];
  for (const entry of acl) {
    if (!unique.some((kept) => sameAcl(kept, entry))) unique.push(entry);
  }
  if (unique.length === 0) return null;
  const out: ACL[] = [];
  for (const entry of unique) {
    const { scheme, id } = entry.id;
    if (scheme === "world") {
      if (id !== "anyone") return null;
      out.push(entry);
    } else if (scheme === "auth") {
      const mine = identities.filter((identity) => isAuthenticatedScheme(identity.scheme));
      if (mine.length === 0) return null;
      for (const identity of mine) {
        out.push({ perms: entry.perms, id: { scheme: identity.scheme, id: identity.id } });
      }
    } else if (scheme === "digest") {
      if (!isValidDigestId(id)) return null;
      out.push(entry);
    } else if (scheme === "ip") {
      if (parseIpv4(id) === null) return null;
      out.push(entry);
    } else {
      return null; // no provider for the scheme (x509 and sasl are not configured)
    }
  }
  return out;
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/** Java's `id.split(":").length == 2`: trailing empty parts are dropped. */
function isValidDigestId(id: string): boolean {
  const parts = id.split(":");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.length === 2;
}

/** An IPv4 ACL id `a.b.c.d[/bits]` as (address, bits), or null when it does not parse. */
function parseIpv4(text: string): { address: number; bits: number } | null {
  const [host, mask, extra] = text.split("/");
  if (extra !== undefined || host === undefined) return null;
  const octets = host.split(".");
  if (octets.length !== 4 || !octets.every((octet) => /^[0-9]{1,3}$/.test(octet) && Number(octet) <= 255)) {
    return null;
  }
  const bits = mask === undefined ? 32 : /^[0-9]{1,2}$/.test(mask) ? Number(mask) : -1;
  if (bits < 0 || bits > 32) return null;
  const address = octets.reduce((value, octet) => value * 256 + Number(octet), 0);
  return { address, bits };
}

function ipMatches(aclId: string, identity: string): boolean {
  const acl = parseIpv4(aclId);
  const client = parseIpv4(identity);
  if (acl === null || client === null) return false;
  const span = 2 ** (32 - acl.bits);
  return Math.floor(acl.address / span) === Math.floor(client.address / span);
}

/** May a connection with `identities` do `perm` on a node whose ACL is `acl` (§8.4)? */
export function isAllowed(acl: readonly ACL[], perm: number, identities: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  if (identities.some((identity) => identity.scheme === "super")) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === "world" && entry.id.id === "anyone") return true;
    for (const identity of identities) {
      if (identity.scheme !== entry.id.scheme) continue;
      if (identity.scheme === "ip" ? ipMatches(entry.id.id, identity.id) : identity.id === entry.id.id) {
        return true;
      }
    }
  }
  return false;
}

/** getACL without ADMIN masks digest ids to `user:x` (§8.4). */
export function maskedAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) => {
    if (entry.id.scheme !== "digest") return entry;
    const colon = entry.id.id.indexOf(":");
    return colon < 0
      ? entry
      : { perms: entry.perms, id: { scheme: "digest", id: entry.id.id.slice(0, colon) + ":x" } };
  });
}
