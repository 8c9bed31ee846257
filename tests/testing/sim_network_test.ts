import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage, Sid } from "../../src/core/peer_messages.ts";
import { EventQueue } from "../../src/testing/event_queue.ts";
import { createPrng } from "../../src/testing/prng.ts";
import { type NetworkFaults, QUIET_NETWORK, SimNetwork } from "../../src/testing/sim_network.ts";

interface Seen {
  at: number;
  to: Sid;
  what: string;
}

function ping(n: number): PeerMessage {
  return { kind: "syncReply", requestId: n };
}

function network(faults: Partial<NetworkFaults> = {}, members: Sid[] = [1, 2, 3]) {
  const queue = new EventQueue();
  const seen: Seen[] = [];
  const net = new SimNetwork({
    scheduler: queue,
    prng: createPrng(7),
    members,
    faults: { ...QUIET_NETWORK, ...faults },
    callbacks: {
      deliver: (to, from, message) => seen.push({ at: queue.nowMs, to, what: `${from}:${(message as { requestId: number }).requestId}` }),
      lost: (at, peer) => seen.push({ at: queue.nowMs, to: at, what: `lost ${peer}` }),
    },
  });
  return { queue, net, seen, run: (ms = 10_000) => queue.runUntil(queue.nowMs + ms, 1_000_000) };
}

describe("EventQueue", () => {
  test("runs events by time, then in the order they were scheduled", () => {
    const queue = new EventQueue();
    const order: string[] = [];
    queue.at(5, () => order.push("b"));
    queue.at(1, () => order.push("a"));
    queue.at(5, () => order.push("c"));
    queue.after(0, () => queue.after(0, () => order.push("nested")));
    queue.runUntil(10, 100);
    assert.deepEqual(order, ["nested", "a", "b", "c"]);
    assert.equal(queue.nowMs, 10);
  });
});

