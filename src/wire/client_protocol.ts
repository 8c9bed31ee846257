/**
 * The ZooKeeper client protocol on the wire: handshake, requests, replies and notifications, turned
 * into the records of src/core/records.ts and back (wire protocol §1–3, §9).
 *
 * Encoders return a whole frame, 4-byte length prefix included (small frames are views of a shared
 * slab, see JuteWriter: use byteOffset/byteLength, never the whole `.buffer`). Decoders take a payload without the
 * prefix (as FrameDecoder.next() returns it), ignore trailing bytes, throw only WireError, and copy
 * every buffer they return, so decoded records never alias the payload.
 */
import {
  type ConnectRequest,
  type ConnectResponse,
  OpCode,
  type Reply,
  type ReplyHeader,
  type Request,
  type RequestHeader,
  type RequestKind,
  type Response,
  type WatcherEvent,
} from "../core/records.ts";
import { JuteReader, JuteWriter, WireError } from "./jute.ts";
import {
  readRequestBody,
  REQUEST_KIND_BY_OPCODE,
  requestSizeHint,
  writeRequestBody,
} from "./request_codec.ts";
import { readResponseBody, responseShapeOf, responseSizeHint, writeResponseBody } from "./response_codec.ts";

export { WireError } from "./jute.ts";

/** A request as the server sees it: `request` is null and `error` says why when it cannot be used. */
export interface DecodedRequest {
  header: RequestHeader;
  request: Request | null;
  error: string | null;
}

const EMPTY_PASSWORD = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------------
// Handshake (§1.3)

/** The ConnectRequest frame; the trailing readOnly byte is written only when `readOnly` is defined. */
export function encodeConnectRequest(request: ConnectRequest): Uint8Array {
  const writer = new JuteWriter(64 + request.passwd.length);
  try {
    writer.writeInt(request.protocolVersion);
    writer.writeLong(request.lastZxidSeen);
    writer.writeInt(request.timeOut);
    writer.writeLong(request.sessionId);
    writer.writeBuffer(request.passwd);
    if (request.readOnly !== undefined) writer.writeBool(request.readOnly);
    return writer.finishFrame();
  } finally {
    writer.discard(); // a no-op after finishFrame; frees the slab if a field was invalid
  }
}

/**
 * Reads a ConnectRequest payload. `readOnly` is undefined when the optional byte is absent; a null
 * password becomes empty. Throws WireError when the five mandatory fields are not all there.
 */
export function decodeConnectRequest(payload: Uint8Array): ConnectRequest {
  const reader = new JuteReader(payload);
  const protocolVersion = reader.readInt("protocolVersion");
  const lastZxidSeen = reader.readLongNumber("lastZxidSeen");
  const timeOut = reader.readInt("timeOut");
  const sessionId = reader.readLong("sessionId");
  const passwd = reader.readBufferCopy("passwd") ?? EMPTY_PASSWORD;
  const readOnly = reader.remaining > 0 ? reader.readBool("readOnly") : undefined;
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly };
}

/** The ConnectResponse frame; the trailing readOnly byte is written only when `readOnly` is defined. */
export function encodeConnectResponse(response: ConnectResponse): Uint8Array {
  const writer = new JuteWriter(64 + response.passwd.length);
  try {
    writer.writeInt(response.protocolVersion);
    writer.writeInt(response.timeOut);
    writer.writeLong(response.sessionId);
    writer.writeBuffer(response.passwd);
    if (response.readOnly !== undefined) writer.writeBool(response.readOnly);
    return writer.finishFrame();
  } finally {
    writer.discard();
  }
}

/** Reads a ConnectResponse payload; `readOnly` is undefined when the byte is absent (older servers). */
export function decodeConnectResponse(payload: Uint8Array): ConnectResponse {
  const reader = new JuteReader(payload);
  const protocolVersion = reader.readInt("protocolVersion");
  const timeOut = reader.readInt("timeOut");
  const sessionId = reader.readLong("sessionId");
  const passwd = reader.readBufferCopy("passwd") ?? EMPTY_PASSWORD;
  const readOnly = reader.remaining > 0 ? reader.readBool("readOnly") : undefined;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}

// ---------------------------------------------------------------------------------------------------
// Requests (client → server)

