import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code } from "../../src/core/errors.ts";
import { EventType, KeeperState, OpCode } from "../../src/core/records.ts";
import type { WatchEvent } from "../../src/client/types.ts";
import { hex } from "../wire/samples.ts";
import {
  connect,
  connectResponse,
  deliver,
  newMachine,
  notification,
  ofType,
  PASSWORD,
  reconnect,
  reply,
  sentRequests,
  SESSION_ID,
  zeroStat,
} from "./support/machine_harness.ts";

describe("SessionMachine handshake", () => {
  test("sends the 45-byte ConnectRequest of a new session and nothing before the ConnectResponse", () => {
    const machine = newMachine();
    machine.start(0);
    const [connectOutput] = machine.drain();
    assert.deepEqual(connectOutput, {
      type: "connect",
      attempt: 1,
      host: "h1",
      port: 2181,
      timeoutMs: 15_000,
    });
    machine.submit({ id: 7, request: { kind: "getData", path: "/a", watch: false } }, 0);
    assert.ok(machine.socketOpened(1, 0));
    const sends = ofType(machine.drain(), "send");
    assert.equal(sends.length, 1, "only the ConnectRequest before the handshake completes");
    assert.deepEqual(
      sends[0]!.bytes,
      hex("00 00 00 2d | 00 00 00 00 | 00×8 | 00 00 75 30 | 00×8 | 00 00 00 10 | 00×16 | 00"),
    );
    machine.socketData(1, connectResponse(30_000), 5);
    const outputs = machine.drain();
    assert.deepEqual(sentRequests(outputs).map((r) => [r.xid, r.type]), [[1, OpCode.getData]]);
    assert.equal(machine.state, "connected");
    assert.equal(machine.sessionId, SESSION_ID);
    assert.deepEqual(machine.password, PASSWORD);
    assert.equal(machine.negotiatedTimeoutMs, 30_000);
  });

  test("resumes with session id, password and lastZxidSeen, and canBeReadOnly sets the readOnly byte", () => {
    const machine = newMachine({
      sessionId: 5n,
      password: PASSWORD,
      canBeReadOnly: true,
      sessionTimeoutMs: 4000,
    });
    machine.start(0);
    machine.drain();
    machine.socketOpened(1, 0);
    const bytes = ofType(machine.drain(), "send")[0]!.bytes;
    const expected = hex(
      "00 00 00 2d | 00 00 00 00 | 00×8 | 00 00 0f a0 | 00 00 00 00 00 00 00 05 | 00 00 00 10 | " +
        "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 | 01",
    );
    assert.deepEqual(bytes, expected);
    machine.socketData(1, connectResponse(4000, { readOnly: true }), 0);
    const states = ofType(machine.drain(), "state").map((s) => s.state);
    assert.deepEqual(states, ["connectedReadOnly"]);
  });

  test("a ConnectResponse with timeOut 0 means expired: pending requests fail with SESSIONEXPIRED", () => {
    const machine = newMachine({ sessionId: 5n, password: PASSWORD });
    machine.submit({ id: 1, request: { kind: "sync", path: "/" } }, 0);
    const { outputs } = connect(machine, 0, 0);
    assert.equal(machine.state, "expired");
    assert.ok(machine.ended);
    assert.deepEqual(ofType(outputs, "reply").map((r) => [r.id, r.err]), [[1, Code.SESSIONEXPIRED]]);
    assert.equal(ofType(outputs, "close").length, 1);
    machine.submit({ id: 2, request: { kind: "sync", path: "/" } }, 1);
    assert.deepEqual(ofType(machine.drain(), "reply").map((r) => [r.id, r.err]), [[2, Code.SESSIONEXPIRED]]);
    assert.equal(machine.nextDeadline(), null);
  });
});

