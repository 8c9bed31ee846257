/**
 * A canonical text form of plain data (objects with sorted keys, arrays, strings, numbers, bigint,
 * Uint8Array, null), so that two copies of a txn compare equal exactly when their content does,
 * whichever codec carried them.
 */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "object":
      break;
    default:
      return `<${typeof value}>`;
  }
  if (value instanceof Uint8Array) {
    let hex = "0x";
    for (const byte of value) hex += byte.toString(16).padStart(2, "0");
    return hex;
  }
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`).join(",")}}`;
}
