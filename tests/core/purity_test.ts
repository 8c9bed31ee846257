/**
 * The core is pure: nothing under src/core may read clocks or randomness, use timers, promises or
 * runtime globals, or import from outside src/core (design.md, "How the core is driven").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { scanDirectory, scanSource } from "../support/purity_scan.ts";
import { repoRoot } from "../support/runtime.ts";

const coreDir = join(repoRoot(), "src", "core");

test("src/core uses no clock, randomness, timers, promises, runtime globals or outside imports", () => {
  const violations = scanDirectory(coreDir);
  const report = violations.map((v) => `  ${v.file}:${v.line}: ${v.what}`).join("\n");
  assert.equal(
    violations.length,
    0,
    `src/core must stay pure (design.md); move these into src/driver or pass them in:\n${report}`,
  );
});

describe("purity scanner", () => {
  const file = join(coreDir, "sub", "example.ts");
  const whats = (source: string) => scanSource(source, { file, coreDir }).map((v) => `${v.line}: ${v.what}`);

  test("ignores comments, strings, template text and regex literals", () => {
    const source = [
      "// Date.now() in a comment",
      "/* setTimeout(process.exit) */",
      'const a = "Promise and crypto";',
      "const b = 'await Deno';",
      "const c = `globalThis ${1 + 1} performance`;",
      'const d = /Date|"process/g;',
      "const e = x.process + y?.Date + z.async;",
    ].join("\n");
    assert.deepEqual(whats(source), []);
  });

  test("flags forbidden identifiers in code, template expressions and spreads", () => {
    const source = [
      "const now = Date.now();",
      "const r = Math.random();",
      "async function f() { await g(); }",
      "const t = `at ${performance.now()}`;",
      "const all = [...process.argv];",
      "queueMicrotask(() => {});",
    ].join("\n");
    assert.deepEqual(whats(source), [
      "1: uses Date",
      "2: uses Math.random",
      "3: uses async",
      "3: uses await",
      "4: uses performance",
      "5: uses process",
      "6: uses queueMicrotask",
    ]);
  });

  test("allows members that merely share a forbidden name, not calls", () => {
    const source = [
      "class Tracker {",
      "  setTimeout(id: bigint, timeoutMs: number): void {",
      "    this.timers.setTimeout(id, timeoutMs);",
      "  }",
      "  process: number;",
      "}",
      "setTimeout(() => {",
      "}, 10);",
    ].join("\n");
    assert.deepEqual(whats(source), ["7: uses setTimeout"]);
  });

  test("allows relative imports inside src/core only", () => {
    const source = [
      'import { a } from "../records.ts";',
      'import type { B } from "./b.ts";',
      'import { c } from "../../transport/transport.ts";',
      'import { readFileSync } from "node:fs";',
      'export * from "npm:cbor-x";',
      'import "cbor-x";',
      'const m = import("./lazy.ts");',
    ].join("\n");
    assert.deepEqual(whats(source), [
      '3: imports "../../transport/transport.ts", which is outside src/core',
      '4: imports "node:fs" (only relative imports inside src/core are allowed)',
      '5: imports "npm:cbor-x" (only relative imports inside src/core are allowed)',
      '6: imports "cbor-x" (only relative imports inside src/core are allowed)',
      "7: uses dynamic import()",
    ]);
  });
});
