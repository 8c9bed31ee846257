/**
 * A Deno program outside the repository uses Corral the way JSR consumers get it: the files
 * `deno publish --dry-run` would upload, copied to a scratch folder, linked into a scratch app
 * (`"links"` makes Deno treat the folder as the JSR package @corral/corral, resolving its bare
 * imports through the package's own deno.json, as JSR does). The app starts a server, writes and
 * reads a znode. Without the `imports` map in deno.json this fails with
 * `Import "cbor-x/encode" not a dependency`.
 *
 * The app finds npm packages in a node_modules folder (a link to the repository's): Deno's own npm
 * download of cbor-x fails on this machine's registry mirror, which lacks one of cbor-extract's
 * optional per-platform packages (denoland/deno#29307), so the test cannot depend on it.
 *
 * A Deno program that imports Corral by URL gets no import map from us (Deno never reads a remote
 * module's config), so it imports the bundle instead: dist/corral.bundle.js has cbor-x inside and
 * imports only `node:` built-ins. The second test serves it over loopback HTTP to a scratch program
 * with no configuration at all.
 *
 * Runs under Deno only (it drives `deno publish` and `deno run`); under Node and Bun it is skipped.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { repoRoot, runtime } from "../support/runtime.ts";

const current = runtime();
const skip = current === "deno" ? false : `needs the deno binary; the deno run of this suite covers it (this is ${current})`;

/** The files `deno publish --dry-run` lists, as paths relative to the repository. */
function publishedFiles(): string[] {
  const result = spawnSync(process.execPath, ["publish", "--dry-run", "--allow-dirty"], {
    cwd: repoRoot(),
    encoding: "utf8",
    timeout: 170_000,
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 16 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  assert.equal(result.status, 0, `deno publish --dry-run failed:\n${output}`);
  const files = [...output.matchAll(/^\s*(file:\/\/\S+)/gm)].map((match) => relative(repoRoot(), fileURLToPath(match[1]!)));
  assert.ok(files.includes("mod.ts") && files.includes("deno.json"), `unexpected publish list:\n${output}`);
  return files;
}

const APP = `
import { createClient, startServer } from "@corral/corral";
const server = await startServer({ port: 0 });
const client = await createClient(\`127.0.0.1:\${server.port}\`);
await client.create("/from-jsr", "hello");
const { data } = await client.getData("/from-jsr");
console.log("read back:", new TextDecoder().decode(data));
await client.close();
await server.close();
`;

test("a Deno app outside the repository imports the JSR package and runs a server", { skip, timeout: 300_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "corral-jsr-consumer-"));
  try {
    const packageDir = join(scratch, "corral");
    for (const file of publishedFiles()) {
      mkdirSync(dirname(join(packageDir, file)), { recursive: true });
      copyFileSync(join(repoRoot(), file), join(packageDir, file));
    }
    const appDir = join(scratch, "app");
    mkdirSync(appDir);
    symlinkSync(join(repoRoot(), "node_modules"), join(appDir, "node_modules"));
    writeFileSync(join(appDir, "deno.json"), JSON.stringify({
      links: ["../corral"],
      nodeModulesDir: "manual",
      imports: { "@corral/corral": "jsr:@corral/corral@^0.1.0" },
    }));
    writeFileSync(join(appDir, "main.ts"), APP);
    const result = spawnSync(process.execPath, ["run", "-A", "main.ts"], {
      cwd: appDir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    assert.equal(result.status, 0, `the scratch app failed:\n${output}`);
    assert.match(result.stdout, /read back: hello/, output);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

/** Runs a command without blocking the event loop (the test's own HTTP server must keep answering). */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk) => output += String(chunk));
    child.stderr.on("data", (chunk) => output += String(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

test("a Deno program with no configuration imports the bundle by URL and runs a server", { skip, timeout: 300_000 }, async () => {
  const build = await run("node", ["--import", "tsx", "scripts/build.ts"], repoRoot(), 200_000);
  assert.equal(build.status, 0, `npm build failed:\n${build.output}`);
  const bundle = readFileSync(join(repoRoot(), "dist", "corral.bundle.js"));
  const http = createServer((request, response) => {
    if (request.url !== "/corral.bundle.js") return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": "application/javascript" }).end(bundle);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const scratch = mkdtempSync(join(tmpdir(), "corral-url-consumer-"));
  try {
    const { port } = http.address() as AddressInfo;
    writeFileSync(join(scratch, "main.ts"), APP.replace("@corral/corral", `http://127.0.0.1:${port}/corral.bundle.js`));
    const result = await run(process.execPath, ["run", "-A", "main.ts"], scratch, 120_000);
    assert.equal(result.status, 0, `the scratch program failed:\n${result.output}`);
    assert.match(result.output, /read back: hello/);
  } finally {
    http.close();
    rmSync(scratch, { recursive: true, force: true });
  }
});
