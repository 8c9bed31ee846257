/** The differential test's identities and named ACL lists. */
import { createHash } from "node:crypto";
import type { Acl } from "./raw_client.ts";
import type { AclName, SessionName } from "./generator.ts";

const perm = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;

/** Which digest identity each session authenticates as (s3 stays anonymous). */
export const sessionCredentials: Readonly<Record<SessionName, string | null>> = {
  s1: "alice:pw-a",
  s2: "bob:pw-b",
  s3: null,
};

/** ZooKeeper's digest ACL id for "user:password": user:base64(sha1("user:password")). */
export function digestId(credential: string): string {
  const user = credential.split(":")[0];
  return `${user}:${createHash("sha1").update(credential).digest("base64")}`;
}

export function aclList(name: AclName): Acl[] {
  const world = (perms: number): Acl => ({ perms, scheme: "world", id: "anyone" });
  switch (name) {
    case "open":
      return [world(perm.all)];
    case "read":
      return [world(perm.read)];
    case "readCreate":
      return [world(perm.read | perm.create)];
    case "alice":
      return [world(perm.read), { perms: perm.all, scheme: "digest", id: digestId(sessionCredentials.s1!) }];
    case "bob":
      return [world(perm.read | perm.write), {
        perms: perm.all,
        scheme: "digest",
        id: digestId(sessionCredentials.s2!),
      }];
    case "authAll":
      // Expands to the creator's digest identity; INVALIDACL for the anonymous session.
      return [world(perm.read), { perms: perm.all, scheme: "auth", id: "" }];
    case "badWorld":
      return [{ perms: perm.all, scheme: "world", id: "someone" }];
    case "empty":
      return [];
  }
}
