/**
 * The data behind ZooKeeper 3.9's `snapshot` and `restore` admin commands, in Corral's own snapshot
 * file format (the bytes of a dataDir/snapshot.<zxid> file: "CORRALSN", CRC-framed records), so a
 * downloaded snapshot can also be dropped into a dataDir. A download is taken in one event-loop turn
 * (consistent at its zxid, unlike the fuzzy snapshots the persister writes) and then streamed.
 */
import type { SnapshotHeader, SnapshotNode, SnapshotSource } from "../../core/persistence.ts";
import { decodeCbor } from "../../storage/cbor_codec.ts";
import { FILE_HEADER_BYTES, readRecord } from "../../storage/record_framing.ts";
import { checkSnapshot, readSnapshotNodes, snapshotChunks } from "../../storage/snapshot_file.ts";

export interface SnapshotDownload {
  zxid: number;
  chunks: Uint8Array[];
  bytes: number;
}

/** Encodes `source` at once: no other event runs until it returns, so the tree cannot move meanwhile. */
export async function takeSnapshot(source: SnapshotSource): Promise<SnapshotDownload> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // No yieldToEventLoop call happens (yieldEvery is unreachable): the generator only awaits
  // microtasks, which run before any I/O or timer, so the walk sees one state of the tree.
  const generator = snapshotChunks(source, {
    nodesPerRecord: 512,
    yieldEvery: Number.MAX_SAFE_INTEGER,
    yieldToEventLoop: () => Promise.resolve(),
    onNodes: () => {},
  });
  for await (const chunk of generator) {
    chunks.push(chunk);
    bytes += chunk.length;
  }
  return { zxid: source.header.zxid, chunks, bytes };
}

/** What a restore needs: the header and the nodes, after the whole upload checked out. */
export interface ParsedSnapshot {
  header: SnapshotHeader;
  nodeCount: number;
  forEachNode(visit: (node: SnapshotNode) => void): void;
}

/** Checks an uploaded snapshot completely (magic, every CRC, node count); throws with the reason. */
export function parseSnapshot(bytes: Uint8Array): ParsedSnapshot {
  if (bytes.length < FILE_HEADER_BYTES) throw new Error(`the body (${bytes.length} bytes) is not a Corral snapshot: too short`);
  const first = readRecord(bytes, FILE_HEADER_BYTES);
  if (first.kind !== "record") throw new Error("the body is not a Corral snapshot: no header record");
  let zxid: unknown;
  try {
    zxid = (decodeCbor(first.body) as { zxid?: unknown }).zxid;
  } catch {
    throw new Error("the body is not a Corral snapshot: unreadable header record");
  }
  if (typeof zxid !== "number") throw new Error("the body is not a Corral snapshot: the header names no zxid");
  const check = checkSnapshot(bytes, "the uploaded snapshot", zxid);
  if (!check.valid) throw new Error(`the uploaded snapshot is invalid: ${check.reason}`);
  return {
    header: check.header,
    nodeCount: check.nodeCount,
    forEachNode: (visit) => {
      readSnapshotNodes(bytes, visit);
    },
  };
}