describe("SimNetwork", () => {
  test("delivers messages of one connection in order, whatever the jitter", () => {
    const { net, seen, run } = network({ delayMsMin: 1, delayMsMax: 50 });
    for (let n = 0; n < 50; n++) net.send(1, 2, ping(n));
    run();
    assert.deepEqual(seen.map((s) => s.what), Array.from({ length: 50 }, (_, n) => `1:${n}`));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.at >= seen[i - 1]!.at);
  });

  test("copies messages through the codec: the receiver never gets the sender's object", () => {
    const queue = new EventQueue();
    const message: PeerMessage = { kind: "ack", zxid: 5 };
    let received: PeerMessage | null = null;
    let encoded = 0;
    const net = new SimNetwork({
      scheduler: queue,
      prng: createPrng(1),
      members: [1, 2],
      faults: QUIET_NETWORK,
      codec: { encode: (m) => (encoded++, JSON.stringify(m)), decode: (e) => JSON.parse(e as string) as PeerMessage },
      callbacks: { deliver: (_to, _from, m) => (received = m), lost: () => {} },
    });
    net.send(1, 2, message);
    queue.runUntil(1000, 100);
    assert.equal(encoded, 1);
    assert.deepEqual(received, message);
    assert.notEqual(received, message);
  });

  test("a cut link drops the message and breaks the connection: both ends learn of it, in-flight messages are gone", () => {
    const { net, seen, run } = network({ delayMsMin: 10, delayMsMax: 10, detectMsMin: 5, detectMsMax: 5 });
    net.send(1, 2, ping(1));
    net.send(2, 1, ping(2));
    net.cut(1, 2);
    net.send(1, 2, ping(3)); // dropped, breaks the connection
    run();
    assert.deepEqual(seen.map((s) => `${s.to} ${s.what}`).sort(), ["1 lost 2", "2 lost 1"]);
  });

  test("messages sent after a break arrive only after the receiver learned of the break", () => {
    const { net, seen, run } = network({ delayMsMin: 1, delayMsMax: 1, detectMsMin: 500, detectMsMax: 500 });
    net.breakConnection(1, 2);
    net.send(1, 2, ping(1)); // sender has not noticed yet: written into the dead connection
    run(600);
    net.send(1, 2, ping(2)); // both ends noticed: a new connection
    run();
    assert.deepEqual(seen.map((s) => `${s.to} ${s.what}`), ["1 lost 2", "2 lost 1", "2 1:2"]);
  });

  test("the first message on a new connection makes a receiver that has not noticed the break drop the old one", () => {
    const { net, seen, run } = network({ delayMsMin: 1, delayMsMax: 1, detectMsMin: 500, detectMsMax: 500 });
    net.crash(1);
    net.restart(1); // a new process: it has no old connection, 2 has not noticed yet
    net.send(1, 2, ping(9));
    run();
    assert.deepEqual(seen.filter((s) => s.to === 2).map((s) => `${s.at} ${s.what}`), ["1 lost 1", "1 1:9"]);
  });

  test("a one-way cut stops one direction only until the connection breaks", () => {
    const { net, seen, run } = network({ delayMsMin: 1, delayMsMax: 1, detectMsMin: 100, detectMsMax: 100 });
    net.cut(1, 2);
    net.send(2, 1, ping(1)); // works
    run(10);
    net.send(1, 2, ping(2)); // dropped: the connection breaks
    run();
    assert.deepEqual(seen.map((s) => `${s.to} ${s.what}`), ["1 2:1", "1 lost 2", "2 lost 1"]);
    assert.ok(net.isCut(1, 2) && !net.isCut(2, 1));
    net.heal();
    net.send(1, 2, ping(3));
    run();
    assert.equal(seen.at(-1)!.what, "1:3");
  });

  test("loss breaks the connection; with every message lost nothing arrives", () => {
    const { net, seen, run } = network({ lossRate: 1, detectMsMin: 1, detectMsMax: 2 });
    for (let n = 0; n < 5; n++) net.send(1, 2, ping(n));
    run();
    assert.ok(seen.every((s) => s.what.startsWith("lost")));
    assert.ok(net.stats.breaks >= 1);
  });

  test("duplication shows as delivery followed by a break", () => {
    const { net, seen, run } = network({ duplicateRate: 1, detectMsMin: 50, detectMsMax: 50 });
    net.send(1, 2, ping(1));
    run();
    assert.deepEqual(seen.map((s) => `${s.to} ${s.what}`).sort(), ["1 lost 2", "2 1:1", "2 lost 1"]);
  });

  test("a crashed member receives nothing; its peers learn the connection broke", () => {
    const { net, seen, run } = network({ detectMsMin: 1, detectMsMax: 1 });
    net.send(1, 2, ping(1));
    net.crash(2);
    net.send(3, 2, ping(2));
    run();
    assert.deepEqual(seen.map((s) => `${s.to} ${s.what}`).sort(), ["1 lost 2", "3 lost 2"]);
    net.restart(2);
    net.send(1, 2, ping(3));
    run();
    assert.equal(seen.at(-1)!.what, "1:3");
  });

  test("more messages in flight than the link's capacity break the connection", () => {
    const { net, seen, run } = network({ capacity: 3, delayMsMin: 10, delayMsMax: 10 });
    for (let n = 0; n < 5; n++) net.send(1, 2, ping(n));
    run();
    assert.ok(seen.some((s) => s.what === "lost 1"));
    assert.ok(seen.filter((s) => s.what.startsWith("1:")).length < 5);
  });

  test("partition and isolate cut every link between the groups, both ways", () => {
    const { net } = network({}, [1, 2, 3, 4]);
    net.partition([[1, 2], [3, 4]]);
    assert.ok(net.isCut(1, 3) && net.isCut(4, 2) && !net.isCut(1, 2) && !net.isCut(3, 4));
    net.heal();
    net.isolate(4);
    assert.ok(net.isCut(4, 1) && net.isCut(1, 4) && !net.isCut(1, 2));
  });
});
