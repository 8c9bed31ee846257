/**
 * The audit log file (src/driver/audit_log.ts): one JSON line per event in arrival order; bounded
 * memory, with dropped events counted in a line of their own; a failing disk logged once per streak.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AuditEvent } from "../../src/core/audit.ts";
import { AUDIT_PENDING_BYTES_MAX, AuditLogFile } from "../../src/driver/audit_log.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { MemoryFileSystem } from "../../src/storage/memory_file_system.ts";

const event = (znode: string): AuditEvent => ({ session: "0x1", user: "127.0.0.1", ip: "127.0.0.1", operation: "create", znode, result: "success" });

async function lines(fs: MemoryFileSystem, path: string): Promise<Record<string, unknown>[]> {
  const text = new TextDecoder().decode(await fs.readFile(path));
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

describe("audit log file", () => {
  test("writes one JSON line per event, in order, with the time first", async () => {
    const fs = new MemoryFileSystem();
    const log = new AuditLogFile(fs, "/audit.log", new MemoryLogger(), () => Date.UTC(2026, 11, 6));
    for (const znode of ["/a", "/b", "/c"]) log.record(event(znode));
    await log.close();
    const written = await lines(fs, "/audit.log");
    assert.deepEqual(written.map((line) => line.znode), ["/a", "/b", "/c"]);
    assert.deepEqual(Object.keys(written[0]!), ["time", "session", "user", "ip", "operation", "znode", "result"]);
    assert.equal(written[0]!.time, "2026-12-06T00:00:00.000Z");
  });

  test("past the memory bound events are dropped and counted in a line of their own, never silently", async () => {
    const fs = new MemoryFileSystem();
    const log = new AuditLogFile(fs, "/audit.log", new MemoryLogger());
    const big = "/" + "x".repeat(64 * 1024);
    const fits = Math.floor(AUDIT_PENDING_BYTES_MAX / (big.length + 200));
    for (let i = 0; i < fits + 10; i++) log.record(event(big));
    await log.close();
    const written = await lines(fs, "/audit.log");
    const dropped = written.find((line) => line.operation === "auditEventsDropped");
    assert.ok(dropped !== undefined, "the gap is written down");
    assert.equal(written.filter((line) => line.operation === "create").length + (dropped.count as number), fits + 10);
  });

  test("a failing disk is logged once per streak; later events are written once it works", async () => {
    const fs = new MemoryFileSystem();
    const logger = new MemoryLogger();
    const log = new AuditLogFile(fs, "/audit.log", logger);
    log.record(event("/first"));
    await log.close();
    fs.failNextWrites(2, "EIO");
    log.record(event("/lost1"));
    await log.close();
    log.record(event("/lost2"));
    await log.close();
    log.record(event("/later"));
    await log.close();
    assert.equal(logger.lines.filter((line) => line.level === "error").length, 1);
    assert.deepEqual((await lines(fs, "/audit.log")).map((line) => line.znode).filter((znode) => znode === "/first" || znode === "/later"), ["/first", "/later"]);
  });

  test("a failure on the very first append leaves no partial line either", async () => {
    const fs = new MemoryFileSystem();
    const log = new AuditLogFile(fs, "/audit.log", new MemoryLogger());
    fs.failNextWrites(1, "EIO");
    log.record(event("/lost"));
    await log.close();
    log.record(event("/kept"));
    await log.close();
    assert.deepEqual((await lines(fs, "/audit.log")).map((line) => line.znode), ["/kept"]);
  });
});