/**
 * A request frame: RequestHeader{xid, opcode of request.kind} + body. The caller picks the xid,
 * including the special ones (−2 ping, −4 auth, −8 setWatches from the C client).
 */
export function encodeRequest(xid: number, request: Request): Uint8Array {
  const writer = new JuteWriter(requestSizeHint(request));
  try {
    writer.writeInt(xid);
    writer.writeInt(OpCode[request.kind]);
    writeRequestBody(writer, request);
    return writer.finishFrame();
  } finally {
    writer.discard();
  }
}

/**
 * Reads a request payload. Throws WireError only when it is shorter than the 8-byte RequestHeader
 * (the reference closes the connection). Otherwise returns the header and either the request or an
 * error: "unknown opcode N" for opcodes outside the valid set (§2.5; 13 and −10 count as unknown),
 * or the parse failure of the body (the reference replies MARSHALLINGERROR). Trailing bytes are ignored.
 */
export function decodeRequest(payload: Uint8Array): DecodedRequest {
  const reader = new JuteReader(payload);
  const xid = reader.readInt("requestHeader.xid");
  const type = reader.readInt("requestHeader.type");
  const header: RequestHeader = { xid, type };
  const kind = REQUEST_KIND_BY_OPCODE.get(type);
  if (kind === undefined) return { header, request: null, error: `unknown opcode ${type}` };
  try {
    return { header, request: readRequestBody(kind, reader), error: null };
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    return { header, request: null, error: `${kind} (opcode ${type}) body does not parse: ${error.message}` };
  }
}

// ---------------------------------------------------------------------------------------------------
// Replies (server → client)

/** A reply frame: ReplyHeader + the body, or the header alone when `body` is null. */
export function encodeReply(reply: Reply): Uint8Array {
  const writer = new JuteWriter(responseSizeHint(reply.body));
  try {
    writeReplyHeader(writer, reply.header);
    if (reply.body !== null) writeResponseBody(writer, reply.body);
    return writer.finishFrame();
  } finally {
    writer.discard();
  }
}

/** A watch notification frame: ReplyHeader{−1, zxid, 0} + WatcherEvent (§2.4). */
export function encodeNotification(zxid: number, event: WatcherEvent): Uint8Array {
  const writer = new JuteWriter(48 + event.path.length * 3);
  try {
    writeReplyHeader(writer, { xid: -1, zxid, err: 0 });
    writer.writeInt(event.type);
    writer.writeInt(event.state);
    writer.writeString(event.path);
    return writer.finishFrame();
  } finally {
    writer.discard();
  }
}

function writeReplyHeader(writer: JuteWriter, header: ReplyHeader): void {
  writer.writeInt(header.xid);
  writer.writeLong(header.zxid);
  writer.writeInt(header.err);
}

function readReplyHeader(reader: JuteReader): ReplyHeader {
  const xid = reader.readInt("replyHeader.xid");
  const zxid = reader.readLongNumber("replyHeader.zxid");
  const err = reader.readInt("replyHeader.err");
  return { xid, zxid, err };
}

/** The 16-byte ReplyHeader at the start of a reply payload; throws WireError when it is shorter. */
export function decodeReplyHeader(payload: Uint8Array): ReplyHeader {
  return readReplyHeader(new JuteReader(payload));
}

/**
 * The body of a reply to a request of `kind` (the payload includes the ReplyHeader). Null for kinds
 * without a body and for err ≠ 0, except a failed sasl reply, which still carries a token when
 * present. Throws WireError when the body does not parse.
 */
export function decodeResponse(kind: RequestKind, payload: Uint8Array): Response | null {
  const reader = new JuteReader(payload);
  const header = readReplyHeader(reader);
  const shape = responseShapeOf(kind);
  if (shape === null) return null;
  if (header.err !== 0 && (shape !== "sasl" || reader.remaining === 0)) return null;
  return readResponseBody(shape, reader);
}

/** A notification payload (xid −1; not checked here, the caller routes by xid). */
export function decodeNotification(payload: Uint8Array): { zxid: number; event: WatcherEvent } {
  const reader = new JuteReader(payload);
  const { zxid } = readReplyHeader(reader);
  const type = reader.readInt("watcherEvent.type");
  const state = reader.readInt("watcherEvent.state");
  const path = reader.readString("watcherEvent.path") ?? "";
  return { zxid, event: { type, state, path } };
}
