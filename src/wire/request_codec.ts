/**
 * Request bodies (the record after a RequestHeader), one per opcode, as listed in wire protocol §3,
 * and the MultiOperationRecord of multi/multiRead (§9.1).
 */
import {
  type CreateKind,
  type CreateRequest,
  type MultiWriteOp,
  OpCode,
  type PathWatchRequest,
  type Request,
  type RequestKind,
} from "../core/records.ts";
import { readAclVector, readMultiHeader, writeAclVector, writeMultiHeader } from "./common_records.ts";
import { type JuteReader, type JuteWriter, WireError } from "./jute.ts";

/**
 * Opcodes a client may send at top level (Request.isValid, §2.5) and the kind each decodes to.
 * Left out on purpose: 13 check (only inside multi) and −10 createSession (internal).
 */
export const REQUEST_KIND_BY_OPCODE: ReadonlyMap<number, RequestKind> = new Map<number, RequestKind>([
  [OpCode.create, "create"],
  [OpCode.delete, "delete"],
  [OpCode.exists, "exists"],
  [OpCode.getData, "getData"],
  [OpCode.setData, "setData"],
  [OpCode.getACL, "getACL"],
  [OpCode.setACL, "setACL"],
  [OpCode.getChildren, "getChildren"],
  [OpCode.sync, "sync"],
  [OpCode.ping, "ping"],
  [OpCode.getChildren2, "getChildren2"],
  [OpCode.multi, "multi"],
  [OpCode.create2, "create2"],
  [OpCode.reconfig, "reconfig"],
  [OpCode.checkWatches, "checkWatches"],
  [OpCode.removeWatches, "removeWatches"],
  [OpCode.createContainer, "createContainer"],
  [OpCode.deleteContainer, "deleteContainer"],
  [OpCode.createTTL, "createTTL"],
  [OpCode.multiRead, "multiRead"],
  [OpCode.auth, "auth"],
  [OpCode.setWatches, "setWatches"],
  [OpCode.sasl, "sasl"],
  [OpCode.getEphemerals, "getEphemerals"],
  [OpCode.getAllChildrenNumber, "getAllChildrenNumber"],
  [OpCode.setWatches2, "setWatches2"],
  [OpCode.addWatch, "addWatch"],
  [OpCode.whoAmI, "whoAmI"],
  [OpCode.closeSession, "closeSession"],
]);

const MULTI_WRITE_KINDS: ReadonlyMap<number, MultiWriteOp["kind"]> = new Map<number, MultiWriteOp["kind"]>([
  [OpCode.create, "create"],
  [OpCode.create2, "create2"],
  [OpCode.createContainer, "createContainer"],
  [OpCode.createTTL, "createTTL"],
  [OpCode.delete, "delete"],
  [OpCode.setData, "setData"],
  [OpCode.check, "check"],
]);

const MULTI_READ_KINDS: ReadonlyMap<number, "getData" | "getChildren"> = new Map<
  number,
  "getData" | "getChildren"
>([
  [OpCode.getData, "getData"],
  [OpCode.getChildren, "getChildren"],
]);

