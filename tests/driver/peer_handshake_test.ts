/**
 * The bounded handshake of a peer connection (src/driver/peer_handshake.ts): its frames are read
 * within a small byte budget for all of them whatever their length prefixes claim, junk and a first
 * frame that is not a hello are refused,
 * the rules a hello must pass, and the rate-limited log of refusals.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/driver/logger.ts";
import { HandshakeReader, helloRefusal, RateLimitedLog } from "../../src/driver/peer_handshake.ts";
import { encodePeerFrame, PEER_PROTOCOL_VERSION, type PeerFrame, PeerFrameError, type PeerHello } from "../../src/wire/peer_codec.ts";

const hello = (from: number, to: number, protocolVersion = PEER_PROTOCOL_VERSION): PeerHello => ({ kind: "linkHello", protocolVersion, from, to });
/** A copy: encodePeerFrame's bytes may be a view of a shared slab. */
const frameOf = (frame: PeerFrame): Uint8Array => encodePeerFrame(frame).slice();
const u32 = (value: number) => Uint8Array.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** A hello whose frame is exactly `bytes` long (an extra field pads it; the shape check ignores extra fields). */
function paddedHello(bytes: number): Uint8Array {
  for (let pad = Math.max(0, bytes - 80); pad <= bytes; pad++) {
    const frame = frameOf({ ...hello(3, 1), pad: "x".repeat(pad) } as unknown as PeerFrame);
    if (frame.length === bytes) return frame;
  }
  throw new Error(`cannot pad a hello to ${bytes} bytes`);
}

describe("HandshakeReader", () => {
  test("a hello fed one byte at a time, then what follows it is handed back untouched", () => {
    const ack = frameOf({ kind: "ack", zxid: 5 });
    const stream = concat(frameOf(hello(3, 1)), ack);
    const reader = new HandshakeReader(4096);
    const helloBytes = frameOf(hello(3, 1)).length;
    for (let i = 0; i < helloBytes - 1; i++) assert.equal(reader.push(stream.subarray(i, i + 1)), null, `byte ${i}`);
    const read = reader.push(stream.subarray(helloBytes - 1));
    assert.ok(read !== null);
    assert.deepEqual(read.frame, hello(3, 1));
    assert.deepEqual([...read.rest], [...ack]);
    assert.equal(reader.bufferedBytes, 0, "nothing kept once the hello is read");
  });

  test("frames after the hello share what is left of the one budget", () => {
    const first = frameOf(hello(3, 1));
    const sasl = (bytes: number) => frameOf({ kind: "linkSasl", status: "inProgress", token: new Uint8Array(bytes) });
    const reader = new HandshakeReader(256);
    const one = reader.push(concat(first, sasl(100)));
    assert.equal(one?.frame.kind, "linkHello");
    const two = reader.push(one!.rest);
    assert.equal(two?.frame.kind, "linkSasl");
    assert.equal(reader.push(two!.rest), null);
    // A second token as large would fit a fresh budget, but not what is left of this one.
    const left = 256 - first.length - sasl(100).length;
    assert.throws(() => reader.push(sasl(100)), new RegExp(`a handshake frame claims \\d+ bytes, but only ${left} of the handshake's 256 bytes are left`));
    assert.throws(() => reader.push(new Uint8Array(1)), /after a failure/);
  });

  test("a hello and more in one chunk", () => {
    const rest = frameOf({ kind: "commit", zxid: 9 });
    const read = new HandshakeReader().push(concat(frameOf(hello(2, 1)), rest));
    assert.deepEqual(read?.frame, hello(2, 1));
    assert.deepEqual([...read!.rest], [...rest]);
  });

  test("a length prefix beyond the budget is refused at its 4th byte, whatever it claims; nothing is buffered", () => {
    for (const claim of [0x7fffffff, 0xffffffff, 0x80000000, 100_000_000, 127 * 1024 * 1024, 4096 - 4 + 1, 0, 3]) {
      const reader = new HandshakeReader(4096);
      const prefix = u32(claim);
      for (let i = 0; i < 3; i++) assert.equal(reader.push(prefix.subarray(i, i + 1)), null);
      assert.throws(() => reader.push(concat(prefix.subarray(3), new Uint8Array(65536))), (error: Error) => {
        assert.ok(error instanceof PeerFrameError, String(error));
        assert.match(error.message, new RegExp(`first frame claims ${claim} bytes, but a hello takes 4 to 4092`));
        return true;
      });
      assert.equal(reader.bufferedBytes, 0, `claim ${claim}`);
    }
  });

  test("a frame of exactly the budget is read; one byte more is refused", () => {
    const exact = paddedHello(200);
    assert.equal((new HandshakeReader(200).push(exact)?.frame as PeerHello).from, 3);
    assert.throws(() => new HandshakeReader(199).push(exact), /claims 196 bytes, but a hello takes 4 to 195/);
    assert.throws(() => new HandshakeReader(64), /at least 128/);
  });

  test("junk within the budget fails its checksum; another message first is not a hello", () => {
    const junk = concat(u32(40), new Uint8Array(40).fill(0xab));
    assert.throws(() => new HandshakeReader().push(junk), (error: Error) => error instanceof PeerFrameError && /CRC32C/.test(error.message));
    assert.throws(() => new HandshakeReader().push(frameOf({ kind: "vote", leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, state: "looking" })), /a vote message arrived before the hello/);
    assert.throws(() => new HandshakeReader().push(frameOf({ kind: "linkHeartbeat" })), /a linkHeartbeat message arrived before the hello/);
    // Another protocol's first bytes read as an absurd length.
    const reader = new HandshakeReader();
    const text = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
    assert.throws(() => reader.push(text), /first frame claims \d+ bytes/);
  });
});

