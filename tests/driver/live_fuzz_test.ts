/**
 * A live server (serve() on the runtime's own transport) under malformed input: first the exact
 * §2.5 behaviours of the wire protocol, then a seeded fuzz of a few hundred connections sending
 * random bytes, mutated frames and valid requests while a canary session keeps doing checked round
 * trips with bounded latency. The server must never crash, never log an unexpected error, and
 * never let one connection disturb another.
 *
 * Replay a run:  SEED=<n> node --import tsx --test tests/driver/live_fuzz_test.ts
 * More or fewer: FUZZ_CONNECTIONS=<n> (default 300), FUZZ_BUDGET_MS=<ms> (default 12000: the fuzz
 * phase stops then whatever the count).
 */
import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import { isKnownCode } from "../../src/core/errors.ts";
import { createPrng, type Prng } from "../../src/testing/prng.ts";
import type { Transport } from "../../src/transport/transport.ts";
import {
  decodeConnectResponse,
  decodeNotification,
  decodeReplyHeader,
  encodeRequest,
} from "../../src/wire/client_protocol.ts";
import { fourLetterWord } from "../support/four_letter_word.ts";
import { waitFor } from "../support/wait_for.ts";
import { Canary } from "./support/canary.ts";
import {
  concat,
  framed,
  fuzzedHandshake,
  type FuzzItem,
  int32,
  MAX_FRAME_BYTES,
  mutatedItem,
  randomBytesItem,
  randomChunks,
  requestFrame,
  truncatableSamples,
  truncatedFrame,
  UNKNOWN_OPCODES,
  UNPARSABLE_BODIES,
  ustring,
  validConnectRequest,
  validFrame,
  validItem,
} from "./support/fuzz_frames.ts";
import { aliveConnections, HOST, linesAt, type LiveServer, withLiveServer } from "./support/live_server.ts";
import { RawWire } from "./support/raw_wire.ts";
import { SessionClient } from "./support/session_client.ts";

const SEED = Number(process.env.SEED ?? 0x5eed);
const CONNECTIONS = Number(process.env.FUZZ_CONNECTIONS ?? 300);
/** FUZZ_ONLY=<i> replays fuzz connection i alone (the failure report names it). */
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
const FUZZ_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 12_000);
const WORKERS = 8;
const CANARY_BOUND_MS = 2000;
const MARSHALLINGERROR = -5;
const UNIMPLEMENTED = -6;
const PING_XID = -2;

const replay = `replay with SEED=${SEED} node --import tsx --test tests/driver/live_fuzz_test.ts`;
const ascii = new TextEncoder();
const text = new TextDecoder();

function pick<T>(prng: Prng, items: readonly T[]): T {
  return items[prng.int(items.length)]!;
}

function pickHeader(frame: Uint8Array): { xid: number; err: number } {
  const header = decodeReplyHeader(frame);
  return { xid: header.xid, err: header.err };
}

/** No "error" log line: the driver logs that level only for exceptions it did not expect. */
function assertNoUnexpectedErrors(server: LiveServer): void {
  const errors = linesAt(server.logger, "error");
  assert.deepEqual(errors, [], `the server logged unexpected errors (${replay})`);
}

