/**
 * Service discovery, znode-compatible with Curator's curator-x-discovery: an instance of service
 * `name` is an ephemeral `<base>/<name>/<id>` holding the instance as JSON (Curator's
 * JsonInstanceSerializer fields); a ServiceCache keeps a live view of a service's instances with a
 * TreeCache, so lookups are local.
 *
 * @example
 * const discovery = new ServiceDiscovery(client, "/services");
 * const registration = await discovery.register({ name: "api", address: "10.0.0.5", port: 8080 });
 *
 * const apis = discovery.serviceCache("api");
 * await apis.start();
 * const [first] = apis.instances(); // { name: "api", id: "...", address: "10.0.0.5", port: 8080, ... }
 * apis.onChange((instances) => rebalance(instances));
 * // ...
 * await apis.close();
 * await registration.unregister();
 *
 * Curator writes Java payloads with type information (an "@class" field); payloads here are any
 * JSON value and are passed through as they are.
 */
import { asyncDispose } from "../client/async_dispose.ts";
import { KeeperError } from "../client/mod.ts";
import { SessionGuard } from "./lost.ts";
import { createOwnedEphemeral, loseWhenDeleted } from "./own_node.ts";
import { checkRecipePath, joinPath } from "./paths.ts";
import { type HoldOptions, type RecipeClient, uuidFrom } from "./recipe_client.ts";
import { TreeCache } from "./tree_cache.ts";
import { childrenOrEmpty, deleteQuietly, retrying } from "./waiting.ts";

/** A service instance, as Curator's ServiceInstance serializes it. */
export interface ServiceInstance {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  sslPort: number | null;
  payload: unknown;
  /** Milliseconds since the epoch (UTC). */
  registrationTimeUTC: number;
  /** Curator's ServiceType; instances registered here are "DYNAMIC" (ephemeral). */
  serviceType: "DYNAMIC" | "STATIC" | "PERMANENT" | "DYNAMIC_SEQUENTIAL";
  uriSpec: unknown;
  enabled: boolean;
}

/** What register() needs; the rest is filled in. */
export type ServiceInstanceInput =
  & Pick<ServiceInstance, "name">
  & Partial<Omit<ServiceInstance, "name" | "registrationTimeUTC" | "serviceType">>;

