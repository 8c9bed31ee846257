/**
 * Runs a generated step sequence against one server with three sessions and records a normalized
 * trace: per step the error, the reply zxid, the result and every notification each session got.
 * Normalized means comparable across servers: zxids relative to the run's first txn, session ids
 * replaced by session names, times dropped, children sorted.
 */
import { codeName } from "../../../src/core/errors.ts";
import { aclList, sessionCredentials } from "./acls.ts";
import type { MultiStep, SessionName, Step } from "./generator.ts";
import { sessionNames } from "./generator.ts";
import { type MultiOp, type MultiResult, type Notification, RawClient, type Stat } from "./raw_client.ts";

export interface TraceEntry {
  step: number;
  op: string;
  err: string;
  /** Reply zxid minus the run's base zxid (the root's creation). */
  zxid: number;
  result?: unknown;
  /** Notifications per session, in arrival order (sorted for closeSession steps, whose order is unspecified). */
  events?: Partial<Record<SessionName, string[]>>;
}

export interface RunOutput {
  trace: TraceEntry[];
  /** Notification ReplyHeader.zxid values seen, relative to base where positive ("-1" on 3.8). Not compared. */
  notificationZxids: string[];
}

export interface RunInput {
  host: string;
  port: number;
  /** Created by s1 before the steps; every step path is under it. Must not exist yet. */
  root: string;
  steps: readonly Step[];
}

interface Context {
  base: bigint;
  owners: Map<bigint, string>;
  clients: Map<SessionName, RawClient>;
  generations: Map<SessionName, number>;
  notificationZxids: Set<string>;
}

/** Executes `steps` strictly one after another; throws only if the connection or the harness breaks. */
export async function runSteps(input: RunInput): Promise<RunOutput> {
  const context: Context = {
    base: 0n,
    owners: new Map(),
    clients: new Map(),
    generations: new Map(),
    notificationZxids: new Set(),
  };
  try {
    for (const name of sessionNames) await openSession(input, context, name);
    const rootCreate = await clientOf(context, "s1").create({
      path: input.root,
      data: null,
      acl: aclList("open"),
      flags: 0,
      opcode: 1,
    });
    if (rootCreate.err !== 0) {
      throw new Error(`could not create run root ${input.root}: err ${rootCreate.err}`);
    }
    context.base = rootCreate.zxid;
    const trace: TraceEntry[] = [];
    for (let index = 0; index < input.steps.length; index++) {
      const step = input.steps[index]!;
      const entry = await runStep(input, context, step, index);
      const events = await collectEvents(context, step.kind === "closeSession");
      if (events !== undefined) entry.events = events;
      trace.push(entry);
    }
    return { trace, notificationZxids: [...context.notificationZxids].sort() };
  } finally {
    await closeAll(context);
  }
}

/** Index of the first entry that differs, or -1 when the traces are identical. */
export function firstDifference(left: readonly TraceEntry[], right: readonly TraceEntry[]): number {
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    if (JSON.stringify(left[i]) !== JSON.stringify(right[i])) return i;
  }
  return -1;
}

/** A one-line description of a step, for traces and failure messages. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "create":
      return `${step.session} create(${step.opcode}) ${step.path} flags=${step.flags} acl=${step.acl} data=${
        JSON.stringify(step.data)
      }`;
    case "delete":
      return `${step.session} delete ${step.path} v=${step.version}`;
    case "setData":
      return `${step.session} setData ${step.path} v=${step.version} data=${JSON.stringify(step.data)}`;
    case "exists":
    case "getData":
      return `${step.session} ${step.kind} ${step.path} watch=${step.watch}`;
    case "getChildren":
      return `${step.session} getChildren${step.withStat ? "2" : ""} ${step.path} watch=${step.watch}`;
    case "getACL":
    case "sync":
      return `${step.session} ${step.kind} ${step.path}`;
    case "setACL":
      return `${step.session} setACL ${step.path} acl=${step.acl} v=${step.version}`;
    case "multi":
      return `${step.session} multi [${step.ops.map(describeMultiStep).join("; ")}]`;
    case "closeSession":
      return `${step.session} closeSession (then reconnect)`;
  }
}

async function runStep(input: RunInput, context: Context, step: Step, index: number): Promise<TraceEntry> {
  const client = clientOf(context, step.session);
  const op = describeStep(step);
  const entry = (reply: { err: number; zxid: bigint }, result?: unknown): TraceEntry => {
    const out: TraceEntry = {
      step: index,
      op,
      err: codeName(reply.err),
      zxid: relative(context, reply.zxid),
    };
    if (result !== undefined) out.result = result;
    return out;
  };
  switch (step.kind) {
    case "create": {
      const reply = await client.create({
        path: step.path,
        data: encode(step.data),
        acl: aclList(step.acl),
        flags: step.flags,
        opcode: step.opcode,
      });
      const value = reply.value;
      return entry(reply, value && { path: value.path, stat: value.stat && normalStat(context, value.stat) });
    }
    case "delete":
      return entry(await client.delete(step.path, step.version));
    case "setData": {
      const reply = await client.setData(step.path, encode(step.data), step.version);
      return entry(reply, reply.value && normalStat(context, reply.value));
    }
    case "exists": {
      const reply = await client.exists(step.path, step.watch);
      return entry(reply, reply.value && normalStat(context, reply.value));
    }
    case "getData": {
      const reply = await client.getData(step.path, step.watch);
      const value = reply.value;
      return entry(reply, value && { data: decode(value.data), stat: normalStat(context, value.stat) });
    }
    case "getChildren": {
      const reply = step.withStat
        ? await client.getChildren2(step.path, step.watch)
        : await client.getChildren(step.path, step.watch);
      const value = reply.value;
      return entry(
        reply,
        value &&
          { children: [...value.children].sort(), stat: value.stat && normalStat(context, value.stat) },
      );
    }
    case "getACL": {
      const reply = await client.getACL(step.path);
      const value = reply.value;
      return entry(reply, value && { acl: value.acl, stat: normalStat(context, value.stat) });
    }
    case "setACL": {
      const reply = await client.setACL(step.path, aclList(step.acl), step.version);
      return entry(reply, reply.value && normalStat(context, reply.value));
    }
    case "sync": {
      const reply = await client.sync(step.path);
      return entry(reply, reply.value);
    }
    case "multi": {
      const reply = await client.multi(step.ops.map(toMultiOp));
      return entry(reply, reply.value && reply.value.map((result) => normalMultiResult(context, result)));
    }
    case "closeSession": {
      const reply = await client.close();
      context.clients.delete(step.session);
      const negotiatedTimeoutMs = await openSession(input, context, step.session);
      return entry(reply, { reconnected: step.session, negotiatedTimeoutMs });
    }
  }
}

/**
 * Fences every session with a read, then takes its notifications. A server queues a txn's
 * notifications before any later reply on every connection, so once each fence reply is in, every
 * notification caused by the step has arrived.
 */
