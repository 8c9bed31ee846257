/**
 * What simulated clients ask for: a random mix of creates (persistent, ephemeral, sequential),
 * setData, delete, multi, reads with and without watches, and sync followed by a read, over a small
 * key space so that clients collide. Data names its writer, which makes failures easier to read.
 *
 * A seed also switches optional request kinds on or off (swarm, see WorkloadFeatures): digest auth
 * per client (sent again on every new connection, as ZooKeeper's client does), ACL'd nodes (digest,
 * ip, the `auth` pseudo-scheme, read-only, invalid lists), setACL/getACL, containers, TTL nodes,
 * multiRead, getAllChildrenNumber/getEphemerals, and a sync before reads. The model checker
 * (src/testing/checkers/model_checker.ts) judges every one of them.
 */
import type { ACL, CreateKind, MultiWriteOp, PathWatchRequest, Request } from "../core/records.ts";
import { digestId } from "./model/model_acl.ts";
import type { Prng } from "./prng.ts";
import { chance, pick } from "./sim_random.ts";

const WORLD = { scheme: "world", id: "anyone" } as const;
const OPEN_ACL: ACL[] = [{ perms: 31, id: WORLD }];
const utf8 = new TextEncoder();

/** CreateMode flags (ZooDefs): persistent/ephemeral, sequential, container, TTL. */
const PERSISTENT_TTL = 5;
const PERSISTENT_SEQUENTIAL_TTL = 6;
const CONTAINER = 4;

/** Optional request kinds a seed's clients use. */
export interface WorkloadFeatures {
  /** Each client authenticates (digest `u<n>:pw<n>`) on every connection. */
  auth: boolean;
  /** How many digest users the clients share (client n is user 1 + n mod users). */
  users: number;
  /** Creates and setACL with non-open ACLs; getACL reads. */
  acls: boolean;
  /** createContainer at key paths (the reaper deletes them once emptied). */
  containers: boolean;
  /** createTTL (answered UNIMPLEMENTED unless the server has extendedTypesEnabled). */
  ttl: boolean;
  /**
   * createTTL also with a non-TTL mode (BADARGUMENTS). Drawn for a quarter of the seeds only while
   * Corral answers UNIMPLEMENTED there when TTL is disabled (SIM-9 in ci_campaign.ts).
   */
  ttlBadModes: boolean;
  multiRead: boolean;
  /** getAllChildrenNumber and getEphemerals. */
  counts: boolean;
  /** Chance a read is preceded by a sync of its path. */
  syncReadRate: number;
  /** Client 1 also authenticates as `super` (a superuser when the server has a super digest). */
  superUser: boolean;
}

export const NO_FEATURES: WorkloadFeatures = {
  auth: false,
  users: 1,
  acls: false,
  containers: false,
  ttl: false,
  ttlBadModes: false,
  multiRead: false,
  counts: false,
  syncReadRate: 0,
  superUser: false,
};

export interface WorkloadOptions {
  /** Top-level keys /k0 … /k(keys-1); each may have children c0 … c(children-1). */
  keys: number;
  children: number;
  /** Chance a read asks for a watch. */
  watchRate: number;
  /** Chance an operation is a closeSession (the client then starts a new session). */
  closeSessionRate: number;
  features: WorkloadFeatures;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  keys: 4,
  children: 3,
  watchRate: 0.5,
  closeSessionRate: 0.002,
  features: NO_FEATURES,
};

/** The digest credentials of user `n` ("u<n>:pw<n>"). */
export function userCredentials(n: number): string {
  return `u${n}:pw${n}`;
}

/** Picks the next operations for one client (usually one; a sync comes with the read after it). */
export class Workload {
  readonly #prng: Prng;
  readonly #options: WorkloadOptions;
  readonly #features: WorkloadFeatures;
  readonly #client: number;
  /** This client's digest user, and the id an ACL names it by. */
  readonly #user: number;
  #written = 0;

  constructor(prng: Prng, options: { client: number; workload: WorkloadOptions }) {
    this.#prng = prng;
    this.#options = options.workload;
    this.#features = options.workload.features ?? NO_FEATURES;
    this.#client = options.client;
    this.#user = 1 + (options.client % Math.max(1, this.#features.users));
  }

