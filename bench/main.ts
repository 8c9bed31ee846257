/**
 * Corral's benchmark set: the core alone, the codec, and end to end (TCP and in-memory), printed as
 * markdown tables and written to bench/RESULTS.md under this runtime's heading. Speed is measured,
 * never asserted.
 *
 *   deno task bench                          (deno run -A bench/main.ts)
 *   node --import tsx bench/main.ts
 *   npx bun bench/main.ts
 *
 * Flags: --quick (under a minute; the full run takes about one), --only=core,codec,loopback (prints
 * those groups and leaves RESULTS.md alone).
 */
import { fileURLToPath } from "node:url";
import { argv } from "node:process";
import { codecTable } from "./codec_bench.ts";
import { coreSpeedTable, measureZnodeMemory, znodeMemoryTable } from "./core_bench.ts";
import { loopbackTable } from "./loopback_bench.ts";
import { renderTable, type Table } from "./markdown_table.ts";
import { updateResultsFile } from "./results_file.ts";
import { machineInfo, runtimeInfo } from "./runtime_info.ts";

const GROUPS = ["core", "codec", "loopback"] as const;
type Group = (typeof GROUPS)[number];

const USAGE = "usage: bench/main.ts [--quick] [--only=core,codec,loopback]";

interface Settings {
  micro: { timeMs: number; warmupMs: number };
  loopbackDurationMs: number;
  loopbackWarmupMs: number;
}

const QUICK: Settings = {
  micro: { timeMs: 300, warmupMs: 100 },
  loopbackDurationMs: 2000,
  loopbackWarmupMs: 300,
};
const FULL: Settings = {
  micro: { timeMs: 2000, warmupMs: 500 },
  loopbackDurationMs: 5000,
  loopbackWarmupMs: 1000,
};

const ZNODES_FOR_MEMORY = 100_000;
const ZNODE_DATA_BYTES = 100;
const CLIENTS = 4;
const OUTSTANDING_PER_CLIENT = 100;

function parseArguments(args: string[]): { quick: boolean; only: Set<Group> | null } {
  let quick = false;
  let only: Set<Group> | null = null;
  for (const arg of args) {
    if (arg === "--quick") {
      quick = true;
    } else if (arg.startsWith("--only=")) {
      const names = arg.slice("--only=".length).split(",");
      const unknown = names.filter((name) => !(GROUPS as readonly string[]).includes(name));
      if (unknown.length > 0) throw new Error(`unknown group(s) ${unknown.join(", ")}; ${USAGE}`);
      only = new Set(names as Group[]);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    }
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const { quick, only } = parseArguments(argv.slice(2));
  const settings = quick ? QUICK : FULL;
  const runs = (group: Group) => only === null || only.has(group);
  const runtime = runtimeInfo();
  const repository = fileURLToPath(new URL("..", import.meta.url));
  const machine = machineInfo(repository);
  const heading = [
    `## ${runtime.label}`,
    "",
    `- Date: ${machine.date}`,
    `- Mode: ${quick ? "quick (`--quick`)" : "full"}`,
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores`,
    `- Commit: ${machine.commit}`,
  ].join("\n");
  console.log(`${heading}\n`);

  const tables: Table[] = [];
  const add = (table: Table) => {
    console.log(`${renderTable(table)}\n`);
    tables.push(table);
  };
  if (runs("core")) {
    add(znodeMemoryTable(measureZnodeMemory(ZNODES_FOR_MEMORY, ZNODE_DATA_BYTES)));
    add(await coreSpeedTable(settings.micro));
  }
  if (runs("codec")) add(await codecTable(settings.micro));
  if (runs("loopback")) {
    for (const network of ["tcp", "memory"] as const) {
      add(
        await loopbackTable({
          network,
          clients: CLIENTS,
          outstandingPerClient: OUTSTANDING_PER_CLIENT,
          durationMs: settings.loopbackDurationMs,
          warmupMs: settings.loopbackWarmupMs,
        }),
      );
    }
  }

  if (only !== null) return;
  const resultsPath = fileURLToPath(new URL("RESULTS.md", import.meta.url));
  updateResultsFile(resultsPath, runtime.name, [heading, ...tables.map(renderTable)].join("\n\n"));
  console.log(`wrote the ${runtime.label} section of ${resultsPath}`);
}

await main();
