/**
 * How snapshot nodes are stored: one CBOR array per node instead of a map (field names would
 * repeat a million times), and ACLs written once per snapshot: the first node with a given ACL
 * carries it, later ones carry its index. Nearly every tree uses a handful of ACLs, so this saves
 * space on disk and lets recovered nodes share ACL objects in memory.
 */
import type { ACL } from "../core/records.ts";
import type { SnapshotNode } from "../core/persistence.ts";

type AclTuple = [perms: number, scheme: string, id: string];
export type NodeTuple = [
  path: string,
  data: Uint8Array | null,
  acl: number | AclTuple[],
  czxid: number,
  mzxid: number,
  ctime: number,
  mtime: number,
  version: number,
  cversion: number,
  aversion: number,
  ephemeralOwner: bigint,
  pzxid: number,
];

function aclKey(acl: readonly ACL[]): string {
  return acl.map((entry) => `${entry.perms}\u0000${entry.id.scheme}\u0000${entry.id.id}`).join("\u0001");
}

/** Encodes nodes of one snapshot in order; ACL numbering spans the whole snapshot. */
export class NodeTupleEncoder {
  readonly #byObject = new WeakMap<readonly ACL[], number>();
  readonly #byKey = new Map<string, number>();

  encode(node: SnapshotNode): NodeTuple {
    return [
      node.path,
      node.data,
      this.#acl(node.acl),
      node.czxid,
      node.mzxid,
      node.ctime,
      node.mtime,
      node.version,
      node.cversion,
      node.aversion,
      node.ephemeralOwner,
      node.pzxid,
    ];
  }

  #acl(acl: readonly ACL[]): number | AclTuple[] {
    const known = this.#byObject.get(acl);
    if (known !== undefined) return known;
    const key = aclKey(acl);
    const index = this.#byKey.get(key);
    if (index !== undefined) {
      this.#byObject.set(acl, index);
      return index;
    }
    const next = this.#byKey.size;
    this.#byKey.set(key, next);
    this.#byObject.set(acl, next);
    return acl.map((entry): AclTuple => [entry.perms, entry.id.scheme, entry.id.id]);
  }
}

/** Decodes the node tuples of one snapshot in order. Throws on a malformed tuple. */
export class NodeTupleDecoder {
  readonly #acls: ACL[][] = [];

  decode(value: unknown): SnapshotNode {
    if (!Array.isArray(value) || value.length !== 12) throw new Error("snapshot node is not a 12-tuple");
    const tuple = value as NodeTuple;
    if (typeof tuple[0] !== "string" || typeof tuple[10] !== "bigint") {
      throw new Error("snapshot node has a malformed path or ephemeralOwner");
    }
    return {
      path: tuple[0],
      data: tuple[1],
      acl: this.#acl(tuple[2]),
      czxid: tuple[3],
      mzxid: tuple[4],
      ctime: tuple[5],
      mtime: tuple[6],
      version: tuple[7],
      cversion: tuple[8],
      aversion: tuple[9],
      ephemeralOwner: tuple[10],
      pzxid: tuple[11],
    };
  }

  #acl(value: number | AclTuple[]): ACL[] {
    if (typeof value === "number") {
      const acl = this.#acls[value];
      if (acl === undefined) throw new Error(`snapshot node refers to unknown ACL #${value}`);
      return acl;
    }
    const acl = value.map(([perms, scheme, id]): ACL => ({ perms, id: { scheme, id } }));
    this.#acls.push(acl);
    return acl;
  }
}
