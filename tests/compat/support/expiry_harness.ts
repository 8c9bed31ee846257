/**
 * Measures how long a dead client's ephemeral node outlives the client, on any ensemble: victims
 * (raw connections, each with its own session) connect to the leader or to a follower, create an
 * ephemeral node, keep their session alive, then send one last request and drop their connection
 * without closing the session, as a killed process does. A watcher on the leader times each
 * node's deletion. A sample is the time from the victim's last request to the deletion event.
 *
 * The last requests are spread evenly over two ticks (stratified, in shuffled order, from a random
 * start): what the distribution depends on — where the last activity falls in the tick that the
 * expiry queue rounds deadlines to, and in the half tick of the follower's reports — is then
 * covered evenly in every run, so two runs (or two servers) differ by the servers' timing, not by
 * the luck of the draw.
 */
import { type Client, createClient } from "../../../src/client/mod.ts";
import { RawClient } from "../differential/raw_client.ts";
import { sleep } from "../../support/wait_for.ts";

export type VictimPlace = "leader" | "follower";

export interface ExpirySample {
  place: VictimPlace;
  /** Member the victim was connected to. */
  memberId: number;
  /** Last request sent → NodeDeleted seen by the watcher, in ms. */
  ms: number;
}

export interface ExpiryRun {
  /** Client port of each member id. */
  clientPort: (id: number) => number;
  leaderId: number;
  followerIds: readonly number[];
  tickTimeMs: number;
  sessionTimeoutMs: number;
  /** Victims per place (leader, followers). */
  victimsPerPlace: number;
  /** Distinguishes this run's nodes. */
  label: string;
  /** A uniform [0, 1) source for the start offset and the shuffle; default Math.random. */
  random?: () => number;
}

const OPEN_ACL = [{ perms: 31, scheme: "world", id: "anyone" }];
const EPHEMERAL = 1;

interface Victim {
  place: VictimPlace;
  memberId: number;
  path: string;
  client: RawClient;
  /** Offset of the last request from the window's start. */
  offsetMs: number;
  lastSentMs: number | null;
  deletedMs: number | null;
}

/** Runs one round of victims and returns one sample per victim; throws if a node outlives every bound. */
export async function measureExpiry(run: ExpiryRun): Promise<ExpirySample[]> {
  const random = run.random ?? Math.random;
  const root = `/expiry-${run.label}`;
  const watcher = await createClient(`127.0.0.1:${run.clientPort(run.leaderId)}`, { sessionTimeoutMs: 30_000 });
  const victims: Victim[] = [];
  try {
    await watcher.create(root).catch(() => {});
    const places: Array<{ place: VictimPlace; memberId: number }> = [];
    for (let i = 0; i < run.victimsPerPlace; i++) {
      places.push({ place: "leader", memberId: run.leaderId });
      places.push({ place: "follower", memberId: run.followerIds[i % run.followerIds.length]! });
    }
    // Each place's victims get offsets stratified over two ticks (from a random start), in a random
    // order; the two places' strata interleave.
    const windowMs = 2 * run.tickTimeMs;
    const start = random();
    const offsets: number[] = [];
    for (const which of ["leader", "follower"] as const) {
      const indexes = places.flatMap((entry, i) => entry.place === which ? [i] : []);
      const strata = indexes.map((_, k) => ((k + start + (which === "follower" ? 0.5 : 0)) / indexes.length) * windowMs);
      for (let k = strata.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1));
        [strata[k], strata[j]] = [strata[j]!, strata[k]!];
      }
      for (const [k, i] of indexes.entries()) offsets[i] = strata[k]!;
    }
    for (const [i, { place, memberId }] of places.entries()) {
      const client = await RawClient.connect({ host: "127.0.0.1", port: run.clientPort(memberId), sessionTimeoutMs: run.sessionTimeoutMs });
      const path = `${root}/victim-${i}`;
      victims.push({ place, memberId, path, client, offsetMs: offsets[i]!, lastSentMs: null, deletedMs: null });
      const created = await client.create({ path, data: null, acl: OPEN_ACL, flags: EPHEMERAL, opcode: 1 });
      if (created.err !== 0) throw new Error(`victim ${i} could not create ${path}: err ${created.err}`);
      if (client.negotiatedTimeoutMs !== run.sessionTimeoutMs) {
        throw new Error(`victim ${i}: the server negotiated ${client.negotiatedTimeoutMs} ms, not ${run.sessionTimeoutMs}`);
      }
    }
    for (const victim of victims) {
      const stat = await watcher.exists(victim.path, {
        watch: (event) => {
          if (event.type === "NodeDeleted" && victim.deletedMs === null) victim.deletedMs = Date.now();
        },
      });
      if (stat === null) throw new Error(`${victim.path} vanished before its victim died`);
    }
    await runWindow(victims, Math.min(1000, run.sessionTimeoutMs / 4));
    // Every node must go within timeout + one tick (rounding) + half a tick (a follower's report) +
    // slack for a loaded machine; a node still there later is a failure, not a sample.
    const boundMs = run.sessionTimeoutMs + 2 * run.tickTimeMs + 5000;
    const lastKill = Math.max(...victims.map((victim) => victim.lastSentMs ?? 0));
    while (victims.some((victim) => victim.deletedMs === null) && Date.now() < lastKill + boundMs) await sleep(20);
    const late = victims.filter((victim) => victim.deletedMs === null);
    if (late.length > 0) {
      throw new Error(`${late.length} ephemeral nodes outlived their dead sessions by over ${boundMs} ms: ${late.map((v) => v.path).join(", ")}`);
    }
    return victims.map((victim) => ({ place: victim.place, memberId: victim.memberId, ms: victim.deletedMs! - victim.lastSentMs! }));
  } finally {
    for (const victim of victims) victim.client.destroy();
    await deleteQuietly(watcher, root);
    await watcher.close();
  }
}

/**
 * Keeps every victim's session alive with a request every `keepAliveMs` until its moment, then
 * sends its last request, awaits the reply and drops the connection (no closeSession).
 */
async function runWindow(victims: Victim[], keepAliveMs: number): Promise<void> {
  const windowStart = Date.now() + 200;
  await Promise.all(victims.map(async (victim) => {
    const dieAt = windowStart + victim.offsetMs;
    for (let round = 0; round < 1000; round++) {
      const now = Date.now();
      if (now >= dieAt) break;
      await sleep(Math.min(keepAliveMs, dieAt - now));
      if (Date.now() < dieAt) await victim.client.exists("/", false);
    }
    victim.lastSentMs = Date.now();
    const last = await victim.client.exists("/", false);
    if (last.err !== 0) throw new Error(`${victim.path}: last request failed with err ${last.err}`);
    victim.client.destroy();
  }));
}

async function deleteQuietly(client: Client, root: string): Promise<void> {
  try {
    for (const child of await client.getChildren(root)) await client.delete(`${root}/${child}`).catch(() => {});
    await client.delete(root);
  } catch {
    // Best effort: the ensemble is stopped right after.
  }
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface ExpirySummary {
  place: VictimPlace | "all";
  count: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summarise(samples: readonly ExpirySample[], place: VictimPlace | "all"): ExpirySummary {
  const values = samples.filter((sample) => place === "all" || sample.place === place).map((sample) => sample.ms);
  return {
    place,
    count: values.length,
    minMs: Math.min(...values),
    p50Ms: quantile(values, 0.5),
    p90Ms: quantile(values, 0.9),
    p99Ms: quantile(values, 0.99),
    maxMs: Math.max(...values),
    meanMs: values.reduce((sum, value) => sum + value, 0) / values.length,
  };
}
