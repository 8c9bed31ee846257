import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseSrvrReceived, parseWchsTotal } from "../../bench/costs/costs_targets.ts";
import { rssBytesOfStatus } from "../../bench/costs/process_memory.ts";

describe("costs probes", () => {
  test("parseWchsTotal reads ZooKeeper's and Corral's wchs reply", () => {
    assert.equal(parseWchsTotal("3 connections watching 1 paths\nTotal watches:3\n"), 3);
    assert.equal(parseWchsTotal("wchs is not executed because it is not in the whitelist.\n"), null);
  });

  test("parseSrvrReceived reads the Received line of srvr", () => {
    const srvr = "Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.1/3\nReceived: 1234\nSent: 1233\nConnections: 2\n";
    assert.equal(parseSrvrReceived(srvr), 1234);
    assert.equal(parseSrvrReceived("Sent: 5\n"), null);
  });

  test("rssBytesOfStatus turns VmRSS kB into bytes", () => {
    assert.equal(rssBytesOfStatus("Name:\tnode\nVmPeak:\t  99 kB\nVmRSS:\t  1234 kB\nThreads:\t7\n"), 1234 * 1024);
    assert.ok(Number.isNaN(rssBytesOfStatus("Name:\tnode\n")));
  });
});
