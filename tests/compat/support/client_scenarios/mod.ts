/**
 * Scenarios that drive Corral's own client (src/client) against one server, with assertions written
 * from what Apache ZooKeeper 3.8 does. tests/compat/client_vs_zookeeper_test.ts runs each of them
 * against ZooKeeper and against Corral, so that a behaviour only Corral has cannot hide in the
 * client (and a client bug that Corral happens to mirror shows against ZooKeeper).
 *
 * Every scenario works under its own `root` (created for it, empty), so all share one server.
 */
import { existsIgnoresAcl, notificationZxid, oneShotBesidePersistent, README_NOTE } from "./differences.ts";
import { aclsAndAuth, multiOps } from "./multi_and_acl.ts";
import { childrenAndCounts, createModes, readWriteVersions } from "./nodes.ts";
import {
  chrootScenario,
  closeObserved,
  expiryObserved,
  reconnectReRegistersWatches,
  syncAndSession,
} from "./sessions.ts";
import type { ClientScenario } from "./shared.ts";
import { oneShotWatches, persistentWatches, removeAllPersistentType, removingWatches } from "./watches.ts";

export type { ClientScenario, ScenarioServer, ScenarioTargetName } from "./shared.ts";

/** The scenarios, in the order they run. */
export const CLIENT_SCENARIOS: readonly ClientScenario[] = [
  { name: "create in every mode (sequential, ephemeral, container, TTL) and its errors", run: createModes },
  { name: "getData/setData/exists/delete with versions, stats and error codes", run: readWriteVersions },
  { name: "getChildren, getChildren2, getAllChildrenNumber, getEphemerals", run: childrenAndCounts },
  { name: "multi: atomic success, per-op results on failure; multiRead per op", run: multiOps },
  { name: "ACLs, digest auth, NOAUTH, INVALIDACL, whoAmI, AUTHFAILED", run: aclsAndAuth },
  { name: "one-shot data, exist and child watches", run: oneShotWatches },
  { name: "persistent and persistent recursive watches (addWatch)", run: persistentWatches },
  { name: "removeWatches and removeAllWatches", run: removingWatches },
  {
    name: "removeAllWatches of type persistent is 3.9's: 3.8 answers MARSHALLINGERROR",
    knownDifference: {
      corral: `server difference, ${README_NOTE}: check/removeWatches accept WatcherType 4 and 5 ` +
        "(persistent, persistentRecursive) and remove the watch; ZooKeeper 3.8.0 answers MARSHALLINGERROR",
    },
    run: removeAllPersistentType,
  },
  {
    name: "exists on a node without READ returns its stat (3.8.0)",
    knownDifference: {
      corral: `server difference, ${README_NOTE}: exists checks READ on an existing node (3.8.4+/3.9.2+) ` +
        "and answers NOAUTH; ZooKeeper 3.8.0 returns the stat",
    },
    run: existsIgnoresAcl,
  },
  {
    name: "notifications carry zxid -1 (3.8)",
    knownDifference: {
      corral: `server difference, ${README_NOTE}: notifications carry the triggering zxid (3.9); ` +
        "ZooKeeper 3.8 sends -1 (the client passes either through as event.zxid)",
    },
    run: notificationZxid,
  },
  {
    name:
      "a one-shot watch beside a persistent one: one call per event; 3.8 then drops the persistent data watch",
    knownDifference: {
      corral: `server difference, ${README_NOTE}: a connection keeps a one-shot and a persistent watch on ` +
        "the same path side by side (3.9), so later changes still fire; ZooKeeper 3.8.0's one-shot " +
        "registration replaces the persistent data watch, which goes with the first event",
    },
    run: oneShotBesidePersistent,
  },
  { name: "sync, session ids, negotiated session timeouts", run: syncAndSession },
  { name: "close: the client sees closed, others see its ephemerals go", run: closeObserved },
  { name: "expiry: a session killed while cut off is reported as expired on reconnect", run: expiryObserved },
  {
    name: "connection loss: CONNECTIONLOSS, same session on reconnect, watches re-registered (setWatches)",
    run: reconnectReRegistersWatches,
  },
  { name: "chroot: requests prefixed, replies and events stripped", run: chrootScenario },
];
