/**
 * The `corral` command. Entry point: run it with `deno run -A src/cli/main.ts`, `bun src/cli/main.ts`,
 * `node --import tsx src/cli/main.ts`, bin/corral.mjs from a checkout, or the npm bin (dist/bin/corral.js).
 */
import { versionString } from "../driver/version.ts";
import { HELP, parseArgs, UsageError } from "./args.ts";
import { cliRuntime, type CliRuntime } from "./runtime.ts";
import { runServe } from "./serve_command.ts";

/** Runs the command line `argv`; returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: readonly string[], runtime: CliRuntime): Promise<number> {
  let command;
  try {
    command = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`corral: ${error.message}`);
    return 2;
  }
  switch (command.kind) {
    case "help":
      console.log(HELP);
      return 0;
    case "version":
      console.log(`corral ${versionString()}`);
      return 0;
    case "serve":
      return await runServe(command.args, runtime);
  }
}

const runtime = cliRuntime();
runtime.exit(await main(runtime.args(), runtime));
