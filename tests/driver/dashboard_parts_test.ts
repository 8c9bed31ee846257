/**
 * The dashboard's parts on their own: the event hub drops a viewer that stops reading and ends every
 * stream on close; the live and snapshot tree readers agree; the ensemble picture shows what each
 * member's `srvr` says, with lag, and an unreachable member as such.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient } from "../../mod.ts";
import { DashboardEvents, type EventSink } from "../../src/driver/admin/dashboard/dashboard_events.ts";
import { DashboardState } from "../../src/driver/admin/dashboard/dashboard_state.ts";
import { parseSrvr } from "../../src/driver/admin/dashboard/member_probe.ts";
import { liveTreeReader, snapshotTreeReader, TREE_CHILDREN_SHOWN_MAX, viewNode } from "../../src/driver/admin/dashboard/tree_view.ts";
import { freePort } from "../support/free_port.ts";
import { waitFor } from "../support/wait_for.ts";
import { startOpsServer } from "./admin_support.ts";

class FakeSink implements EventSink {
  written: string[] = [];
  writableLength = 0;
  /** Bytes "in the socket" that a reader would take; a stalled reader takes none. */
  stalled = false;
  ended = false;
  destroyed = false;
  #onClose: (() => void) | null = null;

  write(text: string): boolean {
    this.written.push(text);
    if (this.stalled) this.writableLength += text.length;
    return !this.stalled;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.#onClose?.();
  }
  once(_event: "close", listener: () => void): unknown {
    this.#onClose = listener;
    return this;
  }
}

describe("dashboard event hub", () => {
  test("drops a viewer whose unsent bytes pass the cap, keeps the others, and close() ends the rest", async () => {
    let pictures = 0;
    const hub = new DashboardEvents({ picture: () => `{"n":${++pictures},"pad":"${"x".repeat(100)}"}`, intervalMs: 20, clientBufferBytesMax: 1000 });
    const reading = new FakeSink();
    const stalled = new FakeSink();
    stalled.stalled = true;
    hub.add(reading);
    hub.add(stalled);
    assert.equal(hub.viewers, 2);
    await waitFor(() => stalled.destroyed, { timeoutMs: 10_000, what: "the stalled viewer to be dropped" });
    assert.equal(hub.dropped, 1);
    assert.equal(hub.viewers, 1);
    assert.ok(stalled.writableLength <= 1000 + 200, "dropped as soon as it passed the cap");
    const before = reading.written.length;
    await waitFor(() => reading.written.length > before + 2, { timeoutMs: 10_000, what: "the reading viewer to keep getting pictures" });
    assert.match(reading.written[0]!, /^retry: \d+\n\n$/);
    assert.match(reading.written[1]!, /^event: state\ndata: \{.*\}\n\n$/);
    hub.close();
    assert.equal(reading.ended, true);
    assert.equal(hub.viewers, 0);
    assert.equal(hub.hasRoom(), false, "a closed hub takes no viewers");
    const count = reading.written.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(reading.written.length, count, "nothing is written after close()");
  });

  test("refuses viewers past clientsMax and computes one picture per tick for all of them", async () => {
    let pictures = 0;
    const hub = new DashboardEvents({ picture: () => `{"n":${++pictures}}`, intervalMs: 50, clientsMax: 3 });
    const sinks = [new FakeSink(), new FakeSink(), new FakeSink()];
    for (const sink of sinks) hub.add(sink);
    assert.equal(hub.hasRoom(), false);
    assert.throws(() => hub.add(new FakeSink()), /3 viewers already/);
    const afterJoin = pictures;
    await waitFor(() => pictures >= afterJoin + 2, { timeoutMs: 10_000, what: "two ticks" });
    hub.close();
    const last = sinks.map((sink) => sink.written.at(-1));
    assert.equal(new Set(last).size, 1, "every viewer got the same picture");
  });
});