/** A rough upper bound of a request's encoded size, so most frames need no buffer growth. */
export function requestSizeHint(request: Request): number {
  switch (request.kind) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
    case "setData":
      return 128 + request.path.length * 3 + (request.data?.length ?? 0);
    case "multi": {
      let total = 64;
      for (const op of request.ops) total += requestSizeHint(op) - 64 + 9;
      return total;
    }
    case "auth":
      return 128 + (request.auth?.length ?? 0);
    case "sasl":
      return 64 + (request.token?.length ?? 0);
    default:
      return 256;
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoding

export function writeRequestBody(writer: JuteWriter, request: Request): void {
  switch (request.kind) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      writeCreate(writer, request);
      return;
    case "delete":
    case "check":
      writer.writeString(request.path);
      writer.writeInt(request.version);
      return;
    case "setData":
      writer.writeString(request.path);
      writer.writeBuffer(request.data);
      writer.writeInt(request.version);
      return;
    case "setACL":
      writer.writeString(request.path);
      writeAclVector(writer, request.acl);
      writer.writeInt(request.version);
      return;
    case "exists":
    case "getData":
    case "getChildren":
    case "getChildren2":
      writer.writeString(request.path);
      writer.writeBool(request.watch);
      return;
    case "getACL":
    case "sync":
    case "getAllChildrenNumber":
    case "deleteContainer": // a buffer of UTF-8 bytes: the same bytes as a ustring
      writer.writeString(request.path);
      return;
    case "getEphemerals":
      writer.writeString(request.prefixPath);
      return;
    case "checkWatches":
    case "removeWatches":
      writer.writeString(request.path);
      writer.writeInt(request.type);
      return;
    case "addWatch":
      writer.writeString(request.path);
      writer.writeInt(request.mode);
      return;
    case "setWatches":
    case "setWatches2":
      writer.writeLong(request.relativeZxid);
      writer.writeStringVector(request.dataWatches);
      writer.writeStringVector(request.existWatches);
      writer.writeStringVector(request.childWatches);
      if (request.kind === "setWatches2") {
        writer.writeStringVector(request.persistentWatches);
        writer.writeStringVector(request.persistentRecursiveWatches);
      }
      return;
    case "multi":
    case "multiRead":
      for (const op of request.ops) {
        writeMultiHeader(writer, OpCode[op.kind], false, -1);
        writeRequestBody(writer, op);
      }
      writeMultiHeader(writer, -1, true, -1);
      return;
    case "reconfig":
      writer.writeString(request.joiningServers);
      writer.writeString(request.leavingServers);
      writer.writeString(request.newMembers);
      writer.writeLong(request.curConfigId);
      return;
    case "auth":
      writer.writeInt(request.type);
      writer.writeString(request.scheme);
      writer.writeBuffer(request.auth);
      return;
    case "sasl":
      writer.writeBuffer(request.token);
      return;
    case "ping":
    case "closeSession":
    case "whoAmI":
      return;
  }
}

function writeCreate(writer: JuteWriter, request: CreateRequest): void {
  writer.writeString(request.path);
  writer.writeBuffer(request.data);
  writeAclVector(writer, request.acl);
  writer.writeInt(request.flags);
  if (request.kind === "createTTL") writer.writeLong(request.ttl);
}

// ---------------------------------------------------------------------------------------------------
// Decoding. Buffers are copied so decoded requests never alias the frame (the transport reuses it).

