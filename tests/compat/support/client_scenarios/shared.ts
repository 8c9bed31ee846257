/**
 * What every client scenario shares: the types the test runs them through, and the helpers they
 * assert with (error codes, event labels, a notification barrier, short-lived clients, stat shapes).
 */
import assert from "node:assert/strict";
import {
  type Client,
  createClient,
  KeeperError,
  type Stat,
  type WatchEvent,
} from "../../../../src/client/mod.ts";
import type { FaultProxy } from "../../../recipes/support/fault_proxy.ts";

export type ScenarioTargetName = "zookeeper" | "corral";

export interface ScenarioServer {
  name: ScenarioTargetName;
  host: string;
  port: number;
  connectString: string;
  /** The same server behind a proxy that can cut or refuse connections (for reconnect and expiry). */
  proxy: FaultProxy;
}

export interface ClientScenario {
  name: string;
  /**
   * Per target, why the scenario is skipped there: a known difference from ZooKeeper, named
   * precisely (the test then expects ZooKeeper's behaviour everywhere else).
   */
  knownDifference?: Partial<Record<ScenarioTargetName, string>>;
  run(server: ScenarioServer, root: string): Promise<void>;
}

const decoder = new TextDecoder();
export const decode = (value: Uint8Array) => decoder.decode(value);
/** Generous: two cores shared with other jobs. */
export const eventWaitMs = 10_000;

/** Asserts that `promise` rejects with a KeeperError of `codeName`, and returns it. */
export async function rejectsWith(promise: Promise<unknown>, codeName: string): Promise<KeeperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeeperError, `expected KeeperError ${codeName}, got ${String(error)}`);
    assert.equal(error.codeName, codeName, error.message);
    return error;
  }
  assert.fail(`expected KeeperError ${codeName}, but the call succeeded`);
}

/** One line per event: "NodeDataChanged /a/b", or the state ("Disconnected") of a state event. */
export function labels(events: readonly WatchEvent[]): string[] {
  return events.map((event) => event.type === "None" ? event.state : `${event.type} ${event.path}`);
}

/** Node events only (state events left out). */
export function nodeLabels(events: readonly WatchEvent[]): string[] {
  return labels(events.filter((event) => event.type !== "None"));
}

/**
 * Once this resolves, every notification the server queued for `client` before the call has been
 * delivered: the server answers a session's requests in order, after the notifications it queued.
 */
export async function barrier(client: Client): Promise<void> {
  await client.sync("/");
  await client.exists("/");
}

/** Runs `body` with fresh clients and closes them, whatever happens. */
export async function withClients<T>(
  connectStrings: readonly string[],
  body: (...clients: Client[]) => Promise<T>,
): Promise<T> {
  const clients: Client[] = [];
  try {
    for (const connectString of connectStrings) {
      clients.push(await createClient(connectString, { sessionTimeoutMs: 20_000, reconnectDelayMs: 100 }));
    }
    return await body(...clients);
  } finally {
    for (const client of clients) await client.close();
  }
}

export function statShape(stat: Stat): Record<string, number | bigint> {
  return {
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    ephemeralOwner: stat.ephemeralOwner,
  };
}