describe("helloRefusal", () => {
  const members = new Set([1, 2, 3]);
  const accepted = { myId: 2, isMember: (sid: number) => members.has(sid), dialed: null };
  test("an accepted connection: only a higher member id, aimed at us, of our protocol version", () => {
    assert.equal(helloRefusal(hello(3, 2), accepted), null);
    assert.match(helloRefusal(hello(1, 2), accepted)!, /only higher ids dial lower ones/);
    assert.match(helloRefusal(hello(9, 2), accepted)!, /server 9 is not a member of this ensemble/);
    assert.match(helloRefusal(hello(3, 1), accepted)!, /meant to reach server 1, but this is server 2/);
    assert.match(helloRefusal(hello(2, 2), accepted)!, /two members have the same myid/);
    assert.match(helloRefusal(hello(3, 2, 99), accepted)!, new RegExp(`protocol version 99, this server ${PEER_PROTOCOL_VERSION}`));
    assert.match(helloRefusal(hello(-5, 2), accepted)!, /not a member/);
  });
  test("a dialed connection: exactly the member we dialed answers", () => {
    const dialed = { ...accepted, myId: 3, dialed: 1 };
    assert.equal(helloRefusal(hello(1, 3), dialed), null);
    assert.match(helloRefusal(hello(2, 3), dialed)!, /dialed server 1, but server 2 answered/);
  });
});

describe("RateLimitedLog", () => {
  test("a window's first lines are logged, the rest counted and summed up in one line when it ends", () => {
    let nowMs = 0;
    const logger = new MemoryLogger();
    const log = new RateLimitedLog(logger, { linesPerWindow: 3, windowMs: 1000, what: "strangers", now: () => nowMs });
    for (let i = 0; i < 1000; i++) log.log("info", `line ${i}`);
    assert.deepEqual(logger.lines.map((line) => line.message), ["line 0", "line 1", "line 2"]);
    log.flush();
    assert.equal(logger.lines.length, 3, "no summary before the window ends");
    nowMs = 1500;
    log.flush();
    assert.deepEqual(logger.lines.at(-1), { level: "info", message: "997 more strangers in the last 2 s were not logged" });
    log.log("warn", "next window");
    assert.equal(logger.lines.at(-1)?.message, "next window");
    nowMs = 5000;
    log.flush();
    assert.equal(logger.lines.length, 5, "a window without suppressed lines adds nothing");
  });
});
