/**
 * JSON as the AdminServer writes it: pretty-printed, with bigints written as exact integers
 * (session ids are 64-bit; Jackson prints them as numbers, JSON.stringify cannot).
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Nesting deeper than this is a bug in a command, not data. */
const DEPTH_MAX = 32;

export function jsonText(value: JsonValue): string {
  return `${write(value, "", 0)}\n`;
}

function write(value: JsonValue, indent: string, depth: number): string {
  if (depth > DEPTH_MAX) throw new Error("admin JSON nested too deeply");
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    if (items.length === 0) return "[ ]";
    return `[ ${items.map((item) => write(item, inner, depth + 1)).join(", ")} ]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: JsonValue });
  if (entries.length === 0) return "{ }";
  const lines = entries.map(([key, item]) => `${inner}${JSON.stringify(key)} : ${write(item, inner, depth + 1)}`);
  return `{\n${lines.join(",\n")}\n${indent}}`;
}
