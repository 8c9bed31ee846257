/**
 * Watches, per connection, from what the client received in order:
 * - every event consumes a watch the connection holds (so a watch fires at most once), and comes
 *   from the first change after the watch was set (its zxid and type match the history);
 * - no reply reveals a change before the watch it triggers has fired: a reply with zxid Z means the
 *   server had applied everything up to Z, so any watched change at or below Z must have been
 *   notified first.
 * A watch is set by the reply of a read that asked for one: getData (node exists) and exists (either
 * way) set a data watch, getChildren (node exists) a child watch. Watches die with the connection.
 * Since ZooKeeper 3.8.4 a change is told only to connections with READ on the node (the parent for
 * a children change): when the change that would fire a watch is hidden from the connection, the
 * watch is consumed silently — no event may come, and it is gone once a reply shows the change.
 */
import { Code } from "../../core/errors.ts";
import { type ACL, EventType, type Id } from "../../core/records.ts";
import { isAllowed, READ } from "../model/model_acl.ts";
import { type Zxid, zxidHex } from "../../core/zxid.ts";
import type { ConnectionRecord, OpRecord } from "../history.ts";
import type { ReferenceReplay } from "./reference_replay.ts";
import { hex } from "./reference_replay.ts";
import type { Report } from "./violation.ts";

interface Watch {
  key: string;
  path: string;
  table: "data" | "child";
  since: Zxid;
  /** The first change after `since` that fires it (null: none in the history). */
  due: Zxid | null;
  /** A reply already revealed `due` before the event (reported once). */
  overdue: boolean;
  /**
   * `due` is hidden from this connection (no READ): the watch is consumed without an event.
   * "maybe": the node's ACL at that change is not known (created and deleted by one multi), so
   * either outcome passes.
   */
  silent: boolean | "maybe";
}

/** Who may see which change (see ModelTriggers.changeAcls); without it every change is visible. */
export interface WatchVisibility {
  changeAcls: ReadonlyMap<string, readonly ACL[]>;
  /** The identities a connection holds (its ip and its auth). */
  identities(connection: ConnectionRecord): readonly Id[];
}

const EVENT_CHANGE: Record<number, string> = {
  [EventType.NodeCreated]: "created",
  [EventType.NodeDeleted]: "deleted",
  [EventType.NodeDataChanged]: "dataChanged",
  [EventType.NodeChildrenChanged]: "childrenChanged",
};

export function checkWatches(
  connections: Iterable<ConnectionRecord>,
  ops: readonly OpRecord[],
  reference: Pick<ReferenceReplay, "dataTriggers" | "childTriggers" | "changeTypes">,
  report: Report,
  visibility?: WatchVisibility,
): void {
  for (const connection of connections) checkConnection(connection, ops, reference, report, visibility);
}

function checkConnection(
  connection: ConnectionRecord,
  ops: readonly OpRecord[],
  reference: Pick<ReferenceReplay, "dataTriggers" | "childTriggers" | "changeTypes">,
  report: Report,
  visibility: WatchVisibility | undefined,
): void {
  const watches = new Map<string, Watch>();
  const identities = visibility?.identities(connection) ?? [];
  const hidden = (zxid: Zxid | null, path: string): boolean | "maybe" => {
    if (zxid === null || visibility === undefined) return false;
    const acl = visibility.changeAcls.get(`${zxid} ${path}`);
    if (acl === undefined) return "maybe";
    return !isAllowed(acl, READ, identities);
  };
  const who = `client ${connection.client} (session 0x${hex(connection.sessionId)}, connection ${connection.connection} to server ${connection.sid})`;
  for (const item of connection.items) {
    if (item.kind === "reply") {
      const op = ops[item.op]!;
      const zxid = op.reply!.header.zxid;
      if (zxid > 0) {
        for (const watch of [...watches.values()]) {
          if (watch.silent && watch.due !== null && watch.due <= zxid) watches.delete(watch.key);
        }
        for (const watch of watches.values()) {
          if (watch.due !== null && watch.due <= zxid && !watch.overdue) {
            report(
              "a watch fires before a reply that reveals its change",
              `${who}: the reply to xid ${op.xid} (${op.request.kind}) has zxid ${zxidHex(zxid)}, but the ${watch.table} watch on ${watch.path} (set at ${zxidHex(watch.since)}) was due at ${zxidHex(watch.due)} and has not fired`,
            );
            watch.overdue = true;
          }
        }
      }
      const set = watchSetBy(op);
      if (set !== null && !watches.has(set.key)) {
        const triggers = (set.table === "data" ? reference.dataTriggers : reference.childTriggers).get(set.path) ?? [];
        const due = firstAfter(triggers, zxid);
        watches.set(set.key, { ...set, since: zxid, due, overdue: false, silent: hidden(due, set.path) });
      }
      continue;
    }
    const keys = item.type === EventType.NodeDeleted
      ? [`data ${item.path}`, `child ${item.path}`]
      : [item.type === EventType.NodeChildrenChanged ? `child ${item.path}` : `data ${item.path}`];
    const fired = keys.map((key) => watches.get(key)).filter((watch): watch is Watch => watch !== undefined);
    const what = `event type ${item.type} on ${item.path} (zxid ${zxidHex(item.zxid)})`;
    if (fired.length === 0) {
      report("a watch fires at most once", `${who}: ${what} but no watch was set there (it fired twice, or was never set)`);
      continue;
    }
    for (const watch of fired) {
      watches.delete(watch.key);
      if (watch.silent === "maybe" && watch.due === item.zxid) {
        // Either way is right: the ACL of that change is not known.
      } else if (watch.silent && watch.due === item.zxid) {
        report(
          "watch events reach only connections with READ",
          `${who}: ${what} fired the ${watch.table} watch set at ${zxidHex(watch.since)}, but the connection has no READ on the node's ACL at that change`,
        );
      } else if (watch.due !== item.zxid) {
        report(
          "a watch fires for the first change after it was set",
          `${who}: ${what} fired the ${watch.table} watch set at ${zxidHex(watch.since)}, whose first change is ${watch.due === null ? "not in the history" : zxidHex(watch.due)}`,
        );
      }
    }
    const types = reference.changeTypes.get(`${item.zxid} ${item.path}`);
    if (!types?.has(EVENT_CHANGE[item.type] as never)) {
      report("a watch fires for the first change after it was set", `${who}: ${what}, but that txn made no such change (${[...(types ?? [])].join(", ") || "none"})`);
    }
  }
}

function watchSetBy(op: OpRecord): { key: string; path: string; table: "data" | "child" } | null {
  const request = op.request;
  if (op.reply === null || !("watch" in request) || !request.watch) return null;
  const err = op.reply.header.err;
  if (request.kind === "exists" && (err === Code.OK || err === Code.NONODE)) {
    return { key: `data ${request.path}`, path: request.path, table: "data" };
  }
  if (err !== Code.OK) return null;
  if (request.kind === "getData") return { key: `data ${request.path}`, path: request.path, table: "data" };
  if (request.kind === "getChildren" || request.kind === "getChildren2") {
    return { key: `child ${request.path}`, path: request.path, table: "child" };
  }
  return null;
}

/** The first zxid in ascending `zxids` greater than `after`, or null. */
export function firstAfter(zxids: readonly Zxid[], after: Zxid): Zxid | null {
  let low = 0;
  let high = zxids.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (zxids[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low < zxids.length ? zxids[low]! : null;
}