/** Reads the body of a top-level request of `kind`; throws WireError when it does not parse. */
export function readRequestBody(kind: RequestKind, reader: JuteReader): Request {
  switch (kind) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return readCreate(kind, reader);
    case "delete":
    case "check":
      return { kind, path: readPath(reader), version: reader.readInt("version") };
    case "setData": {
      const path = readPath(reader);
      const data = reader.readBufferCopy("data");
      return { kind, path, data, version: reader.readInt("version") };
    }
    case "setACL": {
      const path = readPath(reader);
      const acl = readAclVector(reader);
      return { kind, path, acl, version: reader.readInt("version") };
    }
    case "exists":
    case "getData":
    case "getChildren":
    case "getChildren2":
      return { kind, path: readPath(reader), watch: reader.readBool("watch") };
    case "getACL":
    case "sync":
    case "getAllChildrenNumber":
      return { kind, path: readPath(reader) };
    case "deleteContainer":
      // Only the server itself deletes containers: a client's op 20 is refused whatever its body
      // holds (ZooKeeper 3.8 never parses it and answers BADARGUMENTS), so a body that is not a
      // ustring must not turn the answer into MARSHALLINGERROR.
      return { kind, path: readPathLeniently(reader) };
    case "getEphemerals":
      return { kind, prefixPath: reader.readString("prefixPath") };
    case "checkWatches":
    case "removeWatches":
      return { kind, path: readPath(reader), type: reader.readInt("type") };
    case "addWatch":
      return { kind, path: readPath(reader), mode: reader.readInt("mode") };
    case "setWatches":
    case "setWatches2":
      return readSetWatches(kind, reader);
    case "multi":
      return { kind, ops: readMultiOps(reader, "multi", MULTI_WRITE_KINDS) as MultiWriteOp[] };
    case "multiRead":
      return { kind, ops: readMultiOps(reader, "multiRead", MULTI_READ_KINDS) as PathWatchRequest[] };
    case "reconfig": {
      const joiningServers = reader.readString("joiningServers");
      const leavingServers = reader.readString("leavingServers");
      const newMembers = reader.readString("newMembers");
      return {
        kind,
        joiningServers,
        leavingServers,
        newMembers,
        curConfigId: reader.readLong("curConfigId"),
      };
    }
    case "auth": {
      const type = reader.readInt("type");
      const scheme = reader.readString("scheme") ?? "";
      return { kind, type, scheme, auth: reader.readBufferCopy("auth") };
    }
    case "sasl":
      return { kind, token: reader.readBufferCopy("token") };
    case "ping":
    case "closeSession":
    case "whoAmI":
      return { kind };
  }
}

/** The path, or "" when the body does not hold one. */
function readPathLeniently(reader: JuteReader): string {
  try {
    return readPath(reader);
  } catch (error) {
    if (error instanceof WireError) return "";
    throw error;
  }
}

/** A null path (length −1) decodes as "", which every path check then rejects. */
function readPath(reader: JuteReader): string {
  return reader.readString("path") ?? "";
}

function readCreate(kind: CreateKind, reader: JuteReader): CreateRequest {
  const path = readPath(reader);
  const data = reader.readBufferCopy("data");
  const acl = readAclVector(reader);
  const flags = reader.readInt("flags");
  const ttl = kind === "createTTL" ? reader.readLong("ttl") : 0n;
  return { kind, path, data, acl, flags, ttl };
}

function readSetWatches(kind: "setWatches" | "setWatches2", reader: JuteReader): Request {
  const relativeZxid = reader.readLongNumber("relativeZxid");
  const dataWatches = reader.readStringVector("dataWatches") ?? [];
  const existWatches = reader.readStringVector("existWatches") ?? [];
  const childWatches = reader.readStringVector("childWatches") ?? [];
  let persistentWatches: string[] = [];
  let persistentRecursiveWatches: string[] = [];
  if (kind === "setWatches2") {
    persistentWatches = reader.readStringVector("persistentWatches") ?? [];
    persistentRecursiveWatches = reader.readStringVector("persistentRecursiveWatches") ?? [];
  }
  return {
    kind,
    relativeZxid,
    dataWatches,
    existWatches,
    childWatches,
    persistentWatches,
    persistentRecursiveWatches,
  };
}

/**
 * MultiOperationRecord: MultiHeader + op record until a header with done set. Each round reads at
 * least 9 bytes, so the loop ends within the payload. Op types outside `allowed` fail the whole parse
 * (the reference's MARSHALLINGERROR), which also rejects mixing reads and writes.
 */
function readMultiOps(
  reader: JuteReader,
  name: "multi" | "multiRead",
  allowed: ReadonlyMap<number, RequestKind>,
): Request[] {
  const ops: Request[] = [];
  let header = readMultiHeader(reader);
  while (!header.done) {
    const kind = allowed.get(header.type);
    if (kind === undefined) {
      throw new WireError(
        `op #${ops.length} has type ${header.type}, which is not allowed in ${name} ` +
          `(allowed: ${[...allowed.keys()].join(", ")})`,
      );
    }
    ops.push(readRequestBody(kind, reader));
    header = readMultiHeader(reader);
  }
  return ops;
}
