/**
 * Prints the functions with the most self time in a V8 CPU profile (a .cpuprofile file written by
 * `node --cpu-prof`), and the same summed per file: where a server's CPU goes, before optimising.
 *
 *   node --import tsx bench/cpu_profile_summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from "node:fs";
import { argv } from "node:process";
import { formatFigure, renderTable, type Table } from "./markdown_table.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  micros: number;
}

/** Self time per function ("name file:line") and per file, largest first, with the profile's total. */
export function summariseProfile(profile: CpuProfile): { functions: SelfTime[]; files: SelfTime[]; totalMicros: number } {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMicros = 0;
  const count = Math.min(profile.samples.length, profile.timeDeltas.length);
  // timeDeltas[i] is the time before sample i; charge it to the sampled function (its self time).
  for (let i = 0; i < count; i++) {
    const node = byId.get(profile.samples[i]!);
    const micros = Math.max(0, profile.timeDeltas[i]!);
    totalMicros += micros;
    if (node === undefined) continue;
    const frame = node.callFrame;
    const file = shortFile(frame.url);
    // tsx-transformed modules report line 0 for everything: a line is only shown when it says something.
    const where = file === "" ? "" : frame.lineNumber > 0 ? ` ${file}:${frame.lineNumber + 1}` : ` ${file}`;
    const name = `${frame.functionName || "(anonymous)"}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const fileKey = file === "" ? `(${frame.functionName || "native"})` : file;
    files.set(fileKey, (files.get(fileKey) ?? 0) + micros);
  }
  const sorted = (map: Map<string, number>) =>
    [...map].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return { functions: sorted(functions), files: sorted(files), totalMicros };
}

/** Paths inside the repository from src/ on, node internals as node:..., others as they are. */
function shortFile(url: string): string {
  if (url === "") return "";
  const src = url.lastIndexOf("/src/");
  if (src >= 0) return url.slice(src + 1);
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) return url.slice(modules + 1);
  return url.replace(/^file:\/\//, "");
}

function tableOf(title: string, entries: SelfTime[], totalMicros: number, top: number): Table {
  return {
    title,
    columns: ["function", "self ms", "self %"],
    rows: entries.slice(0, top).map((entry) => [
      entry.name.replaceAll("|", "/"),
      formatFigure(entry.micros / 1000),
      formatFigure((100 * entry.micros) / totalMicros),
    ]),
  };
}

function main(): void {
  const [path, topText] = argv.slice(2);
  if (path === undefined) throw new Error("usage: bench/cpu_profile_summary.ts <file.cpuprofile> [top=25]");
  const top = topText === undefined ? 25 : Number(topText);
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const summary = summariseProfile(profile);
  console.log(`${path}: ${formatFigure(summary.totalMicros / 1e6)} s sampled\n`);
  console.log(`${renderTable(tableOf("Self time by function", summary.functions, summary.totalMicros, top))}\n`);
  console.log(renderTable(tableOf("Self time by file", summary.files, summary.totalMicros, top)));
}

if (import.meta.url === `file://${argv[1]}` || argv[1]?.endsWith("cpu_profile_summary.ts")) main();
