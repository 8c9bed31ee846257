/**
 * Corral's ZooKeeper client: a promise API over SessionMachine (pure) and SessionShell (sockets and
 * timers). Works against Apache ZooKeeper 3.5+ and Corral.
 *
 *   const client = await Client.connect("127.0.0.1:2181/app", { sessionTimeoutMs: 10_000 });
 *   await client.create("/config", "v1");
 *   const { data, stat } = await client.getData("/config", { watch: (event) => console.log(event) });
 *   await client.close();
 *
 * Semantics worth knowing:
 * - Requests are pipelined and answered in the order they were made (ZooKeeper's FIFO guarantee).
 *   Requests made together (in one synchronous stretch, or by continuations one chunk of replies
 *   resumed) share one socket write, made in a microtask: never delayed by a timer.
 * - On a lost connection, every request queued or in flight rejects with KeeperError CONNECTIONLOSS
 *   (it may or may not have been applied); the client reconnects by itself, keeping the session,
 *   its ephemerals and its watches. Requests made while disconnected wait for the next connection
 *   attempt and fail with CONNECTIONLOSS if that attempt fails.
 * - Every call that waits accepts `{ signal }`: aborting rejects with the signal's reason at once; a
 *   request already sent may still be applied by the server.
 * - At most `maxOutstanding` requests are pending; further calls wait (FIFO) for a free slot.
 * - Watch listeners also receive connection state events (type "None"), as in ZooKeeper.
 */
import { Code } from "../core/errors.ts";
import { type ACL, AddWatchMode, type ClientInfo, type Stat } from "../core/records.ts";
import type { Transport } from "../transport/transport.ts";
import { asyncDispose } from "./async_dispose.ts";
import { Chroot } from "./chroot.ts";
import type {
  CallOptions,
  ClientOptions,
  CreateOptions,
  RemoveWatchesOptions,
  SaslOptions,
  StreamOptions,
  VersionOptions,
  WatchOptions,
} from "./client_options.ts";
import type { SaslCredentials } from "./sasl_digest_client.ts";
import { DEFAULT_TIMERS, type Timers } from "./client_options.ts";
import { parseConnectString } from "./connect_string.ts";
import { tlsTransportLoader } from "./client_tls.ts";
import { KeeperError } from "./keeper_error.ts";
import {
  authBytes,
  createRequest,
  expectResponse,
  firstMultiError,
  multiReadRequestOps,
  multiReadResultOf,
  multiRequestOps,
  multiResultOf,
  plainBytes,
  serverPath,
  toBytes,
} from "./ops.ts";
import { reconfigError, type ReconfigOptions, reconfigRequest } from "./reconfig_request.ts";
import { SessionMachine } from "./session_machine.ts";
import { SessionShell, type StateListener } from "./session_shell.ts";
import type {
  AddWatchModeName,
  MultiOp,
  MultiOpResult,
  MultiReadResult,
  NodeData,
  ReadOp,
  SessionState,
  WatcherTypeName,
  WatchListener,
} from "./types.ts";
import { listsOf, serverRemovalType, watcherTypeOf } from "./watch_removal.ts";
import { WatchStream } from "./watch_stream.ts";

/** Where ZooKeeper 3.5+ keeps the ensemble's membership (ZooDefs.CONFIG_NODE). */
const CONFIG_PATH = "/zookeeper/config";

export type {
  CallOptions,
  ClientOptions,
  CreateOptions,
  RemoveWatchesOptions,
  SaslOptions,
  StreamOptions,
  VersionOptions,
  WatchOptions,
} from "./client_options.ts";

export class Client {
  readonly #machine: SessionMachine;
  readonly #shell: SessionShell;
  readonly #timers: Timers;
  readonly #chroot: Chroot;
  readonly #initialTimeoutMs: number;
  #closing: Promise<void> | null = null;