  /** What a new connection sends before anything else (ZooKeeper's client re-sends its auth). */
  onConnect(): Request[] {
    const features = this.#features;
    const requests: Request[] = [];
    if (features.auth) requests.push(digestAuth(userCredentials(this.#user)));
    if (features.superUser && this.#client === 1) requests.push(digestAuth("super:sim-super"));
    return requests;
  }

  next(): Request[] {
    const prng = this.#prng;
    const features = this.#features;
    if (chance(prng, this.#options.closeSessionRate)) return [{ kind: "closeSession" }];
    // Optional kinds take a slice of the draws when on; the basic mix keeps its proportions.
    if (features.acls && chance(prng, 0.08)) return [this.#aclOp()];
    if (features.containers && chance(prng, 0.06)) return [this.#create(this.#key(), CONTAINER, "createContainer")];
    if (features.ttl && chance(prng, 0.06)) return [this.#ttlCreate()];
    if (features.multiRead && chance(prng, 0.05)) return this.#withSync(this.#multiRead());
    if (features.counts && chance(prng, 0.05)) return this.#withSync(this.#count());
    const roll = prng.int(100);
    if (roll < 14) return [this.#create(this.#anyPath(), 0)];
    if (roll < 22) return [this.#create(this.#ephemeralPath(), 1)];
    if (roll < 27) return [this.#create(`${this.#key()}/s-`, chance(prng, 0.5) ? 2 : 3)];
    if (roll < 42) return [{ kind: "setData", path: this.#anyPath(), data: this.#data(), version: this.#version() }];
    if (roll < 50) return [{ kind: "delete", path: this.#deletable(), version: this.#version() }];
    if (roll < 62) return this.#withSync(this.#read("getData"));
    if (roll < 72) return this.#withSync(this.#read("exists"));
    if (roll < 80) return this.#withSync(this.#read(chance(prng, 0.5) ? "getChildren" : "getChildren2"));
    if (roll < 90) return [this.#multi()];
    const path = this.#anyPath();
    return [{ kind: "sync", path }, { kind: "getData", path, watch: chance(prng, this.#options.watchRate) }];
  }

  /** A read, preceded by a sync of its path at the seed's sync rate. */
  #withSync(read: Request): Request[] {
    if (!chance(this.#prng, this.#features.syncReadRate)) return [read];
    const path = "path" in read ? read.path : "/";
    return [{ kind: "sync", path }, read];
  }

  #key(): string {
    return `/k${this.#prng.int(this.#options.keys)}`;
  }

  #anyPath(): string {
    const key = this.#key();
    return chance(this.#prng, 0.4) ? key : `${key}/c${this.#prng.int(this.#options.children)}`;
  }

  #ephemeralPath(): string {
    return chance(this.#prng, 0.5) ? `/e${this.#prng.int(this.#options.keys)}` : `${this.#key()}/e${this.#prng.int(2)}`;
  }

  #deletable(): string {
    return chance(this.#prng, 0.25) ? this.#ephemeralPath() : this.#anyPath();
  }

  #version(): number {
    return chance(this.#prng, 0.7) ? -1 : this.#prng.int(4);
  }

  #data(): Uint8Array {
    return utf8.encode(`c${this.#client}#${++this.#written}`);
  }

  /** The ACL of a new node: open, or (with the acls feature, sometimes) a drawn one. */
  #acl(): ACL[] {
    return this.#features.acls && chance(this.#prng, 0.3) ? this.#drawnAcl() : OPEN_ACL;
  }

  /**
   * ACL lists of every shape the server must handle: the creator's identities through `auth`, a
   * digest user (this one or another) with some permissions, read-only for the world, the clients'
   * ip, and lists ZooKeeper refuses (empty, a malformed digest id, an unknown scheme).
   */
  #drawnAcl(): ACL[] {
    const prng = this.#prng;
    const user = 1 + prng.int(Math.max(1, this.#features.users));
    const digest = { scheme: "digest", id: digestId(userCredentials(user)) };
    const perms = () => 1 + prng.int(31);
    switch (prng.int(9)) {
      case 0:
      case 1:
        return [{ perms: 31, id: { scheme: "auth", id: "" } }];
      case 2:
        return [{ perms: perms(), id: digest }];
      case 3:
        return [{ perms: 1, id: WORLD }, { perms: 31, id: digest }];
      case 4:
        return [{ perms: 31, id: { scheme: "ip", id: chance(prng, 0.5) ? "10.0.0.1" : "10.0.0.0/8" } }];
      case 5:
        return [{ perms: perms(), id: WORLD }, { perms: 31, id: { scheme: "auth", id: "" } }];
      case 6:
        return [{ perms: 31, id: { scheme: "ip", id: "192.168.1.1" } }, { perms: 1, id: WORLD }];
      case 7:
        return pick(prng, [[], [{ perms: 31, id: { scheme: "digest", id: "nocolon" } }], [{ perms: 31, id: { scheme: "x509", id: "CN=x" } }]]);
      default:
        return OPEN_ACL;
    }
  }

  #create(path: string, flags: number, kind?: CreateKind): Request {
    return {
      kind: kind ?? (chance(this.#prng, 0.3) ? "create2" : "create"),
      path,
      data: this.#data(),
      acl: this.#acl(),
      flags,
      ttl: 0n,
    };
  }

  /** createTTL: usually valid (a persistent TTL node, maybe sequential), sometimes a bad ttl or mode. */
  #ttlCreate(): Request {
    const prng = this.#prng;
    const roll = prng.int(10);
    const flags = roll === 9 && this.#features.ttlBadModes ? 1 : chance(prng, 0.7) ? PERSISTENT_TTL : PERSISTENT_SEQUENTIAL_TTL;
    const ttl = roll === 8 ? 0n : BigInt(1 + prng.int(3_000));
    const path = flags === PERSISTENT_SEQUENTIAL_TTL ? `${this.#key()}/t-` : this.#anyPath();
    return { kind: "createTTL", path, data: this.#data(), acl: this.#acl(), flags, ttl };
  }

  #aclOp(): Request {
    const prng = this.#prng;
    const path = this.#anyPath();
    if (chance(prng, 0.5)) return { kind: "getACL", path };
    // setACL back to open often, so that locked nodes do not stay locked for the whole run.
    const acl = chance(prng, 0.4) ? OPEN_ACL : this.#drawnAcl();
    return { kind: "setACL", path, acl, version: this.#version() };
  }

  #multiRead(): Request {
    const prng = this.#prng;
    const ops: PathWatchRequest[] = [];
    for (let i = 1 + prng.int(3); i > 0; i--) {
      ops.push(chance(prng, 0.5)
        ? { kind: "getData", path: this.#anyPath(), watch: false }
        : { kind: "getChildren", path: chance(prng, 0.3) ? "/" : this.#key(), watch: false });
    }
    return { kind: "multiRead", ops };
  }

  #count(): Request {
    const prng = this.#prng;
    if (chance(prng, 0.5)) return { kind: "getAllChildrenNumber", path: chance(prng, 0.3) ? "/" : this.#key() };
    return { kind: "getEphemerals", prefixPath: pick(prng, ["/", "/e", this.#key()]) };
  }

  #read(kind: "getData" | "exists" | "getChildren" | "getChildren2"): Request {
    const path = kind === "getChildren" || kind === "getChildren2"
      ? (chance(this.#prng, 0.3) ? "/" : this.#key())
      : (chance(this.#prng, 0.2) ? this.#ephemeralPath() : this.#anyPath());
    return { kind, path, watch: chance(this.#prng, this.#options.watchRate) };
  }

  #multi(): Request {
    const prng = this.#prng;
    const ops: MultiWriteOp[] = [];
    const count = 1 + prng.int(3);
    for (let i = 0; i < count; i++) {
      const path = this.#anyPath();
      switch (prng.int(4)) {
        case 0:
          ops.push({ kind: "create", path, data: this.#data(), acl: this.#acl(), flags: pick(prng, [0, 0, 1, 2]), ttl: 0n });
          break;
        case 1:
          ops.push({ kind: "setData", path, data: this.#data(), version: this.#version() });
          break;
        case 2:
          ops.push({ kind: "check", path, version: this.#version() });
          break;
        default:
          ops.push({ kind: "delete", path, version: -1 });
      }
    }
    return { kind: "multi", ops };
  }
}

function digestAuth(credentials: string): Request {
  return { kind: "auth", type: 0, scheme: "digest", auth: utf8.encode(credentials) };
}
