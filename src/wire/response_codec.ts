/**
 * Response bodies (the record after a ReplyHeader with err = 0), per wire protocol §3, and the
 * MultiResponse with its OpResult list (§9.1).
 */
import { OpCode, type OpResult, type RequestKind, type Response } from "../core/records.ts";
import {
  readAclVector,
  readClientInfoVector,
  readMultiHeader,
  readStat,
  writeAclVector,
  writeClientInfoVector,
  writeMultiHeader,
  writeStat,
} from "./common_records.ts";
import { type JuteReader, type JuteWriter, WireError } from "./jute.ts";

/** What a successful reply to each request kind carries; null means no body at all. */
export type ResponseShape = Response["kind"] | null;

/** The response record a reply to `kind` carries when err = 0 (reconfig answers with GetDataResponse). */
export function responseShapeOf(kind: RequestKind): ResponseShape {
  switch (kind) {
    case "create":
      return "create";
    case "create2":
    case "createContainer":
    case "createTTL":
      return "create2";
    case "exists":
    case "setData":
    case "setACL":
      return "stat";
    case "getData":
    case "reconfig":
      return "getData";
    case "getACL":
      return "getACL";
    case "getChildren":
      return "getChildren";
    case "getChildren2":
      return "getChildren2";
    case "sync":
      return "sync";
    case "multi":
    case "multiRead":
      return "multi";
    case "getEphemerals":
      return "getEphemerals";
    case "getAllChildrenNumber":
      return "getAllChildrenNumber";
    case "addWatch":
      return "errorResponse";
    case "whoAmI":
      return "whoAmI";
    case "sasl":
      return "sasl";
    case "delete":
    case "check":
    case "deleteContainer":
    case "checkWatches":
    case "removeWatches":
    case "setWatches":
    case "setWatches2":
    case "ping":
    case "closeSession":
    case "auth":
      return null;
  }
}

/** A rough upper bound of a response body's encoded size, so most frames need no buffer growth. */
export function responseSizeHint(body: Response | null): number {
  if (body === null) return 32;
  switch (body.kind) {
    case "getData":
      return 128 + (body.data?.length ?? 0);
    case "getChildren":
    case "getChildren2":
      return 128 + stringsSizeHint(body.children);
    case "getEphemerals":
      return 64 + stringsSizeHint(body.ephemerals);
    case "multi": {
      let total = 64;
      for (const result of body.results) {
        total += 96;
        if (result.type === "getData") total += result.data?.length ?? 0;
        else if (result.type === "getChildren") total += stringsSizeHint(result.children);
        else if (result.type === "create" || result.type === "create2") total += result.path.length * 3;
      }
      return total;
    }
    case "sasl":
      return 64 + (body.token?.length ?? 0);
    default:
      return 256;
  }
}

