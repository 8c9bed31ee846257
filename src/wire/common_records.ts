/**
 * Records shared by requests and responses (org.apache.zookeeper.data): Id, ACL, Stat, ClientInfo.
 * Null strings inside them decode as "" because records.ts has no null there (kazoo sends −1 for
 * the empty id of `auth:`).
 */
import type { ACL, ClientInfo, Stat } from "../core/records.ts";
import type { JuteReader, JuteWriter } from "./jute.ts";

/** Size of a Stat on the wire. */
export const STAT_BYTES = 68;
/** Smallest ACL on the wire: perms + two empty strings. */
export const ACL_BYTES_MIN = 12;
/** Smallest ClientInfo on the wire: two empty strings. */
export const CLIENT_INFO_BYTES_MIN = 8;

export function writeStat(writer: JuteWriter, stat: Stat): void {
  writer.writeLong(stat.czxid);
  writer.writeLong(stat.mzxid);
  writer.writeLong(stat.ctime);
  writer.writeLong(stat.mtime);
  writer.writeInt(stat.version);
  writer.writeInt(stat.cversion);
  writer.writeInt(stat.aversion);
  writer.writeLong(stat.ephemeralOwner);
  writer.writeInt(stat.dataLength);
  writer.writeInt(stat.numChildren);
  writer.writeLong(stat.pzxid);
}

/** Zxids and times become numbers via readLongNumber (exact for safe integers, else Number(bigint)). */
export function readStat(reader: JuteReader): Stat {
  return {
    czxid: reader.readLongNumber("stat.czxid"),
    mzxid: reader.readLongNumber("stat.mzxid"),
    ctime: reader.readLongNumber("stat.ctime"),
    mtime: reader.readLongNumber("stat.mtime"),
    version: reader.readInt("stat.version"),
    cversion: reader.readInt("stat.cversion"),
    aversion: reader.readInt("stat.aversion"),
    ephemeralOwner: reader.readLong("stat.ephemeralOwner"),
    dataLength: reader.readInt("stat.dataLength"),
    numChildren: reader.readInt("stat.numChildren"),
    pzxid: reader.readLongNumber("stat.pzxid"),
  };
}

function writeAcl(writer: JuteWriter, acl: ACL): void {
  writer.writeInt(acl.perms);
  writer.writeString(acl.id.scheme);
  writer.writeString(acl.id.id);
}

function readAcl(reader: JuteReader): ACL {
  const perms = reader.readInt("acl.perms");
  const scheme = reader.readString("acl.id.scheme") ?? "";
  const id = reader.readString("acl.id.id") ?? "";
  return { perms, id: { scheme, id } };
}

export function writeAclVector(writer: JuteWriter, acl: readonly ACL[] | null): void {
  writer.writeVector(acl, writeAcl);
}

export function readAclVector(reader: JuteReader): ACL[] | null {
  return reader.readVector("acl", ACL_BYTES_MIN, readAcl);
}

function writeClientInfo(writer: JuteWriter, info: ClientInfo): void {
  writer.writeString(info.authScheme);
  writer.writeString(info.user);
}

function readClientInfo(reader: JuteReader): ClientInfo {
  const authScheme = reader.readString("clientInfo.authScheme") ?? "";
  const user = reader.readString("clientInfo.user") ?? "";
  return { authScheme, user };
}

export function writeClientInfoVector(writer: JuteWriter, infos: readonly ClientInfo[] | null): void {
  writer.writeVector(infos, writeClientInfo);
}

export function readClientInfoVector(reader: JuteReader): ClientInfo[] | null {
  return reader.readVector("clientInfo", CLIENT_INFO_BYTES_MIN, readClientInfo);
}

/** MultiHeader{int type, boolean done, int err} (wire protocol §9.1). */
export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

export function writeMultiHeader(writer: JuteWriter, type: number, done: boolean, err: number): void {
  writer.writeInt(type);
  writer.writeBool(done);
  writer.writeInt(err);
}

export function readMultiHeader(reader: JuteReader): MultiHeader {
  const type = reader.readInt("multiHeader.type");
  const done = reader.readBool("multiHeader.done");
  const err = reader.readInt("multiHeader.err");
  return { type, done, err };
}
