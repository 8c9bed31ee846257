/**
 * ACL/opcode audit (issue 10 item 5): for every opcode a client can send and every permission it
 * lacks, the answer is Apache ZooKeeper 3.8's (pinned in acl_opcodes_table.ts) and a refused request
 * changes nothing. Runs against a standalone `corral serve`, through a follower of a three-member
 * Corral ensemble, and, when it is installed, against Apache ZooKeeper itself, to prove the pinned
 * codes are ZooKeeper's (skipped with a reason when it is not; CORRAL_REQUIRE_COMPAT=1 fails instead).
 *
 *   node --import tsx --test tests/adversary/acl_opcodes_test.ts
 *   npx --yes deno test -A tests/adversary/acl_opcodes_test.ts
 *   npx bun test --timeout 300000 tests/adversary/acl_opcodes_test.ts
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { assertCompat, skipUnlessCompat } from "../support/compat_availability.ts";
import { startCorralProcess } from "../support/corral_process.ts";
import { ProcessEnsemble } from "../support/ensemble_processes.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { startRealZooKeeper } from "../support/real_zookeeper.ts";
import { runtime } from "../support/runtime.ts";
import { type AuditReport, runAudit, SUPER_DIGEST } from "./acl_opcodes_audit.ts";
import { runWatchEventAudit } from "./acl_watch_events.ts";
import { type Cell, type Column, COLUMNS, type Row } from "./acl_opcodes_table.ts";

/** Explicit because Bun otherwise stops a test after 5 s; an ensemble of Deno processes starts slowly. */
const testTimeoutMs = 300_000;

/** The same settings on every server: a known super user and TTL nodes enabled. */
const CONFIG_LINES = [`DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`, "extendedTypesEnabled=true"];

function assertClean(report: AuditReport, target: string): void {
  const problems = [...report.mismatches, ...report.changed];
  assert.ok(report.cases > 400, `${target}: only ${report.cases} cases ran`);
  assert.deepEqual(
    problems,
    [],
    `${target}: ${report.mismatches.length} answers differ from ZooKeeper's and ${report.changed.length} refused requests changed the tree:\n${problems.join("\n")}`,
  );
}

describe("ACL/opcode audit: every opcode × every missing permission answers as ZooKeeper 3.8 and changes nothing", () => {
  test("standalone corral serve", { timeout: testTimeoutMs }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-acl-audit-"));
    const cfg = join(dir, "zoo.cfg");
    writeFileSync(cfg, [...CONFIG_LINES, `dataDir=${join(dir, "data")}`, "clientPort=2181", ""].join("\n"));
    const server = await startCorralProcess({ args: [cfg, "--port", "0", "--log-level", "warn"] });
    try {
      const report = await runAudit({ host: server.host, port: server.port, expected: corralCell });
      assertClean(report, `standalone corral (${runtime()})`);
      assert.deepEqual(await runWatchEventAudit({ host: server.host, port: server.port }), []);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : error}\n--- server output ---\n${server.output()}`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("through a follower of a 3-member corral ensemble", { timeout: testTimeoutMs }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-acl-audit-ensemble-"));
    const which = runtime();
    const ensemble = await ProcessEnsemble.create(dir, [which, which, which], { extraArgs: ["--log-level", "warn"] });
    // ProcessEnsemble writes one zoo.cfg for all members; the audit's settings go at its end.
    appendFileSync(join(dir, "zoo.cfg"), CONFIG_LINES.join("\n") + "\n");
    try {
      const leader = await ensemble.startAll();
      const follower = ensemble.members.find((member) => member.id !== leader.id)!;
      const report = await runAudit({ host: "127.0.0.1", port: follower.clientPort, expected: corralCell });
      assertClean(report, `follower ${follower.id} of a corral ensemble (${which})`);
      assert.deepEqual(await runWatchEventAudit({ host: "127.0.0.1", port: follower.clientPort }), []);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : error}\n--- ensemble output ---\n${ensemble.output()}`);
    } finally {
      await ensemble.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Apache ZooKeeper 3.8 answers as the table says (the judge)", {
    timeout: testTimeoutMs,
    skip: skipUnlessCompat(["java", "zookeeper"]),
  }, async () => {
    assertCompat(["java", "zookeeper"]);
    const zookeeper = await startRealZooKeeper({
      extraConfig: { "DigestAuthenticationProvider.superDigest": SUPER_DIGEST },
      jvmProperties: { "zookeeper.extendedTypesEnabled": "true" },
    });
    try {
      const version = await judgeVersion(zookeeper.port);
      const report = await runAudit({
        host: zookeeper.host,
        port: zookeeper.port,
        expected: (row, column) => judgeCell(row, column, version),
        skipRow: (row) =>
          row.judgeSkipBelow !== undefined && compareVersions(version, row.judgeSkipBelow.below) < 0
            ? `ZooKeeper ${version.join(".")}: ${row.judgeSkipBelow.why}`
            : null,
      });
      for (const line of report.skipped) console.log(`acl audit, judge row skipped: ${line}`);
      assertClean(report, `Apache ZooKeeper ${version.join(".")}`);
      assert.deepEqual(await runWatchEventAudit({ host: zookeeper.host, port: zookeeper.port }), []);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : error}\n--- ZooKeeper log tail ---\n${zookeeper.logTail()}`);
    } finally {
      await zookeeper.stop();
    }
  });
});

/** What Corral must answer: the table's cell, except where a row records a known gap (printed). */
function corralCell(row: Row, column: Column): Cell {
  if (row.corralGap === undefined) return row.cells[COLUMNS.indexOf(column)]!;
  if (!reportedGaps.has(row.name)) {
    reportedGaps.add(row.name);
    console.log(`acl audit, known Corral gap: ${row.name}: ${row.corralGap.why}`);
  }
  return row.corralGap.cell;
}

const reportedGaps = new Set<string>();

async function judgeVersion(port: number): Promise<number[]> {
  const srvr = await fourLetterWord("127.0.0.1", port, "srvr", 5000);
  const match = /Zookeeper version: (\d+)\.(\d+)\.(\d+)/.exec(srvr);
  if (match === null) throw new Error(`cannot tell ZooKeeper's version from srvr: ${JSON.stringify(srvr)}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compareVersions(version: readonly number[], text: string): number {
  const other = text.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const difference = (version[i] ?? 0) - (other[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The table's cell, or what an older ZooKeeper release answers there when the row says it differs. */
function judgeCell(row: Row, column: Column, version: readonly number[]): Cell {
  const older = row.olderZooKeeper;
  if (older !== undefined && compareVersions(version, older.below) < 0 && older.cells[column] !== undefined) {
    return older.cells[column]!;
  }
  return row.cells[COLUMNS.indexOf(column)]!;
}
