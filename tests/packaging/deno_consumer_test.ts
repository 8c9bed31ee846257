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
 * Runs under Deno only (it drives `deno publish` and `deno run`); under Node and Bun it is skipped.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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