function stringsSizeHint(items: readonly string[]): number {
  let total = 4;
  for (const item of items) total += 4 + item.length * 3;
  return total;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

export function writeResponseBody(writer: JuteWriter, body: Response): void {
  switch (body.kind) {
    case "create":
    case "sync":
      writer.writeString(body.path);
      return;
    case "create2":
      writer.writeString(body.path);
      writeStat(writer, body.stat);
      return;
    case "stat":
      writeStat(writer, body.stat);
      return;
    case "getData":
      writer.writeBuffer(body.data);
      writeStat(writer, body.stat);
      return;
    case "getACL":
      writeAclVector(writer, body.acl);
      writeStat(writer, body.stat);
      return;
    case "getChildren":
      writer.writeStringVector(body.children);
      return;
    case "getChildren2":
      writer.writeStringVector(body.children);
      writeStat(writer, body.stat);
      return;
    case "multi":
      for (const result of body.results) writeOpResult(writer, result);
      writeMultiHeader(writer, -1, true, -1);
      return;
    case "getEphemerals":
      writer.writeStringVector(body.ephemerals);
      return;
    case "getAllChildrenNumber":
      writer.writeInt(body.totalNumber);
      return;
    case "errorResponse":
      writer.writeInt(body.err);
      return;
    case "whoAmI":
      writeClientInfoVector(writer, body.clientInfo);
      return;
    case "sasl":
      writer.writeBuffer(body.token);
      return;
  }
}

function writeOpResult(writer: JuteWriter, result: OpResult): void {
  switch (result.type) {
    case "create":
      writeMultiHeader(writer, OpCode.create, false, 0);
      writer.writeString(result.path);
      return;
    case "create2":
      writeMultiHeader(writer, OpCode.create2, false, 0);
      writer.writeString(result.path);
      writeStat(writer, result.stat);
      return;
    case "delete":
      writeMultiHeader(writer, OpCode.delete, false, 0);
      return;
    case "setData":
      writeMultiHeader(writer, OpCode.setData, false, 0);
      writeStat(writer, result.stat);
      return;
    case "check":
      writeMultiHeader(writer, OpCode.check, false, 0);
      return;
    case "getChildren":
      writeMultiHeader(writer, OpCode.getChildren, false, 0);
      writer.writeStringVector(result.children);
      return;
    case "getData":
      writeMultiHeader(writer, OpCode.getData, false, 0);
      writer.writeBuffer(result.data);
      writeStat(writer, result.stat);
      return;
    case "error":
      // The code goes in the header and again in the ErrorResponse that follows.
      writeMultiHeader(writer, OpCode.error, false, result.err);
      writer.writeInt(result.err);
      return;
  }
}

// ---------------------------------------------------------------------------------------------------
// Decoding. Buffers are copied so decoded responses never alias the frame. Null vectors become [].

/** Reads a response record of `shape`; throws WireError when it does not parse. */
export function readResponseBody(shape: Response["kind"], reader: JuteReader): Response {
  switch (shape) {
    case "create":
      return { kind: shape, path: reader.readString("path") ?? "" };
    case "sync":
      return { kind: shape, path: reader.readString("path") ?? "" };
    case "create2": {
      const path = reader.readString("path") ?? "";
      return { kind: shape, path, stat: readStat(reader) };
    }
    case "stat":
      return { kind: shape, stat: readStat(reader) };
    case "getData": {
      const data = reader.readBufferCopy("data");
      return { kind: shape, data, stat: readStat(reader) };
    }
    case "getACL": {
      const acl = readAclVector(reader) ?? [];
      return { kind: shape, acl, stat: readStat(reader) };
    }
    case "getChildren":
      return { kind: shape, children: reader.readStringVector("children") ?? [] };
    case "getChildren2": {
      const children = reader.readStringVector("children") ?? [];
      return { kind: shape, children, stat: readStat(reader) };
    }
    case "multi":
      return { kind: shape, results: readOpResults(reader) };
    case "getEphemerals":
      return { kind: shape, ephemerals: reader.readStringVector("ephemerals") ?? [] };
    case "getAllChildrenNumber":
      return { kind: shape, totalNumber: reader.readInt("totalNumber") };
    case "errorResponse":
      return { kind: shape, err: reader.readInt("err") };
    case "whoAmI":
      return { kind: shape, clientInfo: readClientInfoVector(reader) ?? [] };
    case "sasl":
      return { kind: shape, token: reader.readBufferCopy("token") };
  }
}

/** Results until a header with done set; each round reads at least 9 bytes, so the loop is bounded. */
function readOpResults(reader: JuteReader): OpResult[] {
  const results: OpResult[] = [];
  let header = readMultiHeader(reader);
  while (!header.done) {
    results.push(readOpResult(header.type, reader, results.length));
    header = readMultiHeader(reader);
  }
  return results;
}

function readOpResult(type: number, reader: JuteReader, index: number): OpResult {
  switch (type) {
    case OpCode.create:
      return { type: "create", path: reader.readString("result.path") ?? "" };
    case OpCode.create2: {
      const path = reader.readString("result.path") ?? "";
      return { type: "create2", path, stat: readStat(reader) };
    }
    case OpCode.delete:
      return { type: "delete" };
    case OpCode.setData:
      return { type: "setData", stat: readStat(reader) };
    case OpCode.check:
      return { type: "check" };
    case OpCode.getChildren:
      return { type: "getChildren", children: reader.readStringVector("result.children") ?? [] };
    case OpCode.getData: {
      const data = reader.readBufferCopy("result.data");
      return { type: "getData", data, stat: readStat(reader) };
    }
    case OpCode.error:
      // As the reference: the code reported is the ErrorResponse's, not the header's.
      return { type: "error", err: reader.readInt("result.err") };
    default:
      throw new WireError(`multi result #${index} has unknown type ${type}`);
  }
}
