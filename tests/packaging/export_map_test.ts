/**
 * deno.json (JSR: the TypeScript sources) and package.json (npm: the JavaScript and declarations
 * that scripts/build.ts writes to dist/) must offer the same entry points. This fails when one map
 * gains, loses or moves an entry the other does not, or when the versions differ.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../support/runtime.ts";

interface DenoJson {
  name?: string;
  version?: string;
  license?: string;
  exports?: Record<string, string>;
  publish?: { include?: string[]; exclude?: string[] };
}

interface PackageJson {
  version?: string;
  license?: string;
  main?: string;
  types?: string;
  exports?: Record<string, { types?: string; default?: string }>;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
}

/** npm-only entries: the single-file bundle is built JavaScript, which JSR (TypeScript sources) has no use for. */
const NPM_ONLY: Record<string, { types: string; default: string }> = {
  "./bundle": { types: "./dist/mod.d.ts", default: "./dist/corral.bundle.js" },
};

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(join(repoRoot(), file), "utf8")) as T;
}

/** What the build emits for a source file: "./src/x/mod.ts" → "./dist/src/x/mod.js" and ".d.ts". */
function built(source: string): { types: string; default: string } {
  const stem = source.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { types: `./dist/${stem}.d.ts`, default: `./dist/${stem}.js` };
}

describe("export maps", () => {
  const deno = readJson<DenoJson>("deno.json");
  const npm = readJson<PackageJson>("package.json");
  const denoExports = deno.exports ?? {};
  const npmExports = npm.exports ?? {};

  test("deno.json is ready for JSR: scoped name, version, license, exports of existing .ts files", () => {
    assert.match(deno.name ?? "", /^@[a-z0-9-]+\/[a-z0-9-]+$/, "deno.json name must be @scope/name");
    assert.match(deno.version ?? "", /^\d+\.\d+\.\d+/, "deno.json needs a semver version");
    assert.ok(deno.license, "deno.json needs a license (JSR refuses a package without one)");
    assert.equal(denoExports["."], "./mod.ts");
    for (const [key, source] of Object.entries(denoExports)) {
      assert.match(source, /^\.\/.*\.ts$/, `deno.json export ${key} should be a ./....ts path`);
      assert.ok(existsSync(join(repoRoot(), source)), `deno.json export ${key}: ${source} does not exist`);
    }
  });

  test("JSR publishes the sources, not the tests, benchmarks or build output", () => {
    const exclude = deno.publish?.exclude ?? [];
    for (const folder of ["tests/", "bench/", "dist/", "node_modules/"]) {
      assert.ok(exclude.includes(folder), `deno.json publish.exclude should list ${folder}`);
    }
  });

  test("package.json exports what deno.json exports, built into dist/", () => {
    for (const [key, source] of Object.entries(denoExports)) {
      assert.deepEqual(
        npmExports[key],
        built(source),
        `package.json export ${key} should be the build of deno.json's ${source}`,
      );
    }
    for (const key of Object.keys(npmExports)) {
      if (key in denoExports) continue;
      assert.ok(key in NPM_ONLY, `package.json exports ${key}, which deno.json does not: add it there too`);
      assert.deepEqual(npmExports[key], NPM_ONLY[key]);
    }
  });

  test("package.json's main, types, bin and files point at the build", () => {
    assert.equal(npm.main, built(denoExports["."]!).default);
    assert.equal(npm.types, built(denoExports["."]!).types);
    assert.equal(npm.bin?.corral, "./dist/bin/corral.js");
    assert.ok(npm.files?.includes("dist/"), "package.json files should include dist/");
    assert.ok(npm.dependencies?.["cbor-x"], "cbor-x is the runtime dependency of the built package");
  });

  test("the two manifests carry the same version and license", () => {
    assert.equal(npm.version, deno.version, "bump deno.json and package.json together");
    assert.equal(npm.license, deno.license);
  });

  test("LICENSE holds the Apache License 2.0 the manifests name (npm packs it by itself)", () => {
    assert.equal(npm.license, "Apache-2.0");
    const license = readFileSync(join(repoRoot(), "LICENSE"), "utf8");
    assert.match(license, /^\s*Apache License\s+Version 2\.0, January 2004\s/);
    // The standard text: its nine sections and the appendix, unmodified (202 lines as published).
    for (let section = 1; section <= 9; section++) {
      assert.match(license, new RegExp(`^\\s+${section}\\. `, "m"));
    }
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    assert.match(license, /Copyright \[yyyy\] \[name of copyright owner\]/);
    assert.equal(license.split("\n").length - 1, 202);
  });
});
