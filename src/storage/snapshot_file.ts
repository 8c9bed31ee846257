/**
 * Snapshot files: `snapshot.<zxid, 16 hex digits>` in dataDir, holding a file header ("CORRALSN",
 * version) and framed records: the SnapshotHeader, then nodes in batches (CBOR arrays of node
 * tuples), then an end record { nodeCount }. A snapshot without its end record, with a bad CRC
 * anywhere, or with anything after the end record is invalid, and recovery uses an older one.
 */
import type { SnapshotHeader, SnapshotNode, SnapshotSource } from "../core/persistence.ts";
import { decodeCbor, encodeCbor } from "./cbor_codec.ts";
import {
  checkFileHeader,
  encodeFileHeader,
  FILE_HEADER_BYTES,
  frameRecord,
  readRecord,
} from "./record_framing.ts";
import { NodeTupleDecoder, NodeTupleEncoder } from "./snapshot_nodes.ts";
import type { NodeTuple } from "./snapshot_nodes.ts";
import { zxidFileName } from "./zxid_files.ts";

export const SNAPSHOT_MAGIC = "CORRALSN";

export function snapshotName(zxid: number): string {
  return zxidFileName("snapshot", zxid);
}

export interface SnapshotChunkOptions {
  nodesPerRecord: number;
  yieldEvery: number;
  /** Resolves after a macrotask, so the server serves requests between slices. */
  yieldToEventLoop: () => Promise<void>;
  /** Counts nodes as they are written. */
  onNodes: (count: number) => void;
}

/** The bytes of a snapshot of `source`, pulled lazily in slices (a fuzzy snapshot). */
export async function* snapshotChunks(
  source: SnapshotSource,
  options: SnapshotChunkOptions,
): AsyncGenerator<Uint8Array> {
  yield encodeFileHeader(SNAPSHOT_MAGIC);
  yield frameRecord(encodeCbor(source.header));
  const encoder = new NodeTupleEncoder();
  let nodeCount = 0;
  let sinceYield = 0;
  let batch: NodeTuple[] = [];
  for (let next = source.nodes.next(); next.done !== true; next = source.nodes.next()) {
    batch.push(encoder.encode(next.value));
    nodeCount++;
    if (batch.length >= options.nodesPerRecord) {
      yield frameRecord(encodeCbor(batch));
      options.onNodes(batch.length);
      batch = [];
    }
    if (++sinceYield >= options.yieldEvery) {
      sinceYield = 0;
      await options.yieldToEventLoop();
    }
  }
  if (batch.length > 0) {
    yield frameRecord(encodeCbor(batch));
    options.onNodes(batch.length);
  }
  yield frameRecord(encodeCbor({ nodeCount }));
}

/** Element count of a CBOR array header at the start of `body`, or null if it is not an array. */
function cborArrayLength(body: Uint8Array): number | null {
  const first = body[0]!;
  if (first >> 5 !== 4) return null;
  const info = first & 0x1f;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (info < 24) return info;
  if (info === 24 && body.length >= 2) return body[1]!;
  if (info === 25 && body.length >= 3) return view.getUint16(1);
  if (info === 26 && body.length >= 5) return view.getUint32(1);
  return null;
}

function isSnapshotHeader(value: unknown): value is SnapshotHeader {
  if (typeof value !== "object" || value === null) return false;
  const header = value as Record<string, unknown>;
  return typeof header["zxid"] === "number" && Array.isArray(header["sessions"]);
}

export type SnapshotCheck = { valid: true; header: SnapshotHeader; nodeCount: number } | {
  valid: false;
  reason: string;
};

/**
 * Checks a whole snapshot (CRCs, structure, node count) without decoding the nodes. Throws only
 * for a file written by a newer format version, which must stop the start.
 */
export function checkSnapshot(bytes: Uint8Array, path: string, expectedZxid: number): SnapshotCheck {
  if (checkFileHeader(bytes, SNAPSHOT_MAGIC, path) === "short") {
    return { valid: false, reason: "torn file header" };
  }
  let offset = FILE_HEADER_BYTES;
  let header: SnapshotHeader | null = null;
  let counted = 0;
  for (;;) {
    const read = readRecord(bytes, offset);
    if (read.kind === "end") return { valid: false, reason: "no end record (incomplete snapshot)" };
    if (read.kind === "bad") return { valid: false, reason: `${read.reason} at offset ${offset}` };
    if (header === null) {
      const decoded = safeDecode(read.body);
      if (!isSnapshotHeader(decoded)) return { valid: false, reason: "malformed snapshot header record" };
      if (decoded.zxid !== expectedZxid) {
        return { valid: false, reason: "header zxid differs from the file name" };
      }
      header = decoded;
    } else {
      const length = cborArrayLength(read.body);
      if (length !== null) {
        counted += length;
      } else {
        const end = safeDecode(read.body) as { nodeCount?: unknown } | undefined;
        if (typeof end?.nodeCount !== "number") {
          return { valid: false, reason: `unknown record at offset ${offset}` };
        }
        if (end.nodeCount !== counted) {
          return { valid: false, reason: `end record says ${end.nodeCount} nodes, found ${counted}` };
        }
        if (read.next !== bytes.length) return { valid: false, reason: `bytes after the end record` };
        return { valid: true, header, nodeCount: counted };
      }
    }
    offset = read.next;
  }
}

function safeDecode(body: Uint8Array): unknown {
  try {
    return decodeCbor(body);
  } catch {
    return undefined;
  }
}

/** Decodes the nodes of a snapshot that passed checkSnapshot, in file order. */
export function readSnapshotNodes(bytes: Uint8Array, visit: (node: SnapshotNode) => void): number {
  const decoder = new NodeTupleDecoder();
  let offset = FILE_HEADER_BYTES;
  let count = 0;
  let first = true;
  for (let read = readRecord(bytes, offset); read.kind === "record"; read = readRecord(bytes, offset)) {
    offset = read.next;
    if (first || cborArrayLength(read.body) === null) {
      first = false;
      continue;
    }
    for (const tuple of decodeCbor(read.body) as unknown[]) {
      visit(decoder.decode(tuple));
      count++;
    }
  }
  return count;
}
