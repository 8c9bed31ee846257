/**
 * bench/RESULTS.md: one section per runtime. A run replaces only its own runtime's section, so runs
 * under Node, Deno and Bun accumulate side by side.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { RuntimeName } from "./runtime_info.ts";

const RUNTIME_ORDER: RuntimeName[] = ["node", "deno", "bun"];

const HEADER = `# Corral benchmark results

Written by \`bench/main.ts\` (\`deno task bench\`, \`node --import tsx bench/main.ts\`, \`npx bun bench/main.ts\`;
add \`--quick\` for a run under two minutes). Each runtime's section is replaced by that runtime's last run.
Figures are measurements on the machine named in each section, not guarantees: nothing here is asserted.
The paper group's chart is [paper_throughput.svg](paper_throughput.svg); what each optimisation did
is in [OPTIMISATIONS.md](OPTIMISATIONS.md).
Session expiry timing against Apache ZooKeeper 3.8 is in [EXPIRY.md](EXPIRY.md) (\`node --import tsx bench/expiry_bench.ts\`).
`;

function beginMarker(runtime: RuntimeName): string {
  return `<!-- bench:${runtime}:begin -->`;
}

function endMarker(runtime: RuntimeName): string {
  return `<!-- bench:${runtime}:end -->`;
}

/** The sections an existing file holds, by runtime (text between the markers, markers excluded). */
function readSections(text: string): Map<RuntimeName, string> {
  const sections = new Map<RuntimeName, string>();
  for (const runtime of RUNTIME_ORDER) {
    const begin = text.indexOf(beginMarker(runtime));
    const end = text.indexOf(endMarker(runtime));
    if (begin < 0 || end < begin) continue;
    sections.set(runtime, text.slice(begin + beginMarker(runtime).length, end).trim());
  }
  return sections;
}

/** `runtime`'s current section in `path` (markers excluded), or null if the file has none. */
export function readResultsSection(path: string, runtime: RuntimeName): string | null {
  if (!existsSync(path)) return null;
  return readSections(readFileSync(path, "utf8")).get(runtime) ?? null;
}

/** Rewrites `path` with `section` as `runtime`'s section, keeping the other runtimes' sections. */
export function updateResultsFile(path: string, runtime: RuntimeName, section: string): void {
  const sections = existsSync(path)
    ? readSections(readFileSync(path, "utf8"))
    : new Map<RuntimeName, string>();
  sections.set(runtime, section.trim());
  const parts = [HEADER];
  for (const name of RUNTIME_ORDER) {
    const text = sections.get(name);
    if (text !== undefined) parts.push(`${beginMarker(name)}\n${text}\n${endMarker(name)}\n`);
  }
  writeFileSync(path, parts.join("\n"));
}
