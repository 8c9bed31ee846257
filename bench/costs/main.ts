/**
 * The costs benchmarks on their own: session capacity and watch fan-out, printed as markdown
 * tables (bench/main.ts can run the same group through runCostsBench).
 *
 *   node --import tsx bench/costs/main.ts [--quick] [--no-zookeeper]
 *   npx --yes deno run -A bench/costs/main.ts [--quick]
 *   npx bun bench/costs/main.ts [--quick]
 */
import { argv } from "node:process";
import { printCostsBench } from "./costs_bench.ts";

const USAGE = "usage: bench/costs/main.ts [--quick] [--no-zookeeper]";

function parseArguments(args: readonly string[]): { quick: boolean; skipZooKeeper: boolean } {
  let quick = false;
  let skipZooKeeper = false;
  for (const arg of args) {
    if (arg === "--quick") quick = true;
    else if (arg === "--no-zookeeper") skipZooKeeper = true;
    else throw new Error(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
  }
  return { quick, skipZooKeeper };
}

await printCostsBench(parseArguments(argv.slice(2)));