export interface ServiceDiscoveryOptions extends HoldOptions {
  /** The registration time stamp's clock; default Date.now. */
  now?: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ServiceDiscovery {
  readonly basePath: string;
  readonly #client: RecipeClient;
  readonly #options: ServiceDiscoveryOptions;

  constructor(client: RecipeClient, basePath: string, options: ServiceDiscoveryOptions = {}) {
    this.basePath = checkRecipePath(basePath, "ServiceDiscovery");
    this.#client = client;
    this.#options = options;
  }

  /** Registers an instance (an ephemeral node); it stays until unregister() or the session ends. */
  async register(input: ServiceInstanceInput): Promise<ServiceRegistration> {
    checkName(input.name, "service name");
    const instance: ServiceInstance = {
      name: input.name,
      id: input.id ?? uuidFrom(this.#options.random),
      address: input.address ?? null,
      port: input.port ?? null,
      sslPort: input.sslPort ?? null,
      payload: input.payload ?? null,
      registrationTimeUTC: (this.#options.now ?? Date.now)(),
      serviceType: "DYNAMIC",
      uriSpec: input.uriSpec ?? null,
      enabled: input.enabled ?? true,
    };
    checkName(instance.id, "instance id");
    const path = this.#instancePath(instance.name, instance.id);
    const guard = new SessionGuard(this.#client, `registration of ${path}`, {
      loseOnDisconnect: this.#options.loseOnDisconnect,
    });
    try {
      const node = await createOwnedEphemeral(
        this.#client,
        path,
        encodeInstance(instance),
        "register service",
      );
      await loseWhenDeleted(this.#client, path, guard);
      return new ServiceRegistration(this.#client, instance, path, node.stat.czxid, guard);
    } catch (error) {
      guard.dispose();
      throw error;
    }
  }

  /** The names of the registered services. */
  queryForNames(): Promise<string[]> {
    return childrenOrEmpty(this.#client, this.basePath);
  }

  /** The instances of service `name`, read now (for a live view use serviceCache). */
  async queryForInstances(name: string): Promise<ServiceInstance[]> {
    const servicePath = joinPath(this.basePath, name);
    const ids = await childrenOrEmpty(this.#client, servicePath);
    const instances = await Promise.all(ids.map(async (id) => {
      try {
        const { data } = await retrying(this.#client, () => this.#client.getData(joinPath(servicePath, id)));
        return decodeInstance(data);
      } catch (error) {
        if (KeeperError.is(error, "NONODE")) return null;
        throw error;
      }
    }));
    return instances.filter((instance): instance is ServiceInstance => instance !== null);
  }

  /** A live view of service `name`'s instances; call start() on it. */
  serviceCache(name: string): ServiceCache {
    checkName(name, "service name");
    return new ServiceCache(this.#client, joinPath(this.basePath, name));
  }

  #instancePath(name: string, id: string): string {
    return joinPath(joinPath(this.basePath, name), id);
  }
}

/** A registered instance; `lost` aborts when the registration ends without unregister(). */
export class ServiceRegistration {
  readonly path: string;
  /** The registration node's czxid. */
  readonly fencingToken: number;
  readonly #client: RecipeClient;
  readonly #guard: SessionGuard;
  #instance: ServiceInstance;

  constructor(
    client: RecipeClient,
    instance: ServiceInstance,
    path: string,
    czxid: number,
    guard: SessionGuard,
  ) {
    this.#client = client;
    this.#instance = instance;
    this.path = path;
    this.fencingToken = czxid;
    this.#guard = guard;
  }

  get instance(): ServiceInstance {
    return this.#instance;
  }

  get lost(): AbortSignal {
    return this.#guard.signal;
  }

  /** Rewrites the instance (id and name stay). */
  async update(changes: Partial<Omit<ServiceInstance, "name" | "id">>): Promise<void> {
    const next = { ...this.#instance, ...changes, name: this.#instance.name, id: this.#instance.id };
    await retrying(this.#client, () => this.#client.setData(this.path, encodeInstance(next)));
    this.#instance = next;
  }

  /** Deletes the instance node. */
  async unregister(): Promise<void> {
    this.#guard.lose("released");
    await deleteQuietly(this.#client, this.path);
  }

  /** unregister(), for `await using registration = await discovery.register(...)`. */
  [asyncDispose](): Promise<void> {
    return this.unregister();
  }
}

/** The instances of one service, kept current. */
export class ServiceCache {
  readonly servicePath: string;
  readonly #cache: TreeCache;

  constructor(client: RecipeClient, servicePath: string) {
    this.servicePath = servicePath;
    this.#cache = new TreeCache(client, servicePath, { maxDepth: 1 });
  }

  start(): Promise<void> {
    return this.#cache.start();
  }

  /** The instances now, sorted by id; nodes that are not valid instance JSON are skipped. */
  instances(): ServiceInstance[] {
    const instances: ServiceInstance[] = [];
    for (const id of this.#cache.children(this.servicePath)) {
      const node = this.#cache.get(joinPath(this.servicePath, id));
      const instance = node === undefined ? null : decodeInstance(node.data);
      if (instance !== null) instances.push(instance);
    }
    return instances;
  }

  /** Calls `listener` with the instances after every change. */
  onChange(listener: (instances: ServiceInstance[]) => void): () => void {
    return this.#cache.on((event) => {
      if (
        (event.type === "added" || event.type === "updated" || event.type === "removed") &&
        event.path !== this.servicePath
      ) {
        listener(this.instances());
      }
    });
  }

  close(): Promise<void> {
    return this.#cache.close();
  }

  /** close(), for `await using cache = discovery.serviceCache(...)`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }
}

function encodeInstance(instance: ServiceInstance): Uint8Array {
  return encoder.encode(JSON.stringify(instance));
}

/** Parses an instance node; null when it is not a JSON object with a name and an id. */
export function decodeInstance(data: Uint8Array): ServiceInstance | null {
  try {
    const value = JSON.parse(decoder.decode(data)) as Partial<ServiceInstance> | null;
    if (
      value === null || typeof value !== "object" || typeof value.name !== "string" ||
      typeof value.id !== "string"
    ) {
      return null;
    }
    return {
      name: value.name,
      id: value.id,
      address: value.address ?? null,
      port: value.port ?? null,
      sslPort: value.sslPort ?? null,
      payload: value.payload ?? null,
      registrationTimeUTC: value.registrationTimeUTC ?? 0,
      serviceType: value.serviceType ?? "DYNAMIC",
      uriSpec: value.uriSpec ?? null,
      enabled: value.enabled ?? true,
    };
  } catch {
    return null;
  }
}

function checkName(name: string, what: string): void {
  if (typeof name !== "string" || name === "" || name.includes("/")) {
    throw new TypeError(
      `ServiceDiscovery: ${what} must be a non-empty name without "/", got ${JSON.stringify(name)}`,
    );
  }
}