describe("dashboard tree readers", () => {
  test("the live tree and a snapshot scan show the same node, children and Stat", async () => {
    const ops = await startOpsServer();
    const client = await createClient(`127.0.0.1:${ops.server.port}`);
    try {
      await client.create("/p", "parent");
      for (let i = 0; i < 5; i++) await client.create(`/p/c${i}`, `child ${i}`);
      await client.delete("/p/c3");
      await client.create("/p/c0/deep", new Uint8Array([0, 1, 2, 255]));
      const server = ops.server.server;
      const live = liveTreeReader(() => server.tree);
      const scan = snapshotTreeReader(() => server.snapshotSource());
      for (const path of ["/", "/p", "/p/c0", "/p/c0/deep", "/zookeeper", "/missing"]) {
        assert.deepEqual(viewNode(scan, path, []), viewNode(live, path, []), path);
      }
      const parent = viewNode(live, "/p", []);
      assert.deepEqual(parent["children"], ["c0", "c1", "c2", "c4"]);
      const stat = (await client.exists("/p"))!;
      assert.equal((parent["stat"] as { cversion: number }).cversion, stat.cversion);
      assert.equal((parent["stat"] as { numChildren: number }).numChildren, 4);
      const binary = viewNode(live, "/p/c0/deep", [])["data"] as { binary: boolean; hex: string };
      assert.equal(binary.binary, true);
      assert.equal(binary.hex, "00 01 02 ff");
    } finally {
      await client.close();
      await ops.stop();
    }
  });

  test(`shows at most ${TREE_CHILDREN_SHOWN_MAX} children, the first in order, with the total`, () => {
    const names = Array.from({ length: TREE_CHILDREN_SHOWN_MAX * 3 + 7 }, (_, i) => `n${String(i).padStart(5, "0")}`).reverse();
    const reader = {
      read: () => ({
        data: null,
        acl: [],
        children: names,
        stat: { czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: names.length },
      }),
    };
    const view = viewNode(reader, "/big", []);
    const children = view["children"] as string[];
    assert.equal(children.length, TREE_CHILDREN_SHOWN_MAX);
    assert.equal(children[0], "n00000");
    assert.equal(children.at(-1), `n${String(TREE_CHILDREN_SHOWN_MAX - 1).padStart(5, "0")}`);
    assert.equal(view["childrenTotal"], names.length);
  });
});

describe("dashboard ensemble picture", () => {
  test("shows each member's mode, zxid and lag from srvr, and an unreachable member as such", async () => {
    const ops = await startOpsServer();
    const other = await startOpsServer();
    const client = await createClient(`127.0.0.1:${other.server.port}`);
    try {
      await client.create("/ahead", "x");
      const newest = (await client.exists("/ahead"))!.czxid; // the session's creation took a zxid too
      const closedPort = await freePort();
      const members = [
        { id: 1, serverAddress: "127.0.0.1:1", electionAddress: "127.0.0.1:1", clientAddress: `127.0.0.1:${ops.server.port}`, observer: false },
        { id: 2, serverAddress: "127.0.0.1:2", electionAddress: "127.0.0.1:2", clientAddress: `127.0.0.1:${other.server.port}`, observer: false },
        { id: 3, serverAddress: "127.0.0.1:3", electionAddress: "127.0.0.1:3", clientAddress: `127.0.0.1:${closedPort}`, observer: true },
      ];
      let leaderId = 2;
      const state = new DashboardState(
        { metrics: ops.metrics, ensemble: () => ({ isLeader: false, leaderId, leaderAddress: "", zabState: "broadcast", voting: true, members }) },
        { nowMs: () => performance.now(), wallMs: () => 1_000 },
      );
      await state.probeMembers();
      const picture = state.picture(1);
      const ensemble = picture["ensemble"] as { leaderId: number; lastLeaderChangeAt: number; members: Record<string, unknown>[] };
      assert.equal(ensemble.leaderId, 2);
      assert.equal(ensemble.lastLeaderChangeAt, 1_000);
      const [first, second, third] = ensemble.members;
      assert.equal(first!["mode"], "standalone");
      assert.equal(first!["zxid"], "0x0");
      assert.equal(first!["lag"], newest, "as many txns behind as the member that has /ahead made");
      assert.equal(second!["zxid"], `0x${newest.toString(16)}`);
      assert.equal(second!["lag"], 0);
      assert.equal(third!["mode"], null);
      assert.match(String(third!["problem"]), /unreachable|no answer/);
      leaderId = 1;
      assert.equal((state.picture(1)["ensemble"] as { leaderId: number }).leaderId, 1);
    } finally {
      await client.close();
      await other.stop();
      await ops.stop();
    }
  });

  test("parseSrvr reads Mode, Zxid and Node count, and says why when there are none", () => {
    const report = parseSrvr("Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nZxid: 0x100000005\nMode: follower\nNode count: 7\n");
    assert.deepEqual(report, { mode: "follower", zxid: 0x100000005, nodeCount: 7, problem: null });
    assert.match(parseSrvr("srvr is not executed because it is not in the whitelist.\n").problem ?? "", /whitelist/);
    assert.equal(parseSrvr("").problem, "no answer to srvr");
  });
});
