#!/usr/bin/env node
// Runs the corral CLI from this checkout's TypeScript sources: `node bin/corral.mjs serve ...`
// (Node loads them through tsx, a devDependency; `deno run -A bin/corral.mjs` and `bun bin/corral.mjs`
// run TypeScript natively). The npm package does not ship this file: its bin is dist/bin/corral.js,
// the compiled CLI that scripts/build.ts writes (npm run build; npm pack runs it). Sources rather
// than dist/ here, because dist/ is git-ignored and may be older than the sources beside it.
const runtime = globalThis.Deno !== undefined ? "deno" : globalThis.Bun !== undefined ? "bun" : "node";
if (runtime === "node") {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("../src/cli/main.ts");
