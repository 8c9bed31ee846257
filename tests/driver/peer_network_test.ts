/**
 * The peer network over a MemoryNetwork and over real TCP (the runtime's own adapter): ordered
 * delivery, messages sent before a connection exists, reconnecting after a member restarts,
 * peerLost on every break, the bounded queue, and connections that misbehave.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerMessage, Sid } from "../../src/core/peer_messages.ts";
import { MemoryLogger } from "../../src/driver/logger.ts";
import type { PeerNetworkOptions } from "../../src/driver/peer_network.ts";
import { MemoryNetwork } from "../../src/transport/memory.ts";
import type { Socket, Transport } from "../../src/transport/transport.ts";
import { encodePeerFrame, PEER_PROTOCOL_VERSION, PeerFrameDecoder } from "../../src/wire/peer_codec.ts";
import { type Layout, type Member, memoryLayout, startMember, stopAll, tcpLayout } from "../support/peer_members.ts";
import { waitFor } from "../support/wait_for.ts";

const WAIT = { timeoutMs: 10_000 };
const ack = (zxid: number): PeerMessage => ({ kind: "ack", zxid });

function concatParts(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

for (const [name, makeLayout] of [["memory network", memoryLayout], ["TCP", tcpLayout]] as const) {
  describe(`peer network over ${name}`, () => {
    test("every pair connects once; messages arrive in order, including those sent before the connection", async () => {
      const ids = [1, 2, 3];
      const layout = await makeLayout(ids);
      const members: Member[] = [];
      try {
        // Member 1 sends before anyone else exists; its messages wait for the connections.
        members.push(await startMember(layout, ids, 1));
        for (let i = 0; i < 50; i++) members[0]!.network!.send(3, ack(i));
        members.push(await startMember(layout, ids, 2), await startMember(layout, ids, 3));
        for (const member of members) {
          for (const peer of ids) {
            if (peer === member.id) continue;
            for (let i = 0; i < 200; i++) member.network!.send(peer, ack(1000 + i));
          }
        }
        const expectedFrom = (from: Sid, to: Sid) => [...(from === 1 && to === 3 ? Array.from({ length: 50 }, (_, i) => i) : []), ...Array.from({ length: 200 }, (_, i) => 1000 + i)];
        await waitFor(() => members.every((m) => ids.every((p) => p === m.id || m.from(p).length === expectedFrom(p, m.id).length)), { ...WAIT, what: "all messages" });
        for (const member of members) {
          for (const peer of ids) if (peer !== member.id) assert.deepEqual(member.from(peer), expectedFrom(peer, member.id), `${peer} → ${member.id}`);
          assert.deepEqual(member.lost, [], `member ${member.id} lost nobody`);
          assert.ok(member.network!.links().every((link) => link.state === "up" && link.connects === 1), JSON.stringify(member.network!.links()));
        }
      } finally {
        await stopAll(members);
      }
    });

    test("a member that restarts is reported lost and reconnected (both directions of dialing)", async () => {
      const ids = [1, 2, 3];
      const layout = await makeLayout(ids);
      const members = [await startMember(layout, ids, 1), await startMember(layout, ids, 2), await startMember(layout, ids, 3)];
      try {
        await waitFor(() => members.every((m) => ids.every((p) => p === m.id || m.network!.connected(p))), { ...WAIT, what: "a full mesh" });
        // 2 is dialed by 3 and dials 1.
        await members[1]!.stop();
        await waitFor(() => members[0]!.lost.includes(2) && members[2]!.lost.includes(2), { ...WAIT, what: "1 and 3 to report 2 lost" });
        members[1] = await startMember(layout, ids, 2);
        await waitFor(() => members.every((m) => ids.every((p) => p === m.id || m.network!.connected(p))), { ...WAIT, what: "the mesh again" });
        members[2]!.network!.send(2, ack(7));
        members[0]!.network!.send(2, ack(8));
        members[1]!.network!.send(1, ack(9));
        await waitFor(() => members[1]!.from(3).includes(7) && members[1]!.from(1).includes(8) && members[0]!.from(2).includes(9), { ...WAIT, what: "messages after the restart" });
        assert.deepEqual(members[0]!.lost, [2]);
        assert.deepEqual(members[2]!.lost, [2]);
      } finally {
        await stopAll(members);
      }
    });

    test("more than queueBytesMax unsent bytes drop the link and report the peer lost once", async () => {
      const ids = [1, 2];
      const layout = await makeLayout(ids);
      const one = await startMember(layout, ids, 1, { queueBytesMax: 4096 });
      try {
        // 2 is not running: everything waits in the queue until it overflows.
        for (let i = 0; i < 1000; i++) one.network!.send(2, ack(i));
        await waitFor(() => one.lost.length > 0, { ...WAIT, what: "peerLost for the overflowing queue" });
        assert.deepEqual(one.lost, [2]);
        assert.ok(one.logger.has("queued while it is unreachable"), "the drop is logged with its reason");
        // Sends after the loss are queued for the next connection and delivered.
        one.network!.send(2, ack(5000));
        const two = await startMember(layout, ids, 2);
        try {
          await waitFor(() => two.from(1).length > 0, { ...WAIT, what: "the message sent after the loss" });
          assert.deepEqual(two.from(1), [5000]);
        } finally {
          await two.stop();
        }
      } finally {
        await one.stop();
      }
    });
  });
}

describe("peer network: connections that misbehave", () => {
  async function rawConnect(transport: Transport, port: number, received: Uint8Array[], closed: { value: boolean }): Promise<Socket> {
    return await transport.connect({ host: `peer${port - 7000}`, port }, {
      onData: (chunk) => received.push(chunk.slice()),
      onClose: () => {
        closed.value = true;
      },
    });
  }

  test("garbage, a wrong target or version, a stranger, a lower id dialing, and silence all get the socket closed", async () => {
    const memory = new MemoryNetwork();
    const ids = [1, 2, 3];
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    // The member is 2: 3 may dial it, 1 may not.
    const member = await startMember(layout, ids, 2, { heartbeatMs: 50, idleTimeoutMs: 300, connectTimeoutMs: 300 });
    const stranger = memory.transport("stranger");
    try {
      const attempts: Array<[string, Uint8Array | null, RegExp]> = [
        ["garbage", new Uint8Array([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /CRC32C/],
        ["a wrong target", encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 3, to: 1 }), /meant to reach server 1/],
        ["another protocol version", encodePeerFrame({ kind: "linkHello", protocolVersion: 99, from: 3, to: 2 }), /protocol version 99/],
        ["a non-member", encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 9, to: 2 }), /not a member/],
        ["a lower id dialing", encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 1, to: 2 }), /only higher ids dial lower ones/],
        ["a message before the hello", encodePeerFrame({ kind: "ack", zxid: 1 }), /before the hello/],
        ["no hello at all", null, /no hello within 300 ms/],
      ];
      for (const [what, bytes, logged] of attempts) {
        const closed = { value: false };
        const socket = await rawConnect(stranger, 7002, [], closed);
        if (bytes !== null) socket.write(bytes);
        await waitFor(() => closed.value, { ...WAIT, what: `the socket to close after ${what}` });
        assert.ok(member.logger.lines.some((line) => logged.test(line.message)), `${what}: ${JSON.stringify(member.logger.lines.slice(-3))}`);
      }
      // A proper hello from 3, then silence: up, then dropped for idleness and reported lost.
      const received: Uint8Array[] = [];
      const closed = { value: false };
      const socket = await rawConnect(stranger, 7002, received, closed);
      socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 3, to: 2 }));
      await waitFor(() => member.network!.connected(3), { ...WAIT, what: "3's connection to be up" });
      socket.write(encodePeerFrame({ kind: "ack", zxid: 77 }));
      await waitFor(() => closed.value, { ...WAIT, what: "the silent peer to be dropped" });
      assert.deepEqual(member.from(3), [77]);
      assert.deepEqual(member.lost, [3]);
      assert.ok(member.logger.has("nothing heard for"));
      const decoder = new PeerFrameDecoder();
      for (const chunk of received) decoder.push(chunk);
      const kinds = [];
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) kinds.push(frame.kind);
      assert.equal(kinds[0], "linkHello", "the acceptor answers with its own hello");
      assert.ok(kinds.slice(1).every((kind) => kind === "linkHeartbeat") && kinds.length > 1, `then heartbeats: ${kinds.join(",")}`);
    } finally {
      await member.stop();
    }
  });

  const u32 = (value: number) => Uint8Array.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
  const memoryMember = (id: Sid, extra: Partial<PeerNetworkOptions>) => {
    const memory = new MemoryNetwork();
    const layout: Layout = { transport: (peer) => memory.transport(`peer${peer}`), host: (peer) => `peer${peer}`, port: (peer) => 7000 + peer };
    return { memory, member: startMember(layout, [1, 2, 3], id, extra) };
  };

  test("a stranger's huge length prefix or junk is closed at once (not at the hello timeout), and a flood is logged a few lines at a time", async () => {
    // The hello timeout is a minute: only the handshake's byte budget can close these sockets in time.
    const { memory, member: started } = memoryMember(2, { heartbeatMs: 50, idleTimeoutMs: 300, connectTimeoutMs: 60_000 });
    const member = await started;
    const stranger = memory.transport("stranger");
    try {
      const claims: Array<[string, Uint8Array]> = [
        ["a 100 MB length prefix", concatParts(u32(100_000_000), new Uint8Array(1000))],
        ["a 127 MiB length prefix, dribbled", u32(127 * 1024 * 1024).subarray(0, 2)],
        ["a 5000-byte first frame", concatParts(u32(5000), new Uint8Array(100))],
      ];
      for (const [what, bytes] of claims) {
        const closed = { value: false };
        const socket = await rawConnect(stranger, 7002, [], closed);
        socket.write(bytes);
        if (what.endsWith("dribbled")) {
          socket.write(u32(127 * 1024 * 1024).subarray(2, 3));
          socket.write(u32(127 * 1024 * 1024).subarray(3));
        }
        await waitFor(() => closed.value, { timeoutMs: 5000, what: `the socket to close after ${what}` });
      }
      assert.ok(member.logger.has("first frame claims 100000000 bytes, but a hello takes 4 to 4092"), JSON.stringify(member.logger.lines));
      assert.ok(member.logger.has(`first frame claims ${127 * 1024 * 1024} bytes`));
      // 50 more strangers: all closed, at most 10 lines about them in this minute.
      const closedFlags = Array.from({ length: 50 }, () => ({ value: false }));
      for (const closed of closedFlags) (await rawConnect(stranger, 7002, [], closed)).write(u32(0x7fffffff));
      await waitFor(() => closedFlags.every((closed) => closed.value), { timeoutMs: 5000, what: "50 strangers to be closed" });
      const lines = member.logger.lines.filter((line) => line.message.includes("closing a peer connection"));
      assert.equal(lines.length, 10, JSON.stringify(lines));
      assert.ok(lines.every((line) => line.message.includes("from stranger:")), "each line names the remote address");
    } finally {
      await member.stop();
    }
  });

  test("past handshakesMax connections waiting for their hello, the oldest is closed; a member still gets in", async () => {
    const { memory, member: started } = memoryMember(1, { heartbeatMs: 50, idleTimeoutMs: 3000, connectTimeoutMs: 60_000, handshakesMax: 3 });
    const member = await started;
    const stranger = memory.transport("stranger");
    try {
      const closedFlags = Array.from({ length: 5 }, () => ({ value: false }));
      for (const closed of closedFlags) await rawConnect(stranger, 7001, [], closed);
      await waitFor(() => closedFlags[0]!.value && closedFlags[1]!.value, { timeoutMs: 5000, what: "the two oldest silent connections to be closed" });
      assert.deepEqual(closedFlags.map((closed) => closed.value), [true, true, false, false, false]);
      assert.ok(member.logger.has("(handshakesMax 3); closing the oldest"));
      const socket = await rawConnect(stranger, 7001, [], { value: false });
      socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 3, to: 1 }));
      socket.write(encodePeerFrame({ kind: "ack", zxid: 4 }));
      await waitFor(() => member.from(3).length === 1, { timeoutMs: 5000, what: "the member's message" });
      assert.ok(closedFlags[2]!.value, "its connection took the place of the oldest waiting one");
    } finally {
      await member.stop();
    }
  });

  test("after the hello, a frame longer than maxFrameBytes drops the link at its length prefix", async () => {
    const { memory, member: started } = memoryMember(1, { heartbeatMs: 50, idleTimeoutMs: 60_000, maxFrameBytes: 64 * 1024 });
    const member = await started;
    const stranger = memory.transport("stranger");
    try {
      const closed = { value: false };
      const socket = await rawConnect(stranger, 7001, [], closed);
      socket.write(encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 2, to: 1 }));
      await waitFor(() => member.network!.connected(2), { timeoutMs: 5000, what: "2's connection to be up" });
      socket.write(concatParts(u32(64 * 1024 + 1), new Uint8Array(1000)));
      await waitFor(() => closed.value, { timeoutMs: 5000, what: "the link to drop" });
      assert.ok(member.logger.has(`peer frame length ${64 * 1024 + 1} is outside [4, ${64 * 1024}]`), JSON.stringify(member.logger.lines.slice(-3)));
      await waitFor(() => member.lost.length > 0, { timeoutMs: 5000, what: "peerLost" });
      assert.deepEqual(member.lost, [2]);
    } finally {
      await member.stop();
    }
  });

  test("a connected peer that does not keep up is dropped, reported lost once, and redialed", async () => {
    const memory = new MemoryNetwork();
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    const members = [await startMember(layout, [1, 2], 1), await startMember(layout, [1, 2], 2, { queueBytesMax: 4096 })];
    try {
      await waitFor(() => members[1]!.network!.connected(1), { ...WAIT, what: "the connection" });
      // Written in one go, far more than 4096 bytes are in flight before the peer reads any.
      for (let i = 0; i < 1000; i++) members[1]!.network!.send(1, ack(i));
      await waitFor(() => members[1]!.lost.length > 0 && members[0]!.lost.length > 0, { ...WAIT, what: "both sides to see the break" });
      assert.deepEqual(members[1]!.lost, [1]);
      assert.ok(members[1]!.logger.has("the peer is not reading"));
      await waitFor(() => members[1]!.network!.connected(1) && members[0]!.network!.connected(2), { ...WAIT, what: "the redial" });
      members[1]!.network!.send(1, ack(5000));
      await waitFor(() => members[0]!.from(2).includes(5000), { ...WAIT, what: "a message on the new connection" });
      const got = members[0]!.from(2);
      assert.deepEqual(got, [...got.slice(0, -1).map((_, i) => i), 5000], "what arrived is a prefix of what was sent, then the new message");
    } finally {
      await stopAll(members);
    }
  });

  test("a peer that redials replaces its old connection, which counts as lost first", async () => {
    const memory = new MemoryNetwork();
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    const member = await startMember(layout, [1, 2], 1);
    const stranger = memory.transport("stranger");
    try {
      const hello = encodePeerFrame({ kind: "linkHello", protocolVersion: PEER_PROTOCOL_VERSION, from: 2, to: 1 });
      const first = await rawConnect(stranger, 7001, [], { value: false });
      first.write(hello);
      first.write(encodePeerFrame({ kind: "ack", zxid: 1 }));
      await waitFor(() => member.from(2).length === 1, { ...WAIT, what: "the first connection's message" });
      const second = await rawConnect(stranger, 7001, [], { value: false });
      second.write(hello);
      second.write(encodePeerFrame({ kind: "ack", zxid: 2 }));
      first.write(encodePeerFrame({ kind: "ack", zxid: 99 }));
      await waitFor(() => member.from(2).length === 2, { ...WAIT, what: "the second connection's message" });
      assert.deepEqual(member.from(2), [1, 2], "the replaced connection delivers nothing more");
      assert.deepEqual(member.lost, [2]);
    } finally {
      await member.stop();
    }
  });
  /** `socket` as a TLS socket whose peer showed no certificate would look. */
  const encryptedView = (socket: Socket): Socket => ({
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    encrypted: true,
    get bufferedBytes() {
      return socket.bufferedBytes;
    },
    write: (bytes) => socket.write(bytes),
    close: () => socket.close(),
    abort: () => socket.abort?.(),
  });

  test("with plaintext peers allowed (quorum portUnification), a TLS connection without a verified certificate is still refused", async () => {
    const memory = new MemoryNetwork();
    const layout: Layout = { transport: (id) => memory.transport(`peer${id}`), host: (id) => `peer${id}`, port: (id) => 7000 + id };
    // Member 1's listener sees every accepted socket as TLS (encrypted) with no certificate when `tls` is on.
    let tls = true;
    const inner = layout.transport(1);
    const marking: Transport = {
      name: "memory, accepted sockets marked encrypted",
      connect: (options, handler) => inner.connect(options, handler),
      listen: (options, accept) =>
        inner.listen(options, (socket) => accept(tls ? encryptedView(socket) : socket)),
    };
    const checks = { requireCertificateForHost: true, plaintextPeersAllowed: true };
    const one = await startMember({ ...layout, transport: (id) => id === 1 ? marking : layout.transport(id) }, [1, 2], 1, checks);
    const two = await startMember(layout, [1, 2], 2, checks);
    try {
      await waitFor(() => one.logger.has("server 2 connected over TLS without a verified TLS certificate"), { ...WAIT, what: "1 to refuse 2's TLS connection" });
      assert.equal(one.network!.connected(2), false);
      tls = false; // plaintext from now on: let in
      await waitFor(() => one.network!.connected(2), { ...WAIT, what: "2's plaintext connection to be let in" });
    } finally {
      await stopAll([one, two]);
    }
  });
});
