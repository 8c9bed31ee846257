/**
 * What simulated clients ask for: a random mix of creates (persistent, ephemeral, sequential),
 * setData, delete, multi, reads with and without watches, and sync followed by a read, over a small
 * key space so that clients collide. Data names its writer, which makes failures easier to read.
 */
import type { ACL, MultiWriteOp, Request } from "../core/records.ts";
import type { Prng } from "./prng.ts";
import { chance, pick } from "./sim_random.ts";

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const utf8 = new TextEncoder();

export interface WorkloadOptions {
  /** Top-level keys /k0 … /k(keys-1); each may have children c0 … c(children-1). */
  keys: number;
  children: number;
  /** Chance a read asks for a watch. */
  watchRate: number;
  /** Chance an operation is a closeSession (the client then starts a new session). */
  closeSessionRate: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = { keys: 4, children: 3, watchRate: 0.5, closeSessionRate: 0.002 };

/** Picks the next operations for one client (usually one; a sync comes with the read after it). */
export class Workload {
  readonly #prng: Prng;
  readonly #options: WorkloadOptions;
  readonly #client: number;
  #written = 0;

  constructor(prng: Prng, options: { client: number; workload: WorkloadOptions }) {
    this.#prng = prng;
    this.#options = options.workload;
    this.#client = options.client;
  }

  next(): Request[] {
    const prng = this.#prng;
    if (chance(prng, this.#options.closeSessionRate)) return [{ kind: "closeSession" }];
    const roll = prng.int(100);
    if (roll < 14) return [this.#create(this.#anyPath(), 0)];
    if (roll < 22) return [this.#create(this.#ephemeralPath(), 1)];
    if (roll < 27) return [this.#create(`${this.#key()}/s-`, chance(prng, 0.5) ? 2 : 3)];
    if (roll < 42) return [{ kind: "setData", path: this.#anyPath(), data: this.#data(), version: this.#version() }];
    if (roll < 50) return [{ kind: "delete", path: this.#deletable(), version: this.#version() }];
    if (roll < 62) return [this.#read("getData")];
    if (roll < 72) return [this.#read("exists")];
    if (roll < 80) return [this.#read(chance(prng, 0.5) ? "getChildren" : "getChildren2")];
    if (roll < 90) return [this.#multi()];
    const path = this.#anyPath();
    return [{ kind: "sync", path }, { kind: "getData", path, watch: chance(prng, this.#options.watchRate) }];
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

  #create(path: string, flags: number): Request {
    return { kind: chance(this.#prng, 0.3) ? "create2" : "create", path, data: this.#data(), acl: OPEN_ACL, flags, ttl: 0n };
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
          ops.push({ kind: "create", path, data: this.#data(), acl: OPEN_ACL, flags: pick(prng, [0, 0, 1, 2]), ttl: 0n });
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
