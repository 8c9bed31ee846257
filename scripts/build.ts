/**
 * Builds the npm package into dist/ (git-ignored):
 *
 * - dist/**\/*.js + .d.ts: every module reachable from the export map in deno.json (and the CLI),
 *   compiled by TypeScript's compiler API with `.ts` import specifiers rewritten to `.js`;
 * - dist/bin/corral.js: the npm bin (`corral serve ...`) on the compiled CLI;
 * - dist/corral.bundle.js: the root module (mod.ts) and its dependencies (cbor-x included, `node:`
 *   built-ins left as imports) in one ESM file, for environments that want a single file.
 *
 * Run it with any of:
 *   npm run build                          (node --import tsx scripts/build.ts)
 *   npx --yes deno run -A scripts/build.ts (deno task build)
 *   bun scripts/build.ts
 *
 * The export map is read from deno.json, so the build cannot drift from what JSR publishes;
 * tests/packaging/export_map_test.ts checks that package.json points at exactly these outputs.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { build as esbuild } from "esbuild";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");
const OUT_DIR = join(ROOT, "dist");
/** The compiled CLI; dist/bin/corral.js imports it. */
const CLI_ENTRY = "src/cli/main.ts";
const BIN_FILE = "bin/corral.js";
const BUNDLE_FILE = "corral.bundle.js";

/** The source files named by deno.json's exports ("./mod.ts", "./src/recipes/mod.ts", ...). */
function exportedSources(): Map<string, string> {
  const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { exports?: unknown };
  const exports = config.exports;
  if (typeof exports !== "object" || exports === null) {
    throw new Error(
      'build: deno.json has no "exports" object; add one (see the README\'s Packaging section)',
    );
  }
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(exports)) {
    if (typeof value !== "string" || !value.startsWith("./") || !value.endsWith(".ts")) {
      throw new Error(
        `build: deno.json export ${key} must be a "./....ts" path, not ${JSON.stringify(value)}`,
      );
    }
    map.set(key, value);
  }
  return map;
}

/** Where the build puts the JavaScript and the declarations of the source file `source` ("./x/y.ts"). */
function distPaths(source: string): { js: string; types: string } {
  const stem = source.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { js: `./dist/${stem}.js`, types: `./dist/${stem}.d.ts` };
}

function compilerOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    allowImportingTsExtensions: true,
    // TS 5.7+: "./x.ts" in an import becomes "./x.js" in the .js output. The .d.ts files keep
    // "./x.ts", which TypeScript resolves to ./x.d.ts (the npm pack test type-checks a consumer).
    rewriteRelativeImportExtensions: true,
    declaration: true,
    rootDir: ROOT,
    outDir: OUT_DIR,
    newLine: ts.NewLineKind.LineFeed,
    removeComments: false,
    noEmitOnError: true,
  };
}

/** Compiles the exported modules and the CLI (and whatever they import) into dist/. */
function compile(entries: readonly string[]): number {
  const rootNames = entries.map((entry) => join(ROOT, entry));
  const program = ts.createProgram({ rootNames, options: compilerOptions() });
  const result = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0 || result.emitSkipped) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => "\n",
    };
    throw new Error(
      `build: TypeScript reported ${diagnostics.length} problem(s); nothing was emitted:\n` +
        (process.stdout.isTTY
          ? ts.formatDiagnosticsWithColorAndContext(diagnostics, host)
          : ts.formatDiagnostics(diagnostics, host)),
    );
  }
  return program.getSourceFiles().filter((file) => !file.isDeclarationFile).length;
}

/** dist/bin/corral.js: a shebang line and an import of the compiled CLI, which runs on import. */
function writeBin(): void {
  const path = join(OUT_DIR, BIN_FILE);
  const cli = relative(dirname(path), join(ROOT, distPaths(`./${CLI_ENTRY}`).js));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    "#!/usr/bin/env node\n" +
      "// The npm bin of corral: the compiled CLI (Node; Deno and Bun can run this file too).\n" +
      `import "${cli.startsWith(".") ? cli : `./${cli}`}";\n`,
  );
  chmodSync(path, 0o755);
}

async function bundle(): Promise<void> {
  await esbuild({
    entryPoints: [join(ROOT, "mod.ts")],
    outfile: join(OUT_DIR, BUNDLE_FILE),
    bundle: true,
    format: "esm",
    // "neutral" picks cbor-x's pure JavaScript build (its "node" build loads a native add-on with
    // require, which a single ESM file cannot carry). node: built-ins stay imports: Node, Deno and
    // Bun all provide them.
    platform: "neutral",
    mainFields: ["module", "main"],
    external: ["node:*"],
    target: "es2022",
    legalComments: "eof",
    logLevel: "warning",
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const exports = exportedSources();
  rmSync(OUT_DIR, { recursive: true, force: true });
  const entries = [...exports.values(), `./${CLI_ENTRY}`];
  const modules = compile(entries);
  for (const [key, source] of exports) {
    const { js, types } = distPaths(source);
    for (const file of [js, types]) {
      if (!existsSync(join(ROOT, file))) throw new Error(`build: export ${key} should have produced ${file}`);
    }
  }
  writeBin();
  await bundle();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `build: ${modules} modules → dist/ (.js + .d.ts), dist/${BIN_FILE}, dist/${BUNDLE_FILE} in ${seconds} s`,
  );
}

await main();
