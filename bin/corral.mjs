#!/usr/bin/env node
// The npm bin of corral. Node runs the TypeScript sources through tsx (registered in process);
// Bun and Deno run TypeScript natively. Switch to built JavaScript once there is a build step.
const runtime = globalThis.Deno !== undefined ? "deno" : globalThis.Bun !== undefined ? "bun" : "node";
if (runtime === "node") {
  const { register } = await import("tsx/esm/api");
  register();
}
await import("../src/cli/main.ts");