describe("live server: malformed input, wire protocol §2.5", () => {
  test("an unknown opcode is answered {xid, zxid -1, err -6 UNIMPLEMENTED}, then the connection closes", async () => {
    await withLiveServer({}, async (server) => {
      for (const [index, opcode] of UNKNOWN_OPCODES.entries()) {
        const client = await SessionClient.open(server.transport, server.handle.port);
        const xid = 1000 + index;
        // A ping pipelined behind it must not be answered: nothing is read after the close decision.
        const bytes = concat([
          requestFrame(xid, opcode, ustring("/"), Uint8Array.of(0)),
          validFrame(PING_XID, { kind: "ping" }),
        ]);
        const reply = await client.sendExpecting(bytes, xid, `the reply to opcode ${opcode}`);
        assert.deepEqual({ xid: reply.xid, zxid: reply.zxid, err: reply.err }, {
          xid,
          zxid: -1,
          err: UNIMPLEMENTED,
        }, `opcode ${opcode}`);
        assert.equal(reply.frame.length, 16, `opcode ${opcode}: the UNIMPLEMENTED reply has no body`);
        await client.wire.waitClosed(`the connection to close after opcode ${opcode}`);
        assert.equal(client.wire.frames.length, 2, `opcode ${opcode}: nothing after the UNIMPLEMENTED reply`);
      }
      assertNoUnexpectedErrors(server);
    });
  });

  test("a valid opcode whose body does not parse gets err -5 MARSHALLINGERROR; the connection stays open", async () => {
    await withLiveServer({}, async (server) => {
      const client = await SessionClient.open(server.transport, server.handle.port);
      let xid = 1;
      for (const hostile of UNPARSABLE_BODIES) {
        const reply = await client.sendExpecting(
          requestFrame(++xid, hostile.opcode, hostile.body),
          xid,
          hostile.label,
        );
        assert.equal(reply.err, MARSHALLINGERROR, `${hostile.label}: err`);
        assert.equal(reply.frame.length, 16, `${hostile.label}: an error reply has no body`);
        assert.equal((await client.ping()).err, 0, `a ping after ${hostile.label}`);
      }
      // Records that end early: every truncatable request kind, cut at a seeded point, length fixed up.
      const prng = createPrng(SEED);
      for (const request of truncatableSamples()) {
        const bytes = truncatedFrame(prng, validFrame(++xid, request));
        const reply = await client.sendExpecting(
          bytes,
          xid,
          `${request.kind} cut to ${bytes.length - 12} body bytes`,
        );
        assert.equal(
          reply.err,
          MARSHALLINGERROR,
          `${request.kind} cut to ${bytes.length - 12} body bytes (${replay}): err`,
        );
        assert.equal((await client.ping()).err, 0, `a ping after a truncated ${request.kind}`);
      }
      // Trailing bytes after a valid body are ignored.
      const trailing = framed(
        concat([
          validFrame(++xid, { kind: "exists", path: "/", watch: false }).subarray(4),
          Uint8Array.of(1, 2, 3),
        ]),
      );
      assert.equal((await client.sendExpecting(trailing, xid, "exists with trailing bytes")).err, 0);
      assert.equal((await client.request({ kind: "exists", path: "/zookeeper", watch: false })).err, 0);
      assert.ok(!client.closed);
      assert.deepEqual(client.violations, []);
      client.close();
      assertNoUnexpectedErrors(server);
    });
  });

  test("an AuthPacket that does not parse closes the connection", async () => {
    await withLiveServer({}, async (server) => {
      const client = await SessionClient.open(server.transport, server.handle.port);
      // scheme "digest", then an auth buffer that claims 40 bytes and has 3.
      const bytes = requestFrame(-4, 100, int32(0), ustring("digest"), int32(40), Uint8Array.of(1, 2, 3));
      client.wire.send(bytes);
      // Wire protocol §2.5: an AuthPacket that does not parse closes the connection.
      await client.wire.waitClosed("the connection to close after an unparsable AuthPacket", 3000);
      assertNoUnexpectedErrors(server);
    });
  });

  test("requests pipelined behind the ConnectRequest are answered after the ConnectResponse, in order", async () => {
    await withLiveServer({}, async (server) => {
      const wire = await RawWire.connect(server.transport, server.handle.port);
      try {
        // §1.3 step 5: requests pipelined behind the ConnectRequest wait until the session is set up.
        wire.send(concat([
          validConnectRequest(),
          validFrame(-4, { kind: "auth", type: 0, scheme: "digest", auth: ascii.encode("bob:secret") }),
          validFrame(1, { kind: "exists", path: "/", watch: false }),
        ]));
        const first = await wire.takeFrame("the first frame");
        // Requests pipelined behind the ConnectRequest (auth included) wait for the session.
        assert.ok(
          looksLikeConnectResponse(first),
          `the first frame (${first.length} bytes) must be the ConnectResponse`,
        );
        assert.deepEqual(pickHeader(await wire.takeFrame("the auth reply")), { xid: -4, err: 0 });
        assert.deepEqual(pickHeader(await wire.takeFrame("the exists reply")), { xid: 1, err: 0 });
      } finally {
        wire.close();
      }
      assertNoUnexpectedErrors(server);
    });
  });

  test("a frame length that is negative or beyond jute.maxbuffer closes the connection without a reply", async () => {
    await withLiveServer({}, async (server) => {
      for (const length of [-1, -5, -0x80000000, MAX_FRAME_BYTES + 1, 0x200000, 0x7fffffff]) {
        const client = await SessionClient.open(server.transport, server.handle.port);
        client.wire.send(
          concat([int32(length), validFrame(1, { kind: "exists", path: "/", watch: false }).subarray(4)]),
        );
        await client.wire.waitClosed(`the connection to close after a length prefix of ${length}`);
        assert.equal(client.wire.frames.length, 1, `length ${length}: no reply after the ConnectResponse`);

        // The same as the very first frame, instead of a ConnectRequest.
        const fresh = await RawWire.connect(server.transport, server.handle.port);
        fresh.send(framed(validConnectRequest().subarray(4), length));
        await fresh.waitClosed(`a first frame with length ${length} to be closed`);
        assert.equal(fresh.bytesReceived, 0, `length ${length} before the handshake: no reply`);
      }
      assertNoUnexpectedErrors(server);
    });
  });

  test("a request frame shorter than the 8-byte RequestHeader closes the connection", async () => {
    await withLiveServer({}, async (server) => {
      for (let length = 0; length < 8; length++) {
        const client = await SessionClient.open(server.transport, server.handle.port);
        client.wire.send(
          concat([framed(new Uint8Array(length).fill(0x11)), validFrame(PING_XID, { kind: "ping" })]),
        );
        await client.wire.waitClosed(`the connection to close after a ${length}-byte frame`);
        assert.equal(
          client.wire.frames.length,
          1,
          `${length}-byte frame: no reply after the ConnectResponse`,
        );
      }
      assertNoUnexpectedErrors(server);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The seeded fuzz

interface FuzzOutcome {
  index: number;
  labels: string[];
  problems: string[];
}

const FOUR_LETTER_WORDS = [
  "ruok",
  "srvr",
  "stat",
  "cons",
  "mntr",
  "wchs",
  "wchc",
  "wchp",
  "dump",
  "envi",
  "conf",
  "crst",
  "srst",
  "dirs",
  "isro",
  "gtmk",
  "hash",
];

/** Each connection has its own PRNG, so a run replays whatever order the workers take them in. */
function connectionPrng(index: number): Prng {
  return createPrng((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

async function fuzzConnection(transport: Transport, port: number, index: number): Promise<FuzzOutcome> {
  const prng = connectionPrng(index);
  const outcome: FuzzOutcome = { index, labels: [], problems: [] };
  const mode = prng.int(100);
  const wire = await RawWire.connect(transport, port, HOST, { keepRaw: mode < 6 });
  try {
    if (mode < 6) {
      await fourLetterWordConnection(prng, wire, outcome);
    } else if (mode < 20) {
      await badHandshakeConnection(prng, wire, outcome);
    } else {
      await sessionConnection(prng, wire, outcome);
    }
    // Four-letter-word answers are plain text, not frames.
    if (mode >= 6 && wire.framingError !== null) {
      outcome.problems.push(`the server's bytes could not be framed: ${wire.framingError}`);
    }
  } catch (error) {
    outcome.problems.push(
      `the fuzz connection failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    wire.close();
    await wire.waitClosed("the fuzz connection to close", 5000).catch(() =>
      outcome.problems.push("the client socket did not close within 5 s")
    );
  }
  return outcome;
}

async function fourLetterWordConnection(prng: Prng, wire: RawWire, outcome: FuzzOutcome): Promise<void> {
  const word = pick(prng, FOUR_LETTER_WORDS);
  outcome.labels.push(`four-letter word ${word}`);
  for (const chunk of randomChunks(prng, ascii.encode(word))) wire.send(chunk);
  await wire.waitClosed(`the server to answer ${word} and close`, 3000);
  const answer = text.decode(wire.received());
  if (word === "ruok" && answer !== "imok") outcome.problems.push(`ruok answered ${JSON.stringify(answer)}`);
  // hash is empty on a young server (§11.2); every other word prints something.
  if (answer.length === 0 && word !== "hash") outcome.problems.push(`${word} answered nothing`);
}

async function badHandshakeConnection(prng: Prng, wire: RawWire, outcome: FuzzOutcome): Promise<void> {
  const item = fuzzedHandshake(prng);
  outcome.labels.push(item.label);
  // Nothing after an unknown session's ConnectRequest: a bad frame behind it may close the
  // connection before the ConnectResponse{timeOut 0} is written, which is fine but not checkable.
  const extra = item.label === "handshake: unknown session" ? 0 : prng.int(3);
  const items = [item, ...Array.from({ length: extra }, () => mutatedItem(prng))];
  outcome.labels.push(...items.slice(1).map((extra) => extra.label));
  for (const chunk of randomChunks(prng, concat(items.map((each) => each.bytes)))) wire.send(chunk);
  if (item.label === "handshake: unknown session") {
    // §1.3: an invalid session gets ConnectResponse{timeOut 0, sessionId 0}, then the server closes.
    const response = decodeConnectResponse(
      await wire.takeFrame("the ConnectResponse to an unknown session", 3000),
    );
    if (response.timeOut !== 0 || response.sessionId !== 0n) {
      outcome.problems.push(`an unknown session got timeOut ${response.timeOut}, id ${response.sessionId}`);
    }
    await wire.waitClosed("the server to close an unknown session's connection", 3000);
  } else if (
    item.label === "handshake: lastZxidSeen from the future" || item.label === "handshake: bad length prefix"
  ) {
    await wire.waitClosed(`the server to close after "${item.label}"`, 3000);
    if (wire.bytesReceived !== 0) {
      outcome.problems.push(`"${item.label}" got ${wire.bytesReceived} bytes back, expected none`);
    }
  } else {
    // Garbage may parse as a ConnectRequest, or leave the server waiting for the rest of a frame.
    await wire.waitClosed("nothing", 300).catch(() => undefined);
  }
}

async function sessionConnection(prng: Prng, wire: RawWire, outcome: FuzzOutcome): Promise<void> {
  const timeOut = pick(prng, [100, 400, 1000, 4000, 30000]);
  const readOnly = pick(prng, [undefined, false, true]);
  const pipelined = prng.int(4) === 0;
  outcome.labels.push(`handshake timeOut ${timeOut}${pipelined ? ", pipelined" : ""}`);
  wire.send(validConnectRequest({ timeOut, readOnly }));
  if (!pipelined) {
    const response = decodeConnectResponse(await wire.takeFrame("the ConnectResponse", 3000));
    if (!(response.timeOut > 0)) outcome.problems.push(`a valid handshake got timeOut ${response.timeOut}`);
    if ((response.readOnly !== undefined) !== (readOnly !== undefined)) {
      outcome.problems.push("the readOnly byte of the ConnectResponse does not follow the request's");
    }
  }
  const items: FuzzItem[] = [];
  for (let i = 0, count = 1 + prng.int(12); i < count; i++) {
    const category = prng.int(100);
    items.push(category < 15 ? randomBytesItem(prng) : category < 65 ? mutatedItem(prng) : validItem(prng));
  }
  outcome.labels.push(...items.map((item) => item.label));
  switch (prng.int(3)) {
    case 0:
      for (const item of items) {
        wire.send(item.bytes);
        if (prng.int(4) === 0) await new Promise((resolve) => setTimeout(resolve, prng.int(3)));
      }
      break;
    case 1:
      wire.send(concat(items.map((item) => item.bytes)));
      break;
    default:
      for (const chunk of randomChunks(prng, concat(items.map((item) => item.bytes)))) wire.send(chunk);
  }
  // A final ping: answered unless the stream was closed or left mid-frame by what came before.
  const framesBeforePing = wire.frames.length;
  wire.send(encodeRequest(PING_XID, { kind: "ping" }));
  await wire.until(
    () =>
      wire.closed ||
      wire.frames.slice(framesBeforePing).some((frame) =>
        frame.length >= 4 && new DataView(frame.buffer, frame.byteOffset).getInt32(0) === PING_XID
      ),
    "the final ping's reply or the close",
    500,
  ).catch(() => undefined);
  const sent = concat(items.map((item) => item.bytes));
  checkReplies(wire, outcome, { pipelined, notificationsCheckable: !containsMinusOne(sent) });
}

/** Whether `bytes` hold 0xffffffff anywhere (a request with xid −1 would have its reply look like a notification). */
function containsMinusOne(bytes: Uint8Array): boolean {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xff && bytes[i + 2] === 0xff && bytes[i + 3] === 0xff) {
      return true;
    }
  }
  return false;
}

/** A ConnectResponse for a new session: 36 or 37 bytes, protocolVersion 0, a positive timeout. */
function looksLikeConnectResponse(frame: Uint8Array): boolean {
  if (frame.length !== 36 && frame.length !== 37) return false;
  try {
    const response = decodeConnectResponse(frame);
    return response.protocolVersion === 0 && response.timeOut > 0;
  } catch {
    return false;
  }
}

/**
 * Oracles on what a session connection received: the ConnectResponse first, then well-formed
 * replies with known error codes, parsable notifications, and nothing after an UNIMPLEMENTED reply.
 */
function checkReplies(
  wire: RawWire,
  outcome: FuzzOutcome,
  options: { pipelined: boolean; notificationsCheckable: boolean },
): void {
  const frames = wire.frames;
  const first = 0;
  // The ConnectResponse comes first, also when requests were pipelined behind it (they wait).
  if (frames.length > 0 && !looksLikeConnectResponse(frames[0]!)) {
    outcome.problems.push(`the first frame (${frames[0]!.length} bytes) is not a ConnectResponse`);
    return;
  }
  for (let index = first + 1; index < frames.length; index++) {
    const frame = frames[index]!;
    let header;
    try {
      header = decodeReplyHeader(frame);
    } catch {
      outcome.problems.push(`frame ${index} has ${frame.length} bytes, fewer than a ReplyHeader`);
      continue;
    }
    if (!isKnownCode(header.err)) {
      outcome.problems.push(`frame ${index}: err ${header.err} is not a ZooKeeper code`);
    }
    if (header.xid === -1 && options.notificationsCheckable) {
      try {
        decodeNotification(frame);
        if (header.err !== 0) outcome.problems.push(`notification ${index} has err ${header.err}`);
      } catch (error) {
        outcome.problems.push(`notification ${index} does not parse: ${String(error)}`);
      }
    }
    if (header.zxid === -1 && header.err === UNIMPLEMENTED && index !== frames.length - 1) {
      outcome.problems.push(
        `${
          frames.length - 1 - index
        } frame(s) after the UNIMPLEMENTED reply (xid ${header.xid}), which must close the connection`,
      );
    }
  }
}

describe("live server: seeded fuzz", () => {
  test(`${CONNECTIONS} fuzzed connections never crash the server nor disturb a canary session`, async () => {
    await withLiveServer({}, async (server) => {
      const { handle, transport } = server;
      const canary = await Canary.start({
        transport,
        port: handle.port,
        path: "/canary",
        requestTimeoutMs: CANARY_BOUND_MS,
      });
      try {
        const startedAt = Date.now();
        const outcomes: FuzzOutcome[] = [];
        const indices = ONLY === null ? Array.from({ length: CONNECTIONS }, (_, i) => i) : [ONLY];
        let next = 0;
        const worker = async () => {
          while (
            next < indices.length && Date.now() - startedAt < FUZZ_BUDGET_MS && canary.failure === null
          ) {
            outcomes.push(await fuzzConnection(transport, handle.port, indices[next++]!));
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, worker));
        const elapsedMs = Date.now() - startedAt;
        assert.equal(
          canary.failure,
          null,
          `the canary failed after ${outcomes.length} fuzz connections (${replay})`,
        );

        const failed = outcomes.filter((outcome) => outcome.problems.length > 0);
        const report = failed.slice(0, 5).map((outcome) =>
          `connection ${outcome.index} (add FUZZ_ONLY=${outcome.index}): ${
            outcome.problems.join("; ")
          }\n  sent: ${outcome.labels.join(" | ")}`
        );
        assert.equal(
          failed.length,
          0,
          `${failed.length} fuzz connection(s) saw wrong behaviour (${replay}):\n${report.join("\n")}`,
        );
        assert.ok(
          outcomes.length >= Math.min(indices.length, 60),
          `only ${outcomes.length} fuzz connections ran in ${elapsedMs} ms (${replay})`,
        );
        assertNoUnexpectedErrors(server);

        // Every fuzz connection is gone and every fuzz session expires (timeouts are at most
        // 20 × tickTime = 4 s); only the canary's connection and session remain.
        await waitFor(() => aliveConnections(handle) === 1, {
          timeoutMs: 5000,
          what: `only the canary's connection to remain (${replay})`,
        })
          .catch((error: Error) => {
            throw new Error(`${error.message}\ncons:\n${handle.fourLetterWord("cons")}`);
          });
        await waitFor(() => handle.server.status().sessionCount === 1, {
          timeoutMs: 8000,
          what: `only the canary's session to remain (${replay})`,
        });

        const result = await canary.stop();
        console.log(
          `fuzz: SEED=${SEED}, ${outcomes.length} connections in ${elapsedMs} ms; canary: ${result.completed} requests, ` +
            `slowest ${result.maxLatencyMs.toFixed(1)} ms`,
        );
        assert.equal(result.failure, null, `the canary failed (${replay})`);
        assert.deepEqual(result.violations, [], `the canary saw protocol violations (${replay})`);
        assert.ok(result.completed > 0, "the canary completed no request");
        assert.ok(
          result.maxLatencyMs < CANARY_BOUND_MS,
          `the canary's slowest request took ${result.maxLatencyMs} ms`,
        );
        await canary.verifyData();
        assert.equal(await fourLetterWord(HOST, handle.port, "ruok"), "imok");
        assertNoUnexpectedErrors(server);
      } finally {
        canary.close();
      }
    });
  });
});
