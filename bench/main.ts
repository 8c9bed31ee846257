/**
 * Corral's benchmark set, printed as markdown tables and written to bench/RESULTS.md under this
 * runtime's heading (the paper group's chart to bench/paper_throughput.svg). Speed is measured,
 * never asserted. Groups:
 *   core, codec, loopback  the core alone, the jute codec, end to end over TCP and in memory
 *   paper      the ZooKeeper paper's throughput tables (3..13 servers, read ratios 0..100 %) on the
 *              real replicas in one process, CPU metered per replica (bench/paper/)
 *   storage    group commit, snapshots, restart and memory of 100k and 1M znode trees
 *   zookeeper  Apache ZooKeeper 3.8 vs `corral serve` on Node, Deno and Bun, standalone and as
 *              3-server ensembles, separate processes with fsync on, server CPU from /proc
 *   costs      watch fan-out (10k watchers) and session capacity (10k idle sessions), vs ZooKeeper
 *
 *   deno task bench                          (deno run -A bench/main.ts)
 *   node --import tsx bench/main.ts
 *   npx bun bench/main.ts
 *
 * Flags: --quick (under two minutes), --only=<groups> (prints those groups; of RESULTS.md it
 * rewrites only the blocks of the paper, storage, zookeeper and costs groups among them, and leaves
 * the rest of this runtime's section alone). The full run takes about 12-14 minutes on 2 cores.
 *
 * The zookeeper and costs groups need java and Debian's `zookeeper` package; when they are missing
 * and we are root with apt-get, the zookeeper group installs them (apt-get install -y
 * default-jre-headless zookeeper), otherwise it is skipped with that hint. Servers run as child
 * processes, data in temporary directories. CORRAL_BENCH_CPU_PROF_DIR=<dir> makes the Node-run
 * Corral servers write V8 CPU profiles there when they stop (summarise them with
 * bench/cpu_profile_summary.ts).
 *
 * The storage group writes to a temporary directory under os.tmpdir() (about 500 MB at most) and
 * removes it; the full run peaks at about 1.5 GB of RSS (one million-znode tree at a time).
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { argv, env } from "node:process";
import { codecTable } from "./codec_bench.ts";
import { coreSpeedTable, measureZnodeMemory, znodeMemoryTable } from "./core_bench.ts";
import { loopbackTable } from "./loopback_bench.ts";
import { formatCount, renderTable, type Table } from "./markdown_table.ts";
import { readResultsSection, updateResultsFile } from "./results_file.ts";
import { groupBlock, replaceGroupBlock } from "./results_groups.ts";
import { machineInfo, runtimeInfo } from "./runtime_info.ts";
import { runStorageBench } from "./storage_bench.ts";
import { runVsZooKeeper } from "./vs_zookeeper.ts";
import { runCostsBench } from "./costs/costs_bench.ts";
import { runPaperBench } from "./paper/paper_bench.ts";
import type { RunResult } from "./paper/paper_run.ts";
import { perCoreThroughput, singleProcessThroughput } from "./paper/throughput.ts";
import type { RuntimeName } from "../tests/support/runtime.ts";

const GROUPS = ["core", "codec", "loopback", "paper", "storage", "zookeeper", "costs"] as const;
type Group = (typeof GROUPS)[number];
/** Groups whose tables sit in their own block of the section, so `--only` can replace them alone. */
const BLOCK_GROUPS = ["paper", "storage", "zookeeper", "costs"] as const;
type BlockGroup = (typeof BLOCK_GROUPS)[number];
const GROUP_TITLES: Record<BlockGroup, string> = {
  paper: "Paper",
  storage: "Storage",
  zookeeper: "ZooKeeper",
  costs: "Costs",
};
/** The paper group's chart, next to RESULTS.md (rewritten by every run of that group). */
const CHART_PATH = fileURLToPath(new URL("paper_throughput.svg", import.meta.url));

