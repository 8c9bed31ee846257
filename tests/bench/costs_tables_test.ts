import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FAN_OUT_COLUMNS,
  type FanOutCell,
  fanOutTable,
  SESSION_COLUMNS,
  sessionTable,
} from "../../bench/costs/costs_tables.ts";
import { costsPlan } from "../../bench/costs/costs_bench.ts";
import type { FanOutRound } from "../../bench/costs/fan_out.ts";
import type { SessionCapacityResult } from "../../bench/costs/session_capacity.ts";
import { renderTable } from "../../bench/markdown_table.ts";

function round(overrides: Partial<FanOutRound> = {}): FanOutRound {
  return {
    expected: 4,
    delivered: 4,
    duplicates: 0,
    serverWatches: 2,
    registerMs: 1,
    setDataReplyMs: 3,
    allDeliveredMs: 4,
    deliveryMs: new Float64Array([1, 2, 3, 4]),
    serverCpuMicros: 2000,
    ...overrides,
  };
}

function sessions(overrides: Partial<SessionCapacityResult> = {}): SessionCapacityResult {
  return {
    sessions: 1000,
    negotiatedTimeoutMs: 6000,
    baselineServerCpuMicrosPerSecond: 5000,
    connectMs: 1500,
    connectDelays: { count: 1000, p50Ms: 10, p99Ms: 40, maxMs: 50 },
    connectServerCpuMicros: 200_000,
    rssBeforeBytes: 80 * 1024 * 1024,
    rssConnectedBytes: 90 * 1024 * 1024,
    rssAfterWindowBytes: 90 * 1024 * 1024,
    windowMs: 10_000,
    windowServerCpuMicros: 550_000,
    windowLoadGeneratorCpuMicros: 1_000_000,
    windowRequests: 5000,
    departures: new Map(),
    notConnectedAtEnd: 0,
    ...overrides,
  };
}

describe("fanOutTable", () => {
  const cells: FanOutCell[] = [
    { server: "Corral", shared: false, cpuResolutionMicros: 1, connections: 2, watchersPerConnection: 2, rounds: [round(), round()] },
    {
      server: "Corral in memory",
      shared: true,
      cpuResolutionMicros: 1,
      connections: 2,
      watchersPerConnection: 2,
      rounds: [round({ serverWatches: null, delivered: 3, duplicates: 1, deliveryMs: new Float64Array([1, 2, 3]) })],
    },
  ];
  const table = fanOutTable(cells, { watchers: 10_000, rounds: 3 });

  test("has one row per cell, each as wide as the header", () => {
    assert.deepEqual(table.columns, [...FAN_OUT_COLUMNS]);
    assert.equal(table.rows.length, 2);
    for (const row of table.rows) assert.equal(row.length, table.columns.length);
    assert.match(table.title, /10,000 watchers/);
    assert.match(table.note ?? "", /at least 3/);
  });

  test("pools delays over rounds and divides CPU by the server's watches", () => {
    const row = table.rows[0]!;
    assert.equal(row[1], "2 × 2");
    assert.equal(row[2], "2", "rounds");
    assert.equal(row[3], "2", "server watches");
    assert.equal(row[4], "2.00", "p50 of 1,2,3,4,1,2,3,4");
    assert.equal(row[8], "2.00", "2 ms of server CPU per change");
    assert.equal(row[9], "1,000", "2,000 µs over 2 watches");
    assert.equal(row[10], "8 / 8");
  });

  test("marks shared CPU, unknown watch counts and duplicates", () => {
    const row = table.rows[1]!;
    assert.equal(row[3], "n/a");
    assert.match(row[8]!, /\*$/);
    assert.match(row[9]!, /^n\/a/);
    assert.equal(row[10], "3 / 4 (1 duplicates)");
  });

  test("marks CPU figures the server's clock barely resolved (~) or did not resolve at all (<)", () => {
    const coarse = (serverCpuMicros: number): FanOutCell => ({
      server: "Corral",
      shared: false,
      cpuResolutionMicros: 10_000,
      connections: 2,
      watchersPerConnection: 2,
      rounds: [round({ serverCpuMicros }), round({ serverCpuMicros: 0 })],
    });
    const [few, none] = fanOutTable([coarse(30_000), coarse(0)], { watchers: 4, rounds: 2 }).rows;
    assert.equal(few![8], "~15.0", "3 ticks over 2 rounds");
    assert.equal(few![9], "~7,500");
    assert.equal(none![8], "< 5.00", "under one 10 ms tick spread over 2 rounds");
    assert.equal(none![9], "< 2,500");
  });

  test("renders as markdown", () => {
    const text = renderTable(table);
    assert.match(text, /^### Watch fan-out/);
    assert.equal(text.split("\n").filter((line) => line.startsWith("| ")).length, 4);
  });

  test("refuses a cell without rounds", () => {
    assert.throws(
      () => fanOutTable([{ server: "x", shared: false, cpuResolutionMicros: 1, connections: 1, watchersPerConnection: 1, rounds: [] }], {
        watchers: 1,
        rounds: 1,
      }),
      RangeError,
    );
  });
});

describe("sessionTable", () => {
  test("reports per-session memory, per-ping CPU net of the empty server, and no departures as 0", () => {
    const table = sessionTable([{ server: "Corral", shared: false, result: sessions() }], { sessions: 1000, windowMs: 10_000 });
    assert.deepEqual(table.columns, [...SESSION_COLUMNS]);
    const row = table.rows[0]!;
    assert.equal(row.length, table.columns.length);
    assert.equal(row[1], "1,000");
    assert.equal(row[2], "1.50", "connect all s");
    assert.equal(row[3], "10.0 / 40.0");
    assert.equal(row[4], "200", "µs per connect");
    assert.equal(row[5], "5.00 → 55.0", "ms/s empty → idle");
    assert.equal(row[6], "500", "requests/s");
    assert.equal(row[7], "100", "(550,000 − 50,000) µs over 5,000 pings");
    assert.equal(row[8], "80.0 → 90.0 → 90.0");
    assert.equal(row[9], "10.2", "10 MiB over 1,000 sessions, in KiB");
    assert.equal(row[10], "0");
    assert.match(table.note ?? "", /6\.00 s/);
  });

  test("lists every departure and sessions still not connected", () => {
    const result = sessions({ departures: new Map([["disconnected", 3], ["expired", 1]]), notConnectedAtEnd: 2, windowRequests: null });
    const row = sessionTable([{ server: "Corral", shared: true, result }], { sessions: 1000, windowMs: 10_000 }).rows[0]!;
    assert.equal(row[10], "3 disconnected, 1 expired, 2 not connected at the end");
    assert.equal(row[6], "n/a");
    assert.equal(row[7], "n/a");
    assert.match(row[5]!, /\*$/);
  });
});

describe("costsPlan", () => {
  test("spreads the same watcher count over 1, 10 and 100 watchers per connection", () => {
    const full = costsPlan(false);
    assert.equal(full.sessions, 10_000);
    assert.deepEqual(full.shapes.map((shape) => shape.connections * shape.watchersPerConnection), [10_000, 10_000, 10_000]);
    assert.deepEqual(full.shapes.map((shape) => shape.connections), [10_000, 1_000, 100]);
    const quick = costsPlan(true);
    assert.equal(quick.sessions, 1_000);
    assert.ok(quick.idleWindowMs < full.idleWindowMs);
    assert.ok(full.sessionTimeoutMs >= 4_000 && full.sessionTimeoutMs <= 6_000, "pings every 2 s or less");
  });

  test("refuses fewer than 100 sessions", () => {
    assert.throws(() => costsPlan(true, 50), RangeError);
  });
});