async function collectEvents(context: Context, sort: boolean): Promise<TraceEntry["events"]> {
  await Promise.all(sessionNames.map((name) => clientOf(context, name).exists("/", false)));
  let events: TraceEntry["events"] = undefined;
  for (const name of sessionNames) {
    const received = clientOf(context, name).takeNotifications().map((n) => describeNotification(context, n));
    if (received.length === 0) continue;
    if (sort) received.sort();
    events ??= {};
    events[name] = received;
  }
  return events;
}

async function openSession(input: RunInput, context: Context, name: SessionName): Promise<number> {
  const credential = sessionCredentials[name];
  const client = await RawClient.connect({
    host: input.host,
    port: input.port,
    sessionTimeoutMs: 30_000,
    auth: credential === null ? [] : [{ scheme: "digest", credential }],
  });
  const generation = (context.generations.get(name) ?? 0) + 1;
  context.generations.set(name, generation);
  context.clients.set(name, client);
  context.owners.set(client.sessionId, `${name}#${generation}`);
  return client.negotiatedTimeoutMs;
}

async function closeAll(context: Context): Promise<void> {
  await Promise.all([...context.clients.values()].map(async (client) => {
    try {
      await client.close();
    } catch {
      client.destroy();
    }
  }));
  context.clients.clear();
}

function clientOf(context: Context, name: SessionName): RawClient {
  const client = context.clients.get(name);
  if (client === undefined) throw new Error(`session ${name} is not open`);
  return client;
}

function toMultiOp(step: MultiStep): MultiOp {
  switch (step.type) {
    case "create":
      return {
        type: "create",
        path: step.path,
        data: encode(step.data),
        acl: aclList(step.acl),
        flags: step.flags,
      };
    case "setData":
      return { type: "setData", path: step.path, data: encode(step.data), version: step.version };
    default:
      return step;
  }
}

function describeMultiStep(step: MultiStep): string {
  switch (step.type) {
    case "create":
      return `create ${step.path} flags=${step.flags} acl=${step.acl} data=${JSON.stringify(step.data)}`;
    case "setData":
      return `setData ${step.path} v=${step.version} data=${JSON.stringify(step.data)}`;
    default:
      return `${step.type} ${step.path} v=${step.version}`;
  }
}

function normalMultiResult(context: Context, result: MultiResult): unknown {
  const out: Record<string, unknown> = { type: result.type, err: codeName(result.err) };
  if (result.path !== undefined) out.path = result.path;
  if (result.stat !== undefined) out.stat = normalStat(context, result.stat);
  return out;
}

function normalStat(context: Context, stat: Stat): Record<string, number | string> {
  return {
    czxid: relative(context, stat.czxid),
    mzxid: relative(context, stat.mzxid),
    pzxid: relative(context, stat.pzxid),
    version: stat.version,
    cversion: stat.cversion,
    aversion: stat.aversion,
    ephemeralOwner: stat.ephemeralOwner === 0n
      ? 0
      : context.owners.get(stat.ephemeralOwner) ?? "unknown-session",
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
  };
}

const eventTypeNames: Record<number, string> = {
  1: "NodeCreated",
  2: "NodeDeleted",
  3: "NodeDataChanged",
  4: "NodeChildrenChanged",
};

function describeNotification(context: Context, notification: Notification): string {
  context.notificationZxids.add(notification.zxid > 0n ? "txn" : String(notification.zxid));
  const type = eventTypeNames[notification.type] ?? `type${notification.type}`;
  const state = notification.state === 3 ? "" : ` state=${notification.state}`;
  return `${type} ${notification.path}${state}`;
}

function relative(context: Context, zxid: bigint): number {
  return Number(zxid - context.base);
}

function encode(data: string | null): Uint8Array | null {
  return data === null ? null : new TextEncoder().encode(data);
}

function decode(data: Uint8Array | null): string | null {
  return data === null ? null : new TextDecoder().decode(data);
}