describe("SessionMachine replies", () => {
  test("matches pipelined replies FIFO and tracks lastZxidSeen, ignoring zxid <= 0", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    for (let id = 1; id <= 3; id++) {
      machine.submit({ id, request: { kind: "exists", path: `/n${id}`, watch: false } }, 0);
    }
    const sent = sentRequests(machine.drain());
    assert.deepEqual(sent.map((s) => s.xid), [1, 2, 3]);
    machine.socketData(
      attempt,
      concat(reply(1, 0x10, 0, { kind: "stat", stat: zeroStat }), reply(2, -1, Code.NONODE)),
      1,
    );
    machine.socketData(attempt, reply(3, 0, Code.NONODE), 2);
    const replies = ofType(machine.drain(), "reply");
    assert.deepEqual(replies.map((r) => [r.id, r.err]), [[1, 0], [2, Code.NONODE], [3, Code.NONODE]]);
    assert.deepEqual(replies[0]!.response, { kind: "stat", stat: zeroStat });
    assert.equal(machine.lastZxidSeen, 0x10);
    assert.equal(machine.outstanding, 0);
  });

  test("an out-of-order xid drops the connection: pending fail with CONNECTIONLOSS, next host, Disconnected", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    const events: WatchEvent[] = [];
    machine.submit({
      id: 1,
      request: { kind: "getData", path: "/w", watch: true },
      watch: { path: "/w", listener: (e) => events.push(e) },
    }, 0);
    machine.socketData(attempt, reply(1, 5, 0, { kind: "getData", data: null, stat: zeroStat }), 0);
    machine.submit({ id: 2, request: { kind: "sync", path: "/" } }, 0);
    machine.submit({ id: 3, request: { kind: "sync", path: "/" } }, 0);
    machine.drain();
    machine.socketData(attempt, reply(3, 6, 0, { kind: "sync", path: "/" }), 10);
    const outputs = deliver(machine.drain());
    assert.deepEqual(outputs.map((o) => o.type), ["close", "reply", "reply", "state", "event", "connect"]);
    assert.deepEqual(ofType(outputs, "reply").map((r) => [r.id, r.err]), [[2, Code.CONNECTIONLOSS], [
      3,
      Code.CONNECTIONLOSS,
    ]]);
    assert.match(ofType(outputs, "reply")[0]!.detail ?? "", /xid out of order: expected xid 2, got xid 3/);
    assert.equal(machine.state, "disconnected");
    assert.deepEqual(events, [{ type: "None", state: "Disconnected", path: null, zxid: -1 }]);
    const next = reconnect(machine, outputs, 20);
    deliver(next.outputs);
    assert.equal(next.host, "h2");
    // The reconnect carries lastZxidSeen (5) and the session; the data watch is re-registered.
    const connectRequest = ofType(next.handshake, "send")[0]!.bytes;
    assert.deepEqual(connectRequest.subarray(8, 16), hex("00 00 00 00 00 00 00 05"));
    assert.deepEqual(connectRequest.subarray(20, 28), hex("01 00 00 09 97 c6 00 00"));
    const resent = sentRequests(next.outputs);
    assert.equal(resent.length, 1);
    assert.equal(resent[0]!.type, OpCode.setWatches);
    assert.deepEqual(resent[0]!.request, {
      kind: "setWatches",
      relativeZxid: 5,
      dataWatches: ["/w"],
      existWatches: [],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    assert.deepEqual(events.at(-1), { type: "None", state: "SyncConnected", path: null, zxid: -1 });
  });

  test("on reconnect sends auth packets, then setWatches2 for persistent watches, then queued requests", () => {
    const machine = newMachine({
      auth: [{ scheme: "digest", auth: new TextEncoder().encode("bob:secret") }],
    });
    const first = connect(machine, 0);
    assert.deepEqual(sentRequests(first.outputs).map((r) => [r.xid, r.type]), [[-4, OpCode.auth]]);
    machine.socketData(first.attempt, reply(-4, 0, 0), 0);
    machine.submit({
      id: 1,
      request: { kind: "addWatch", path: "/p", mode: 1 },
      watch: { path: "/p", listener: () => {} },
    }, 0);
    machine.drain();
    machine.socketData(first.attempt, reply(1, 9, 0, { kind: "errorResponse", err: 0 }), 0);
    machine.drain();
    machine.socketClosed(first.attempt, 100);
    const lost = machine.drain();
    machine.submit({ id: 2, request: { kind: "getChildren", path: "/", watch: false } }, 100);
    const next = reconnect(machine, lost, 100);
    const sent = sentRequests(next.outputs);
    assert.deepEqual(sent.map((r) => [r.xid, r.type]), [[-4, OpCode.auth], [1, OpCode.setWatches2], [
      2,
      OpCode.getChildren,
    ]]);
    assert.deepEqual(sent[1]!.request, {
      kind: "setWatches2",
      relativeZxid: 9,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: ["/p"],
    });
  });

  test("an auth reply -115 ends the client in authFailed; -4 replies are matched out of band", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    machine.submit({ id: 1, request: { kind: "sync", path: "/" } }, 0);
    machine.addAuth(2, { scheme: "digest", auth: new TextEncoder().encode("a:b") }, 0);
    machine.addAuth(3, { scheme: "nope", auth: new Uint8Array(0) }, 0);
    machine.drain();
    // Auth replies overtake the sync reply (the server answers them on the I/O path).
    machine.socketData(attempt, reply(-4, 0, 0), 1);
    assert.deepEqual(ofType(machine.drain(), "reply").map((r) => [r.id, r.err]), [[2, 0]]);
    machine.socketData(attempt, reply(-4, 0, Code.AUTHFAILED), 2);
    const outputs = machine.drain();
    assert.deepEqual(ofType(outputs, "reply").map((r) => [r.id, r.err]), [[3, Code.AUTHFAILED], [
      1,
      Code.AUTHFAILED,
    ]]);
    assert.equal(machine.state, "authFailed");
    assert.equal(ofType(outputs, "close").length, 1);
  });

  test("abandoning: a queued request is never sent; an in-flight reply is matched and dropped", () => {
    const machine = newMachine();
    machine.submit({ id: 1, request: { kind: "sync", path: "/a" } }, 0);
    machine.submit({ id: 2, request: { kind: "sync", path: "/b" } }, 0);
    machine.abandon(1);
    const { attempt, outputs } = connect(machine, 0);
    assert.deepEqual(sentRequests(outputs).map((r) => (r.request as { path: string }).path), ["/b"]);
    machine.abandon(2);
    assert.equal(
      machine.outstanding,
      1,
      "an abandoned in-flight request still occupies its slot until answered",
    );
    machine.socketData(attempt, reply(1, 3, 0, { kind: "sync", path: "/b" }), 1);
    assert.deepEqual(ofType(machine.drain(), "reply"), []);
    assert.equal(machine.outstanding, 0);
  });

  test("a top-level check is refused without sending (opcode 13 only inside multi)", () => {
    const machine = newMachine();
    connect(machine, 0);
    machine.submit({ id: 1, request: { kind: "check", path: "/a", version: 1 } }, 0);
    const outputs = machine.drain();
    assert.deepEqual(ofType(outputs, "send"), []);
    assert.equal(ofType(outputs, "reply")[0]!.err, Code.BADARGUMENTS);
  });

  test("close sends closeSession and ends on its reply; later requests are refused", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    machine.submit({ id: 1, request: { kind: "sync", path: "/" } }, 0);
    machine.close(1);
    machine.submit({ id: 2, request: { kind: "sync", path: "/" } }, 1);
    const outputs = machine.drain();
    assert.deepEqual(sentRequests(outputs).map((r) => r.type), [OpCode.sync, OpCode.closeSession]);
    assert.deepEqual(ofType(outputs, "reply").map((r) => [r.id, r.err]), [[2, Code.CONNECTIONLOSS]]);
    machine.socketData(attempt, concat(reply(1, 7, 0, { kind: "sync", path: "/" }), reply(2, 8, 0)), 2);
    const end = machine.drain();
    assert.deepEqual(end.map((o) => o.type), ["reply", "close", "state"]);
    assert.equal(machine.state, "closed");
  });
});

