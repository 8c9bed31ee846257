/**
 * A configuration service with live reload, in one process with an embedded Corral server. An
 * operator publishes whole configurations with `publishConfig` (holding a Mutex, so there is one
 * writer at a time); two app instances follow them with `ConfigWatcher` and reload whenever a new
 * one is published — each sees every configuration whole, never half of an update (the ready-znode
 * pattern from the ZooKeeper paper).
 *
 *   deno run -A examples/config_service.ts       (or: node --import tsx ..., bun ...)
 */
import process from "node:process";
import { type Client, createClient, startServer } from "../mod.ts";
import { type ConfigSnapshot, ConfigWatcher, Mutex, publishConfig } from "../src/recipes/mod.ts";

const CONFIG_PATH = "/config/greeter";
const WRITER_LOCK = "/locks/config-greeter";
const REVISIONS: ReadonlyArray<Record<string, string>> = [
  { greeting: "hello", "pool.size": "4" },
  { greeting: "bonjour", "pool.size": "4" },
  { greeting: "hallo", "pool.size": "8", "feature.beta": "on" },
];
const TIMEOUT_MS = 30_000;

/** An app instance: keeps its settings current by following the configuration. */
class AppInstance {
  readonly name: string;
  readonly client: Client;
  readonly watcher: ConfigWatcher;
  /** Every configuration this instance loaded, in order. */
  readonly loaded: Array<{ version: number; settings: Record<string, string> }> = [];
  readonly #waiters = new Set<() => void>();

  constructor(name: string, client: Client) {
    this.name = name;
    this.client = client;
    this.watcher = new ConfigWatcher(client, CONFIG_PATH);
    this.watcher.onChange((snapshot) => this.#reload(snapshot));
  }

  /** Resolves once this instance runs configuration `version` (or a newer one). */
  async waitForVersion(version: number, signal: AbortSignal): Promise<void> {
    for (let round = 0; round < 1000 && (this.watcher.current?.version ?? -1) < version; round++) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        const waiter = () => {
          signal.removeEventListener("abort", onAbort);
          this.#waiters.delete(waiter);
          resolve();
        };
        this.#waiters.add(waiter);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }

  #reload(snapshot: ConfigSnapshot): void {
    const settings = Object.fromEntries(
      [...snapshot.values].map(([key, value]) => [key, new TextDecoder().decode(value)]),
    );
    this.loaded.push({ version: snapshot.version, settings });
    const shown = Object.entries(settings).map(([key, value]) => `${key}=${value}`).join(" ");
    console.log(`${this.name}: reloaded configuration version ${snapshot.version}: ${shown}`);
    for (const waiter of [...this.#waiters]) waiter();
  }
}

const interrupted = new AbortController();
const onInterrupt = () => interrupted.abort(new Error("interrupted (Ctrl-C)"));
process.once("SIGINT", onInterrupt);
const timer = setTimeout(
  () => interrupted.abort(new Error(`config_service: not done after ${TIMEOUT_MS} ms`)),
  TIMEOUT_MS,
);

const server = await startServer({ port: 0 });
const connectString = `127.0.0.1:${server.port}`;
console.log(`config_service: Corral on ${connectString}; configuration at ${CONFIG_PATH}`);
const operator = await createClient(connectString);
const instances = await Promise.all(
  ["app-1", "app-2"].map(async (name) => new AppInstance(name, await createClient(connectString))),
);

try {
  // The instances start first and wait for the first configuration to be published.
  interrupted.signal.throwIfAborted(); // (start() with an aborted signal would leave a rejection unhandled)
  const started = Promise.all(
    instances.map((instance) => instance.watcher.start({ signal: interrupted.signal })),
  );
  started.catch(() => {}); // awaited below; an interrupt before then is handled by the catch further down
  const writer = new Mutex(operator, WRITER_LOCK);
  const versions: number[] = [];
  for (const [index, values] of REVISIONS.entries()) {
    const version = await writer.run(() => publishConfig(operator, CONFIG_PATH, values), {
      signal: interrupted.signal,
    });
    versions.push(version);
    console.log(`operator: published revision ${index + 1} as version ${version}`);
    await Promise.all(instances.map((instance) => instance.waitForVersion(version, interrupted.signal)));
  }
  await started;
  checkWholeConfigurations(instances);
  console.log(
    `config_service: ${instances.length} instances reloaded live through ${versions.length} ` +
      `configurations (versions ${versions.join(" → ")}), each seen whole`,
  );
} catch (error) {
  if (!interrupted.signal.aborted) throw error;
  console.log(
    `config_service: ${
      interrupted.signal.reason instanceof Error ? interrupted.signal.reason.message : "stopped"
    }`,
  );
  if (!/Ctrl-C/.test(String(interrupted.signal.reason))) process.exitCode = 1;
} finally {
  clearTimeout(timer);
  for (const instance of instances) {
    await instance.watcher.close();
    await instance.client.close();
  }
  await operator.close();
  await server.close();
  // Last: a Ctrl-C during the shutdown above must not kill the process half-way.
  process.off("SIGINT", onInterrupt);
}
console.log("config_service: stopped");

/** Every configuration an instance loaded must equal one of the published revisions exactly. */
function checkWholeConfigurations(apps: readonly AppInstance[]): void {
  const published = REVISIONS.map((values) => JSON.stringify(Object.entries(values).sort()));
  for (const app of apps) {
    for (const { version, settings } of app.loaded) {
      if (!published.includes(JSON.stringify(Object.entries(settings).sort()))) {
        throw new Error(
          `${app.name} loaded a torn configuration at version ${version}: ${JSON.stringify(settings)}`,
        );
      }
    }
  }
}
