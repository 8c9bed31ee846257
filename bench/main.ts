/**
 * Corral's benchmark set: the core alone, the codec, end to end (TCP and in-memory), durable
 * storage (group commit, snapshots, restart, memory of large trees) and Corral next to Apache
 * ZooKeeper 3.8 (separate server processes, fsync on), printed as markdown tables and written to
 * bench/RESULTS.md under this runtime's heading. Speed is measured, never asserted.
 *
 *   deno task bench                          (deno run -A bench/main.ts)
 *   node --import tsx bench/main.ts
 *   npx bun bench/main.ts
 *
 * Flags: --quick (under two minutes; the full run takes about six: three for storage, half of it
 * the million-znode tree, and three for zookeeper), --only=core,codec,loopback,storage,zookeeper
 * (prints those groups; of RESULTS.md it rewrites only the storage and zookeeper blocks of this
 * runtime's section, those among them, and leaves the rest alone).
 *
 * The zookeeper group needs java and Debian's `zookeeper` package (apt-get install -y
 * default-jre-headless zookeeper); without them it is skipped with that hint. It starts ZooKeeper and
 * `corral serve` under Node, Deno and Bun as child processes, one after another, data in temporary
 * directories. CORRAL_BENCH_CPU_PROF_DIR=<dir> makes the Node-run Corral server write a V8 CPU
 * profile there when it stops (summarise it with bench/cpu_profile_summary.ts).
 *
 * The storage group writes to a temporary directory under os.tmpdir() (about 500 MB at most) and
 * removes it; the full run peaks at about 1.5 GB of RSS (one million-znode tree at a time).
 */
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { argv, env } from "node:process";
import { codecTable } from "./codec_bench.ts";
import { coreSpeedTable, measureZnodeMemory, znodeMemoryTable } from "./core_bench.ts";
import { loopbackTable } from "./loopback_bench.ts";
import { renderTable, type Table } from "./markdown_table.ts";
import { readResultsSection, updateResultsFile } from "./results_file.ts";
import { groupBlock, replaceGroupBlock } from "./results_groups.ts";
import { machineInfo, runtimeInfo } from "./runtime_info.ts";
import { runStorageBench } from "./storage_bench.ts";
import { runVsZooKeeper } from "./vs_zookeeper.ts";

const GROUPS = ["core", "codec", "loopback", "storage", "zookeeper"] as const;
type Group = (typeof GROUPS)[number];
/** Groups whose tables sit in their own block of the section, so `--only` can replace them alone. */
const BLOCK_GROUPS = ["storage", "zookeeper"] as const;

const USAGE = "usage: bench/main.ts [--quick] [--only=core,codec,loopback,storage,zookeeper]";

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
  zookeeper: { durationMs: number; warmupMs: number; startWarmupMs: number; rounds: number };
}

const QUICK: Settings = {
  micro: { timeMs: 300, warmupMs: 100 },
  loopbackDurationMs: 2000,
  loopbackWarmupMs: 300,
  storageDurationMs: 2000,
  storageWarmupMs: 300,
  storageTreeSizes: [100_000],
  zookeeper: { durationMs: 2000, warmupMs: 500, startWarmupMs: 1000, rounds: 1 },
};
const FULL: Settings = {
  micro: { timeMs: 2000, warmupMs: 500 },
  loopbackDurationMs: 5000,
  loopbackWarmupMs: 1000,
  storageDurationMs: 5000,
  storageWarmupMs: 1000,
  storageTreeSizes: [100_000, 1_000_000],
  zookeeper: { durationMs: 5000, warmupMs: 1000, startWarmupMs: 3000, rounds: 2 },
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
  const storageTables: Table[] = [];
  const zooKeeperTables: Table[] = [];
  let zooKeeperRemarks: string[] = [];
  const add = (table: Table, into = tables) => {
    console.log(`${renderTable(table)}\n`);
    into.push(table);
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
  if (runs("storage")) {
    await runStorageBench({
      treeSizes: settings.storageTreeSizes,
      dataBytes: ZNODE_DATA_BYTES,
      clients: CLIENTS,
      outstandingPerClient: OUTSTANDING_PER_CLIENT,
      durationMs: settings.storageDurationMs,
      warmupMs: settings.storageWarmupMs,
    }, (table) => add(table, storageTables));
  }
  if (runs("zookeeper")) {
    const outcome = await runVsZooKeeper({
      ...settings.zookeeper,
      clients: CLIENTS,
      outstandingPerClient: OUTSTANDING_PER_CLIENT,
      cpuProfileDir: env.CORRAL_BENCH_CPU_PROF_DIR || undefined,
    }, (table) => add(table, zooKeeperTables));
    zooKeeperRemarks = outcome.skipped === null ? outcome.remarks : [outcome.skipped];
    for (const remark of zooKeeperRemarks) console.log(`${remark}\n`);
  }

  const resultsPath = fileURLToPath(new URL("RESULTS.md", import.meta.url));
  const storageBlock = groupBlock(
    "storage",
    [
      `_Storage group: ${machine.date}, ${mode}, commit ${machine.commit}, ${machine.cpuModel}, ` +
      `${machine.cores} cores, temporary directory under ${tmpdir()}._`,
      ...storageTables.map(renderTable),
    ].join("\n\n"),
  );
  const zooKeeperBlock = groupBlock(
    "zookeeper",
    [
      `_ZooKeeper group: ${machine.date}, ${mode}, commit ${machine.commit}, ${machine.cpuModel}, ` +
      `${machine.cores} cores, load generator on ${runtime.label}._`,
      ...zooKeeperRemarks,
      ...zooKeeperTables.map(renderTable),
    ].join("\n\n"),
  );
  const blocks: Record<(typeof BLOCK_GROUPS)[number], string> = {
    storage: storageBlock,
    zookeeper: zooKeeperBlock,
  };
  if (only === null) {
    updateResultsFile(
      resultsPath,
      runtime.name,
      [heading, ...tables.map(renderTable), storageBlock, zooKeeperBlock].join("\n\n"),
    );
    console.log(`wrote the ${runtime.label} section of ${resultsPath}`);
  } else {
    const chosen = BLOCK_GROUPS.filter((group) => only.has(group));
    if (chosen.length > 0) {
      // Only these blocks change; the rest of the section keeps its earlier run's figures.
      let section = readResultsSection(resultsPath, runtime.name) ?? heading;
      for (const group of chosen) section = replaceGroupBlock(section, group, blocks[group]);
      updateResultsFile(resultsPath, runtime.name, section);
      console.log(`wrote the ${chosen.join(" and ")} block(s) of the ${runtime.label} section of ${resultsPath}`);
    }
  }
}

await main();