describe("SessionMachine timing", () => {
  test("pings after readTimeout/2 of silence and drops the connection after readTimeout", () => {
    const machine = newMachine({ sessionTimeoutMs: 6000 });
    const { attempt } = connect(machine, 1000, 6000);
    // readTimeout = 4000 ms, so a ping is due 2000 ms after the last send.
    assert.equal(machine.nextDeadline(), 3000);
    machine.tick(2999);
    assert.deepEqual(machine.drain(), []);
    machine.tick(3000);
    const ping = ofType(machine.drain(), "send");
    assert.deepEqual(ping.map((s) => s.bytes), [hex("00 00 00 08 | ff ff ff fe | 00 00 00 0b")]);
    assert.equal(machine.nextDeadline(), 5000, "next: the read timeout (last receive 1000 + 4000)");
    machine.socketData(attempt, reply(-2, 0x30, 0), 3500);
    assert.equal(machine.lastZxidSeen, 0, "ping replies do not move lastZxidSeen");
    assert.equal(machine.nextDeadline(), 5000, "next ping at 3000 + 2000");
    machine.tick(5000);
    assert.equal(ofType(machine.drain(), "send").length, 1);
    machine.tick(7499);
    assert.equal(machine.state, "connected");
    machine.tick(7500);
    const lost = machine.drain();
    assert.equal(machine.state, "disconnected");
    assert.match(JSON.stringify(lost), /"type":"connect"/);
  });

  test("caps the ping interval at 10 s for long sessions", () => {
    const machine = newMachine({ sessionTimeoutMs: 40_000 });
    connect(machine, 0, 40_000);
    assert.equal(machine.nextDeadline(), 10_000);
  });

  test("a connect attempt times out, tries the next host at once, then pauses after a full round", () => {
    const machine = newMachine({ connectTimeoutMs: 1000, reconnectDelayMs: 500 });
    machine.start(0);
    assert.equal(ofType(machine.drain(), "connect")[0]!.host, "h1");
    machine.tick(999);
    assert.deepEqual(machine.drain(), []);
    machine.tick(1000);
    const second = machine.drain();
    assert.deepEqual(second.map((o) => o.type), ["close", "connect"]);
    assert.equal(ofType(second, "connect")[0]!.host, "h2");
    machine.socketClosed(2, 1100, "refused");
    assert.deepEqual(machine.drain().map((o) => o.type), ["close"]);
    assert.equal(machine.nextDeadline(), 1600);
    machine.tick(1600);
    assert.equal(ofType(machine.drain(), "connect")[0]!.host, "h1");
    assert.equal(machine.state, "connecting", "never connected yet");
  });

  test("the start index picks the first host", () => {
    const machine = newMachine({ startIndex: 1 });
    machine.start(0);
    assert.equal(ofType(machine.drain(), "connect")[0]!.host, "h2");
  });

  test("stale sockets are ignored", () => {
    const machine = newMachine({ connectTimeoutMs: 100 });
    machine.start(0);
    machine.drain();
    machine.tick(100);
    machine.drain();
    assert.equal(machine.socketOpened(1, 101), false);
    machine.socketData(1, connectResponse(30_000), 101);
    machine.socketClosed(1, 101);
    assert.deepEqual(machine.drain(), []);
  });
});

