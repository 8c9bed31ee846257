/**
 * Reply frames as the socket gets them. A getData reply of a large znode is written as three
 * pieces — the frame's head, the znode's own data (by reference, not copied), its Stat — so that
 * answering many clients, or a client that does not read, costs no copy of the data per reply: the
 * data tree never changes a znode's bytes in place (setData replaces them), so the reference stays
 * valid for as long as the socket holds it.
 */
import type { Reply } from "../core/records.ts";
import { encodeReply } from "../wire/client_protocol.ts";

/** Below this the data is copied into the frame like everything else (one small buffer is cheaper). */
export const ZERO_COPY_DATA_BYTES_MIN = 16 * 1024;

/** length prefix (4) + ReplyHeader (xid 4, zxid 8, err 4) + the data's length (4). */
const GET_DATA_HEAD_BYTES = 24;
const EMPTY = new Uint8Array(0);

/** The frame of `reply`, as one or more pieces to write in order. */
export function encodeReplyPieces(reply: Reply): Uint8Array[] {
  const body = reply.body;
  if (body === null || body.kind !== "getData" || body.data === null || body.data.length < ZERO_COPY_DATA_BYTES_MIN) {
    return [encodeReply(reply)];
  }
  const data = body.data;
  // The frame with empty data, copied off the encoder's shared slab, then patched to say how long
  // the real frame and data are.
  const shell = encodeReply({ header: reply.header, body: { ...body, data: EMPTY } }).slice();
  const view = new DataView(shell.buffer, shell.byteOffset, shell.byteLength);
  view.setInt32(0, shell.length - 4 + data.length);
  view.setInt32(GET_DATA_HEAD_BYTES - 4, data.length);
  return [shell.subarray(0, GET_DATA_HEAD_BYTES), data, shell.subarray(GET_DATA_HEAD_BYTES)];
}