  /**
   * A client that has not connected yet: call connect(). Client.connect() / createClient() do both.
   * Throws TypeError for an unusable connect string.
   */
  constructor(connectString: string, options: ClientOptions = {}) {
    const parsed = parseConnectString(connectString);
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    const random = options.random ?? Math.random;
    this.#chroot = new Chroot(parsed.chroot);
    this.#initialTimeoutMs = options.initialConnectTimeoutMs ?? sessionTimeoutMs;
    this.#machine = new SessionMachine({
      hosts: parsed.hosts,
      chroot: parsed.chroot,
      sessionTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      sessionId: options.sessionId,
      password: options.password,
      canBeReadOnly: options.canBeReadOnly,
      maxFrameBytes: options.maxFrameBytes,
      startIndex: Math.floor(random() * parsed.hosts.length),
      reconnectDelayMs: options.reconnectDelayMs,
      auth: (options.auth ?? []).map((entry) => ({ scheme: entry.scheme, auth: authBytes(entry.auth) })),
      ...(options.sasl === undefined ? {} : { sasl: saslCredentials(options.sasl) }),
    });
    const given = options.transport;
    let loaded: Promise<Transport> | null = null;
    const tls = options.tls === undefined ? null : tlsTransportLoader(options.tls, given);
    const transport = () => {
      if (tls !== null) return tls();
      if (given !== undefined) return Promise.resolve(given);
      loaded ??= import("../transport/auto.ts").then((module) => module.defaultTransport());
      return loaded;
    };
    this.#timers = options.timers ?? DEFAULT_TIMERS;
    this.#shell = new SessionShell(this.#machine, {
      transport,
      maxOutstanding: options.maxOutstanding ?? 10_000,
      timers: this.#timers,
    });
  }

  /** Creates a client and resolves once it is connected; see connect(). */
  static async connect(connectString: string, options: ClientOptions = {}): Promise<Client> {
    const client = new Client(connectString, options);
    await client.connect({ signal: options.signal });
    return client;
  }

  /**
   * Starts connecting and resolves on the first SyncConnected (or ConnectedReadOnly). Rejects with
   * KeeperError CONNECTIONLOSS when no server answered within initialConnectTimeoutMs, SESSIONEXPIRED
   * when a resumed session is gone, or the signal's reason; the client is then closed.
   */
  async connect(options: CallOptions = {}): Promise<void> {
    this.#shell.start();
    try {
      await this.#shell.waitForState(["connected", "connectedReadOnly"], {
        signal: options.signal,
        timeoutMs: this.#initialTimeoutMs,
        what: "connect",
      });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  get state(): SessionState {
    return this.#machine.state;
  }
  /** The session id (0n before the first connection). */
  get sessionId(): bigint {
    return this.#machine.sessionId;
  }
  /** The session password, to resume the session from another client with `{ sessionId, password }`. */
  get sessionPassword(): Uint8Array {
    return this.#machine.password;
  }
  /** The clock and timers this client runs on (ClientOptions.timers); recipes time their waits with them. */
  get timers(): Timers {
    return this.#timers;
  }
  /** The session timeout the server granted (0 before the first connection). */
  get sessionTimeoutMs(): number {
    return this.#machine.negotiatedTimeoutMs;
  }
  /** True while connected with ClientOptions.sasl and the connection's SASL exchange succeeded. */
  get saslAuthenticated(): boolean {
    return this.#machine.saslAuthenticated;
  }
  /** The highest zxid seen in a reply. */
  get lastZxidSeen(): number {
    return this.#machine.lastZxidSeen;
  }

  /** Calls `listener` on every state change; returns a function that unsubscribes. */
  on(event: "state", listener: StateListener): () => void {
    if (event !== "state") throw new TypeError(`unknown event ${JSON.stringify(event)}; only "state" exists`);
    return this.#shell.onState(listener);
  }

  off(event: "state", listener: StateListener): void {
    if (event === "state") this.#shell.offState(listener);
  }

  // -------------------------------------------------------------------------------------------------
  // Nodes

  /** Creates a node and returns its path (with the sequence suffix for sequential modes). */
  async create(path: string, data?: NodeData | null, options: CreateOptions = {}): Promise<string> {
    const request = createRequest(this.#chroot, path, data, options);
    const response = await this.#shell.request(request, {
      signal: options.signal,
      operation: "create",
      path,
    });
    return expectResponse(response, "create", "create2").path;
  }

  /** Creates a node and returns its path and stat (opcode create2, or the container/TTL opcodes). */
  async create2(
    path: string,
    data?: NodeData | null,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const request = createRequest(this.#chroot, path, data, { ...options, withStat: true });
    const response = expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "create2", path }),
      "create2",
    );
    return { path: response.path, stat: response.stat };
  }

  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    const request = {
      kind: "delete" as const,
      path: serverPath(this.#chroot, path, "delete"),
      version: options.version ?? -1,
    };
    await this.#shell.request(request, { signal: options.signal, operation: "delete", path });
  }

  /** The node's stat, or null when it does not exist (a `watch` then fires on its creation). */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    const request = {
      kind: "exists" as const,
      path: serverPath(this.#chroot, path, "exists"),
      watch: options.watch !== undefined,
    };
    try {
      const response = await this.#shell.request(request, this.#watching("exists", path, options));
      return expectResponse(response, "stat").stat;
    } catch (error) {
      if (error instanceof KeeperError && error.code === Code.NONODE) return null;
      throw error;
    }
  }

  async getData(path: string, options: WatchOptions = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    const request = {
      kind: "getData" as const,
      path: serverPath(this.#chroot, path, "getData"),
      watch: options.watch !== undefined,
    };
    const response = expectResponse(
      await this.#shell.request(request, this.#watching("getData", path, options)),
      "getData",
    );
    return { data: plainBytes(response.data), stat: response.stat };
  }

  /**
   * The ensemble's membership (ZooKeeper's getConfig): /zookeeper/config's bytes, `server.N=...`
   * lines and `version=<hex>` (empty on a standalone server), and its Stat. Like ZooKeeper's, it
   * reads that node whatever the connect string's chroot.
   */
  async getConfig(options: WatchOptions = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    const request = { kind: "getData" as const, path: CONFIG_PATH, watch: options.watch !== undefined };
    const response = expectResponse(
      await this.#shell.request(request, this.#watching("getConfig", CONFIG_PATH, options)),
      "getData",
    );
    return { data: plainBytes(response.data), stat: response.stat };
  }

  /**
   * Changes the ensemble's membership (ZooKeeperAdmin.reconfigure): incremental with `joining`
   * (server lines) and/or `leaving` (ids), or non-incremental with `members`; never both (TypeError,
   * nothing sent). Resolves with the new config text and /zookeeper/config's Stat. A write, ordered
   * with the others. Needs reconfigEnabled=true and a super user; else see KeeperError's hint.
   */
  async reconfig(options: ReconfigOptions): Promise<{ data: Uint8Array; stat: Stat }> {
    const request = reconfigRequest(options);
    try {
      const response = expectResponse(
        await this.#shell.request(request, {
          signal: options.signal,
          operation: "reconfig",
          path: CONFIG_PATH,
        }),
        "getData",
      );
      return { data: plainBytes(response.data), stat: response.stat };
    } catch (error) {
      throw reconfigError(error);
    }
  }

  async setData(path: string, data: NodeData | null, options: VersionOptions = {}): Promise<Stat> {
    const request = {
      kind: "setData" as const,
      path: serverPath(this.#chroot, path, "setData"),
      data: toBytes(data),
      version: options.version ?? -1,
    };
    return expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "setData", path }),
      "stat",
    ).stat;
  }

  /** The children's names (not paths), in no particular order. */
  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    const request = {
      kind: "getChildren" as const,
      path: serverPath(this.#chroot, path, "getChildren"),
      watch: options.watch !== undefined,
    };
    return expectResponse(
      await this.#shell.request(request, this.#watching("getChildren", path, options)),
      "getChildren",
    ).children;
  }

  /** The children's names and the node's stat. */
  async getChildren2(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    const request = {
      kind: "getChildren2" as const,
      path: serverPath(this.#chroot, path, "getChildren2"),
      watch: options.watch !== undefined,
    };
    const response = expectResponse(
      await this.#shell.request(request, this.#watching("getChildren2", path, options)),
      "getChildren2",
    );
    return { children: response.children, stat: response.stat };
  }

  async getACL(path: string, options: CallOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    const request = { kind: "getACL" as const, path: serverPath(this.#chroot, path, "getACL") };
    const response = expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "getACL", path }),
      "getACL",
    );
    return { acl: response.acl, stat: response.stat };
  }

  /** Replaces the ACL; `version` is the expected aversion. */
  async setACL(path: string, acl: readonly ACL[], options: VersionOptions = {}): Promise<Stat> {
    if (acl.length === 0) {
      throw new KeeperError(Code.INVALIDACL, { operation: "setACL", path, detail: "the ACL is empty" });
    }
    const request = {
      kind: "setACL" as const,
      path: serverPath(this.#chroot, path, "setACL"),
      acl: [...acl],
      version: options.version ?? -1,
    };
    return expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "setACL", path }),
      "stat",
    ).stat;
  }

  /** Waits until the server this client uses has caught up with the leader (as of the call). */
  async sync(path = "/", options: CallOptions = {}): Promise<void> {
    const request = { kind: "sync" as const, path: serverPath(this.#chroot, path, "sync") };
    await this.#shell.request(request, { signal: options.signal, operation: "sync", path });
  }

  /**
   * Applies write ops atomically. Resolves with one result per op; when an op fails, nothing is
   * applied and it rejects with a KeeperError whose `code` is the first failure and whose `results`
   * holds every op's result (0 before the failure, RUNTIMEINCONSISTENCY after it).
   */
  async multi(ops: readonly MultiOp[], options: CallOptions = {}): Promise<MultiOpResult[]> {
    const request = { kind: "multi" as const, ops: multiRequestOps(this.#chroot, ops) };
    const response = expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "multi" }),
      "multi",
    );
    const results = response.results.map(multiResultOf);
    const failure = firstMultiError(results);
    if (failure !== null) {
      const failed = ops[failure.index];
      throw new KeeperError(failure.code, {
        operation: `multi op #${failure.index} (${failed?.type ?? "?"})`,
        path: failed?.path,
        results,
      });
    }
    return results;
  }

  /** Runs reads together; each op succeeds or fails on its own (no exception for per-op errors). */
  async multiRead(ops: readonly ReadOp[], options: CallOptions = {}): Promise<MultiReadResult[]> {
    const request = { kind: "multiRead" as const, ops: multiReadRequestOps(this.#chroot, ops) };
    const response = expectResponse(
      await this.#shell.request(request, { signal: options.signal, operation: "multiRead" }),
      "multi",
    );
    return response.results.map(multiReadResultOf);
  }

  /** This session's ephemeral nodes whose path starts with `prefix` (a raw string prefix; "/" = all). */
  async getEphemerals(prefix = "/", options: CallOptions = {}): Promise<string[]> {
    if (!prefix.startsWith("/")) {
      throw new KeeperError(Code.BADARGUMENTS, {
        operation: "getEphemerals",
        path: prefix,
        detail: "the prefix must start with /",
      });
    }
    const request = { kind: "getEphemerals" as const, prefixPath: this.#chroot.toServer(prefix) };
    const response = await this.#shell.request(request, {
      signal: options.signal,
      operation: "getEphemerals",
      path: prefix,
    });
    return expectResponse(response, "getEphemerals").ephemerals;
  }

  /** The number of all descendants of `path` (recursive). */
  async getAllChildrenNumber(path: string, options: CallOptions = {}): Promise<number> {
    const request = {
      kind: "getAllChildrenNumber" as const,
      path: serverPath(this.#chroot, path, "getAllChildrenNumber"),
    };
    const response = await this.#shell.request(request, {
      signal: options.signal,
      operation: "getAllChildrenNumber",
      path,
    });
    return expectResponse(response, "getAllChildrenNumber").totalNumber;
  }

  /** The identities the server has for this connection (ip, digest user, ...). ZooKeeper 3.7+. */
  async whoAmI(options: CallOptions = {}): Promise<ClientInfo[]> {
    return expectResponse(
      await this.#shell.request({ kind: "whoAmI" }, { signal: options.signal, operation: "whoAmI" }),
      "whoAmI",
    ).clientInfo;
  }

  /**
   * Adds a credential (e.g. "digest", "user:password"), sent again on every reconnect. Resolves once
   * a server accepted it. A rejected credential (AUTHFAILED) ends the client: the server closes the
   * connection and the state becomes "authFailed".
   */
  addAuth(scheme: string, auth: string | Uint8Array, options: CallOptions = {}): Promise<void> {
    return this.#shell.addAuth({ scheme, auth: authBytes(auth) }, options.signal);
  }

  // -------------------------------------------------------------------------------------------------
  // Watches

  /** Adds a persistent (or persistent recursive) watch calling `listener` until removed. ZooKeeper 3.6+. */
  async addWatch(
    path: string,
    mode: AddWatchModeName,
    listener: WatchListener,
    options: CallOptions = {},
  ): Promise<void> {
    const wireMode = mode === "persistentRecursive"
      ? AddWatchMode.PERSISTENT_RECURSIVE
      : AddWatchMode.PERSISTENT;
    if (mode !== "persistent" && mode !== "persistentRecursive") {
      throw new KeeperError(Code.BADARGUMENTS, {
        operation: "addWatch",
        path,
        detail: `unknown mode ${JSON.stringify(mode)}`,
      });
    }
    const request = {
      kind: "addWatch" as const,
      path: serverPath(this.#chroot, path, "addWatch"),
      mode: wireMode,
    };
    await this.#shell.request(request, {
      signal: options.signal,
      operation: "addWatch",
      path,
      watch: { path, listener },
    });
  }

  /**
   * A persistent watch as an async iterator (see WatchStream): events of `path` (and, for
   * "persistentRecursive", its descendants), plus state events; it ends after Expired/Closed/AuthFailed.
   * `await stream.ready` to know the server has registered the watch. Closing it removes the watch.
   */
  watch(path: string, options: StreamOptions = {}): WatchStream {
    const mode = options.mode ?? "persistent";
    let stream: WatchStream | null = null;
    const listener: WatchListener = (event) => stream?.push(event);
    stream = new WatchStream({
      path,
      maxQueued: options.maxQueued ?? 1000,
      ready: this.addWatch(path, mode, listener, { signal: options.signal }),
      unregister: () => this.removeWatches(path, listener, { type: mode }).catch(() => undefined),
    });
    return stream;
  }

  /**
   * Removes one listener's watches on `path` (of `type`, default any), raising *WatchRemoved events
   * to it. The server is asked to drop its watch only when no other listener on this client still
   * needs it. Rejects with NOWATCHER when the listener has no such watch here.
   */
  async removeWatches(
    path: string,
    listener: WatchListener,
    options: RemoveWatchesOptions = {},
  ): Promise<void> {
    const lists = listsOf(options.type ?? "any");
    const registry = this.#machine.watches;
    if (!lists.some((list) => registry.has(list, path, listener))) {
      throw new KeeperError(Code.NOWATCHER, { operation: "removeWatches", path });
    }
    const removal = { path, lists, listener };
    const type = serverRemovalType(this.#machine.watches, path, lists, listener);
    if (options.local === true || type === null || !this.#connected()) {
      this.#shell.removeLocal(removal);
      return;
    }
    const request = {
      kind: "removeWatches" as const,
      path: serverPath(this.#chroot, path, "removeWatches"),
      type,
    };
    try {
      await this.#shell.request(request, {
        signal: options.signal,
        operation: "removeWatches",
        path,
        removeOnSuccess: removal,
      });
    } catch (error) {
      // The server had no such watch (a one-shot that just fired, or a reconnect): local removal suffices.
      if (!(error instanceof KeeperError && error.code === Code.NOWATCHER)) throw error;
      this.#shell.removeLocal(removal);
    }
  }

  /**
   * Removes every watch of `type` on `path`, on the server (removeWatches, opcode 18) and here.
   * Types "persistent" and "persistentRecursive" need ZooKeeper 3.9+ (3.8 answers MARSHALLINGERROR);
   * "any" also removes persistent watches on 3.8. Rejects with NOWATCHER when this client has none.
   */
  async removeAllWatches(
    path: string,
    type: WatcherTypeName,
    options: Omit<RemoveWatchesOptions, "type"> = {},
  ): Promise<void> {
    const lists = listsOf(type);
    const registry = this.#machine.watches;
    if (!lists.some((list) => registry.has(list, path))) {
      throw new KeeperError(Code.NOWATCHER, { operation: "removeAllWatches", path });
    }
    const removal = { path, lists };
    if (options.local === true || !this.#connected()) {
      this.#shell.removeLocal(removal);
      return;
    }
    const request = {
      kind: "removeWatches" as const,
      path: serverPath(this.#chroot, path, "removeAllWatches"),
      type: watcherTypeOf(type),
    };
    await this.#shell.request(request, {
      signal: options.signal,
      operation: "removeAllWatches",
      path,
      removeOnSuccess: removal,
    });
  }

  /** Ends the session (closeSession; its ephemerals go) and closes the connection. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#shell.close();
    return this.#closing;
  }

  /** close(), for `await using client = await createClient(...)`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------------------------------------------

  #watching(operation: string, path: string, options: WatchOptions) {
    return {
      signal: options.signal,
      operation,
      path,
      watch: options.watch === undefined ? undefined : { path, listener: options.watch },
    };
  }

  #connected(): boolean {
    const state = this.#machine.state;
    return state === "connected" || state === "connectedReadOnly";
  }
}

/** Checks ClientOptions.sasl; throws TypeError for what the client cannot do. */
function saslCredentials(options: SaslOptions): SaslCredentials {
  if (options.mechanism !== "DIGEST-MD5") {
    throw new TypeError(
      `sasl.mechanism ${JSON.stringify(options.mechanism)} is not supported; use "DIGEST-MD5" (GSSAPI/Kerberos is not implemented)`,
    );
  }
  if (typeof options.username !== "string" || options.username === "" || typeof options.password !== "string") {
    throw new TypeError("sasl needs a non-empty username and a password (strings), as in a JAAS Client section");
  }
  return { username: options.username, password: options.password };
}

/** Creates a client and resolves once it is connected (Client.connect). */
export function createClient(connectString: string, options: ClientOptions = {}): Promise<Client> {
  return Client.connect(connectString, options);
}