describe("SessionMachine watches", () => {
  test("exists on a missing node registers an exist watch that NodeCreated fires once", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    const events: WatchEvent[] = [];
    const listener = (event: WatchEvent) => events.push(event);
    machine.submit({
      id: 1,
      request: { kind: "exists", path: "/x", watch: true },
      watch: { path: "/x", listener },
    }, 0);
    machine.drain();
    machine.socketData(attempt, reply(1, 2, Code.NONODE), 0);
    assert.ok(machine.watches.has("exist", "/x", listener));
    machine.socketData(
      attempt,
      notification({ type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: "/x" }, 0x21),
      1,
    );
    machine.socketData(
      attempt,
      notification({ type: EventType.NodeDeleted, state: KeeperState.SyncConnected, path: "/x" }),
      2,
    );
    const fired = ofType(deliver(machine.drain()), "event");
    assert.equal(fired.length, 1);
    assert.deepEqual(events, [{ type: "NodeCreated", state: "SyncConnected", path: "/x", zxid: 0x21 }]);
    assert.equal(machine.watches.size, 0);
  });

  test("chroot: paths in replies and notifications are stripped, ephemerals outside the chroot dropped", () => {
    const machine = newMachine({ chroot: "/app" });
    const { attempt } = connect(machine, 0);
    const listener = () => {};
    machine.submit({
      id: 1,
      request: { kind: "create", path: "/app/s-", data: null, acl: null, flags: 2, ttl: 0n },
    }, 0);
    machine.submit({ id: 2, request: { kind: "getEphemerals", prefixPath: "/app" } }, 0);
    machine.submit({
      id: 3,
      request: { kind: "addWatch", path: "/app", mode: 1 },
      watch: { path: "/", listener },
    }, 0);
    machine.submit({ id: 4, request: { kind: "sync", path: "/app" } }, 0);
    machine.drain();
    machine.socketData(
      attempt,
      concat(
        reply(1, 2, 0, { kind: "create", path: "/app/s-0000000000" }),
        reply(2, 2, 0, { kind: "getEphemerals", ephemerals: ["/app/e", "/app2/e", "/app"] }),
        reply(3, 2, 0, { kind: "errorResponse", err: 0 }),
        reply(4, 2, 0, { kind: "sync", path: "/app" }),
        notification({ type: EventType.NodeDataChanged, state: 3, path: "/app/a/b" }),
      ),
      1,
    );
    const outputs = machine.drain();
    const responses = ofType(outputs, "reply").map((r) => r.response);
    assert.deepEqual(responses, [
      { kind: "create", path: "/s-0000000000" },
      { kind: "getEphemerals", ephemerals: ["/e", "/"] },
      { kind: "errorResponse", err: 0 },
      { kind: "sync", path: "/" },
    ]);
    const events = ofType(outputs, "event");
    assert.deepEqual(events.map((e) => e.event), [{
      type: "NodeDataChanged",
      state: "SyncConnected",
      path: "/a/b",
      zxid: -1,
    }]);
    assert.deepEqual(events[0]!.listeners, [listener]);
  });

  test("setWatches re-registration applies the chroot and splits packets", () => {
    const machine = newMachine({ chroot: "/c" });
    const { attempt } = connect(machine, 0);
    // 3000 data watches of ~50-byte paths: about 150 KB of paths, so two packets.
    const names = Array.from({ length: 3000 }, (_, i) => `/${"n".repeat(40)}-${String(i).padStart(6, "0")}`);
    for (const name of names) machine.watches.add("data", name, () => {});
    machine.socketClosed(attempt, 10);
    const next = reconnect(machine, machine.drain(), 10);
    const packets = sentRequests(next.outputs);
    assert.equal(packets.length, 2);
    const all = packets.flatMap((p) => (p.request as { dataWatches: string[] }).dataWatches);
    assert.deepEqual(all, names.map((n) => "/c" + n));
    for (const packet of packets) {
      const bytes = (packet.request as { dataWatches: string[] }).dataWatches.reduce(
        (sum, p) => sum + p.length,
        0,
      );
      assert.ok(bytes <= 128 * 1024, `packet of ${bytes} path bytes`);
    }
    assert.deepEqual(packets.map((p) => p.xid), [1, 2], "setWatches uses ordinary xids");
  });

  test("removeWatches reports *WatchRemoved to each removed listener", () => {
    const machine = newMachine();
    connect(machine, 0);
    const a = () => {};
    const b = () => {};
    machine.watches.add("data", "/n", a);
    machine.watches.add("child", "/n", a);
    machine.watches.add("child", "/n", b);
    assert.equal(machine.removeWatches({ path: "/n", lists: ["child"] }), 2);
    const events = ofType(machine.drain(), "event");
    assert.deepEqual(events.map((e) => [e.listeners.length, e.event.type]), [[1, "ChildWatchRemoved"], [
      1,
      "ChildWatchRemoved",
    ]]);
    assert.ok(machine.watches.has("data", "/n", a));
  });

  test("expiry on reconnect: watches get Expired and are cleared", () => {
    const machine = newMachine();
    const { attempt } = connect(machine, 0);
    const events: WatchEvent[] = [];
    machine.watches.add("persistent", "/p", (e) => events.push(e));
    machine.socketClosed(attempt, 1);
    const lost = machine.drain();
    const next = ofType(lost, "connect")[0]!.attempt;
    machine.socketOpened(next, 2);
    machine.socketData(next, connectResponse(0), 3);
    deliver(machine.drain());
    assert.deepEqual(events.map((e) => e.state), ["Expired"]);
    assert.equal(machine.watches.size, 0);
    assert.equal(machine.state, "expired");
  });
});

function concat(...frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}
