import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Cell,
  emptyCell,
  formatRatio,
  ratiosOf,
  TABLE_COLUMNS,
  tableRows,
  targetVerdict,
  tlsCostTable,
  workloadTable,
} from "../../bench/vs_zookeeper_table.ts";

/** A cell of `operations` in 1 s, `cpuMicros` of server CPU, every latency `latencyMs`. */
function cell(operations: number, cpuMicros: number, latencyMs: number): Cell {
  const made = emptyCell();
  made.operations = operations;
  made.elapsedMs = 1000;
  made.serverCpuMicros = cpuMicros;
  made.clientCpuMicros = operations;
  for (let i = 0; i < 100; i++) made.latencies.record(latencyMs);
  made.opsPerSecondByRound.push(operations);
  return made;
}

function column(row: readonly string[], name: string): string {
  return row[TABLE_COLUMNS.indexOf(name)]!;
}

describe("ZooKeeper comparison tables", () => {
  test("ratiosOf() divides Corral's figures by ZooKeeper's", () => {
    const ratios = ratiosOf(
      { opsPerSecond: 30_000, p50: 1, p99: 10, serverMicrosPerOp: 20 },
      { opsPerSecond: 20_000, p50: 2, p99: 20, serverMicrosPerOp: 40 },
    );
    assert.deepEqual(ratios, { opsPerSecond: 1.5, p99: 0.5, serverCpuPerOp: 0.5 });
  });

  test("targetVerdict() marks each target: ≥ 1.5× ops/s, p99 ≤ 1×, CPU/op ≤ 0.5×", () => {
    assert.equal(targetVerdict({ opsPerSecond: 1.5, p99: 1, serverCpuPerOp: 0.5 }), "ops ✓ · p99 ✓ · CPU ✓");
    assert.equal(
      targetVerdict({ opsPerSecond: 1.49, p99: 1.01, serverCpuPerOp: 0.51 }),
      "ops ✗ · p99 ✗ · CPU ✗",
    );
    assert.equal(
      targetVerdict({ opsPerSecond: 2, p99: Number.NaN, serverCpuPerOp: 0.1 }),
      "ops ✓ · p99 ? · CPU ✓",
    );
    assert.equal(targetVerdict(null), "n/a");
  });

  test("formatRatio() prints three figures and a ×, or n/a", () => {
    assert.equal(formatRatio(1.23456), "1.23×");
    assert.equal(formatRatio(undefined), "n/a");
    assert.equal(formatRatio(Number.POSITIVE_INFINITY), "n/a");
  });

  test("tableRows() compares each Corral row with ZooKeeper of the same setup", () => {
    const rows = tableRows([
      { label: "ZK", topology: "standalone", isZooKeeper: true, cell: cell(10_000, 400_000, 4) },
      { label: "Corral", topology: "standalone", isZooKeeper: false, cell: cell(20_000, 200_000, 2) },
      { label: "ZK", topology: "ensemble", isZooKeeper: true, cell: cell(5_000, 500_000, 8) },
      { label: "Corral", topology: "ensemble", isZooKeeper: false, cell: cell(5_000, 1_000_000, 8) },
    ]);
    assert.deepEqual(rows.map((row) => column(row, "setup")), [
      "standalone",
      "standalone",
      "3 servers",
      "3 servers",
    ]);
    assert.equal(column(rows[0]!, "ops/s ÷ ZK"), "1");
    assert.equal(column(rows[0]!, "targets"), "—");
    assert.equal(column(rows[1]!, "server CPU µs/op"), "10.0");
    assert.equal(column(rows[1]!, "ops/s ÷ ZK"), "2.00×");
    assert.equal(column(rows[1]!, "server CPU/op ÷ ZK"), "0.250×");
    assert.equal(column(rows[1]!, "targets"), "ops ✓ · p99 ✓ · CPU ✓");
    assert.equal(column(rows[3]!, "ops/s ÷ ZK"), "1.00×");
    assert.equal(column(rows[3]!, "server CPU/op ÷ ZK"), "2.00×");
    assert.equal(column(rows[3]!, "targets"), "ops ✗ · p99 ✓ · CPU ✗");
    for (const row of rows) assert.equal(row.length, TABLE_COLUMNS.length);
  });

  test("TLS rows are compared with ZooKeeper over TLS; tlsCostTable() divides each server's TLS CPU/op by its plaintext one", () => {
    const rows = tableRows([
      { label: "ZK", topology: "standalone", isZooKeeper: true, cell: cell(10_000, 400_000, 4) },
      { label: "ZK", topology: "tls", isZooKeeper: true, cell: cell(10_000, 800_000, 4) },
      { label: "Corral", topology: "tls", isZooKeeper: false, cell: cell(20_000, 200_000, 2) },
    ]);
    assert.deepEqual(rows.map((row) => column(row, "setup")), ["standalone", "standalone, TLS", "standalone, TLS"]);
    assert.equal(column(rows[2]!, "server CPU/op ÷ ZK"), "0.125×");
    const table = tlsCostTable(["reads", "writes"], [
      { label: "ZK", isZooKeeper: true, plaintext: [cell(10, 100, 1), cell(10, 100, 1)], tls: [cell(10, 300, 1), cell(10, 300, 1)] },
      { label: "Corral", isZooKeeper: false, plaintext: [cell(10, 100, 1), cell(10, 100, 1)], tls: [cell(10, 140, 1), cell(20, 400, 1)] },
    ]);
    assert.deepEqual(table.columns, ["server", "reads", "writes"]);
    assert.deepEqual(table.rows, [["ZK", "3.00×", "3.00×"], ["Corral", "1.40× ✓", "2.00× ✗"]]);
  });

  test("tableRows() reads n/a for Corral when ZooKeeper's row of that setup is missing", () => {
    const rows = tableRows([{
      label: "Corral",
      topology: "ensemble",
      isZooKeeper: false,
      cell: cell(1000, 1000, 1),
    }]);
    assert.equal(column(rows[0]!, "ops/s ÷ ZK"), "n/a");
    assert.equal(column(rows[0]!, "targets"), "n/a");
  });

  test("workloadTable() gives the full note on the first table only", () => {
    const setup = {
      workloadName: "100% getData 1 KiB",
      first: true,
      standaloneClients: 4,
      ensembleClients: 6,
      outstandingPerClient: 100,
      durationMs: 4000,
      warmupMs: 1000,
      startWarmupMs: 2000,
      zooKeeperStartWarmupMs: 6000,
      rounds: 2,
    };
    const first = workloadTable(setup, []);
    assert.equal(first.title, "Corral vs Apache ZooKeeper: 100% getData 1 KiB");
    assert.match(first.note ?? "", /6 clients spread round-robin over the three members/);
    assert.match(first.note ?? "", /2 alternating rounds/);
    assert.match(first.note ?? "", /2 s of unmeasured 50\/50 load once started \(ZooKeeper 6 s/);
    assert.equal(workloadTable({ ...setup, first: false }, []).note, "Same setup as the first table.");
  });
});
