/**
 * A full disk: the server refuses writes with a clear error (NOTREADONLY) while it keeps serving
 * reads, starts accepting writes again once space returns, and loses nothing it acknowledged —
 * and never resurrects a write it said had failed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, KeeperError } from "../../src/client/mod.ts";
import { defaultServerConfig } from "../../src/core/server_io.ts";
import { serveDurable } from "../../src/driver/durable_server.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import { waitFor } from "../support/wait_for.ts";

test("disk full: writes fail with NOTREADONLY, reads go on, writes resume when space returns, nothing acknowledged is lost", async () => {
  const network = new MemoryNetwork();
  const fs = new MemoryFileSystem({ seed: 7 });
  const logger = new MemoryLogger();
  const options = {
    transport: network.transport("server"),
    host: "server",
    port: 2181,
    fs,
    dataDir: "/data",
    logger,
    config: defaultServerConfig({ sessionIdSeedMs: 1_000_000 }),
  };
  const server = await serveDurable(options);
  const client = await createClient("server:2181", { transport: network.transport("client") });
  try {
    await client.create("/before", "kept");
    fs.failWhen((context) => (context.op === "append" || context.op === "sync" ? "ENOSPC" : undefined));
    const refused = await client.create("/during", "x").then(() => null, (error) => error);
    assert.ok(refused instanceof KeeperError, `expected a KeeperError, got ${refused}`);
    assert.equal(refused.codeName, "NOTREADONLY");
    const again = await client.setData("/before", "y").then(() => null, (error) => error);
    assert.equal((again as KeeperError).codeName, "NOTREADONLY");
    assert.equal(new TextDecoder().decode((await client.getData("/before")).data), "kept", "reads keep working");
    assert.ok(logger.lines.some((line) => line.level === "warn" && line.message.includes("ENOSPC")), "a clear log line names the cause");

    fs.failWhen(null);
    await waitFor(async () => {
      try {
        await client.create("/after", "ok");
        return true;
      } catch (error) {
        if (error instanceof KeeperError && error.codeName === "NOTREADONLY") return false;
        throw error;
      }
    }, { timeoutMs: 15_000, what: "writes to be accepted again once the disk has space" });
  } finally {
    await client.close().catch(() => {});
    await server.close();
  }
  fs.crash();
  const recovered = await serveDurable({ ...options, transport: new MemoryNetwork().transport("server") });
  try {
    const tree = recovered.server.tree;
    assert.ok(tree.get("/before"), "acknowledged before the failure");
    assert.ok(tree.get("/after"), "acknowledged after recovery");
    assert.equal(tree.get("/during"), undefined, "a write reported as failed never comes back");
    assert.equal(new TextDecoder().decode(tree.get("/before")!.data!), "kept");
  } finally {
    await recovered.close();
  }
});