const USAGE = `usage: bench/main.ts [--quick] [--only=${GROUPS.join(",")}]`;

interface Settings {
  micro: { timeMs: number; warmupMs: number };
  loopbackDurationMs: number;
  loopbackWarmupMs: number;
  /** Durable-write rows, per row. */
  storageDurationMs: number;
  storageWarmupMs: number;
  /** Trees snapshotted, restarted and weighed. */
  storageTreeSizes: number[];
  /** Apache ZooKeeper vs Corral: measured time per workload and server, warm-ups, rounds. */
  zookeeper: {
    durationMs: number;
    warmupMs: number;
    startWarmupMs: number;
    rounds: number;
    /** Corral runtimes raced standalone and as 3-server ensembles; default all three. */
    runtimes?: readonly RuntimeName[];
    ensembleRuntimes?: readonly RuntimeName[];
    /** Rounds of the raw-load phases (default max(3, rounds)). */
    rawRounds?: number;
  };
}

const QUICK: Settings = {
  micro: { timeMs: 300, warmupMs: 100 },
  loopbackDurationMs: 2000,
  loopbackWarmupMs: 300,
  storageDurationMs: 2000,
  storageWarmupMs: 300,
  storageTreeSizes: [100_000],
  zookeeper: { durationMs: 2000, warmupMs: 500, startWarmupMs: 1000, rounds: 1, rawRounds: 1, runtimes: ["node"], ensembleRuntimes: ["node"] },
};
const FULL: Settings = {
  micro: { timeMs: 2000, warmupMs: 500 },
  loopbackDurationMs: 5000,
  loopbackWarmupMs: 1000,
  storageDurationMs: 5000,
  storageWarmupMs: 1000,
  storageTreeSizes: [100_000, 1_000_000],
  zookeeper: { durationMs: 4000, warmupMs: 1000, startWarmupMs: 2000, rounds: 2 },
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
  const startedMs = performance.now();
  const { quick, only } = parseArguments(argv.slice(2));
  const settings = quick ? QUICK : FULL;
  const groupTimes: string[] = [];
  let groupStartedMs = performance.now();
  /** Whether `group` runs; notes how long the previous one took (for the time budget). */
  const runs = (group: Group) => {
    const chosen = only === null || only.has(group);
    if (chosen) groupStartedMs = performance.now();
    return chosen;
  };
  const took = (group: Group) => groupTimes.push(`${group} ${((performance.now() - groupStartedMs) / 1000).toFixed(0)} s`);
  const runtime = runtimeInfo();
  const repository = fileURLToPath(new URL("..", import.meta.url));
  const machine = machineInfo(repository);
  const mode = quick ? "quick (`--quick`)" : "full";
  const heading = [
    `## ${runtime.label}`,
    "",
    `- Date: ${machine.date}`,
    `- Mode: ${mode}`,
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores`,
    `- Commit: ${machine.commit}`,
  ].join("\n");
  console.log(`${heading}\n`);

  const tables: Table[] = [];
  const blockTables: Record<BlockGroup, Table[]> = { paper: [], storage: [], zookeeper: [], costs: [] };
  const blockRemarks: Record<BlockGroup, string[]> = { paper: [], storage: [], zookeeper: [], costs: [] };
  const add = (table: Table, into = tables) => {
    console.log(`${renderTable(table)}\n`);
    into.push(table);
  };
  if (runs("core")) {
    add(znodeMemoryTable(measureZnodeMemory(ZNODES_FOR_MEMORY, ZNODE_DATA_BYTES)));
    add(await coreSpeedTable(settings.micro));
    took("core");
  }
  if (runs("codec")) {
    add(await codecTable(settings.micro));
    took("codec");
  }
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
    took("loopback");
  }
  if (runs("paper")) {
    const paper = await runPaperBench({ quick, onRun: (result, readPercent) => console.log(describeRun(result, readPercent)) });
    for (const table of paper.tables) add(table, blockTables.paper);
    writeFileSync(CHART_PATH, paper.svg);
    blockRemarks.paper.push(...paper.remarks, `![throughput against read ratio](${basename(CHART_PATH)})`);
    console.log(`wrote ${CHART_PATH}`);
    took("paper");
  }
  if (runs("storage")) {
    await runStorageBench({
      treeSizes: settings.storageTreeSizes,
      dataBytes: ZNODE_DATA_BYTES,
      clients: CLIENTS,
      outstandingPerClient: OUTSTANDING_PER_CLIENT,
      durationMs: settings.storageDurationMs,
      warmupMs: settings.storageWarmupMs,
    }, (table) => add(table, blockTables.storage));
    took("storage");
  }
  if (runs("zookeeper")) {
    const outcome = await runVsZooKeeper({
      ...settings.zookeeper,
      clients: CLIENTS,
      outstandingPerClient: OUTSTANDING_PER_CLIENT,
      cpuProfileDir: env.CORRAL_BENCH_CPU_PROF_DIR || undefined,
    }, (table) => add(table, blockTables.zookeeper));
    blockRemarks.zookeeper = outcome.skipped === null ? outcome.remarks : [outcome.skipped];
    took("zookeeper");
  }
  if (runs("costs")) {
    const outcome = await runCostsBench({ quick }, (table) => add(table, blockTables.costs));
    blockRemarks.costs = outcome.remarks;
    took("costs");
  }
  for (const group of BLOCK_GROUPS) for (const remark of blockRemarks[group]) console.log(`${remark}\n`);

  const resultsPath = fileURLToPath(new URL("RESULTS.md", import.meta.url));
  const blockCaption: Record<BlockGroup, string> = {
    paper: `the paper's experiment on the real replicas in one process, measured on ${runtime.label}`,
    storage: `temporary directory under ${tmpdir()}`,
    zookeeper: `load generator on ${runtime.label}`,
    costs: `load generator and in-process servers on ${runtime.label}`,
  };
  const blocks = {} as Record<BlockGroup, string>;
  for (const group of BLOCK_GROUPS) {
    blocks[group] = groupBlock(
      group,
      [
        `_${GROUP_TITLES[group]} group: ${machine.date}, ${mode}, commit ${machine.commit}, ${machine.cpuModel}, ` +
        `${machine.cores} cores, ${blockCaption[group]}._`,
        ...blockRemarks[group],
        ...blockTables[group].map(renderTable),
      ].join("\n\n"),
    );
  }
  if (only === null) {
    updateResultsFile(
      resultsPath,
      runtime.name,
      [
        `${heading}\n- Run time: ${((performance.now() - startedMs) / 1000).toFixed(0)} s (${groupTimes.join(", ")})`,
        ...tables.map(renderTable),
        ...BLOCK_GROUPS.map((group) => blocks[group]),
      ].join("\n\n"),
    );
    console.log(`wrote the ${runtime.label} section of ${resultsPath}`);
  } else {
    const chosen = BLOCK_GROUPS.filter((group) => only.has(group));
    if (chosen.length > 0) {
      // Only these blocks change; the rest of the section keeps its earlier run's figures.
      let section = readResultsSection(resultsPath, runtime.name) ?? heading;
      for (const group of chosen) section = replaceGroupBlock(section, group, blocks[group]);
      updateResultsFile(resultsPath, runtime.name, section);
      console.log(`wrote the ${chosen.join(", ")} block(s) of the ${runtime.label} section of ${resultsPath}`);
    }
  }
  console.log(`bench: ${((performance.now() - startedMs) / 1000).toFixed(0)} s in all (${groupTimes.join(", ")})`);
}

function describeRun(result: RunResult, readPercent: number): string {
  return `paper: ${result.voters} servers, ${readPercent}% reads: ${formatCount(perCoreThroughput(result))} ops/s per core, ` +
    `${formatCount(singleProcessThroughput(result))} ops/s in one process`;
}

await main();
