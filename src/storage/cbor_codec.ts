/**
 * The cbor-x configuration of every log and snapshot body, chosen so values round-trip exactly and
 * the bytes are the same on every runtime:
 * - useRecords: false: plain CBOR maps, no shared record structures (each record stands alone).
 * - tagUint8Array: false: byte strings untagged (cbor-x would tag them only where Buffer exists).
 * - copyBuffers: true: decoded byte strings are fresh Uint8Arrays, not views pinning a whole file.
 * - bigint always travels as a 64-bit CBOR integer and is decoded as bigint (int64AsNumber off);
 *   numbers stay numbers (integers above 2^32 are encoded as float64, exact below 2^53).
 */
// The "cbor-x/encode" entry is cbor-x without its native string extractor (cbor-extract): Deno
// loads that addon but dies with a symbol lookup error on first use, and one code path everywhere
// keeps the bytes and behaviour identical across runtimes.
import { Encoder } from "cbor-x/encode";
import type { Options } from "cbor-x";
import type { TxnEntry } from "../core/txn.ts";

// int64AsNumber and useTag259ForMaps are honoured by cbor-x but missing from its typings.
const options: Options & { int64AsNumber: boolean; useTag259ForMaps: boolean } = {
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  copyBuffers: true,
  int64AsNumber: false,
  largeBigIntToFloat: false,
  useTag259ForMaps: false,
};
const codec = new Encoder(options);

/** The CBOR encoding of `value` (a view that stays valid; cbor-x never reuses returned bytes). */
export function encodeCbor(value: unknown): Uint8Array {
  const encoded = codec.encode(value);
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** Decodes one CBOR value; throws on malformed input. */
export function decodeCbor(bytes: Uint8Array): unknown {
  // Always hand cbor-x a plain Uint8Array: a Buffer input would come back as Buffer byte strings.
  const plain = bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return codec.decode(plain);
}

const TINY = Uint8Array.of(0xf6); // CBOR null

/**
 * cbor-x keeps a reference to the last buffer it decoded; after recovery that is a whole snapshot or
 * log segment (hundreds of MB for a large tree). Decoding a tiny value lets it go.
 */
export function releaseDecodeBuffer(): void {
  codec.decode(TINY);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function encodeTxnEntry(entry: TxnEntry): Uint8Array {
  return encodeCbor(entry);
}

/** Decodes a log record body; throws if it is not a TxnEntry. */
export function decodeTxnEntry(body: Uint8Array): TxnEntry {
  const value = decodeCbor(body);
  if (!isObject(value) || !isObject(value["header"]) || !isObject(value["txn"])) {
    throw new Error("log record body is not a TxnEntry");
  }
  const header = value["header"];
  if (
    typeof header["zxid"] !== "number" || typeof header["sessionId"] !== "bigint" ||
    typeof value["txn"]["type"] !== "string"
  ) {
    throw new Error("log record body has a malformed TxnEntry header");
  }
  return value as unknown as TxnEntry;
}

/** Whether a body decodes as a TxnEntry (for the torn-tail scan). */
export function isTxnEntryBody(body: Uint8Array): boolean {
  try {
    decodeTxnEntry(body);
    return true;
  } catch {
    return false;
  }
}
