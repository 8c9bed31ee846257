/**
 * The storage group: durable write throughput (group commit vs one fsync per write), snapshot size
 * and time, restart time, and memory per znode of large trees. Everything runs on the real disk
 * (NodeFileSystem) in one temporary directory under os.tmpdir(), removed at the end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCount, formatFigure, type Table } from "./markdown_table.ts";
import { writeThroughputTable } from "./storage_write_bench.ts";
import { measureTree, TREE_FANOUT, type TreeBenchResult } from "./storage_tree_bench.ts";

export interface StorageBenchSettings {
  /** Sizes of the trees snapshotted, restarted and weighed (leaves of `dataBytes` each). */
  treeSizes: number[];
  dataBytes: number;
  clients: number;
  outstandingPerClient: number;
  durationMs: number;
  warmupMs: number;
}

const MEBIBYTE = 1024 * 1024;

/** Runs the group; `add` receives each table as soon as it is measured. */
export async function runStorageBench(
  settings: StorageBenchSettings,
  add: (table: Table) => void,
): Promise<void> {
  const scratchDir = await mkdtemp(join(tmpdir(), "corral-bench-"));
  try {
    add(await writeThroughputTable({ scratchDir, ...settings }));
    const trees: TreeBenchResult[] = [];
    for (const znodes of settings.treeSizes) {
      console.error(`storage bench: ${formatCount(znodes)} znodes: build, snapshot, restart…`);
      trees.push(await measureTree({ scratchDir, znodes, dataBytes: settings.dataBytes }));
    }
    add(snapshotTable(trees, settings.dataBytes));
    add(treeMemoryTable(trees));
  } finally {
    await rm(scratchDir, { recursive: true, force: true });
  }
}

function seconds(ms: number): string {
  return formatFigure(ms / 1000);
}

function snapshotTable(trees: TreeBenchResult[], dataBytes: number): Table {
  return {
    title: "Snapshots and restart (NodeFileSystem, temporary directory)",
    note: `Persistent znodes of ${dataBytes} bytes, ${formatCount(TREE_FANOUT)} to a parent ` +
      "(/t/p<k>/n<i>; parents not counted), created through the core on one connection with their txns " +
      "logged, 500 creates per append + fsync (build). Snapshot: TxnStore.writeSnapshot(server.snapshotSource()) " +
      "with nothing else running, fsync and rename included. Restart: TxnStore.open + recover into a fresh " +
      "Server + finishRecovery (what serveDurable does before it serves), once from the snapshot alone and " +
      "once from the log alone (every create replayed).",
    columns: [
      "znodes",
      "build s",
      "snapshot MiB",
      "snapshot bytes/znode",
      "snapshot write s",
      "restart from snapshot s",
      "log MiB",
      "restart from log only s",
    ],
    rows: trees.map((tree) => [
      formatCount(tree.znodes),
      seconds(tree.buildMs),
      formatFigure(tree.snapshotBytes / MEBIBYTE),
      formatFigure(tree.snapshotBytes / tree.znodes),
      seconds(tree.snapshotMs),
      seconds(tree.restartFromSnapshotMs),
      formatFigure(tree.logBytes / MEBIBYTE),
      seconds(tree.restartFromLogMs),
    ]),
  };
}

function treeMemoryTable(trees: TreeBenchResult[]): Table {
  const gc = trees.every((tree) => tree.gc);
  const rows: string[][] = [];
  for (const tree of trees) {
    const perNode = (bytes: number) => formatFigure(bytes / tree.znodes);
    for (
      const [how, memory] of [["built by creates", tree.built], [
        "recovered from the snapshot",
        tree.recovered,
      ]] as const
    ) {
      rows.push([
        formatCount(tree.znodes),
        how,
        perNode(memory.heapBytes),
        perNode(memory.externalBytes),
        perNode(memory.heapBytes + memory.externalBytes),
        perNode(memory.rssBytes),
      ]);
    }
  }
  return {
    title: "Memory per znode, large trees (whole process: RSS and heap)",
    note: "Differences of process.memoryUsage() before and after the tree exists, divided by the znodes " +
      "(the trees of the table above; everything the tree holds is included: the path map, child sets, " +
      "ACL references, data). " +
      (gc ? "A full GC ran before each reading. " : "No GC available: figures include garbage. ") +
      "external = ArrayBuffer storage outside the JS heap; RSS also counts heap pages the engine keeps " +
      "after GC.",
    columns: [
      "znodes",
      "tree",
      "heap Δ (bytes/znode)",
      "external Δ (bytes/znode)",
      "heap + external (bytes/znode)",
      "RSS Δ (bytes/znode)",
    ],
    rows,
  };
}
