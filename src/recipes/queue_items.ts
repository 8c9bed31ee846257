/**
 * The byte format of a Curator DistributedQueue node (Curator's ItemSerializer), so that Curator
 * consumers can read items this module puts and vice versa: a 4-byte big-endian version 0x00010001,
 * then per item the byte 0x01, a 4-byte big-endian length and the item's bytes, then the byte 0x02.
 * One node may carry several items (putMulti).
 */
import type { NodeData } from "../client/mod.ts";

const VERSION = 0x00010001;
const ITEM_OPCODE = 0x01;
const EOF_OPCODE = 0x02;
const encoder = new TextEncoder();

/** Frames items into one node's data. */
export function encodeQueueItems(items: readonly NodeData[]): Uint8Array {
  const parts = items.map((item) => typeof item === "string" ? encoder.encode(item) : item);
  const size = 4 + parts.reduce((sum, part) => sum + 5 + part.length, 0) + 1;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, VERSION);
  let offset = 4;
  for (const part of parts) {
    bytes[offset] = ITEM_OPCODE;
    view.setInt32(offset + 1, part.length);
    bytes.set(part, offset + 5);
    offset += 5 + part.length;
  }
  bytes[offset] = EOF_OPCODE;
  return bytes;
}

/** The items framed in one node's data. Throws a RangeError naming the problem when malformed. */
export function decodeQueueItems(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string) => new RangeError(`not a Curator queue item: ${problem}`);
  if (bytes.length < 5) throw fail(`${bytes.length} bytes is too short`);
  const version = view.getInt32(0);
  if (version !== VERSION) throw fail(`version ${version}, expected ${VERSION}`);
  const items: Uint8Array[] = [];
  let offset = 4;
  // Each item takes at least 5 bytes, which bounds the loop by the data's length.
  while (offset < bytes.length) {
    const opcode = bytes[offset]!;
    if (opcode === EOF_OPCODE) return items;
    if (opcode !== ITEM_OPCODE) throw fail(`opcode ${opcode} at byte ${offset}`);
    if (offset + 5 > bytes.length) throw fail(`truncated length at byte ${offset + 1}`);
    const length = view.getInt32(offset + 1);
    const start = offset + 5;
    if (length < 0 || start + length > bytes.length) {
      throw fail(`item length ${length} at byte ${offset + 1}`);
    }
    items.push(bytes.slice(start, start + length));
    offset = start + length;
  }
  throw fail("missing the end marker");
}
