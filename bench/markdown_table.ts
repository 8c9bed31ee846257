/** Markdown tables for benchmark results, and the number formats they use. */

export interface Table {
  title: string;
  /** Printed under the title: what was measured and how to read it. */
  note?: string;
  columns: string[];
  /** Numeric columns (every column but the first) are right-aligned. */
  rows: string[][];
}

export function renderTable(table: Table): string {
  const lines = [`### ${table.title}`, ""];
  if (table.note !== undefined) lines.push(table.note, "");
  lines.push(`| ${table.columns.join(" | ")} |`);
  lines.push(`| ${table.columns.map((_, index) => (index === 0 ? "---" : "---:")).join(" | ")} |`);
  for (const row of table.rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** 1234567 → "1,234,567"; keeps tables readable without locale surprises. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Three significant digits, never in exponent form: 0.00123, 1.23, 123, 12,300. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 1000) return formatCount(value);
  if (value === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 6));
}
