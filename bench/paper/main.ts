/**
 * The ZooKeeper paper's throughput tables on Corral's real replicas, standalone:
 *
 *   deno run -A bench/paper/main.ts [--quick]
 *   node --import tsx bench/paper/main.ts [--quick]
 *   npx bun bench/paper/main.ts [--quick]
 *
 * Prints the tables (markdown) and writes the chart to bench/paper_throughput.svg.
 */
import { writeFileSync } from "node:fs";
import { argv, stderr } from "node:process";
import { fileURLToPath } from "node:url";
import { formatCount, renderTable } from "../markdown_table.ts";
import { runPaperBench } from "./paper_bench.ts";
import { perCoreThroughput, singleProcessThroughput } from "./throughput.ts";

const USAGE = "usage: bench/paper/main.ts [--quick]";

async function main(): Promise<void> {
  const flags = argv.slice(2);
  for (const flag of flags) if (flag !== "--quick") throw new Error(`unknown argument ${flag}; ${USAGE}`);
  const startedAt = performance.now();
  const { tables, svg, remarks } = await runPaperBench({
    quick: flags.includes("--quick"),
    onRun: (result, readPercent) => {
      stderr.write(
        `${result.voters} servers, ${readPercent}% reads: ${formatCount(perCoreThroughput(result))} ops/s per core, ` +
          `${formatCount(singleProcessThroughput(result))} ops/s one process (${formatCount(result.operations)} ops)\n`,
      );
    },
  });
  const svgPath = fileURLToPath(new URL("../paper_throughput.svg", import.meta.url));
  writeFileSync(svgPath, svg);
  console.log(tables.map(renderTable).join("\n\n"));
  console.log(`\n${remarks.map((remark) => `- ${remark}`).join("\n")}`);
  console.log(`\nChart: ${svgPath} (${((performance.now() - startedAt) / 1000).toFixed(0)} s in all)`);
}

await main();
