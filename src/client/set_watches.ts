/**
 * Re-registering watches after a reconnect (wire protocol §6.8): setWatches (101), or setWatches2
 * (105) for a packet carrying persistent watches, split so that each packet's summed path lengths
 * stay under a limit (the Java client uses 128 KiB; one big packet could exceed jute.maxbuffer).
 */
import type { SetWatchesRequest } from "../core/records.ts";

/** The Java client's per-packet budget of summed path bytes. */
export const SET_WATCHES_BYTES_MAX = 128 * 1024;

/** Server paths (chroot applied) per watch kind. */
export interface WatchPaths {
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
  persistent: readonly string[];
  persistentRecursive: readonly string[];
}

type ListKey = keyof WatchPaths;
const listOrder: readonly ListKey[] = ["data", "exist", "child", "persistent", "persistentRecursive"];
const encoder = new TextEncoder();

/**
 * The packets to send, in order; empty when there is nothing to re-register. A single path longer
 * than the budget still gets a packet of its own.
 */
export function setWatchesRequests(
  paths: WatchPaths,
  relativeZxid: number,
  bytesMax: number = SET_WATCHES_BYTES_MAX,
): SetWatchesRequest[] {
  const packets: SetWatchesRequest[] = [];
  let current = emptyLists();
  let currentBytes = 0;
  let currentCount = 0;
  const flush = () => {
    if (currentCount === 0) return;
    const persistent = current.persistent.length > 0 || current.persistentRecursive.length > 0;
    packets.push({
      kind: persistent ? "setWatches2" : "setWatches",
      relativeZxid,
      dataWatches: current.data,
      existWatches: current.exist,
      childWatches: current.child,
      persistentWatches: current.persistent,
      persistentRecursiveWatches: current.persistentRecursive,
    });
    current = emptyLists();
    currentBytes = 0;
    currentCount = 0;
  };
  for (const key of listOrder) {
    for (const path of paths[key]) {
      const bytes = encoder.encode(path).length;
      if (currentCount > 0 && currentBytes + bytes > bytesMax) flush();
      current[key].push(path);
      currentBytes += bytes;
      currentCount++;
    }
  }
  flush();
  return packets;
}

function emptyLists(): Record<ListKey, string[]> {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}
