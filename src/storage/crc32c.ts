/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every log and snapshot
 * record. Table-driven, eight tables ("slicing-by-8") so recovery of a large log is not bound by
 * the checksum.
 */

const POLYNOMIAL = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    first[byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let table = 1; table < 8; table++) {
      const previous = tables[table - 1]![byte]!;
      tables[table]![byte] = ((previous >>> 8) ^ first[previous & 0xff]!) >>> 0;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/**
 * CRC32C of `bytes` (continuing from `previous`, the CRC of the bytes before, if given).
 * `crc32c(new TextEncoder().encode("123456789")) === 0xe3069283`.
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  let index = 0;
  const end8 = bytes.length - (bytes.length % 8);
  while (index < end8) {
    const low = crc ^
      (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24));
    crc = T7[low & 0xff]! ^ T6[(low >>> 8) & 0xff]! ^ T5[(low >>> 16) & 0xff]! ^ T4[low >>> 24]! ^
      T3[bytes[index + 4]!]! ^ T2[bytes[index + 5]!]! ^ T1[bytes[index + 6]!]! ^ T0[bytes[index + 7]!]!;
    index += 8;
  }
  while (index < bytes.length) crc = (crc >>> 8) ^ T0[(crc ^ bytes[index++]!) & 0xff]!;
  return ~crc >>> 0;
}
