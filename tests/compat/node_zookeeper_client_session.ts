/**
 * Promise wrappers around node-zookeeper-client (CommonJS, callbacks) for the compat test. Errors
 * come back as the library's exception names ("NO_NODE"), so tests compare names, not messages.
 */
import { Buffer } from "node:buffer";
import zookeeper from "node-zookeeper-client";

/** The library's Stat: longs are 8-byte Buffers, the rest numbers. */
export interface NzcStat {
  czxid: Uint8Array;
  mzxid: Uint8Array;
  pzxid: Uint8Array;
  ctime: Uint8Array;
  mtime: Uint8Array;
  ephemeralOwner: Uint8Array;
  version: number;
  cversion: number;
  aversion: number;
  dataLength: number;
  numChildren: number;
}

export interface NzcEvent {
  getName(): string;
  getPath(): string;
}

export interface NzcAcl {
  permission: number;
  id: { scheme: string; id: string };
}

export interface NzcResult {
  type: number;
  path?: string;
  stat?: NzcStat;
  err?: number;
}

type Callback = (error: Error | null, ...values: unknown[]) => void;

interface NzcTransaction {
  create(path: string, data?: Uint8Array, acls?: unknown[], mode?: number): NzcTransaction;
  setData(path: string, data: Uint8Array | null, version?: number): NzcTransaction;
  check(path: string, version?: number): NzcTransaction;
  remove(path: string, version?: number): NzcTransaction;
  commit(callback: Callback): void;
}

interface NzcClient {
  connect(): void;
  close(): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  getSessionId(): Uint8Array;
  addAuthInfo(scheme: string, auth: Uint8Array): void;
  transaction(): NzcTransaction;
  [method: string]: unknown;
}

/** The slice of the library's exports this test uses (it ships no types; runtimes infer different ones). */
interface NzcLibrary {
  createClient(
    connectString: string,
    options: { sessionTimeout: number; spinDelay: number; retries: number },
  ): NzcClient;
  ACL: new (perms: number, id: unknown) => unknown;
  Id: new (scheme: string, id: string) => unknown;
  CreateMode: {
    PERSISTENT: number;
    EPHEMERAL: number;
    PERSISTENT_SEQUENTIAL: number;
    EPHEMERAL_SEQUENTIAL: number;
  };
}

const library = zookeeper as unknown as NzcLibrary;

export const CreateMode = library.CreateMode;

/** Builds the library's ACL objects: `acl(perms, scheme, id)`. */
export function acl(perms: number, scheme: string, id: string): unknown {
  return new library.ACL(perms, new library.Id(scheme, id));
}

export class NzcSession {
  readonly #client: NzcClient;

  private constructor(client: NzcClient) {
    this.#client = client;
  }

  /** Connects (no retries) and resolves once the session is established; rejects after `timeoutMs`. */
  static connect(
    connectString: string,
    options: { auth?: string; timeoutMs?: number } = {},
  ): Promise<NzcSession> {
    const client = library.createClient(connectString, {
      sessionTimeout: 10_000,
      spinDelay: 100,
      retries: 0,
    });
    if (options.auth !== undefined) client.addAuthInfo("digest", Buffer.from(options.auth));
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new Error(`node-zookeeper-client: no session with ${connectString} within ${timeoutMs} ms`));
      }, timeoutMs);
      client.once("connected", () => {
        clearTimeout(timer);
        resolve(new NzcSession(client));
      });
      client.once("authenticationFailed", () => {
        clearTimeout(timer);
        client.close();
        reject(new Error("node-zookeeper-client: authentication failed"));
      });
      client.connect();
    });
  }

  sessionId(): Uint8Array {
    return this.#client.getSessionId();
  }

  addAuth(credential: string): void {
    this.#client.addAuthInfo("digest", Buffer.from(credential));
  }

  /** Closes the session (closeSession) and waits until the client reports it is disconnected. */
  close(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`node-zookeeper-client: close took over ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#client.once("disconnected", () => {
        clearTimeout(timer);
        resolve();
      });
      this.#client.close();
    });
  }

  create(
    path: string,
    options: { data?: Uint8Array; acls?: unknown[]; mode?: number } = {},
  ): Promise<string> {
    const args: unknown[] = [path];
    // The library checks Buffer.isBuffer, so plain Uint8Arrays must be wrapped.
    if (options.data !== undefined) args.push(Buffer.from(options.data));
    if (options.acls !== undefined) args.push(options.acls);
    if (options.mode !== undefined) args.push(options.mode);
    return this.#call<[string]>("create", args).then(([created]) => created);
  }

  remove(path: string, version = -1): Promise<void> {
    return this.#call("remove", [path, version]).then(() => undefined);
  }

  exists(path: string, watcher?: (event: NzcEvent) => void): Promise<NzcStat | null> {
    return this.#call<[NzcStat | null]>("exists", watcher ? [path, watcher] : [path]).then(([stat]) =>
      stat ?? null
    );
  }

  getData(
    path: string,
    watcher?: (event: NzcEvent) => void,
  ): Promise<{ data: Uint8Array | null; stat: NzcStat }> {
    return this.#call<[Uint8Array | null, NzcStat]>("getData", watcher ? [path, watcher] : [path])
      .then(([data, stat]) => ({ data: data ?? null, stat }));
  }

  setData(path: string, data: Uint8Array | null, version = -1): Promise<NzcStat> {
    return this.#call<[NzcStat]>("setData", [path, data === null ? null : Buffer.from(data), version]).then((
      [stat],
    ) => stat);
  }

  getChildren(
    path: string,
    watcher?: (event: NzcEvent) => void,
  ): Promise<{ children: string[]; stat: NzcStat }> {
    return this.#call<[string[], NzcStat]>("getChildren", watcher ? [path, watcher] : [path])
      .then(([children, stat]) => ({ children, stat }));
  }

  getACL(path: string): Promise<{ acls: NzcAcl[]; stat: NzcStat }> {
    return this.#call<[NzcAcl[], NzcStat]>("getACL", [path]).then(([acls, stat]) => ({ acls, stat }));
  }

  setACL(path: string, acls: unknown[], version = -1): Promise<NzcStat> {
    return this.#call<[NzcStat]>("setACL", [path, acls, version]).then(([stat]) => stat);
  }

  /** Runs a transaction; resolves with the error name (or "ok") and the raw results. */
  commit(
    build: (transaction: NzcTransaction) => NzcTransaction,
  ): Promise<{ error: string; results: NzcResult[] }> {
    return new Promise((resolve) => {
      build(this.#client.transaction()).commit((error, results) => {
        resolve({
          error: error === null || error === undefined ? "ok" : error.name,
          results: (results ?? []) as NzcResult[],
        });
      });
    });
  }

  #call<T extends unknown[]>(method: string, args: unknown[]): Promise<T> {
    const fn = this.#client[method] as (...args: unknown[]) => void;
    return new Promise((resolve, reject) => {
      fn.call(this.#client, ...args, (error: Error | null, ...values: unknown[]) => {
        if (error) reject(error);
        else resolve(values as T);
      });
    });
  }
}

/** "ok", or the library's exception name ("NO_NODE") for a rejected call. */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

/** The deterministic part of a stat. */
export function statView(stat: NzcStat): Record<string, number | boolean> {
  return {
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    ephemeral: stat.ephemeralOwner.some((byte) => byte !== 0),
  };
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}
