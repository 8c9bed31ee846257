/**
 * The npm package as a user gets it: `npm pack` (whose prepack script runs scripts/build.ts), then
 * `npm install <tarball>` into a fresh Node project, which imports every entry point, starts a
 * server, connects a client, creates and reads a znode, takes a lock, uses the single-file bundle
 * and the `corral` bin, and type-checks against the shipped declarations.
 *
 * Runs under Node only (it drives npm and installs for Node); under Deno and Bun it is skipped.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { repoRoot, runtime } from "../support/runtime.ts";

const current = runtime();

function npmVersion(): string | null {
  const probe = spawnSync("npm", ["--version"], { encoding: "utf8", timeout: 30_000 });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

function skipReason(): string | false {
  if (current !== "node") {
    return `packs with npm and installs the tarball for Node; the node run of this suite covers it (this is ${current})`;
  }
  if (npmVersion() === null) return "npm is not available on PATH, so there is nothing to pack with";
  return false;
}

/** Runs a command to completion (bounded); fails the test with its output unless it exits 0. */
function run(command: string, args: readonly string[], options: { cwd: string; timeoutMs: number }): string {
  const result: SpawnSyncReturns<string> = spawnSync(command, [...args], {
    cwd: options.cwd,
    encoding: "utf8",
    timeout: options.timeoutMs,
    env: {
      ...process.env,
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const line = [command, ...args].join(" ");
  if (result.error !== undefined) assert.fail(`${line}: ${result.error.message}\n${output}`);
  assert.equal(result.status, 0, `${line} (in ${options.cwd}) exited with ${result.status}\n${output}`);
  return output;
}

const USE_PACKAGE = `
import { createClient, CreateMode, startServer } from "corral";
import { Mutex } from "corral/recipes";
import { nodeTransport } from "corral/adapters/node";
import { MemoryFileSystem } from "corral/storage";
import * as bundle from "corral/bundle";

const server = await startServer({ port: 0, transport: nodeTransport() });
const client = await createClient(\`127.0.0.1:\${server.port}\`);
await client.create("/packed", "from the tarball");
const { data, stat } = await client.getData("/packed");
const lock = await new Mutex(client, "/locks/packed").acquire();
await lock.release();
await client.create("/packed/e-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
if (typeof MemoryFileSystem !== "function") throw new Error("corral/storage: no MemoryFileSystem");

// The single-file bundle talks to the same server.
const other = await bundle.createClient(\`127.0.0.1:\${server.port}\`);
const children = await other.getChildren("/packed");
await other.close();
await client.close();
await server.close();
console.log(\`packed: \${new TextDecoder().decode(data)} v\${stat.version} lock \${lock.fencingToken} children \${children.length}\`);
`;

const CHECK_TYPES = `
import { type Client, createClient, type Stat } from "corral";
import { type LockHandle, Mutex } from "corral/recipes";

export async function typed(connectString: string): Promise<number> {
  const client: Client = await createClient(connectString);
  const { stat }: { stat: Stat } = await client.getData("/x");
  const lock: LockHandle = await new Mutex(client, "/locks/x").acquire();
  // @ts-expect-error: a version is a number; this line errors only if the declarations are real.
  const wrong: string = stat.version;
  return stat.version + lock.fencingToken + wrong.length;
}
`;

test("npm pack, install the tarball into a new Node project, and use it", {
  skip: skipReason(),
  timeout: 180_000,
}, () => {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "corral-npm-pack-"));
  try {
    // 1. Pack (prepack builds dist/).
    run("npm", ["pack", "--pack-destination", work], { cwd: repoRoot(), timeoutMs: 120_000 });
    const tarballs = readdirSync(work).filter((name) => name.endsWith(".tgz"));
    assert.equal(
      tarballs.length,
      1,
      `npm pack should write one .tgz into ${work}, found ${tarballs.join(", ")}`,
    );
    const tarball = join(work, tarballs[0]!);
    const listing = run("tar", ["-tzf", tarball], { cwd: work, timeoutMs: 30_000 }).split("\n");
    for (
      const file of [
        "dist/mod.js",
        "dist/mod.d.ts",
        "dist/bin/corral.js",
        "dist/corral.bundle.js",
        "README.md",
        "LICENSE",
      ]
    ) {
      assert.ok(listing.includes(`package/${file}`), `the tarball lacks ${file}`);
    }
    const unwanted = listing.filter((entry) =>
      /^package\/(src|tests|bench|scripts|examples|notes)\//.test(entry)
    );
    assert.deepEqual(unwanted, [], "the tarball should hold the build, not the sources or tests");

    // 2. Install it into a new project, from the npm cache when possible (cbor-x is already there).
    const project = join(work, "consumer");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "corral-pack-consumer", private: true, type: "module" }),
    );
    const install = ["install", "--no-audit", "--no-fund", "--ignore-scripts", tarball];
    const offline = spawnSync("npm", [...install, "--offline"], {
      cwd: project,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (offline.status !== 0) {
      run("npm", [...install, "--prefer-offline"], { cwd: project, timeoutMs: 90_000 });
    }
    assert.ok(existsSync(join(project, "node_modules", "corral", "dist", "mod.js")));

    // 3. Use it.
    writeFileSync(join(project, "use.mjs"), USE_PACKAGE);
    const used = run(process.execPath, ["use.mjs"], { cwd: project, timeoutMs: 30_000 });
    assert.match(used, /^packed: from the tarball v0 lock \d+ children 1$/m, used);
    const version = run(join(project, "node_modules", ".bin", "corral"), ["--version"], {
      cwd: project,
      timeoutMs: 30_000,
    });
    assert.match(version, /^corral \S+/, version);

    // 4. The declarations type-check a consumer (TypeScript from this repository's devDependencies).
    writeFileSync(join(project, "check.ts"), CHECK_TYPES);
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(repoRoot(), "node_modules", "@types")],
        },
        files: ["check.ts"],
      }),
    );
    const tsc = join(repoRoot(), "node_modules", "typescript", "bin", "tsc");
    run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project, timeoutMs: 60_000 });
    console.log(`npm pack test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
